// Package access decides who may call each authsvc RPC.
//
// The policy is not written here: every RPC carries an authsvc.access.v1.access method option in the
// proto (public, member_session with roles and a tenancy field, user_session with a user field,
// service_scopes, credential_fields), and
// [New] reads those options from the registered descriptors once, at construction. One interceptor
// (unary and stream) then enforces them for gRPC callers and for REST callers alike, since the REST
// gateway dials the gRPC server.
//
// Credentials are an "authorization: Bearer <token>" header, or on REST the stytch_session /
// stytch_session_jwt cookies the gateway passes on as metadata (see internal/callmeta). A Bearer JWT
// is classified by its unverified claims (an M2M access token carries scope and no session claim) and
// then verified properly: M2M tokens locally against the JWKS with the rule's scopes, session JWTs
// locally (Stytch only when expired or too old), opaque session tokens by Stytch.
//
// A session credential is checked against the project the RPC's rule names: a user_session rule's
// by the consumer project's session checker (Config.UserChecker; the caller becomes a KindUser
// Principal with its user ID), any other rule's by the B2B project's (Config.Checker). A rule cannot
// admit both kinds. The two checkers are one session.Checker type configured with the project type,
// so both kinds of session take the same path; a JWT of the other project is refused locally.
//
// Missing, malformed or invalid credentials are UNAUTHENTICATED; valid credentials that the rule does
// not admit (scope, role, organization) are PERMISSION_DENIED. The caller learns nothing more: the
// reason goes to the access log line (never a token), next to caller.kind.
package access
