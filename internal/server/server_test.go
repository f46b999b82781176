package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type running struct {
	srv  *server.Server
	stop context.CancelFunc
	done chan error
}

func start(t *testing.T, cfg server.Config) *running {
	t.Helper()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 5 * time.Second
	}
	srv, err := server.New(t.Context(), cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: srv, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// watchServing opens a health Watch stream and returns it once the server reports SERVING: Run marks
// the services SERVING just after it starts serving, and the stream says so without sleeping.
func watchServing(t *testing.T, hc healthpb.HealthClient) healthpb.Health_WatchClient {
	t.Helper()
	w, err := hc.Watch(t.Context(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	for {
		st, err := w.Recv()
		require.NoError(t, err)
		if st.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return w
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	var ready error
	r := start(t, server.Config{
		OpenAPI:        []byte(`{"swagger":"2.0"}`),
		MetricsHandler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "# metrics\n") }),
		Ready:          func(context.Context) error { return ready },
	})

	conn, err := grpc.NewClient(r.srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	_ = watchServing(t, hc)

	base := "http://" + r.srv.HTTPAddr()
	code, body := get(t, base+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "SERVING")

	code, _ = get(t, base+"/readyz")
	assert.Equal(t, http.StatusOK, code)

	ready = errors.New("JWKS not loaded")
	code, body = get(t, base+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "JWKS not loaded")

	code, body = get(t, base+"/openapi.json")
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"swagger":"2.0"}`, body)

	// Metrics and pprof live on the admin port only.
	code, body = get(t, "http://"+r.srv.AdminAddr()+"/metrics")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "# metrics\n", body)
	code, _ = get(t, "http://"+r.srv.AdminAddr()+"/debug/pprof/")
	assert.Equal(t, http.StatusOK, code)
	code, _ = get(t, base+"/metrics")
	assert.Equal(t, http.StatusNotFound, code)
	code, _ = get(t, base+"/debug/pprof/")
	assert.Equal(t, http.StatusNotFound, code)
}

func TestShutdownIsCleanAndStopsServing(t *testing.T) {
	r := start(t, server.Config{})
	conn, err := grpc.NewClient(r.srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	w := watchServing(t, hc)

	r.stop()
	// Health turns NOT_SERVING before the server goes away, so watchers (load balancers) see the drain.
	for {
		st, err := w.Recv()
		if err != nil {
			break // stream ended by the graceful stop
		}
		if st.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING {
			break
		}
	}
	require.NoError(t, <-r.done)
	r.done <- nil // for the cleanup

	_, err = hc.Check(t.Context(), &healthpb.HealthCheckRequest{})
	require.Error(t, err, "the gRPC server must be gone after Run returns")
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+r.srv.HTTPAddr()+"/healthz", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the REST port must be closed after Run returns")
}

func TestListenFailureIsReported(t *testing.T) {
	_, err := server.New(t.Context(), server.Config{GRPCAddr: "256.0.0.1:1", HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"})
	require.ErrorContains(t, err, "listen gRPC")
}

// countingListener counts the connections accepted on the gRPC port.
type countingListener struct {
	net.Listener
	accepted atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// The REST gateway reaches the gRPC server in memory: REST calls (the API through the gateway, and
// /healthz, a gRPC health check) are answered without a single TCP connection to the gRPC port,
// while a gRPC client on that port is served as before.
func TestGatewayReachesTheGRPCServerWithoutTheGRPCPort(t *testing.T) {
	var lc net.ListenConfig
	tcp, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	lis := &countingListener{Listener: tcp}
	r := start(t, server.Config{
		GRPCListener: lis,
		Services: []server.Service{{
			Desc: &b2bv1.SessionsService_ServiceDesc, Impl: emptyJWKS{}, RegisterGateway: b2bv1.RegisterSessionsServiceHandler,
		}},
	})
	base := "http://" + r.srv.HTTPAddr()
	require.Eventually(t, func() bool { code, _ := get(t, base+"/healthz"); return code == http.StatusOK }, 10*time.Second, 10*time.Millisecond)
	code, body := get(t, base+"/v1/b2b/sessions/jwks")
	require.Equal(t, http.StatusOK, code, body)
	assert.JSONEq(t, `{}`, body)
	assert.Zero(t, lis.accepted.Load(), "REST calls must not dial the gRPC port")

	conn, err := grpc.NewClient(r.srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	_, err = b2bv1.NewSessionsServiceClient(conn).GetJWKS(t.Context(), &b2bv1.SessionsServiceGetJWKSRequest{})
	require.NoError(t, err)
	assert.Equal(t, int32(1), lis.accepted.Load(), "a gRPC client on the port")
}

// emptyJWKS answers GetJWKS with no keys.
type emptyJWKS struct {
	b2bv1.UnimplementedSessionsServiceServer
}

func (emptyJWKS) GetJWKS(context.Context, *b2bv1.SessionsServiceGetJWKSRequest) (*b2bv1.SessionsServiceGetJWKSResponse, error) {
	return &b2bv1.SessionsServiceGetJWKSResponse{}, nil
}

// recordingConn keeps a copy of everything the server sent on a client connection.
type recordingConn struct {
	net.Conn
	mu   sync.Mutex
	read bytes.Buffer
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.read.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

// The gRPC server keeps static flow-control windows: it sends no BDP-estimation PING after the
// calls of a quiet connection (grpc-go's dynamic windows ping after the first data of nearly every
// call, an extra write, read and wake-up per RPC).
func TestGRPCServerSendsNoBDPPings(t *testing.T) {
	r := start(t, server.Config{Services: []server.Service{{Desc: &b2bv1.SessionsService_ServiceDesc, Impl: emptyJWKS{}}}})
	var rec *recordingConn
	conn, err := grpc.NewClient("passthrough:///"+r.srv.GRPCAddr(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			rec = &recordingConn{Conn: c}
			return rec, nil
		}))
	require.NoError(t, err)
	defer conn.Close()
	client := b2bv1.NewSessionsServiceClient(conn)
	for range 20 {
		_, err := client.GetJWKS(t.Context(), &b2bv1.SessionsServiceGetJWKSRequest{})
		require.NoError(t, err)
	}
	require.NoError(t, conn.Close())

	rec.mu.Lock()
	defer rec.mu.Unlock()
	fr := http2.NewFramer(io.Discard, bytes.NewReader(rec.read.Bytes()))
	responses, pings := 0, 0
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			break // the end of what was recorded
		}
		switch f := f.(type) {
		case *http2.HeadersFrame:
			if f.StreamEnded() {
				responses++ // the trailers of a call
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				pings++
			}
		}
	}
	assert.Equal(t, 20, responses, "every call's trailers were recorded")
	assert.Zero(t, pings, "the server pinged the client")
}
