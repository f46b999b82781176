package verify

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/rpcerr"
)

// Reasons a token is rejected. Every error returned by [Verifier] wraps
// exactly one of them, so errors.Is picks the reason and [Reason] names it.
var (
	// ErrMalformed: not a JWT, a required claim or header (kid, exp, iat, iss,
	// aud, sub, the session claim, scope) is missing or has the wrong type, or the token
	// is of the other kind (an M2M token presented as a session or the reverse).
	ErrMalformed = &reasonError{msg: "malformed token"}
	// ErrBadSignature: the signature does not verify, or the algorithm is not
	// RS256 (alg none, HS256, ...).
	ErrBadSignature = &reasonError{msg: "bad signature"}
	// ErrUnknownKey: the token's kid is not in the project's JWKS, even after
	// the refetch that an unknown kid may trigger once per window.
	ErrUnknownKey = &reasonError{msg: "unknown signing key"}
	// ErrKeysNotLoaded: no JWKS has been loaded yet (Stytch unreachable since
	// startup), so nothing can be verified locally.
	ErrKeysNotLoaded = &reasonError{msg: "signing keys not loaded"}
	// ErrWrongIssuer: iss is neither stytch.com/{project_id} nor the
	// configured base URL.
	ErrWrongIssuer = &reasonError{msg: "wrong issuer"}
	// ErrWrongAudience: aud does not contain the project ID.
	ErrWrongAudience = &reasonError{msg: "wrong audience"}
	// ErrNotYetValid: nbf or iat lies in the future beyond the leeway.
	ErrNotYetValid = &reasonError{msg: "token not yet valid"}
	// ErrExpired: exp has passed (beyond the leeway). The signature was valid,
	// so Stytch may still refresh the session.
	ErrExpired = &reasonError{msg: "token expired"}
	// ErrTooOld: iat is older than the configured MaxTokenAge. The signature
	// was valid, so Stytch may still confirm the session.
	ErrTooOld = &reasonError{msg: "token too old"}
	// ErrRevoked: the token verified but the IsRevoked hook says its session
	// was revoked.
	ErrRevoked = &reasonError{msg: "session revoked"}
	// ErrWrongProjectType: a session JWT of the other kind of Stytch project:
	// a consumer user's JWT (no organization claim) given to a B2B verifier,
	// or a B2B member's JWT (with one) given to a consumer verifier. Decided
	// from the claims before any key is looked up, so such a token neither
	// triggers a JWKS refetch nor reads as malformed.
	ErrWrongProjectType = &reasonError{msg: "session of the other project type"}
	// ErrInsufficientScope: a valid M2M token that lacks a required scope.
	// This is an authorization failure, not an invalid token.
	ErrInsufficientScope = &reasonError{msg: "insufficient scope"}
)

// reasons is ordered: Reason reports the first match.
var reasons = [...]struct {
	err   error
	label string
}{
	{ErrMalformed, "malformed"},
	{ErrBadSignature, "bad_signature"},
	{ErrUnknownKey, "unknown_key"},
	{ErrKeysNotLoaded, "keys_not_loaded"},
	{ErrWrongIssuer, "wrong_issuer"},
	{ErrWrongAudience, "wrong_audience"},
	{ErrNotYetValid, "not_yet_valid"},
	{ErrExpired, "expired"},
	{ErrTooOld, "too_old"},
	{ErrRevoked, "revoked"},
	{ErrWrongProjectType, "wrong_project_type"},
	{ErrInsufficientScope, "insufficient_scope"},
}

// Reason returns a short, stable label for err, for metrics and span
// attributes: "ok" for nil, one of "malformed", "bad_signature",
// "unknown_key", "keys_not_loaded", "wrong_issuer", "wrong_audience",
// "not_yet_valid", "expired", "too_old", "revoked", "wrong_project_type",
// "insufficient_scope",
// "canceled" for a context error, and "other" for anything else.
func Reason(err error) string {
	if err == nil {
		return "ok"
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.label
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "canceled"
	}
	return "other"
}

// Refreshable reports whether a remote call to Stytch could still accept the
// session behind a rejected JWT: only when the token was genuine (signature,
// issuer and audience verified) but expired or older than MaxTokenAge. Forged,
// malformed, unknown-key and revoked tokens are never refreshable, so junk
// traffic never turns into upstream calls.
func Refreshable(err error) bool {
	return errors.Is(err, ErrExpired) || errors.Is(err, ErrTooOld)
}

// reasonError is one rejection reason. Each carries the status a caller gets, so a verification
// failure needs no mapping anywhere else.
type reasonError struct{ msg string }

func (e *reasonError) Error() string { return e.msg }

// GRPCStatus is the status a caller gets for a token rejected for this reason: UNAUTHENTICATED with
// the reason label (it describes the token the caller already holds, so it discloses nothing),
// except that a token that could not be checked (no keys yet) is UNAVAILABLE and a valid M2M token
// lacking a scope is PERMISSION_DENIED.
func (e *reasonError) GRPCStatus() *status.Status {
	switch e {
	case ErrKeysNotLoaded:
		return rpcerr.New(codes.Unavailable, "keys_not_loaded", "signing keys are not loaded yet; retry later").WithRetry(time.Second).GRPCStatus()
	case ErrInsufficientScope:
		return rpcerr.New(codes.PermissionDenied, "insufficient_scope", "the token lacks a required scope").GRPCStatus()
	default:
		return rpcerr.New(codes.Unauthenticated, Reason(e), "the token is invalid").GRPCStatus()
	}
}
