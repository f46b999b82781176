package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
	"github.com/authsvc/authsvc/internal/telemetry"
)

// BenchmarkToStatus measures the error boundary every failing RPC passes through: a Stytch error
// becomes a status with ErrorInfo (and RetryInfo) details, and is logged by the production JSON
// handler at info level (writing to io.Discard, so the cost is encoding, not I/O).
func BenchmarkToStatus(b *testing.B) {
	bs := newBase(slog.New(telemetry.NewLogHandler(io.Discard, slog.LevelInfo)))
	ctx := context.Background()
	stytchError := func(code int, typ string) *stytchclient.Error {
		return &stytchclient.Error{Endpoint: "POST /v1/b2b/sessions/authenticate", StatusCode: code, RequestID: "request-id-bench-0001", ErrorType: typ}
	}
	limited := stytchError(http.StatusTooManyRequests, "too_many_requests")
	limited.RetryAfter = 2 * time.Second
	cases := []struct {
		name string
		err  error
		af   *authFailure
		want codes.Code
	}{
		// The common rejection: an unknown or expired session, collapsed for anonymous callers.
		{"stytch_404_session_not_found", stytchError(http.StatusNotFound, "session_not_found"), failSession, codes.Unauthenticated},
		{"stytch_429_retry_after", limited, nil, codes.ResourceExhausted},
		{"stytch_transport_timeout", &stytchclient.TransportError{Endpoint: "POST /v1/b2b/sessions/authenticate", Timeout: true, Attempts: 1, Err: context.DeadlineExceeded}, nil, codes.Unavailable},
		// A JWT rejected locally (no Stytch call): the hot failure path of session checks.
		{"local_jwt_expired", fmt.Errorf("verify session: %w", verify.ErrExpired), failSession, codes.Unauthenticated},
		{"status_passthrough", status.Error(codes.InvalidArgument, "bad"), nil, codes.InvalidArgument},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			if got := status.Code(bs.toStatus(ctx, tc.err, tc.af)); got != tc.want {
				b.Fatalf("toStatus code = %v, want %v", got, tc.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = bs.toStatus(ctx, tc.err, tc.af)
			}
		})
	}
}
