package authn

import (
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The three ways authentication fails. Every error from this package matches exactly one of them
// with errors.Is.
var (
	// ErrUnauthenticated: no credential, or one that is malformed, forged, expired (with its session
	// gone), revoked, or for another project. gRPC UNAUTHENTICATED, HTTP 401.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrPermissionDenied: a valid credential that no rule admits (a missing role or scope). gRPC
	// PERMISSION_DENIED, HTTP 403.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrUnavailable: the credential could not be checked (keys not loaded yet, or authsvc
	// unreachable when it had to be asked). gRPC UNAVAILABLE, HTTP 503; worth a retry.
	ErrUnavailable = errors.New("authentication unavailable")
)

// Error is an authentication or authorization failure. It carries no credential. Returned from a
// gRPC handler it becomes the matching status (it implements GRPCStatus).
type Error struct {
	kind   error  // one of the three sentinels
	reason string // why, for logs: "expired", "bad_signature", "no credentials", ...
	// presented is whether a credential was presented (it shapes the WWW-Authenticate challenge).
	presented bool
	scopes    []string // scopes that would have admitted a service, for the 403 challenge
}

func newError(kind error, reason string, presented bool) *Error {
	return &Error{kind: kind, reason: reason, presented: presented}
}

// Error returns e.g. "unauthenticated: expired".
func (e *Error) Error() string { return e.kind.Error() + ": " + e.reason }

// Unwrap returns the sentinel: ErrUnauthenticated, ErrPermissionDenied or ErrUnavailable.
func (e *Error) Unwrap() error { return e.kind }

// Reason is a short label for logs and metrics ("expired", "bad_signature", "no credentials", ...).
func (e *Error) Reason() string { return e.reason }

// Code is the gRPC code.
func (e *Error) Code() codes.Code {
	switch {
	case errors.Is(e.kind, ErrPermissionDenied):
		return codes.PermissionDenied
	case errors.Is(e.kind, ErrUnavailable):
		return codes.Unavailable
	}
	return codes.Unauthenticated
}

// HTTPStatus is the HTTP status: 401, 403 or 503.
func (e *Error) HTTPStatus() int {
	switch e.Code() {
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusUnauthorized
}

// GRPCStatus lets status.FromError and gRPC servers turn e into a status. The message is e's
// Error(), which names the reason, never the token.
func (e *Error) GRPCStatus() *status.Status { return status.New(e.Code(), e.Error()) }

// asError turns any error from Authenticate or Authorize into an *Error.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return newError(ErrUnavailable, "internal", false)
}
