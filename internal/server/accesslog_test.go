package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/telemetry"
)

// lockedBuffer collects log lines written from the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.buf.String()), "\n")
}

// jwksAnswer is a SessionsService whose GetJWKS answers after the steps of the chain ran, or with
// the error it was given.
type jwksAnswer struct {
	b2bv1.UnimplementedSessionsServiceServer
	err error
}

func (s jwksAnswer) GetJWKS(context.Context, *b2bv1.SessionsServiceGetJWKSRequest) (*b2bv1.SessionsServiceGetJWKSResponse, error) {
	return &b2bv1.SessionsServiceGetJWKSResponse{}, s.err
}

// addFields stands in for the access step, which adds its fields to the line with
// logging.AddFields.
func addFields(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	logging.AddFields(ctx, logging.Fields{"caller.kind", "service", "access.via", "scope"})
	return handler(ctx, req)
}

// logOneCall serves GetJWKS through the access-log interceptor newAccessLog builds (then
// addFields) on authsvc's log handler and returns the line it wrote for one call.
func logOneCall(t *testing.T, newAccessLog func(*slog.Logger) grpc.UnaryServerInterceptor, handlerErr error, deadline bool) map[string]any {
	t.Helper()
	out := &lockedBuffer{}
	accessLog := newAccessLog(slog.New(telemetry.NewLogHandler(out, slog.LevelInfo)))
	lis := bufconn.Listen(1 << 16)
	g := grpc.NewServer(grpc.ChainUnaryInterceptor(accessLog, addFields))
	b2bv1.RegisterSessionsServiceServer(g, jwksAnswer{err: handlerErr})
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })

	ctx := t.Context()
	if deadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Hour)
		defer cancel()
	}
	_, err = b2bv1.NewSessionsServiceClient(conn).GetJWKS(ctx, &b2bv1.SessionsServiceGetJWKSRequest{})
	require.Equal(t, status.Code(handlerErr), status.Code(err))
	// A health check writes no line, with either interceptor.
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	require.Equal(t, codes.Unimplemented, status.Code(err))

	lines := out.lines()
	require.Len(t, lines, 1, "one line per call, none for health: %q", lines)
	return orderedJSON(t, lines[0])
}

// orderedJSON decodes one JSON object and records its keys in order under "".
func orderedJSON(t *testing.T, line string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	m := map[string]any{}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		var v any
		require.NoError(t, dec.Decode(&v))
		keys = append(keys, k.(string))
		m[k.(string)] = v
	}
	m[""] = keys
	return m
}

// The hand-written unary access line is go-grpc-middleware's line: the same keys in the same order
// and the same values, on success and failure, with and without a deadline, with the fields a later
// step adds; only the timings differ from one call to the next.
func TestAccessLogUnaryWritesTheLibrarysLine(t *testing.T) {
	library := func(log *slog.Logger) grpc.UnaryServerInterceptor {
		return logging.UnaryServerInterceptor(slogAdapter(log), accessLogOptions()...)
	}
	for name, tc := range map[string]struct {
		err      error
		deadline bool
	}{
		"ok":                       {},
		"ok with deadline":         {deadline: true},
		"client error":             {err: status.Error(codes.InvalidArgument, "organization_id: value is required")},
		"server error":             {err: status.Error(codes.Unavailable, "stytch: unavailable"), deadline: true},
		"plain error":              {err: errors.New("boom")},
		"client error no deadline": {err: status.Error(codes.NotFound, "member_not_found")},
	} {
		t.Run(name, func(t *testing.T) {
			want := logOneCall(t, library, tc.err, tc.deadline)
			got := logOneCall(t, accessLogUnary, tc.err, tc.deadline)

			assert.Equal(t, want[""], got[""], "keys and their order")
			for k, v := range want {
				switch k {
				case "", "time", "grpc.start_time", "grpc.request.deadline", "grpc.time_ms", "peer.address":
					continue // per call
				}
				assert.Equal(t, v, got[k], k)
			}
			for _, k := range []string{"grpc.start_time", "grpc.request.deadline"} {
				if _, ok := want[k]; ok {
					_, err := time.Parse(time.RFC3339, got[k].(string))
					require.NoError(t, err, k)
				}
			}
			assert.Equal(t, "bufconn", got["peer.address"])
		})
	}
}

// grpc.time_ms is written exactly as the library writes it.
func TestDurationMillisMatchesTheLibrary(t *testing.T) {
	for _, d := range []time.Duration{
		0, 999, time.Microsecond, 771 * time.Microsecond, 21288 * time.Microsecond,
		time.Second, 90 * time.Second, 1234567 * time.Millisecond, 3*time.Hour + 7*time.Nanosecond,
	} {
		want := logging.DurationToTimeMillisFields(d)
		assert.Equal(t, want[1], durationMillis(d), d.String())
	}
}
