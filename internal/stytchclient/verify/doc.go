// Package verify checks Stytch-issued JWTs locally: session JWTs and M2M
// access tokens, against the project's JWKS.
//
// A Verifier serves one project, of one type (VerifierConfig.ProjectType): a
// B2B project's session JWTs name a member (SessionClaims.MemberID) and an
// organization, a consumer project's name a user (SessionClaims.UserID) and
// none. Both are decoded by the same code into the same typed claims; a
// session JWT of the other type is refused with [ErrWrongProjectType].
//
// It has three parts:
//
//   - [JWKSCache] holds the project's signing keys. It loads them in the
//     background (construction never blocks and never fails because Stytch is
//     down), refreshes them on an interval, refetches at most once per window
//     when a token names an unknown key ID, and keeps the last good keys when a
//     refresh fails. It does not know HTTP: the Stytch REST client hands it a
//     [Fetcher] that goes through its traced HTTP client.
//   - [Verifier] checks signatures and claims with RS256 pinned and kid, exp
//     and iat required, and remembers verified tokens (keyed by a SHA-256 of
//     the token, never the token itself) so that a token seen again costs no
//     RSA work.
//   - [ScopesSatisfied] is Stytch's M2M scope rule.
//
// The header and claims are decoded in one pass, into typed fields, by a
// decoder of the package's own (jsondecode.go) that reproduces the results
// of the encoding/json decoding it replaced at over ten times its speed;
// the signature is checked with crypto/rsa and the registered claims by
// golang-jwt's Validator.
//
// Failures carry one typed reason ([ErrExpired], [ErrBadSignature], ...),
// checkable with errors.Is; [Reason] turns it into a metrics label and
// [Refreshable] says whether asking Stytch could still succeed (only for
// expired or too-old tokens, never for forged or malformed ones).
//
// This package must not import the REST client in the parent package: the
// dependency runs the other way.
package verify
