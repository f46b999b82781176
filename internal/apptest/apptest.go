// Package apptest starts the whole authsvc in process for tests: the production constructor
// (internal/app) on loopback ports, in dev mode against a Stytch emulator the test can reach into
// (outbox, clock, faults, request counts), with logs and spans captured for assertions.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/authsvc/authsvc/internal/app"
	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// DefaultRedirectURL is the first (default) entry of the redirect allowlist the test app runs with.
const DefaultRedirectURL = "http://localhost:3000/authenticate"

// Env is a running authsvc with its emulator.
type Env struct {
	App *app.App
	// Emu is the emulator; its own project is the B2B one.
	Emu *stytchemu.Server
	// Consumer is the consumer project Emu also serves (nil when the test's own emulator has none).
	Consumer *stytchemu.Emulator
	Config   *config.Config
	Conn     *grpc.ClientConn // to the gRPC port
	BaseURL  string           // the REST port, e.g. http://127.0.0.1:41234
	HTTP     *http.Client     // with a cookie jar, as a browser
	Spans    *tracetest.InMemoryExporter
	Metrics  *sdkmetric.ManualReader
	logs     *testkit.LogBuffer
	stop     func() error
}

// Option adjusts the test app.
type Option func(*settings)

type settings struct {
	env      map[string]string
	emu      *stytchemu.Server
	consumer *stytchemu.Emulator
}

// WithEnv sets configuration variables (as the environment would) on top of the test defaults.
func WithEnv(kv map[string]string) Option {
	return func(s *settings) {
		for k, v := range kv {
			s.env[k] = v
		}
	}
}

// WithEmulator runs the app against an emulator the test started (for example one shared by two
// authsvc instances, as two replicas share one Stytch project). The test closes it. Unless
// WithConsumerProject names the consumer project it also serves, the app serves no consumer API.
func WithEmulator(emu *stytchemu.Server) Option {
	return func(s *settings) { s.emu = emu }
}

// WithConsumerProject names the consumer project that the WithEmulator emulator also serves.
func WithConsumerProject(p *stytchemu.Emulator) Option {
	return func(s *settings) { s.consumer = p }
}

// DevEmulator starts what dev mode runs: a B2B and a consumer project, both seeded with Stytch's
// sandbox values, on one loopback address (stytchemu.Multi), closed when the test ends. The
// server's own project is the B2B one.
func DevEmulator(t testing.TB) (*stytchemu.Server, *stytchemu.Emulator) {
	t.Helper()
	return DevEmulatorWith(t)
}

// DevEmulatorWith is DevEmulator with further options for the B2B project (e.g.
// stytchemu.WithUserInfoURL). The B2B project serves the example trusted auth token profile, as
// dev mode's does.
func DevEmulatorWith(t testing.TB, b2bOpts ...stytchemu.Option) (*stytchemu.Server, *stytchemu.Emulator) {
	t.Helper()
	trusted, err := stytchemu.ExampleTrustedAuthProfile()
	require.NoError(t, err)
	b2b, err := stytchemu.New(append([]stytchemu.Option{stytchemu.WithSandbox(), stytchemu.WithTrustedAuthProfiles(trusted)}, b2bOpts...)...)
	require.NoError(t, err)
	consumer, err := stytchemu.New(stytchemu.WithConsumer(), stytchemu.WithSandbox())
	require.NoError(t, err)
	multi, err := stytchemu.NewMulti(b2b, consumer)
	require.NoError(t, err)
	srv, err := multi.Listen(context.Background(), "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	return srv, consumer
}

// Start runs authsvc until the test ends.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	s := settings{env: map[string]string{
		"AUTHSVC_ALLOWED_REDIRECT_URLS": DefaultRedirectURL + ",http://localhost:3000/discovery",
		"AUTHSVC_INSECURE_COOKIES":      "true",
		"AUTHSVC_SHUTDOWN_GRACE":        "5s",
		"AUTHSVC_LOG_LEVEL":             "debug",
	}}
	for _, o := range opts {
		o(&s)
	}
	cfg, err := config.Load(nil, func(k string) string { return s.env[k] }, io.Discard)
	require.NoError(t, err)
	EphemeralPorts(cfg)

	emu, consumer := s.emu, s.consumer
	if emu == nil {
		emu, consumer = DevEmulator(t)
	}

	e := &Env{Emu: emu, Consumer: consumer, Config: cfg, Spans: tracetest.NewInMemoryExporter(), Metrics: sdkmetric.NewManualReader(), logs: &testkit.LogBuffer{}}
	a, err := app.New(t.Context(), cfg, app.Options{
		Version:         "test",
		LogOutput:       e.logs,
		SpanExporter:    e.Spans,
		MetricReaders:   []sdkmetric.Reader{e.Metrics},
		Emulator:        emu,
		ConsumerProject: consumer,
		Now:             emu.Now,
	})
	require.NoError(t, err)
	e.App = a

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	e.stop = sync.OnceValue(func() error {
		cancel()
		return <-done
	})

	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	e.Conn = conn
	e.BaseURL = "http://" + a.HTTPAddr()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	e.HTTP = &http.Client{Jar: jar}

	t.Cleanup(func() {
		_ = conn.Close()
		e.HTTP.CloseIdleConnections()
		if err := e.stop(); err != nil {
			t.Errorf("authsvc shutdown: %v", err)
		}
	})
	// Tests count calls to Stytch; the JWKS cache's first load is one, so let it happen first.
	require.NoError(t, a.WaitKeys(t.Context()))
	return e
}

// EphemeralPorts makes cfg listen on free loopback ports. Any free port is a test's need, not a
// setting: config.Load refuses port 0 (an operator needs a known port), so tests set it on the
// loaded Config.
func EphemeralPorts(cfg *config.Config) {
	cfg.Server.GRPCAddr, cfg.Server.HTTPAddr, cfg.Server.AdminAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
}

// Stop shuts authsvc down as SIGTERM does (drain delay, graceful stop, telemetry flush) and returns
// what Run returned. Tests that watch a shutdown call it, usually from a goroutine; otherwise the test's
// cleanup does.
func (e *Env) Stop() error { return e.stop() }

// ServedServices lists the services the app's gRPC server serves (by server reflection), so that a
// test enumerating the declared API can tell a service that is declared but not served yet.
func (e *Env) ServedServices(t testing.TB) map[string]bool {
	t.Helper()
	stream, err := reflectionpb.NewServerReflectionClient(e.Conn).ServerReflectionInfo(t.Context())
	require.NoError(t, err)
	require.NoError(t, stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}))
	resp, err := stream.Recv()
	require.NoError(t, err)
	require.NoError(t, stream.CloseSend())
	out := map[string]bool{}
	for _, s := range resp.GetListServicesResponse().GetService() {
		out[s.GetName()] = true
	}
	return out
}

// StytchCalls counts the calls the emulator's projects (B2B and consumer) have answered for
// pattern (stytchemu's Requests).
func (e *Env) StytchCalls(pattern string) int {
	n := e.Emu.Requests(pattern)
	if e.Consumer != nil {
		n += e.Consumer.Requests(pattern)
	}
	return n
}

// Deliveries counts the messages the emulator's projects have sent.
func (e *Env) Deliveries() int {
	n := len(e.Emu.Outbox())
	if e.Consumer != nil {
		n += len(e.Consumer.Outbox())
	}
	return n
}

// Logs returns everything authsvc logged so far.
func (e *Env) Logs() string { return e.logs.String() }

// Response is a REST response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// REST sends a JSON request through the gateway with the env's cookie jar. body may be nil, a string
// (sent as is) or a value marshalled to JSON.
func (e *Env) REST(t testing.TB, method, path string, body any) Response {
	t.Helper()
	return e.RESTWithHeaders(t, method, path, body, nil)
}

// RESTWithHeaders is REST with extra request headers.
func (e *Env) RESTWithHeaders(t testing.TB, method, path string, body any, header http.Header) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.BaseURL+path, rd)
	require.NoError(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := e.HTTP.Do(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
