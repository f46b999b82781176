package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/test/bufconn"

	"github.com/authsvc/authsvc/internal/callmeta"
)

// Service is one gRPC service served by authsvc and exposed through the REST gateway.
type Service struct {
	// Desc is the generated service descriptor (for example b2bv1.SessionsService_ServiceDesc).
	Desc *grpc.ServiceDesc
	// Impl implements the service.
	Impl any
	// RegisterGateway is the generated Register*Handler function; nil for gRPC-only services.
	RegisterGateway func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error
}

// Config holds everything the servers need. Listeners may be supplied (tests use 127.0.0.1:0);
// otherwise the addresses are listened on.
type Config struct {
	GRPCAddr, HTTPAddr, AdminAddr string
	GRPCListener                  net.Listener
	HTTPListener                  net.Listener
	AdminListener                 net.Listener

	// Services are registered on the gRPC server, the gateway and the health service.
	Services []Service

	// Middleware is the interceptor chain, outermost first (see Middleware). The otelgrpc stats
	// handler runs before all of it, so every step and log record sees the trace.
	Middleware []Middleware
	// Decode records the requests the server's codec could not decode; the chain's DecodeCheck step
	// answers them. Nil: a new one that no step checks (tests of the servers alone).
	Decode *DecodeFailures
	// Gateway identifies the REST gateway's own calls to the gRPC server (callmeta.Gateway); the
	// chain's first step trusts it. Nil: a new identity that no step trusts (tests of the servers
	// alone).
	Gateway *callmeta.Gateway

	// GatewayOptions are added to the REST gateway's ServeMux (cookies, error handling).
	GatewayOptions []runtime.ServeMuxOption
	// HTTPMiddleware wraps the REST handler inside tracing (CORS, hardening); applied in order, the
	// first outermost.
	HTTPMiddleware []func(http.Handler) http.Handler
	// ExtraRoutes are served on the REST port besides the API (for example /dev/outbox in dev mode).
	ExtraRoutes map[string]http.Handler
	// OpenAPI is served at /openapi.json.
	OpenAPI []byte

	// Ready reports whether authsvc can do useful work (JWKS loaded or Stytch reachable); nil means
	// always ready once serving.
	Ready func(context.Context) error
	// MetricsHandler serves /metrics on the admin port.
	MetricsHandler http.Handler

	// TLS, when CertFile is set, serves the gRPC and REST ports over TLS (optionally mutual TLS on
	// gRPC); see tlsSetup for how the gateway's own connection passes it.
	TLS TLSConfig

	// DrainDelay is how long Run keeps serving once shutdown begins, with readiness failing and every
	// REST response closing its connection, before the listeners close: the time load balancers need
	// to stop routing new requests here. Zero closes the listeners at once.
	DrainDelay time.Duration
	// ShutdownGrace bounds the graceful phase of shutdown (after the drain delay).
	ShutdownGrace time.Duration

	Logger         *slog.Logger
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Propagators    propagation.TextMapPropagator
}

// Server is the running set of listeners.
type Server struct {
	cfg      Config
	log      *slog.Logger
	grpc     *grpc.Server
	health   *health.Server
	conn     *grpc.ClientConn
	http     *http.Server
	admin    *http.Server
	grpcLis  net.Listener
	gwLis    *bufconn.Listener // the gateway's in-memory connection to the gRPC server
	httpLis  net.Listener
	adminLis net.Listener
	tls      *tlsSetup   // nil: plain TCP
	routes   *routeProbe // the gateway's routes, for 405's Allow
	stopOnce sync.Once
	stopErr  error

	serving  sync.WaitGroup // the Serve goroutines
	errMu    sync.Mutex
	serveErr error         // first listener failure
	failed   chan struct{} // closed on the first listener failure
	draining chan struct{} // closed when health Watch streams must end
	closing  atomic.Bool   // shutdown has begun: REST responses close their connections
}

// New builds the servers and opens the listeners; nothing is served until Run.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = otel.GetTracerProvider()
	}
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = otel.GetMeterProvider()
	}
	if cfg.Propagators == nil {
		cfg.Propagators = otel.GetTextMapPropagator()
	}
	if cfg.Decode == nil {
		cfg.Decode = NewDecodeFailures()
	}
	if cfg.Gateway == nil {
		g, err := callmeta.NewGateway()
		if err != nil {
			return nil, err
		}
		cfg.Gateway = g
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 20 * time.Second
	}
	s := &Server{cfg: cfg, log: cfg.Logger, health: health.NewServer(), failed: make(chan struct{}), draining: make(chan struct{})}

	var err error
	if cfg.TLS.CertFile != "" {
		if s.tls, err = newTLSSetup(cfg.TLS, time.Now()); err != nil {
			return nil, err
		}
	}
	if s.grpcLis, err = listen(ctx, cfg.GRPCListener, cfg.GRPCAddr, "gRPC"); err != nil {
		return nil, err
	}
	if s.httpLis, err = listen(ctx, cfg.HTTPListener, cfg.HTTPAddr, "HTTP"); err != nil {
		_ = s.grpcLis.Close()
		return nil, err
	}
	if s.adminLis, err = listen(ctx, cfg.AdminListener, cfg.AdminAddr, "admin"); err != nil {
		_ = s.grpcLis.Close()
		_ = s.httpLis.Close()
		return nil, err
	}

	s.gwLis = bufconn.Listen(gatewayBuffer)
	s.grpc = s.newGRPCServer()
	if err := s.newGateway(ctx); err != nil {
		s.closeListeners()
		return nil, err
	}
	s.admin = &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 5 * time.Second}
	return s, nil
}

func listen(ctx context.Context, l net.Listener, addr, what string) (net.Listener, error) {
	if l != nil {
		return l, nil
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s on %s: %w", what, addr, err)
	}
	return l, nil
}

func (s *Server) closeListeners() {
	_ = s.grpcLis.Close()
	if s.gwLis != nil {
		_ = s.gwLis.Close()
	}
	_ = s.httpLis.Close()
	_ = s.adminLis.Close()
}

// GRPCAddr, HTTPAddr and AdminAddr return the bound addresses (useful with port 0).
func (s *Server) GRPCAddr() string  { return s.grpcLis.Addr().String() }
func (s *Server) HTTPAddr() string  { return s.httpLis.Addr().String() }
func (s *Server) AdminAddr() string { return s.adminLis.Addr().String() }

// traced keeps health probes out of traces and metrics (it is otelgrpc's filter: true means
// record): they run every few seconds per pod and would drown real traffic.
func traced(info *stats.RPCTagInfo) bool {
	return info.FullMethodName != healthpb.Health_Check_FullMethodName &&
		info.FullMethodName != healthpb.Health_Watch_FullMethodName &&
		info.FullMethodName != healthpb.Health_List_FullMethodName
}

// streamWorkers is the size of the gRPC server's handler pool (grpc.NumStreamWorkers). Idle
// workers cost their stacks (a few KiB each); 64 covers the concurrency of CPU-bound calls on a
// few cores with room to spare.
const streamWorkers = 64

func (s *Server) newGRPCServer() *grpc.Server {
	opts := []grpc.ServerOption{
		grpc.ForceServerCodecV2(s.cfg.Decode.codec()),
		// Handlers run on a pool of long-lived goroutines instead of a new goroutine per call: a new
		// goroutine starts with a small stack that the interceptor chain outgrows, and the copy to a
		// bigger one (runtime.newstack) was ~8% of a session check's CPU. A call arriving when every
		// worker is busy (Stytch-bound calls wait on Stytch) still gets a goroutine of its own.
		grpc.NumStreamWorkers(streamWorkers),
		// Static flow-control windows: with grpc-go's dynamic windows (BDP estimation) the server
		// pings the client after the first data of nearly every call on a quiet connection, which is
		// an extra write, read and wake-up per RPC at the request rates authsvc sees. Requests are
		// small (a REST body is at most 64 KiB), so a fixed window of that size per stream, and of
		// 1 MiB per connection, never holds a caller back.
		grpc.StaticStreamWindowSize(64 << 10),
		grpc.StaticConnWindowSize(1 << 20),
		grpc.StatsHandler(otelgrpc.NewServerHandler(
			otelgrpc.WithTracerProvider(s.cfg.TracerProvider),
			otelgrpc.WithMeterProvider(s.cfg.MeterProvider),
			otelgrpc.WithPropagators(s.cfg.Propagators),
			otelgrpc.WithFilter(traced),
		)),
		// Clients (ours in client/ among them) keep idle connections alive through load balancers
		// with pings; grpc-go's default policy would answer pings more often than every 5 minutes with
		// GOAWAY too_many_pings. Connections are recycled now and then so that new replicas behind a
		// Kubernetes Service receive their share of long-lived clients.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 20 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionAge:      30 * time.Minute,
			MaxConnectionAgeGrace: 30 * time.Second,
			Time:                  2 * time.Minute,
			Timeout:               20 * time.Second,
		}),
	}
	opts = append(opts, chain(s.cfg.Middleware)...)
	if s.tls != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.tls.grpc)))
	}
	g := grpc.NewServer(opts...)
	for _, svc := range s.cfg.Services {
		g.RegisterService(svc.Desc, svc.Impl)
		s.health.SetServingStatus(svc.Desc.ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(g, drainingHealth{Server: s.health, drain: s.draining})
	reflection.Register(g)
	return g
}

func (s *Server) newGateway(ctx context.Context) error {
	creds := insecure.NewCredentials()
	if s.tls != nil {
		creds = credentials.NewTLS(s.tls.gateway)
	}
	// The gateway is the gRPC server's client: its own client spans join the REST request's trace, so a
	// trace reads gateway server span -> gRPC client span -> gRPC server span.
	//
	// It reaches the gRPC server through an in-memory listener the server also serves, not through
	// the gRPC port: the same server, interceptors and (with TLS) handshake and client certificate,
	// without a loopback TCP round trip per call (two writes, two reads and the poller's wake-ups on
	// each side). Nothing outside the process can dial it, and the gateway's calls still prove
	// themselves with callmeta's per-process secret, so the trust model is the one of the loopback
	// connection it replaces.
	conn, err := grpc.NewClient("passthrough:///authsvc-gateway",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return s.gwLis.DialContext(ctx) }),
		grpc.WithTransportCredentials(creds),
		s.cfg.Gateway.DialOption(),
		// Static windows here too (no BDP pings on the in-memory connection), large enough for the
		// biggest response (a page of member search results) to flow without waiting for updates.
		grpc.WithStaticStreamWindowSize(4<<20),
		grpc.WithStaticConnWindowSize(16<<20),
		grpc.WithChainUnaryInterceptor(gatewayUTF8Check),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(s.cfg.TracerProvider),
			otelgrpc.WithMeterProvider(s.cfg.MeterProvider),
			otelgrpc.WithPropagators(s.cfg.Propagators),
			otelgrpc.WithFilter(traced),
		)),
	)
	if err != nil {
		return fmt.Errorf("gateway: dial gRPC server: %w", err)
	}
	s.conn = conn

	healthz := runtime.WithHealthEndpointAt(healthpb.NewHealthClient(conn), "/healthz")
	opts := append(gatewayOptions(), healthz, runtime.WithRoutingErrorHandler(s.routingError),
		// A form POST to a GET route would be served as the GET (and X-HTTP-Method-Override honoured):
		// a wrong method is a 405, not a guess.
		runtime.WithDisablePathLengthFallback())
	opts = append(opts, s.cfg.GatewayOptions...)
	mux := runtime.NewServeMux(opts...)
	register := s.registerGateway(conn)
	if err := register(ctx, mux); err != nil {
		_ = conn.Close()
		return err
	}
	if s.routes, err = newRouteProbe(ctx, register, healthz); err != nil {
		_ = conn.Close()
		return err
	}
	s.http = &http.Server{
		Handler:           s.httpHandler(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	if s.tls != nil {
		s.http.TLSConfig = s.tls.http
	}
	return nil
}

// gatewayBuffer is the size of each direction's buffer of the gateway's in-memory connection: a
// writer blocks only when the reader is this far behind (HTTP/2 flow control bounds what is in
// flight anyway).
const gatewayBuffer = 256 << 10

func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	if s.cfg.MetricsHandler != nil {
		mux.Handle("GET /metrics", s.cfg.MetricsHandler)
	}
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Run serves until ctx is cancelled or a listener fails, then shuts down in order. It returns nil after
// a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	s.serving.Go(func() { s.fail(wrapServe("gRPC", s.grpc.Serve(s.grpcLis))) })
	s.serving.Go(func() { s.fail(wrapServe("gateway gRPC", s.grpc.Serve(s.gwLis))) })
	s.serving.Go(func() { s.fail(wrapServe("HTTP", s.serveHTTP())) })
	s.serving.Go(func() { s.fail(wrapServe("admin", s.admin.Serve(s.adminLis))) })

	for _, svc := range s.cfg.Services {
		s.health.SetServingStatus(svc.Desc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.log.InfoContext(ctx, "authsvc serving", "grpc", s.GRPCAddr(), "http", s.HTTPAddr(), "admin", s.AdminAddr(),
		"tls", s.tls != nil, "grpc_client_certs", s.tls != nil && s.tls.grpc.ClientAuth == tls.RequireAndVerifyClientCert)

	select {
	case <-ctx.Done():
	case <-s.failed:
		s.log.ErrorContext(ctx, "listener failed; shutting down", "error", s.firstServeErr())
	}
	s.drain()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownGrace)
	defer cancel()
	return s.Shutdown(shutdownCtx)
}

func (s *Server) serveHTTP() error {
	if s.tls != nil {
		return s.http.ServeTLS(s.httpLis, "", "") // the certificate is in s.http.TLSConfig
	}
	return s.http.Serve(s.httpLis)
}

func (s *Server) fail(err error) {
	if err == nil {
		return
	}
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if s.serveErr == nil {
		s.serveErr = err
		close(s.failed)
	}
}

func (s *Server) firstServeErr() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.serveErr
}

func wrapServe(what string, err error) error {
	if err == nil || errors.Is(err, http.ErrServerClosed) || errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return fmt.Errorf("%s server: %w", what, err)
}

// beginDrain is the first step of shutdown: readiness fails (gRPC health NOT_SERVING, /readyz 503)
// and every REST request from now on is answered with Connection: close (a GOAWAY on HTTP/2), so that
// clients holding keep-alive connections reconnect, through the load balancer, to another replica.
// Idle connections are deliberately not closed here: a client may be sending on one at this very
// moment, and it would get a reset instead of an answer (the race http.Server.Shutdown has).
func (s *Server) beginDrain() {
	s.health.Shutdown()
	s.closing.Store(true)
}

// closeWhenDraining answers every REST request that arrives once shutdown has begun with
// Connection: close (see beginDrain); net/http's HTTP/2 server turns it into a GOAWAY.
func (s *Server) closeWhenDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.closing.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// drain begins shutdown and keeps serving for the drain delay, so that load balancers and kube-proxy
// see the pod not ready (or removed from the endpoints) and stop routing new work here before the
// listeners close; requests still arriving meanwhile are answered normally.
func (s *Server) drain() {
	s.beginDrain()
	if s.cfg.DrainDelay <= 0 {
		return
	}
	s.log.Info("shutting down: not ready; serving for the drain delay before closing the listeners", "drain_delay", s.cfg.DrainDelay.String())
	t := time.NewTimer(s.cfg.DrainDelay)
	defer t.Stop()
	<-t.C
}

// Shutdown stops the servers in order; ctx bounds the graceful phase. Safe to call more than once.
// Unlike Run it does not wait for the drain delay.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { s.stopErr = s.shutdown(ctx) })
	return s.stopErr
}

func (s *Server) shutdown(ctx context.Context) error {
	start := time.Now()
	// Fail readiness first (a no-op when Run drained already) so load balancers stop sending new work
	// while in-flight calls finish.
	s.beginDrain()

	var errs []error
	// REST first: its in-flight requests are gRPC calls that still need the gRPC server. Shutdown
	// closes the REST listener (new connections are refused from here on) and the idle connections,
	// then waits for the requests in flight.
	if err := s.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("HTTP shutdown: %w", err))
		_ = s.http.Close()
	}

	close(s.draining)
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("grace period over; cutting remaining gRPC calls", "grace", s.cfg.ShutdownGrace)
		s.grpc.Stop()
		<-done
	}
	if err := s.conn.Close(); err != nil {
		errs = append(errs, fmt.Errorf("gateway conn: %w", err))
	}

	adminCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := s.admin.Shutdown(adminCtx); err != nil {
		_ = s.admin.Close()
	}
	// Every Serve returns once its server is shut down; wait so no goroutine outlives Shutdown.
	s.serving.Wait()
	s.closeListeners() // a server that never ran still holds its listeners
	s.log.Info("authsvc stopped", "took", time.Since(start).Round(time.Millisecond))
	return errors.Join(append(errs, s.firstServeErr())...)
}
