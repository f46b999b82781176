// Package authn authenticates the callers of a service that sits behind authsvc: members of the
// web app (a Stytch B2B session JWT) and other services (a Stytch M2M access token).
//
// An [Authenticator] is built from a [client.Client]; the Stytch project is learned from authsvc
// (GetJWKS names it) unless [WithProjectID] gives it. It keeps the project's signing keys, fetched
// from authsvc's SessionsService.GetJWKS and refreshed in the background (and once more when a token
// names a key it does not know, as after a rotation), and verifies tokens locally: RS256 pinned,
// issuer and audience bound to the Stytch project, expiry checked, no network call per request. It
// calls authsvc only when a session JWT is genuine but expired (SessionsService.Authenticate, which
// asks Stytch whether the session is still alive) - never for a forged or malformed token, so junk
// traffic costs no upstream calls.
//
// The same checks are offered three ways:
//
//   - [Authenticator.Middleware] for net/http: the token comes from "Authorization: Bearer ..." or
//     the stytch_session_jwt cookie;
//   - [Authenticator.UnaryServerInterceptor] and [Authenticator.StreamServerInterceptor] for gRPC:
//     the token comes from the "authorization: Bearer ..." metadata;
//   - [Authenticator.Authenticate] for anything else.
//
// Each takes optional [Rule]s: [Members] (with roles every admitted member must hold) and
// [Services] (with scopes every admitted M2M token must hold, by Stytch's scope rule). A caller is
// admitted when any rule matches; with no rule, any authenticated caller is. The authenticated
// caller is a [*Principal], read with [PrincipalFrom].
//
// Failures: no or an invalid credential is UNAUTHENTICATED / HTTP 401 with a WWW-Authenticate
// challenge; a valid credential that matches no rule is PERMISSION_DENIED / 403; authsvc unreachable
// when it had to be asked (or keys never loaded) is UNAVAILABLE / 503. The token itself never
// appears in an error, a log line or a span.
//
// Opaque session tokens (the stytch_session cookie) are not accepted: each would cost a call to
// Stytch. Browsers that talk to such a service should send the session JWT.
package authn
