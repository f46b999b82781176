package server_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/server"
	"github.com/authsvc/authsvc/internal/telemetry"
)

// jwksStub answers GetJWKS with one RSA key, the size of the real response, and does nothing else:
// what is measured is the path around the handler.
type jwksStub struct {
	b2bv1.UnimplementedSessionsServiceServer
	res *b2bv1.SessionsServiceGetJWKSResponse
}

func (s jwksStub) GetJWKS(context.Context, *b2bv1.SessionsServiceGetJWKSRequest) (*b2bv1.SessionsServiceGetJWKSResponse, error) {
	return s.res, nil
}

func newJWKSStub() jwksStub {
	return jwksStub{res: &b2bv1.SessionsServiceGetJWKSResponse{Keys: []*b2bv1.Jwk{{
		Kty: "RSA", Use: "sig", Alg: "RS256", Kid: "jwk-test-00000000-0000-4000-8000-000000000000",
		N: strings.Repeat("q", 342), E: "AQAB",
	}}}}
}

// bufDial returns a client of a bufconn listener (in-memory: no TCP, no syscalls), so a benchmark
// measures gRPC and the interceptors rather than the kernel's loopback.
func bufDial(b *testing.B, lis *bufconn.Listener) *grpc.ClientConn {
	b.Helper()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(b, err)
	b.Cleanup(func() { _ = conn.Close() })
	return conn
}

// startChain runs server.New, the production chain (otelgrpc stats handler, access log, validation,
// recovery), with telemetry from telemetry.Setup as the binary builds it (logs to io.Discard).
func startChain(b *testing.B, logLevel string, sampler sdktrace.Sampler) *grpc.ClientConn {
	b.Helper()
	tel, err := telemetry.Setup(b.Context(), telemetry.Config{LogLevel: logLevel, LogOutput: discard{}, Sampler: sampler})
	require.NoError(b, err)
	lis := bufconn.Listen(1 << 20)
	srv, err := server.New(b.Context(), server.Config{
		GRPCListener: lis, HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Services:       []server.Service{{Desc: &b2bv1.SessionsService_ServiceDesc, Impl: newJWKSStub()}},
		MetricsHandler: tel.MetricsHandler,
		ShutdownGrace:  5 * time.Second,
		Logger:         tel.Logger, TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider, Propagators: tel.Propagator,
	})
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
		_ = tel.Shutdown(context.Background())
	})
	return bufDial(b, lis)
}

// startBare is the floor: a grpc.Server with no stats handler and no interceptors.
func startBare(b *testing.B) *grpc.ClientConn {
	b.Helper()
	lis := bufconn.Listen(1 << 20)
	g := grpc.NewServer()
	b2bv1.RegisterSessionsServiceServer(g, newJWKSStub())
	go func() { _ = g.Serve(lis) }()
	b.Cleanup(g.Stop)
	return bufDial(b, lis)
}

// discard is io.Discard with its own type, so the log handler cannot special-case it.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkChain is one unary RPC (GetJWKS on a stub) through an in-memory connection: bare gRPC,
// then the production chain, then the chain with the access log or tracing turned off to show what
// each costs. The difference between "bare" and "full" is authsvc's per-RPC overhead before any
// handler work.
func BenchmarkChain(b *testing.B) {
	cases := []struct {
		name  string
		start func(*testing.B) *grpc.ClientConn
	}{
		{"bare", startBare},
		{"full", func(b *testing.B) *grpc.ClientConn { return startChain(b, "info", nil) }},
		{"full_no_access_log", func(b *testing.B) *grpc.ClientConn { return startChain(b, "warn", nil) }},
		{"full_no_tracing", func(b *testing.B) *grpc.ClientConn { return startChain(b, "info", sdktrace.NeverSample()) }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			c := b2bv1.NewSessionsServiceClient(tc.start(b))
			ctx := context.Background()
			req := &b2bv1.SessionsServiceGetJWKSRequest{}
			_, err := c.GetJWKS(ctx, req, grpc.WaitForReady(true))
			require.NoError(b, err)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.GetJWKS(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkChainParallel is the full chain with callers on every core (contention on shared state
// in the interceptors, the tracer and the log writer).
func BenchmarkChainParallel(b *testing.B) {
	c := b2bv1.NewSessionsServiceClient(startChain(b, "info", nil))
	req := &b2bv1.SessionsServiceGetJWKSRequest{}
	_, err := c.GetJWKS(context.Background(), req, grpc.WaitForReady(true))
	require.NoError(b, err)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := c.GetJWKS(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
