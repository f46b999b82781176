package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

func stytchErr(code int, typ string) *stytchclient.Error {
	return &stytchclient.Error{
		Endpoint: "POST /v1/b2b/otps/email/authenticate", StatusCode: code, RequestID: "request-id-1", ErrorType: typ,
		// Stytch echoes user input here; it must never reach the caller or the logs.
		ErrorMessage: "No member with email secret.person@example.com",
	}
}

func details(st *status.Status) (*errdetails.ErrorInfo, *errdetails.RetryInfo) {
	var ei *errdetails.ErrorInfo
	var ri *errdetails.RetryInfo
	for _, d := range st.Details() {
		switch v := d.(type) {
		case *errdetails.ErrorInfo:
			ei = v
		case *errdetails.RetryInfo:
			ri = v
		}
	}
	return ei, ri
}

func TestToStatus(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel2()
	rateLimited := stytchErr(http.StatusTooManyRequests, "too_many_requests")
	rateLimited.RetryAfter = 7 * time.Second

	for _, tc := range []struct {
		name      string
		ctx       context.Context
		err       error
		af        *authFailure
		code      codes.Code
		reason    string
		domain    string
		retry     time.Duration // 0: no RetryInfo
		requestID bool
	}{
		{name: "400", err: stytchErr(400, "invalid_email"), code: codes.InvalidArgument, reason: "invalid_email", domain: stytchclient.DomainStytch, requestID: true},
		{name: "401", err: stytchErr(401, "unable_to_auth_otp_code"), code: codes.Unauthenticated, reason: "unable_to_auth_otp_code", domain: stytchclient.DomainStytch, requestID: true},
		{name: "401 for authsvc's own credentials", err: stytchErr(401, "unauthorized_credentials"), code: codes.Internal, reason: "unauthorized_credentials", domain: stytchclient.DomainStytch, requestID: true},
		{name: "403", err: stytchErr(403, "session_authorization_error"), code: codes.PermissionDenied, reason: "session_authorization_error", domain: stytchclient.DomainStytch, requestID: true},
		{name: "404", err: stytchErr(404, "member_not_found"), code: codes.NotFound, reason: "member_not_found", domain: stytchclient.DomainStytch, requestID: true},
		{name: "409", err: stytchErr(409, "conflict"), code: codes.AlreadyExists, reason: "conflict", domain: stytchclient.DomainStytch, requestID: true},
		{name: "429 with Retry-After", err: rateLimited, code: codes.ResourceExhausted, reason: "too_many_requests", domain: stytchclient.DomainStytch, retry: 7 * time.Second, requestID: true},
		{name: "429 without Retry-After", err: stytchErr(429, "too_many_requests"), code: codes.ResourceExhausted, reason: "too_many_requests", domain: stytchclient.DomainStytch, retry: time.Second, requestID: true},
		{name: "500", err: stytchErr(500, "internal_server_error"), code: codes.Unavailable, reason: "internal_server_error", domain: stytchclient.DomainStytch, retry: time.Second, requestID: true},
		{name: "502 without a Stytch body", err: &stytchclient.Error{StatusCode: 502}, code: codes.Unavailable, reason: "stytch_unavailable", domain: rpcerr.Domain, retry: time.Second},
		{name: "unexpected 4xx", err: &stytchclient.Error{StatusCode: 405}, code: codes.Internal, reason: "stytch_http_405", domain: rpcerr.Domain},
		{name: "wrapped", err: fmt.Errorf("calling: %w", stytchErr(404, "member_not_found")), code: codes.NotFound, reason: "member_not_found", domain: stytchclient.DomainStytch, requestID: true},
		{name: "transport failure", err: &stytchclient.TransportError{Endpoint: "GET /x", Err: errors.New("connection refused")}, code: codes.Unavailable, reason: "stytch_unavailable", domain: rpcerr.Domain, retry: time.Second},
		{name: "Stytch timeout", err: &stytchclient.TransportError{Endpoint: "GET /x", Timeout: true, Err: context.DeadlineExceeded}, code: codes.Unavailable, reason: "stytch_unavailable", domain: rpcerr.Domain, retry: time.Second},
		{name: "caller canceled", ctx: canceled, err: &stytchclient.TransportError{Err: context.Canceled}, code: codes.Canceled},
		{name: "caller deadline", ctx: expired, err: &stytchclient.TransportError{Err: context.DeadlineExceeded}, code: codes.DeadlineExceeded},
		{name: "local JWT rejection", err: fmt.Errorf("x: %w", verify.ErrBadSignature), code: codes.Unauthenticated, reason: "bad_signature", domain: rpcerr.Domain},
		{name: "keys not loaded", err: fmt.Errorf("x: %w", verify.ErrKeysNotLoaded), code: codes.Unavailable, reason: "keys_not_loaded", domain: rpcerr.Domain, retry: time.Second},
		{name: "insufficient scope", err: fmt.Errorf("x: %w", verify.ErrInsufficientScope), code: codes.PermissionDenied, reason: "insufficient_scope", domain: rpcerr.Domain},
		{name: "status passes through", err: status.Error(codes.FailedPrecondition, "kept"), code: codes.FailedPrecondition},
		{name: "anything else", err: errors.New("boom"), code: codes.Internal},
		{name: "anonymous: 404 collapses", err: stytchErr(404, "member_not_found"), af: failOTP, code: codes.Unauthenticated, reason: "unable_to_auth_otp_code", domain: stytchclient.DomainStytch, requestID: true},
		{name: "anonymous: 401 collapses", err: stytchErr(401, "unable_to_auth_otp_code"), af: failOTP, code: codes.Unauthenticated, reason: "unable_to_auth_otp_code", domain: stytchclient.DomainStytch, requestID: true},
		{name: "anonymous: 400 stays", err: stytchErr(400, "invalid_email"), af: failOTP, code: codes.InvalidArgument, reason: "invalid_email", domain: stytchclient.DomainStytch, requestID: true},
		{name: "anonymous: misconfiguration stays internal", err: stytchErr(401, "unauthorized_credentials"), af: failOTP, code: codes.Internal, reason: "unauthorized_credentials", domain: stytchclient.DomainStytch, requestID: true},
		{name: "type filter: listed type collapses", err: stytchErr(404, "session_not_found"), af: failSession, code: codes.Unauthenticated, reason: "session_not_found", domain: stytchclient.DomainStytch, requestID: true},
		{name: "type filter: other 404 stays", err: stytchErr(404, "organization_not_found"), af: failSession, code: codes.NotFound, reason: "organization_not_found", domain: stytchclient.DomainStytch, requestID: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			b := newBase(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			err := b.toStatus(ctx, tc.err, tc.af)
			st, ok := status.FromError(err)
			require.True(t, ok)
			assert.Equal(t, tc.code, st.Code())
			assert.NotContains(t, st.Message(), "secret.person@example.com")
			assert.NotContains(t, logs.String(), "secret.person@example.com", "the raw cause is logged without Stytch's message")
			ei, ri := details(st)
			if tc.reason != "" {
				require.NotNil(t, ei)
				assert.Equal(t, tc.reason, ei.GetReason())
				assert.Equal(t, tc.domain, ei.GetDomain())
			}
			if tc.requestID {
				assert.Equal(t, "request-id-1", ei.GetMetadata()[stytchclient.MetadataRequestID])
				assert.Contains(t, logs.String(), "request-id-1", "the raw cause is logged")
			}
			if tc.retry > 0 {
				require.NotNil(t, ri)
				assert.Equal(t, tc.retry, ri.GetRetryDelay().AsDuration())
			} else {
				assert.Nil(t, ri)
			}
		})
	}
}

func TestAnonymousRejectionsAreIdentical(t *testing.T) {
	b := newBase(nil)
	ctx := context.Background()
	for _, af := range []*authFailure{failMagicLink, failOTP, failIST, failClient} {
		unknown := status.Convert(b.toStatus(ctx, stytchErr(404, "member_not_found"), af))
		wrong := status.Convert(b.toStatus(ctx, stytchErr(401, "unable_to_auth_otp_code"), af))
		assert.Equal(t, unknown.Code(), wrong.Code())
		assert.Equal(t, unknown.Message(), wrong.Message())
		ue, _ := details(unknown)
		we, _ := details(wrong)
		assert.Equal(t, ue.GetReason(), we.GetReason())
	}
}
