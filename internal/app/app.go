// Package app wires authsvc together: configuration, telemetry, the Stytch client and its local
// verification, the embedded emulator in dev mode, the API services and the servers.
//
// cmd/authsvc only parses flags, handles signals and calls New and Run; tests call the same New, so
// what is tested is what runs in production.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/authsvc/authsvc/gen"
	"github.com/authsvc/authsvc/internal/callmeta"
	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/devconsole"
	"github.com/authsvc/authsvc/internal/gateway"
	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/server"
	"github.com/authsvc/authsvc/internal/service"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/telemetry"
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
	// it. Tests pass one to read its outbox, move its clock and inject faults. Its own (default)
	// project is the B2B project.
	Emulator *stytchemu.Server
	// ConsumerProject is the consumer project Emulator also serves (a stytchemu.Multi on the same
	// URL). With Emulator set and ConsumerProject nil, the dev-mode app serves no consumer API.
	ConsumerProject *stytchemu.Emulator
	// Now is the clock of local verification and token caching; nil means time.Now. Tests pass the
	// emulator's clock so that moving it expires JWTs on both sides.
	Now func() time.Time
}

// App is a wired authsvc, ready to Run.
type App struct {
	cfg         *config.Config
	log         *slog.Logger
	tel         *telemetry.Telemetry
	srv         *server.Server
	emu         *stytchemu.Server
	emuConsumer *stytchemu.Emulator // the dev-mode consumer project, nil when none
	ownEmu      bool
	// stytch and jwks are the M2M project's client and keys (projects.go): the B2B project's when it
	// is configured, else the consumer project's. The session checker and the M2M service use them.
	stytch *stytchclient.Client
	jwks   *verify.JWKSCache
	// b2b and consumer are each project's client, nil when that project is off; consumerJWKS is the
	// consumer project's key cache (jwks itself when the consumer project is the M2M project).
	b2b, consumer *stytchclient.Client
	consumerJWKS  *verify.JWKSCache
	// policies is the B2B project's RBAC policy cache (nil when the B2B project is off): the session
	// checker decides authorization checks on JWTs with it and RBACService serves it.
	policies *stytchclient.PolicyCache
	shared   *sharedState // budgets, idempotency records, revocations (shared.go)
	edge     *edgeParts   // the edge authorizer (edge.go)
	chain    []string     // the interceptor chain's step names, outermost first
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

	projects, err := a.projects(cfg, opts) //nolint:contextcheck // the emulator lives as long as the app, not as long as the startup context
	if err != nil {
		return nil, err
	}
	if err := a.clients(projects, opts); err != nil {
		return nil, err
	}
	m2m := projects.m2m()
	if a.shared, err = openShared(cfg, opts.Now, tel); err != nil { //nolint:contextcheck // the revocation subscription lives as long as the app, not as long as the startup context
		return nil, err
	}
	admit, err := newAdmission(cfg, a.shared, a.stytch, a.log, tel)
	if err != nil {
		return nil, err
	}
	// The B2B project's RBAC policy, fetched on first use (never at startup).
	var policies session.Policies
	if a.b2b != nil {
		if a.policies, err = stytchclient.NewPolicyCache(stytchclient.PolicyCacheConfig{Source: a.b2b.PolicySource(), Now: opts.Now}); err != nil {
			return nil, fmt.Errorf("RBAC policy cache: %w", err)
		}
		policies = a.policies
	}
	// The session checker of member sessions (and M2M tokens) works on the M2M project's keys.
	checker, err := session.New(session.Config{
		Policies:       policies,
		ProjectID:      m2m.id,
		Keys:           a.jwks,
		BaseURL:        a.stytch.BaseURL(),
		CacheSize:      cfg.Session.CheckerCacheSize(),
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
	// The consumer project's user sessions: the same Checker type on the consumer project's keys,
	// revocation list, remote-check budget and metrics; nil when the consumer project is off.
	var users *session.Checker
	if projects.consumer != nil {
		users, err = session.New(session.Config{
			ProjectType:    verify.ProjectConsumer,
			ProjectID:      projects.consumer.id,
			Keys:           a.consumerJWKS,
			BaseURL:        a.consumer.BaseURL(),
			CacheSize:      cfg.Session.CheckerCacheSize(),
			Now:            opts.Now,
			TracerProvider: tel.TracerProvider,
			UserRemote:     a.consumer,
			Revocations:    a.shared.revocations,
			Budget:         admit.remoteChecks,
			Metrics:        tel.Auth,
		})
		if err != nil {
			return nil, fmt.Errorf("consumer session checker: %w", err)
		}
	}
	// The edge checks member sessions only when the B2B project is on: the M2M checker above is a
	// member-session checker on the consumer project's keys in a consumer-only deployment.
	var members *session.Checker
	if projects.b2b != nil {
		members = checker
	}
	if a.edge, err = newEdge(cfg, members, users, checker, a.policies, tel, opts.Now); err != nil { //nolint:contextcheck // the rules watcher lives as long as the app, not as long as the startup context
		return nil, err
	}
	redirects, err := service.NewRedirectPolicy(cfg.AllowedRedirectURLs)
	if err != nil {
		return nil, fmt.Errorf("AUTHSVC_ALLOWED_REDIRECT_URLS: %w", err)
	}
	// Dev mode also allows the console's landing page as a redirect URL (never the default), once
	// the REST port is bound: the console's SSO sign-in comes back to it.
	var allowConsole func(...string) error
	if a.emu != nil {
		redirects, allowConsole = redirects.WithLateEntries()
	}
	gw, err := callmeta.NewGateway()
	if err != nil {
		return nil, err
	}
	decode := server.NewDecodeFailures()
	mw, err := a.middleware(gw, decode, checker, users, admit)
	if err != nil {
		return nil, err
	}
	for _, m := range mw {
		a.chain = append(a.chain, m.Name)
	}

	extra := map[string]http.Handler{}
	if a.emu != nil {
		extra["GET /dev/outbox"] = devOutbox(a.emu, a.emuConsumer)
		extra["POST /dev/m2m/clients"] = devCreateM2MClient(a.emu)
		// The dev console (internal/devconsole), on this port so its calls are same-origin.
		console, err := devconsole.Routes()
		if err != nil {
			return nil, err //nolint:wrapcheck // devconsole's errors name it
		}
		maps.Copy(extra, console)
	}
	hookSecret, err := a.webhookRoute(cfg, extra, opts.Now)
	if err != nil {
		return nil, err
	}
	apis := a.apis(projects, redirects, checker, users, a.stytch.TokenSource(stytchclient.TokenSourceConfig{Now: opts.Now, OnLookup: tel.Auth.M2MTokenLookup}), opts.Now)
	httpMW, err := httpMiddleware(cfg, apis)
	if err != nil {
		return nil, err
	}
	httpMW = append([]func(http.Handler) http.Handler{a.edge.forwardAuth}, httpMW...)
	a.srv, err = server.New(ctx, server.Config{
		GRPCAddr:       cfg.Server.GRPCAddr,
		HTTPAddr:       cfg.Server.HTTPAddr,
		AdminAddr:      cfg.Server.AdminAddr,
		Services:       append(apis.services(), a.edge.service()),
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
	if err := a.devWebhooks(hookSecret); err != nil {
		return nil, err
	}
	if allowConsole != nil {
		if err := allowConsole(consoleLandingURLs(cfg, a.srv.HTTPAddr())...); err != nil {
			return nil, fmt.Errorf("dev console: %w", err)
		}
	}
	return a, nil
}

// consoleLandingURLs are the dev console's landing page (/dev/authenticate.html) on the bound REST
// address httpAddr, as a browser on this machine opens it: at localhost and at the bound host.
func consoleLandingURLs(cfg *config.Config, httpAddr string) []string {
	scheme := "http"
	if cfg.Server.TLS.CertFile != "" {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		return nil
	}
	out := []string{scheme + "://" + net.JoinHostPort("localhost", port) + devconsole.LandingPath}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		out = append(out, scheme+"://"+net.JoinHostPort(host, port)+devconsole.LandingPath)
	}
	return out
}

// startEmulator runs the embedded Stytch emulator for dev mode: a B2B and a consumer project on one
// address (stytchemu.Multi), seeded with Stytch's sandbox organization and sandbox user so the README
// walkthroughs need no setup. It returns the server (whose own project is the B2B one) and the
// consumer project.
func (a *App) startEmulator(opts Options) (*stytchemu.Server, *stytchemu.Emulator, error) {
	emu, consumer := opts.Emulator, opts.ConsumerProject
	if emu == nil {
		var err error
		if emu, consumer, err = a.newDevEmulator(); err != nil {
			return nil, nil, fmt.Errorf("dev mode: start the Stytch emulator: %w", err)
		}
		a.ownEmu = true
	}
	attrs := []any{"emulator_url", emu.URL, "sandbox_organization_id", stytchemu.SandboxOrganizationID}
	if consumer != nil {
		attrs = append(attrs, "sandbox_user_id", stytchemu.SandboxUserID)
	}
	a.log.Warn("DEV MODE: no STYTCH_PROJECT_ID nor STYTCH_CONSUMER_PROJECT_ID, so authsvc serves the B2B and "+
		"the consumer API from its embedded Stytch emulator; nothing reaches Stytch, emails and SMS land in "+
		"GET /dev/outbox, POST /dev/m2m/clients creates M2M clients, and the dev console is at /dev/ on the REST port. "+
		"Never use this in production.", attrs...)
	return emu, consumer, nil
}

// newDevEmulator starts the B2B and consumer projects of dev mode on one loopback port.
func (a *App) newDevEmulator() (*stytchemu.Server, *stytchemu.Emulator, error) {
	log := a.log.With("component", "stytchemu")
	policy := rbac.Example()
	if f := a.cfg.DevRBACPolicy; f != "" {
		var err error
		if policy, err = rbac.LoadFile(f); err != nil {
			return nil, nil, fmt.Errorf("AUTHSVC_DEV_RBAC_POLICY: %w", err)
		}
	}
	// The example trusted auth token profile lets a developer mint a token for sessions/attest
	// (POST /emulator/trusted_auth_tokens on the emulator's address).
	trusted, err := stytchemu.ExampleTrustedAuthProfile()
	if err != nil {
		return nil, nil, err //nolint:wrapcheck // wrapped by the caller
	}
	b2b, err := stytchemu.New(stytchemu.WithSandbox(), stytchemu.WithRBACPolicy(policy), stytchemu.WithLogger(log.With("project", "b2b")),
		stytchemu.WithTrustedAuthProfiles(trusted), stytchemu.WithUserInfoURL(a.cfg.DevUserInfoURL))
	if err != nil {
		return nil, nil, err //nolint:wrapcheck // wrapped by the caller
	}
	consumer, err := stytchemu.New(stytchemu.WithConsumer(), stytchemu.WithSandbox(), stytchemu.WithLogger(log.With("project", "consumer")),
		stytchemu.WithAuthorizedOrigins(consoleOrigin(a.cfg)))
	if err != nil {
		return nil, nil, err //nolint:wrapcheck // wrapped by the caller
	}
	multi, err := stytchemu.NewMulti(b2b, consumer)
	if err != nil {
		return nil, nil, err //nolint:wrapcheck // wrapped by the caller
	}
	srv, err := multi.Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		return nil, nil, err //nolint:wrapcheck // wrapped by the caller
	}
	return srv, consumer, nil
}

// consoleOrigin is the origin of the dev console (internal/devconsole) as a browser on this machine
// opens it: http(s)://localhost:<REST port>. Passkeys need a host name (an IP address is no WebAuthn
// RP ID), so the console's passkey demo runs there and the dev consumer project accepts it.
func consoleOrigin(cfg *config.Config) string {
	scheme := "http"
	if cfg.Server.TLS.CertFile != "" {
		scheme = "https"
	}
	_, port, _ := net.SplitHostPort(cfg.Server.HTTPAddr)
	return scheme + "://" + net.JoinHostPort("localhost", port)
}

// outboxMessage is one delivery on /dev/outbox, with the project that sent it.
type outboxMessage struct {
	stytchemu.Message
	// Project is "b2b" or "consumer".
	Project string `json:"project"`
}

// devOutbox serves the emulator's outboxes on the REST port in dev mode, both projects' deliveries
// oldest first (?to= keeps those to one address or number), so the README walkthroughs can read
// magic links and codes with curl. The emulator's other control endpoints stay off this port.
func devOutbox(emu *stytchemu.Server, consumer *stytchemu.Emulator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := r.URL.Query().Get("to")
		msgs := []outboxMessage{}
		add := func(e *stytchemu.Emulator, project string) {
			for _, m := range e.Outbox() {
				if to == "" || strings.EqualFold(m.To, to) {
					msgs = append(msgs, outboxMessage{Message: m, Project: project})
				}
			}
		}
		add(emu.Emulator, "b2b")
		if consumer != nil {
			add(consumer, "consumer")
		}
		slices.SortStableFunc(msgs, func(x, y outboxMessage) int { return x.SentAt.Compare(y.SentAt) })
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"messages": msgs})
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
		Domain:   cfg.Cookies.Domain,
		B2B:      gateway.CookieNames{Session: cfg.Cookies.Session, SessionJWT: cfg.Cookies.SessionJWT},
		Consumer: gateway.CookieNames{Session: cfg.Cookies.ConsumerSession, SessionJWT: cfg.Cookies.ConsumerSessionJWT},
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
	type keyed struct {
		keys   *verify.JWKSCache
		client *stytchclient.Client
	}
	all := []keyed{{a.jwks, a.stytch}}
	if a.consumerJWKS != nil && a.consumerJWKS != a.jwks {
		all = append(all, keyed{a.consumerJWKS, a.consumer})
	}
	var errs []error
	for _, k := range all {
		if k.keys.Ready() {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := k.client.GetJWKS(pctx)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s project: JWKS not loaded and Stytch unreachable", k.client.ProjectType()))
		}
	}
	return errors.Join(errs...)
}

// WaitKeys blocks until the session-signing keys of every served project are loaded (or ctx ends).
// authsvc never needs it to start; tests use it so that the JWKS caches' background loads do not land
// in the middle of a count of calls to Stytch.
func (a *App) WaitKeys(ctx context.Context) error {
	if err := a.jwks.WaitReady(ctx); err != nil {
		return err //nolint:wrapcheck // the context's error
	}
	if a.consumerJWKS != nil && a.consumerJWKS != a.jwks {
		return a.consumerJWKS.WaitReady(ctx) //nolint:wrapcheck // the context's error
	}
	return nil
}

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
	if a.consumerJWKS != nil && a.consumerJWKS != a.jwks {
		errs = append(errs, a.consumerJWKS.Close())
	}
	if a.ownEmu && a.emu != nil {
		errs = append(errs, a.emu.Close())
	}
	errs = append(errs, a.edge.close())
	errs = append(errs, a.shared.close())
	if a.tel != nil {
		errs = append(errs, a.tel.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

func httpMiddleware(cfg *config.Config, apis *apiSet) ([]func(http.Handler) http.Handler, error) {
	k := cfg.Cookies
	csrf, err := gateway.CSRF(cfg.CORSOrigins, k.Session, k.SessionJWT, k.ConsumerSession, k.ConsumerSessionJWT)
	if err != nil {
		return nil, fmt.Errorf("AUTHSVC_CORS_ORIGINS: %w", err)
	}
	// CORS answers preflights first; CSRF refusals still carry the security headers; the routes of
	// an API that is off are answered before the gateway (which does not have them).
	return []func(http.Handler) http.Handler{gateway.CORS(cfg.CORSOrigins), gateway.SecurityHeaders, csrf, apis.offRoutes}, nil
}
