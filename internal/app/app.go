// Package app wires authsvc together: configuration, telemetry, the Stytch client and its local
// verification, the embedded emulator in dev mode, the API services and the servers.
//
// cmd/authsvc only parses flags, handles signals and calls New and Run; tests call the same New, so
// what is tested is what runs in production.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/authsvc/authsvc/gen"
	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/callmeta"
	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/gateway"
	"github.com/authsvc/authsvc/internal/server"
	"github.com/authsvc/authsvc/internal/service"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/telemetry"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Options are the parts of the wiring that are not configuration: things tests substitute.
type Options struct {
	// Version is the build version (service.version, User-Agent).
	Version string
	// LogOutput receives the JSON logs; nil means stderr.
	LogOutput io.Writer
	// SetGlobals installs the OpenTelemetry globals (the binary does; tests do not).
	SetGlobals bool
	// SpanExporter and MetricReaders let tests observe telemetry in memory.
	SpanExporter  sdktrace.SpanExporter
	MetricReaders []sdkmetric.Reader

	// Emulator, when set in dev mode, is used instead of starting an embedded one; App does not close
	// it. Tests pass one to read its outbox, move its clock and inject faults.
	Emulator *stytchemu.Server
	// Now is the clock of local verification and token caching; nil means time.Now. Tests pass the
	// emulator's clock so that moving it expires JWTs on both sides.
	Now func() time.Time
}

// App is a wired authsvc, ready to Run.
type App struct {
	cfg    *config.Config
	log    *slog.Logger
	tel    *telemetry.Telemetry
	srv    *server.Server
	emu    *stytchemu.Server
	ownEmu bool
	jwks   *verify.JWKSCache
	stytch *stytchclient.Client
	shared *sharedState // budgets, idempotency records, revocations (shared.go)
	chain  []string     // the interceptor chain's step names, outermost first
}

// New builds authsvc from cfg. It opens the listeners but serves nothing until Run. It never calls
// Stytch: a Stytch outage must not stop authsvc from starting (readiness reports it instead).
func New(ctx context.Context, cfg *config.Config, opts Options) (_ *App, err error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	tel, err := telemetry.Setup(ctx, telemetry.Config{
		ServiceVersion: opts.Version,
		LogLevel:       cfg.Telemetry.LogLevel,
		LogOutput:      opts.LogOutput,
		SetGlobals:     opts.SetGlobals,
		SpanExporter:   opts.SpanExporter,
		MetricReaders:  opts.MetricReaders,
	})
	if err != nil {
		return nil, err // already names telemetry and the variable
	}
	a := &App{cfg: cfg, log: tel.Logger, tel: tel}
	defer func() {
		if err != nil {
			_ = a.closeDeps(context.WithoutCancel(ctx)) // the construction error is the one to report
		}
	}()

	projectID, secret, baseURL := cfg.StytchProjectID, cfg.StytchSecret, cfg.StytchBaseURL
	if cfg.DevMode() {
		// The emulator lives as long as the app, not as long as the startup context.
		if a.emu, err = a.startEmulator(opts); err != nil { //nolint:contextcheck // see above
			return nil, err
		}
		projectID, secret, baseURL = a.emu.ProjectID(), a.emu.Secret(), a.emu.URL
	}

	a.stytch, err = stytchclient.New(stytchclient.Config{
		ProjectID:      projectID,
		Secret:         secret,
		BaseURL:        baseURL,
		Version:        opts.Version,
		TracerProvider: tel.TracerProvider,
		MeterProvider:  tel.MeterProvider,
	})
	if err != nil {
		return nil, fmt.Errorf("stytch client: %w", err)
	}
	a.jwks, err = verify.NewJWKSCache(verify.JWKSCacheConfig{
		Fetch:          a.stytch.FetchJWKS,
		Name:           "b2b",
		Now:            opts.Now,
		Logger:         tel.Logger,
		TracerProvider: tel.TracerProvider,
		MeterProvider:  tel.MeterProvider,
	})
	if err != nil {
		return nil, fmt.Errorf("jwks cache: %w", err)
	}
	if a.shared, err = openShared(cfg, opts.Now, tel); err != nil { //nolint:contextcheck // the revocation subscription lives as long as the app, not as long as the startup context
		return nil, err
	}
	admit, err := newAdmission(cfg, a.shared, a.stytch, a.log, tel)
	if err != nil {
		return nil, err
	}
	checker, err := session.New(session.Config{
		ProjectID:      projectID,
		Keys:           a.jwks,
		BaseURL:        a.stytch.BaseURL(),
		Now:            opts.Now,
		TracerProvider: tel.TracerProvider,
		Remote:         a.stytch,
		Revocations:    a.shared.revocations,
		Budget:         admit.remoteChecks,
		Metrics:        tel.Auth,
	})
	if err != nil {
		return nil, fmt.Errorf("session checker: %w", err)
	}
	redirects, err := service.NewRedirectPolicy(cfg.AllowedRedirectURLs)
	if err != nil {
		return nil, fmt.Errorf("AUTHSVC_ALLOWED_REDIRECT_URLS: %w", err)
	}
	gw, err := callmeta.NewGateway()
	if err != nil {
		return nil, err
	}
	decode := server.NewDecodeFailures()
	mw, err := a.middleware(gw, decode, checker, admit)
	if err != nil {
		return nil, err
	}
	for _, m := range mw {
		a.chain = append(a.chain, m.Name)
	}

	extra := map[string]http.Handler{}
	if a.emu != nil {
		extra["GET /dev/outbox"] = devOutbox(a.emu)
		extra["POST /dev/m2m/clients"] = devCreateM2MClient(a.emu)
	}
	httpMW, err := httpMiddleware(cfg)
	if err != nil {
		return nil, err
	}
	tokens := a.stytch.TokenSource(stytchclient.TokenSourceConfig{Now: opts.Now, OnLookup: tel.Auth.M2MTokenLookup})
	log := tel.Logger
	a.srv, err = server.New(ctx, server.Config{
		GRPCAddr:  cfg.Server.GRPCAddr,
		HTTPAddr:  cfg.Server.HTTPAddr,
		AdminAddr: cfg.Server.AdminAddr,
		Services: []server.Service{
			{Desc: &b2bv1.MagicLinksService_ServiceDesc, Impl: service.NewMagicLinks(a.stytch, redirects, log), RegisterGateway: b2bv1.RegisterMagicLinksServiceHandler},
			{Desc: &b2bv1.OTPsService_ServiceDesc, Impl: service.NewOTPs(a.stytch, checker, log), RegisterGateway: b2bv1.RegisterOTPsServiceHandler},
			{Desc: &b2bv1.SessionsService_ServiceDesc, Impl: service.NewSessions(a.stytch, checker, a.jwks, a.shared.revocations, opts.Now, log), RegisterGateway: b2bv1.RegisterSessionsServiceHandler},
			{Desc: &b2bv1.MembersService_ServiceDesc, Impl: service.NewMembers(a.stytch, a.shared.revocations, opts.Now, log), RegisterGateway: b2bv1.RegisterMembersServiceHandler},
			{Desc: &b2bv1.DiscoveryService_ServiceDesc, Impl: service.NewDiscovery(a.stytch, log), RegisterGateway: b2bv1.RegisterDiscoveryServiceHandler},
			{Desc: &m2mv1.M2MService_ServiceDesc, Impl: service.NewM2M(a.stytch, tokens, checker, opts.Now, log), RegisterGateway: m2mv1.RegisterM2MServiceHandler},
		},
		Middleware:     mw,
		Decode:         decode,
		Gateway:        gw,
		GatewayOptions: gatewayOptions(cfg),
		HTTPMiddleware: httpMW,
		TLS:            cfg.Server.TLS,
		ExtraRoutes:    extra,
		OpenAPI:        gen.OpenAPI,
		Ready:          a.ready,
		MetricsHandler: tel.MetricsHandler,
		DrainDelay:     cfg.Server.DrainDelay,
		ShutdownGrace:  cfg.Server.ShutdownGrace,
		Logger:         tel.Logger,
		TracerProvider: tel.TracerProvider,
		MeterProvider:  tel.MeterProvider,
		Propagators:    tel.Propagator,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// startEmulator runs the embedded Stytch emulator for dev mode, seeded with Stytch's sandbox
// organization so the README walkthrough needs no setup.
func (a *App) startEmulator(opts Options) (*stytchemu.Server, error) {
	emu := opts.Emulator
	if emu == nil {
		var err error
		emu, err = stytchemu.Start(stytchemu.WithSandbox(), stytchemu.WithLogger(a.log.With("component", "stytchemu")))
		if err != nil {
			return nil, fmt.Errorf("dev mode: start the Stytch emulator: %w", err)
		}
		a.ownEmu = true
	}
	a.log.Warn("DEV MODE: no STYTCH_PROJECT_ID, so authsvc talks to its embedded Stytch emulator; "+
		"nothing reaches Stytch, emails and SMS land in GET /dev/outbox, and POST /dev/m2m/clients creates "+
		"M2M clients. Never use this in production.",
		"emulator_url", emu.URL,
		"sandbox_organization_id", stytchemu.SandboxOrganizationID)
	return emu, nil
}

// devOutbox serves the emulator's outbox on the REST port in dev mode, so the README walkthrough can
// read magic links and codes with curl. The emulator's other control endpoints stay off this port.
func devOutbox(emu *stytchemu.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/emulator/outbox"
		r2.RequestURI = ""
		emu.ServeHTTP(w, r2)
	})
}

// devCreateM2MClient lets a developer create an M2M client in dev mode (POST /dev/m2m/clients with
// Stytch's body: {"client_name": ..., "scopes": [...]}) without knowing the embedded emulator's
// random project secret. It is the bootstrap for calling service-only RPCs in dev mode: the client's
// credentials then get a token from M2MService.IssueToken. Like /dev/outbox it exists only in dev mode.
func devCreateM2MClient(emu *stytchemu.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/v1/m2m/clients"
		r2.RequestURI = ""
		r2.SetBasicAuth(emu.ProjectID(), emu.Secret())
		emu.ServeHTTP(w, r2)
	})
}

func gatewayOptions(cfg *config.Config) []runtime.ServeMuxOption {
	opts := gateway.CookieOptions(gateway.CookieConfig{
		Insecure: cfg.InsecureCookies,
	})
	opts = append(opts, gateway.HeaderOptions()...)
	opts = append(opts, gateway.IdempotencyKeyOptions()...)
	return append(opts, gateway.ErrorOptions()...)
}

// ready: authsvc can do useful work when it can verify sessions locally (JWKS loaded) or reach Stytch;
// Redis, when configured, is reported and fails readiness only where the policy requires it
// (readiness.go).
func (a *App) ready(ctx context.Context) error {
	// A server.Degraded joined with a real failure is not ready (internal/server).
	return errors.Join(a.stytchReady(ctx), redisReadiness(ctx, a.cfg, a.shared.redisPing()))
}

func (a *App) stytchReady(ctx context.Context) error {
	if a.jwks.Ready() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := a.stytch.GetJWKS(ctx); err != nil {
		return errors.New("JWKS not loaded and Stytch unreachable")
	}
	return nil
}

// WaitKeys blocks until the session-signing keys are loaded (or ctx ends). authsvc never needs it to
// start; tests use it so that the JWKS cache's background load does not land in the middle of a
// count of calls to Stytch.
func (a *App) WaitKeys(ctx context.Context) error { return a.jwks.WaitReady(ctx) }

// WaitRevocations blocks until this replica hears the revocations other replicas publish through
// Redis (or ctx ends); without AUTHSVC_REDIS_URL it returns at once. authsvc never needs it to
// serve; tests use it so that a revocation on another replica is certain to arrive as a message.
func (a *App) WaitRevocations(ctx context.Context) error {
	return a.shared.revocations.WaitSubscribed(ctx)
}

// Chain returns the names of the gRPC interceptor chain's steps, outermost first (chain.go).
func (a *App) Chain() []string { return slices.Clone(a.chain) }

// GRPCAddr, HTTPAddr and AdminAddr are the bound addresses.
func (a *App) GRPCAddr() string  { return a.srv.GRPCAddr() }
func (a *App) HTTPAddr() string  { return a.srv.HTTPAddr() }
func (a *App) AdminAddr() string { return a.srv.AdminAddr() }

// Logger is the app's logger.
func (a *App) Logger() *slog.Logger { return a.log }

// Run serves until ctx ends, then shuts everything down in order and flushes telemetry.
func (a *App) Run(ctx context.Context) error {
	runErr := a.srv.Run(ctx)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return errors.Join(runErr, a.closeDeps(shutdownCtx))
}

// closeDeps stops what New started besides the servers, in reverse order.
func (a *App) closeDeps(ctx context.Context) error {
	var errs []error
	if a.jwks != nil {
		errs = append(errs, a.jwks.Close())
	}
	if a.ownEmu && a.emu != nil {
		errs = append(errs, a.emu.Close())
	}
	errs = append(errs, a.shared.close())
	if a.tel != nil {
		errs = append(errs, a.tel.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

func httpMiddleware(cfg *config.Config) ([]func(http.Handler) http.Handler, error) {
	csrf, err := gateway.CSRF(cfg.CORSOrigins)
	if err != nil {
		return nil, fmt.Errorf("AUTHSVC_CORS_ORIGINS: %w", err)
	}
	// CORS answers preflights first; CSRF refusals still carry the security headers.
	return []func(http.Handler) http.Handler{gateway.CORS(cfg.CORSOrigins), gateway.SecurityHeaders, csrf}, nil
}
