package service

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// ErrorInfo domains. Reasons in DomainStytch are Stytch's error_type values, unchanged; reasons in
// DomainAuthsvc are authsvc's own:
//
//   - stytch_unavailable: Stytch could not be reached, timed out or answered 5xx without a Stytch
//     error body (UNAVAILABLE); a 5xx with one keeps Stytch's type (internal_server_error).
//   - stytch_http_<status>: Stytch answered an unexpected status without a Stytch error body.
//   - stytch_misconfigured: Stytch refused authsvc's own project credentials or request (INTERNAL).
//   - keys_not_loaded: no signing keys are loaded yet, so nothing can be verified locally (UNAVAILABLE).
//   - expired, too_old, bad_signature, malformed, unknown_key, wrong_issuer, wrong_audience,
//     not_yet_valid, revoked: why a JWT was rejected locally (UNAUTHENTICATED).
//   - insufficient_scope: a valid M2M token lacks a required scope (PERMISSION_DENIED).
//   - invalid_redirect_url: a redirect URL is not on the allowlist (INVALID_ARGUMENT).
//   - session_member_mismatch: OTPs.SmsSend names another member than its session JWT (PERMISSION_DENIED).
//   - unsupported_filter: an M2M client search combines statuses with OR (INVALID_ARGUMENT).
//   - missing_credential, too_many_credentials: the request names no session or two (INVALID_ARGUMENT).
//   - invalid_path_segment: an ID that would not be exactly one segment of the Stytch URL path
//     (INVALID_ARGUMENT naming the field; the proto rules normally refuse it first).
const (
	DomainStytch  = "stytch.com"
	DomainAuthsvc = "authsvc"
)

// MetadataStytchRequestID is the ErrorInfo metadata key holding Stytch's request ID.
const MetadataStytchRequestID = "stytch_request_id"

// defaultRetryDelay is the RetryInfo hint when Stytch sends no Retry-After.
const defaultRetryDelay = time.Second

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

// stytchMessages are authsvc's messages for Stytch error types; they never contain user input.
var stytchMessages = map[string]string{
	"duplicate_email":                        "a member with this email address already exists in the organization",
	"email_invites_not_allowed":              "the organization does not allow this email invite",
	"intermediate_session_not_found":         "the intermediate session is invalid or expired",
	"invalid_email":                          "the email address is invalid",
	"invalid_phone_number":                   "the phone number is invalid",
	"m2m_client_id_already_used":             "an M2M client with this ID already exists",
	"m2m_client_not_found":                   "M2M client not found",
	"m2m_client_secret_rotation_not_started": "no secret rotation is in progress for this M2M client",
	"member_already_active":                  "the member is already active",
	"member_not_found":                       "member not found",
	"member_password_not_found":              "member password not found",
	"member_phone_number_already_set":        "the member already has an MFA phone number; delete it first",
	"member_phone_number_not_found":          "the member has no MFA phone number",
	"organization_not_found":                 "organization not found",
	"organization_slug_already_used":         "the organization slug is already in use",
	"pkce_mismatch":                          "the PKCE code verifier does not match",
	"session_authorization_error":            "the member is not authorized to perform this action",
	"session_authorization_tenancy_error":    "the member session belongs to another organization",
	"session_not_found":                      "the session is invalid or expired",
	"too_many_requests":                      "too many requests to Stytch; retry later",
	"too_many_session_arguments":             "pass either a session token or a session JWT, not both",
	"invalid_scope":                          "a requested scope is not granted to this client",
	"invalid_client":                         "invalid client credentials",
}

// codeMessages are the fallbacks per code.
var codeMessages = map[codes.Code]string{
	codes.InvalidArgument:   "the request was rejected as invalid",
	codes.Unauthenticated:   "not authenticated",
	codes.PermissionDenied:  "permission denied",
	codes.NotFound:          "not found",
	codes.AlreadyExists:     "already exists",
	codes.ResourceExhausted: "too many requests; retry later",
	codes.Unavailable:       "the identity provider is unavailable; retry later",
	codes.Internal:          "internal error",
}

// toStatus is the error boundary of every handler: it turns err into a gRPC status error and logs
// the raw cause. Errors that already are statuses pass through. af, when set, collapses credential
// rejections of anonymous RPCs (see authFailure).
//
// Mapping: Stytch 400 → INVALID_ARGUMENT, 401 → UNAUTHENTICATED, 403 → PERMISSION_DENIED,
// 404 → NOT_FOUND, 409 → ALREADY_EXISTS, 429 → RESOURCE_EXHAUSTED with RetryInfo, 5xx, transport
// failures and Stytch timeouts → UNAVAILABLE (with RetryInfo); the caller's cancellation → CANCELED
// and its deadline → DEADLINE_EXCEEDED. A 401 unauthorized_credentials means authsvc's own project
// secret was refused, which is not the caller's fault: INTERNAL.
func (b *base) toStatus(ctx context.Context, err error, af *authFailure) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	method, _ := grpc.Method(ctx)
	log := b.log.With("rpc", method)

	// The caller's own context decides first: a Stytch call cut short by the caller is not Stytch's
	// failure.
	if cerr := ctx.Err(); cerr != nil {
		if errors.Is(cerr, context.DeadlineExceeded) {
			return status.Error(codes.DeadlineExceeded, "deadline exceeded")
		}
		return status.Error(codes.Canceled, "request canceled")
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, "request canceled")
	}

	if se, ok := stytchclient.AsError(err); ok {
		return b.stytchStatus(ctx, log, se, af)
	}
	if stytchclient.IsUnavailable(err) {
		log.WarnContext(ctx, "stytch unavailable", "error", err.Error())
		return withDetails(codes.Unavailable, codeMessages[codes.Unavailable],
			&errdetails.ErrorInfo{Reason: "stytch_unavailable", Domain: DomainAuthsvc},
			&errdetails.RetryInfo{RetryDelay: durationpb.New(defaultRetryDelay)})
	}
	if errors.Is(err, verify.ErrKeysNotLoaded) {
		log.WarnContext(ctx, "session keys not loaded", "error", err.Error())
		return withDetails(codes.Unavailable, "signing keys are not loaded yet; retry later",
			&errdetails.ErrorInfo{Reason: "keys_not_loaded", Domain: DomainAuthsvc},
			&errdetails.RetryInfo{RetryDelay: durationpb.New(defaultRetryDelay)})
	}
	if errors.Is(err, verify.ErrInsufficientScope) {
		return withDetails(codes.PermissionDenied, "the token lacks a required scope",
			&errdetails.ErrorInfo{Reason: "insufficient_scope", Domain: DomainAuthsvc})
	}
	if reason := verify.Reason(err); reason != "other" && reason != "ok" && reason != "canceled" {
		// A JWT rejected locally. The reason (expired, bad_signature, ...) describes the token the
		// caller already holds, so it discloses nothing.
		log.DebugContext(ctx, "token rejected locally", "reason", reason)
		msg := "the token is invalid"
		if af != nil {
			msg = af.message
		}
		return withDetails(codes.Unauthenticated, msg, &errdetails.ErrorInfo{Reason: reason, Domain: DomainAuthsvc})
	}
	var pe *stytchclient.PathParamError
	if errors.As(err, &pe) {
		// The Stytch client refused to build the URL, so nothing was sent. Its parameter names are
		// Stytch's path placeholders, which are the request fields' names.
		return invalidArgument(pe.Param, "invalid_path_segment", pe.Param+" "+pe.Reason)
	}
	if errors.Is(err, stytchclient.ErrTooManySessionArguments) {
		return withDetails(codes.InvalidArgument, "pass either a session token or a session JWT, not both",
			&errdetails.ErrorInfo{Reason: "too_many_credentials", Domain: DomainAuthsvc})
	}
	log.ErrorContext(ctx, "unexpected error", "error", err.Error())
	return status.Error(codes.Internal, codeMessages[codes.Internal])
}

func (b *base) stytchStatus(ctx context.Context, log *slog.Logger, se *stytchclient.Error, af *authFailure) error {
	code := stytchCode(se)
	reason := se.ErrorType
	msg, ok := stytchMessages[reason]
	if !ok {
		msg = codeMessages[code]
	}
	if af.applies(se) && code != codes.Internal {
		code, msg = codes.Unauthenticated, af.message
		if af.reason != "" {
			reason = af.reason
		}
	}
	domain := DomainStytch
	if reason == "" {
		// Not a Stytch error body (a proxy's page, an empty body): the reason is authsvc's.
		domain = DomainAuthsvc
		reason = "stytch_http_" + strconv.Itoa(se.StatusCode)
		if code == codes.Unavailable {
			reason = "stytch_unavailable"
		}
	}
	info := &errdetails.ErrorInfo{Reason: reason, Domain: domain}
	if se.RequestID != "" {
		info.Metadata = map[string]string{MetadataStytchRequestID: se.RequestID}
	}
	details := []protoadapt.MessageV1{info}

	// se.Error() names the endpoint template, status, type and request ID only: safe to log.
	attrs := []any{"error", se.Error(), "stytch_status", se.StatusCode, "stytch_error_type", se.ErrorType, "stytch_request_id", se.RequestID}
	switch code {
	case codes.ResourceExhausted, codes.Unavailable:
		delay := se.RetryAfter
		if delay <= 0 {
			delay = defaultRetryDelay
		}
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(delay)})
		log.WarnContext(ctx, "stytch call failed", attrs...)
	case codes.Internal:
		msg = codeMessages[codes.Internal]
		log.ErrorContext(ctx, "stytch refused authsvc's request", attrs...)
	default:
		log.DebugContext(ctx, "stytch call failed", attrs...)
	}
	return withDetails(code, msg, details...)
}

// stytchCode maps a Stytch HTTP status to a gRPC code.
func stytchCode(se *stytchclient.Error) codes.Code {
	switch s := se.StatusCode; {
	case s == http.StatusBadRequest, s == http.StatusUnprocessableEntity:
		return codes.InvalidArgument
	case s == http.StatusUnauthorized:
		if se.ErrorType == "unauthorized_credentials" {
			return codes.Internal
		}
		return codes.Unauthenticated
	case s == http.StatusForbidden:
		return codes.PermissionDenied
	case s == http.StatusNotFound:
		return codes.NotFound
	case s == http.StatusConflict:
		return codes.AlreadyExists
	case s == http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case s == http.StatusRequestTimeout, s >= 500:
		return codes.Unavailable
	default:
		// Any other status means authsvc and Stytch disagree about the API.
		return codes.Internal
	}
}

// withDetails builds a status error with details. Attaching well-formed details cannot fail; if it
// did, the status without details is still correct.
func withDetails(code codes.Code, msg string, details ...protoadapt.MessageV1) error {
	st := status.New(code, msg)
	if len(details) > 0 {
		if withD, err := st.WithDetails(details...); err == nil {
			st = withD
		}
	}
	return st.Err()
}

// invalidArgument reports a bad request field with an authsvc reason and a BadRequest detail naming
// the field.
func invalidArgument(field, reason, msg string) error {
	return withDetails(codes.InvalidArgument, msg,
		&errdetails.ErrorInfo{Reason: reason, Domain: DomainAuthsvc},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: msg}}})
}
