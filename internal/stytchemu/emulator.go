package stytchemu

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/authsvc/authsvc/internal/passwords"
	"github.com/authsvc/authsvc/internal/rbac"
)

// SandboxOrganizationID is the organization Stytch documents for sandbox
// magic-link calls in B2B test projects. It exists only when the emulator is
// built with WithSandbox.
const SandboxOrganizationID = "organization-test-007d9d4a-deac-4a87-ba0a-e6e8afba4d4b"

// SandboxMemberID is the member that owns sandbox@stytch.com in the sandbox
// organization (the ID Stytch's B2B docs use in their examples).
const SandboxMemberID = "member-test-32fc5024-9c09-4da3-bd2e-c9ce4da9375f"

// SandboxEmail is Stytch's sandbox address: sends to it succeed and deliver
// nothing.
const SandboxEmail = "sandbox@stytch.com"

// Sandbox tokens documented by Stytch (docs/stytch.md, "Sandbox values").
// They are public test fixtures, not credentials.
//
//nolint:gosec // G101: Stytch's published sandbox values.
const (
	SandboxMagicLinkToken         = "DOYoip3rvIMMW5lgItikFK-Ak1CfMsgjuiCyI7uuU94="
	SandboxMagicLinkTokenUnauth   = "3pzjQpgksDlGKWEwUq2Up--hCHC_0oamfLHyfspKDFU="
	SandboxMagicLinkTokenNotFound = "CprTtwhnRNiMBiUS2jSLcWYrfuO2POeBNdo5HhW6qTM="
	SandboxSessionToken           = "WJtR5BCy38Szd5AfoDpf0iqFKEt4EE5JhjlWUY7l3FtY"
	SandboxSessionTokenNotFound   = "59cnLELtq5cFVS6uYK9f-pAWzBkhqZl8AvLhbhOvKNWw"
	SandboxPhoneNumber            = "+10000000000"
)

// DefaultRedirectURL is used when a send call names no redirect URL; real
// Stytch would use the dashboard default instead.
const DefaultRedirectURL = "http://localhost:3000/authenticate"

type config struct {
	projectID   string
	secret      string
	frozen      *time.Time
	logger      *slog.Logger
	sandbox     bool
	redirectURL string
	origins     []string
	signingKey  *rsa.PrivateKey
	projectType ProjectType
	pwPolicy    *passwords.Policy
	pwParams    *passwords.Params
	policy      *rbac.Policy

	trustedProfiles []TrustedAuthProfile // WithTrustedAuthProfiles (trusted_tokens.go)
	userInfoURL     string               // WithUserInfoURL (sessions_migrate.go)
}

// Option configures an Emulator.
type Option func(*config)

// WithProjectID sets the project ID (default: a fresh "project-test-<uuid>").
func WithProjectID(id string) Option { return func(c *config) { c.projectID = id } }

// WithSecret sets the project secret (default: a fresh "secret-test-..." value).
func WithSecret(secret string) Option { return func(c *config) { c.secret = secret } }

// WithStartTime freezes the clock at t; only Advance and SetNow move it. Use
// it for fully deterministic expiry tests.
func WithStartTime(t time.Time) Option {
	return func(c *config) { c.frozen = &t }
}

// WithLogger sets the logger for request logs. Logs never carry bodies,
// tokens, codes or email addresses. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithSandbox seeds Stytch's sandbox organization (SandboxOrganizationID) with
// its member sandbox@stytch.com and turns on the sandbox values of
// docs/stytch.md (fixed tokens, "nothing sent" addresses). authsvc dev mode uses it.
func WithSandbox() Option { return func(c *config) { c.sandbox = true } }

// WithSigningKey makes the emulator sign with key instead of a fresh 2048-bit
// key. The kid is derived from the key, so the JWKS is stable across
// restarts; tests use it to skip key generation. RotateKeys still generates.
func WithSigningKey(key *rsa.PrivateKey) Option { return func(c *config) { c.signingKey = key } }

// WithRedirectURL sets the redirect URL used when a send call names none
// (Stytch's dashboard default). Default: DefaultRedirectURL.
func WithRedirectURL(u string) Option { return func(c *config) { c.redirectURL = u } }

// WithAuthorizedOrigins adds origins ("http://localhost:8080") that WebAuthn ceremonies accept
// besides the redirect URL's (Stytch's authorized domains), each only for a domain that is its host
// or a parent of it. Dev mode adds the origin of its console (internal/devconsole).
func WithAuthorizedOrigins(origins ...string) Option {
	return func(c *config) { c.origins = append(c.origins, origins...) }
}

// Emulator is an in-memory Stytch project. It implements http.Handler and is
// safe for concurrent use.
type Emulator struct {
	projectType ProjectType
	projectID   string
	secret      string
	logger      *slog.Logger
	sandbox     bool
	redirectURL string
	origins     []string // WithAuthorizedOrigins: further WebAuthn origins

	clock *clock
	mux   *http.ServeMux

	// mu guards all state below; every handler runs its whole body under it,
	// which keeps the store simple and race-free at test scale.
	mu       sync.Mutex
	keys     *keyring
	st       *store
	cs       *consumerStore
	ca       *caStore    // Connected Apps (connected_apps.go); made on first use
	oauth    *oauthStore // OAuth flows of either project type (consumer_oauth.go); made on first use
	outbox   []Message
	faults   []*faultEntry
	faultSeq int
	counts   map[string]int

	// policy is the project's B2B RBAC policy (rbac.go).
	policy *rbac.Policy

	// pw is the password machinery of a consumer project (passwords.go).
	pw *passwordKit

	webhooks webhookHub // endpoints and deliveries (webhooks.go)

	idp standInIdP // the stand-in SAML/OIDC identity provider (sso_flow.go); its own lock
	// trusted are the trusted auth token profiles by ID (trusted_tokens.go); read-only after New.
	trusted map[string]*TrustedAuthProfile
	// userInfoURL is the external provider's UserInfo endpoint sessions/migrate calls.
	userInfoURL string
	userInfo    *http.Client
}

// New builds an emulator. Errors come from key generation and from invalid
// password options (WithPasswordPolicy, WithPasswordHashParams).
func New(opts ...Option) (*Emulator, error) {
	cfg := config{redirectURL: DefaultRedirectURL}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.projectID == "" {
		cfg.projectID = "project-test-" + newUUID()
	}
	if cfg.secret == "" {
		cfg.secret = "secret-test-" + randToken(24)
	}
	if cfg.projectType == "" {
		cfg.projectType = ProjectB2B
	}
	if cfg.projectType != ProjectB2B && cfg.projectType != ProjectConsumer {
		return nil, fmt.Errorf("stytchemu: unknown project type %q", cfg.projectType)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Emulator{
		projectType: cfg.projectType,
		projectID:   cfg.projectID,
		secret:      cfg.secret,
		logger:      cfg.logger,
		sandbox:     cfg.sandbox,
		redirectURL: cfg.redirectURL,
		origins:     cfg.origins,
		clock:       newClock(time.Now, cfg.frozen),
		st:          newStore(),
		cs:          newConsumerStore(),
		counts:      map[string]int{},
		policy:      cfg.policy,
	}
	if e.policy == nil {
		e.policy = rbac.New(rbac.Defaults())
	}
	k, err := newKeyring(e.clock.Now(), cfg.signingKey)
	if err != nil {
		return nil, fmt.Errorf("stytchemu: generate signing key: %w", err)
	}
	e.keys = k
	if err := e.setExternalAuth(cfg); err != nil {
		return nil, err
	}
	if e.pw, err = newPasswordKit(cfg.pwPolicy, cfg.pwParams); err != nil {
		return nil, err
	}
	e.mux = e.routes()
	if cfg.sandbox {
		if e.projectType == ProjectConsumer {
			e.seedConsumerSandbox()
		} else {
			e.seedSandbox()
		}
	}
	return e, nil
}

// ProjectID returns the project ID used for Basic auth, JWT iss/aud and JWKS paths.
func (e *Emulator) ProjectID() string { return e.projectID }

// Secret returns the project secret used for Basic auth.
func (e *Emulator) Secret() string { return e.secret }

// Now returns the emulator's current time.
func (e *Emulator) Now() time.Time { return e.clock.Now() }

// Advance moves the emulator clock forward by d (token, OTP, session and JWT
// expiry all follow it).
func (e *Emulator) Advance(d time.Duration) { e.clock.Advance(d) }

// SetNow freezes the emulator clock at t. Advance moves it from there.
func (e *Emulator) SetNow(t time.Time) { e.clock.Set(t) }

// Server is an Emulator listening on a loopback port.
type Server struct {
	*Emulator
	// URL is the base URL, e.g. "http://127.0.0.1:41234" (no trailing slash).
	URL string

	multi *Multi
	srv   *http.Server
	done  chan struct{}
}

// Start runs a new emulator on 127.0.0.1 with an OS-chosen port.
func Start(opts ...Option) (*Server, error) {
	return Listen(context.Background(), "127.0.0.1:0", opts...)
}

// Listen runs a new emulator on addr (host:port). ctx bounds only the
// listen call; Close stops the server.
func Listen(ctx context.Context, addr string, opts ...Option) (*Server, error) {
	e, err := New(opts...)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("stytchemu: listen %s: %w", addr, err)
	}
	return e.Serve(ln), nil
}

// Serve serves e on ln until the returned Server is closed.
func (e *Emulator) Serve(ln net.Listener) *Server {
	return serveHandler(e, e, nil, ln)
}

// Serve serves every project of m on ln until the returned Server is closed.
// The Server's Emulator is the default (first) project; Project finds the others.
func (m *Multi) Serve(ln net.Listener) *Server {
	return serveHandler(m, m.projects[0], m, ln)
}

// Listen runs m on addr (host:port). ctx bounds only the listen call.
func (m *Multi) Listen(ctx context.Context, addr string) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("stytchemu: listen %s: %w", addr, err)
	}
	return m.Serve(ln), nil
}

// Project returns the served project with the given ID (nil if none): the
// Server's own Emulator, or another project of a Multi.
func (s *Server) Project(id string) *Emulator {
	if s.multi != nil {
		return s.multi.Project(id)
	}
	if s.projectID == id {
		return s.Emulator
	}
	return nil
}

func serveHandler(h http.Handler, e *Emulator, m *Multi, ln net.Listener) *Server {
	s := &Server{
		Emulator: e,
		URL:      "http://" + ln.Addr().String(),
		multi:    m,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.logger.Error("stytchemu: serve", slog.Any("error", err))
		}
	}()
	return s
}

// Close stops the server immediately (open connections, including requests
// held by a latency fault, are closed), ends the webhook deliveries in
// flight and waits for both.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	if s.multi != nil {
		for _, p := range s.multi.projects {
			p.closeWebhooks()
		}
	} else {
		s.closeWebhooks()
	}
	if err != nil {
		return fmt.Errorf("stytchemu: close: %w", err)
	}
	return nil
}

// clock is the emulator's movable time source.
type clock struct {
	mu     sync.Mutex
	base   func() time.Time
	frozen bool
	at     time.Time
	offset time.Duration
}

func newClock(base func() time.Time, frozen *time.Time) *clock {
	c := &clock{base: base}
	if frozen != nil {
		c.frozen, c.at = true, *frozen
	}
	return c
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.at
	}
	return c.base().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = c.at.Add(d)
		return
	}
	c.offset += d
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frozen, c.at = true, t
}
