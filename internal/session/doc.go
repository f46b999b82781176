// Package session decides whether a Stytch session credential is valid, in one place, for
// every caller: the SessionsService handlers, the access layer (a member or user calling any RPC)
// and the client/authn middleware of services behind authsvc.
//
// One Checker serves one project: a B2B project's member sessions (Config.Remote asks Stytch's B2B
// sessions/authenticate) or, with Config.ProjectType verify.ProjectConsumer, a consumer project's
// user sessions (Config.UserRemote asks the consumer sessions/authenticate). Both kinds take the
// same path below; only the remote call and the shape of the result (Result.Session or
// Result.UserSession) differ. A deployment fronting both projects builds two Checkers.
//
// The decision runs in one order:
//
//  1. a session JWT is verified locally (signature against the project's JWKS, claims, the
//     verified-token cache) and checked against the revocation list; forged, malformed,
//     unknown-key and revoked JWTs end here, without any call to Stytch;
//  2. Stytch is asked only when the rules require it: an opaque session token (only Stytch can
//     check it), a genuine JWT that has expired or is older than the caller's max token age, or a
//     request that must change the session or ask Stytch's RBAC (session duration, custom claims,
//     an authorization check, a max token age of zero);
//  3. before such a remote check the Budget admits it (per client IP and per caller, counting
//     failures), and a credential Stytch rejected moments ago is answered from a short negative
//     cache, so that random tokens cannot turn into unthrottled calls to Stytch.
//
// The Checker owns the verifier (and with it the verified-token cache) and the revocation hooks,
// so no other code can verify a session without honouring revocations. The JWKS cache is given to
// it: one cache per project, shared with the GetJWKS handler.
package session
