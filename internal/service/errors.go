package service

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// ErrorInfo reasons in the authsvc domain (rpcerr.Domain) that this package or the packages under
// it produce; reasons in the stytch.com domain are Stytch's error_type values, unchanged:
//
//   - stytch_unavailable: Stytch could not be reached, timed out or answered 5xx without a Stytch
//     error body (UNAVAILABLE); a 5xx with one keeps Stytch's type (internal_server_error).
//   - stytch_http_<status>: Stytch answered an unexpected status without a Stytch error body.
//   - keys_not_loaded: no signing keys are loaded yet, so nothing can be verified locally (UNAVAILABLE).
//   - expired, too_old, bad_signature, malformed, unknown_key, wrong_issuer, wrong_audience,
//     not_yet_valid, revoked: why a JWT was rejected locally (UNAUTHENTICATED).
//   - rejected_recently: Stytch rejected the same session credential moments ago (UNAUTHENTICATED).
//   - insufficient_scope: a valid M2M token lacks a required scope (PERMISSION_DENIED).
//   - invalid_redirect_url: a redirect URL is not on the allowlist (INVALID_ARGUMENT).
//   - session_member_mismatch: OTPs.SmsSend names another member than its session JWT, or a member
//     session names another member in B2B TOTPs.Create or RecoveryCodes.Get / Rotate (PERMISSION_DENIED).
//   - unsupported_filter: an M2M client search combines statuses with OR (INVALID_ARGUMENT).
//   - missing_credential, too_many_credentials: the request names no session or two (INVALID_ARGUMENT).
//   - invalid_path_segment: an ID that would not be exactly one segment of the Stytch URL path
//     (INVALID_ARGUMENT naming the field; the proto rules normally refuse it first).
//   - field_not_allowed_for_user: a consumer user's Users.Update sets a field only a service may
//     set (PERMISSION_DENIED naming the field).
//   - factor_not_owned, session_not_owned: a consumer user names a factor or session ID that is not
//     of their own account, or does not exist (PERMISSION_DENIED, the same answer either way).
//   - missing_user: consumer Sessions.Get names no user and the caller is no user (INVALID_ARGUMENT).
//   - invalid_access_token: a Connected Apps access token Stytch refuses (UNAUTHENTICATED).
//
// Each error is mapped to its status where it is made (rpcerr.Error, stytchclient.Error,
// verify's reasons); toStatus only passes statuses on, applies the caller's cancellation and the
// anonymous-caller rule below, and logs.

// authFailure says how an RPC that redeems a credential for an anonymous caller reports a rejected
// credential. Stytch answers 404 for an unknown member, link, code or intermediate session and 401
// for a wrong or used one; passing that difference on would tell anyone whether an address has an
// account. So every 401 and 404 of such an RPC becomes UNAUTHENTICATED with this reason and message.
type authFailure struct {
	// reason replaces Stytch's error_type; empty keeps it (when the type reveals nothing, e.g.
	// session_not_found for a session token).
	reason  string
	message string
	// types, when set, limits the collapse to these Stytch error types; other errors map as usual.
	types []string
}

func (af *authFailure) applies(se *stytchclient.Error) bool {
	if af == nil || (se.StatusCode != http.StatusUnauthorized && se.StatusCode != http.StatusNotFound) {
		return false
	}
	return len(af.types) == 0 || slices.Contains(af.types, se.ErrorType)
}

var (
	failMagicLink = &authFailure{reason: "unable_to_auth_magic_link", message: "the magic link is invalid, expired or already used"}
	failOTP       = &authFailure{reason: "unable_to_auth_otp_code", message: "the code is invalid, expired or already used"}
	failIST       = &authFailure{reason: "intermediate_session_not_found", message: "the intermediate session is invalid or expired"}
	failSession   = &authFailure{message: "the session is invalid or expired", types: []string{"session_not_found", "invalid_session_jwt"}}
	failClient    = &authFailure{reason: "invalid_client", message: "invalid client credentials"}
)

// toStatus is the error boundary of every handler: it returns err's status and logs the raw cause.
// af, when set, collapses credential rejections of anonymous RPCs (see authFailure).
//
// The caller's own context decides first: a Stytch call cut short by the caller is not Stytch's
// failure (CANCELED / DEADLINE_EXCEEDED). An error that carries no status is a defect: INTERNAL.
func (b *base) toStatus(ctx context.Context, err error, af *authFailure) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return status.FromContextError(cerr).Err()
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, "request canceled")
	}
	st, ok := rpcerr.StatusOf(err)
	if !ok {
		method, _ := grpc.Method(ctx)
		b.log.ErrorContext(ctx, "unexpected error", "rpc", method, "error", err.Error())
		return status.Error(codes.Internal, "internal error")
	}
	se, isStytch := stytchclient.AsError(err)
	switch {
	case isStytch && af.applies(se) && st.Code() != codes.Internal:
		st = collapse(st, af.message, af.reason)
	case !isStytch && af != nil && st.Code() == codes.Unauthenticated:
		// A JWT rejected locally: its reason describes the token the caller holds, so only the
		// message becomes the RPC's one answer.
		st = collapse(st, af.message, "")
	}
	b.logFailure(ctx, st, err, se)
	return st.Err()
}

// collapse rewrites a credential rejection of an anonymous RPC into the RPC's one answer: msg, and
// reason when not empty.
func collapse(st *status.Status, msg, reason string) *status.Status {
	p := st.Proto()
	p.Code = int32(codes.Unauthenticated)
	p.Message = msg
	out := status.FromProto(p)
	if info := rpcerr.ErrorInfo(out); info != nil && reason != "" {
		info.Reason = reason
		out = rpcerr.ReplaceErrorInfo(out, info)
	}
	return out
}

// logFailure logs the raw cause at a level by the code: server-side failures (Stytch down, Stytch
// refusing authsvc itself) at warn and error, the caller's own mistakes at debug. A Stytch error's
// text names the endpoint template, status, type and request ID only: safe to log.
func (b *base) logFailure(ctx context.Context, st *status.Status, err error, se *stytchclient.Error) {
	method, _ := grpc.Method(ctx)
	attrs := []any{"rpc", method, "code", st.Code().String(), "error", err.Error()}
	if se != nil {
		attrs = append(attrs, "stytch_status", se.StatusCode, "stytch_error_type", se.ErrorType, "stytch_request_id", se.RequestID)
	}
	level := slog.LevelDebug
	switch st.Code() {
	case codes.ResourceExhausted, codes.Unavailable:
		level = slog.LevelWarn
	case codes.Internal, codes.Unknown, codes.DataLoss:
		level = slog.LevelError
	}
	b.log.Log(ctx, level, "call failed", attrs...)
}
