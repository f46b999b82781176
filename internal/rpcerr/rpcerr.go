// Package rpcerr is authsvc's error type for the API boundary: an error that carries its gRPC
// status (code, a message safe to show any caller, a google.rpc.ErrorInfo reason in the "authsvc"
// domain with metadata, a BadRequest field, a RetryInfo delay) and, separately, the cause that
// only logs may see.
//
// Packages return *Error (or errors that implement GRPCStatus, such as Stytch's errors in
// internal/stytchclient and verification failures in internal/stytchclient/verify); the service
// boundary passes them on as they are, so each error is mapped to a status once, where it is made,
// and nothing matches error strings. grpc-go's status.FromError finds GRPCStatus through wrapping.
package rpcerr

import (
	"errors"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Domain is the ErrorInfo domain of authsvc's own reasons. Reasons taken from Stytch keep
// Stytch's error_type in the domain "stytch.com" (see internal/stytchclient).
const Domain = "authsvc"

// Error is an API error with its status. The zero Domain means [Domain].
type Error struct {
	Code    codes.Code
	Reason  string
	Message string
	// Domain of Reason; empty means Domain.
	Domain string
	// Metadata is the ErrorInfo metadata (IDs, never user input).
	Metadata map[string]string
	// Field, when set, is named in a BadRequest field violation.
	Field string
	// RetryAfter, when positive, is sent as RetryInfo (and Retry-After on REST).
	RetryAfter time.Duration
	// Cause is for logs only; it never reaches the caller.
	Cause error
}

// New returns an error with code, reason and a message safe for any caller.
func New(code codes.Code, reason, msg string) *Error {
	return &Error{Code: code, Reason: reason, Message: msg}
}

// InvalidArgument reports a bad request field.
func InvalidArgument(field, reason, msg string) *Error {
	return &Error{Code: codes.InvalidArgument, Reason: reason, Message: msg, Field: field}
}

// Error is the message and, for logs, the reason and cause.
func (e *Error) Error() string {
	s := e.Code.String() + " " + e.Reason + ": " + e.Message
	if e.Cause != nil {
		s += " (" + e.Cause.Error() + ")"
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// Is matches another *Error with the same code and reason, so sentinel values of this type work
// with errors.Is.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code && t.Reason == e.Reason
}

// WithCause returns a copy of e with cause attached (for logs).
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.Cause = cause
	return &c
}

// WithRetry returns a copy of e that tells the caller when to retry.
func (e *Error) WithRetry(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

// GRPCStatus is the status sent to the caller.
func (e *Error) GRPCStatus() *status.Status {
	domain := e.Domain
	if domain == "" {
		domain = Domain
	}
	details := make([]protoadapt.MessageV1, 0, 3)
	if e.Reason != "" {
		details = append(details, &errdetails.ErrorInfo{Reason: e.Reason, Domain: domain, Metadata: e.Metadata})
	}
	if e.Field != "" {
		details = append(details, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: e.Field, Description: e.Message}}})
	}
	if e.RetryAfter > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)})
	}
	return WithDetails(e.Code, e.Message, details...)
}

// WithDetails builds a status with details. Attaching well-formed details cannot fail; if it did,
// the status without them is still correct.
func WithDetails(code codes.Code, msg string, details ...protoadapt.MessageV1) *status.Status {
	st := status.New(code, msg)
	if len(details) == 0 {
		return st
	}
	if d, err := st.WithDetails(details...); err == nil {
		return d
	}
	return st
}

// StatusOf returns the status of the first error in err's chain that carries one (GRPCStatus),
// unchanged. Unlike status.FromError, the message of a wrapped status is not replaced by the
// wrapping error's text, which may hold details meant for logs only.
func StatusOf(err error) (*status.Status, bool) {
	var s interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &s) {
		return nil, false
	}
	st := s.GRPCStatus()
	return st, st != nil
}

// ErrorInfo returns st's ErrorInfo detail, or nil.
func ErrorInfo(st *status.Status) *errdetails.ErrorInfo {
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei
		}
	}
	return nil
}

// ReplaceErrorInfo returns st with its ErrorInfo detail replaced by info (other details kept).
func ReplaceErrorInfo(st *status.Status, info *errdetails.ErrorInfo) *status.Status {
	p := st.Proto()
	for i, a := range p.GetDetails() {
		var ei errdetails.ErrorInfo
		if a.UnmarshalTo(&ei) == nil {
			if n, err := anypb.New(info); err == nil {
				p.Details[i] = n
			}
		}
	}
	return status.FromProto(p)
}
