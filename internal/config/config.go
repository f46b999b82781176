package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/config/setting"
	"github.com/authsvc/authsvc/internal/edge"
	"github.com/authsvc/authsvc/internal/idempotency"
	"github.com/authsvc/authsvc/internal/redisclient"
	"github.com/authsvc/authsvc/internal/server"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/telemetry"
	"github.com/authsvc/authsvc/internal/webhook"
)

// Environment names accepted by AUTHSVC_ENV.
const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
)

// defaultProductionDrainDelay is long enough for Kubernetes' endpoint controllers, kube-proxy and
// ingress controllers to stop sending new connections to a terminating pod (a few seconds in
// practice). A process run by hand or by tests stops at once (internal/server's default).
const defaultProductionDrainDelay = 5 * time.Second

// Config is authsvc's validated configuration: the settings that decide the mode (Stytch, the
// environment) and the REST surface, which this package owns, and one section per package that
// has settings, which that package owns (its conf.go).
type Config struct {
	// StytchProjectID is the Stytch B2B project; empty (with StytchConsumerProjectID empty too)
	// means dev mode (embedded emulator).
	StytchProjectID string
	// StytchSecret is the B2B project secret, from STYTCH_SECRET or the file named by
	// STYTCH_SECRET_FILE.
	StytchSecret string
	// StytchBaseURL overrides the base URL derived from the B2B project ID (custom domains, an
	// emulator).
	StytchBaseURL string
	// StytchConsumerProjectID is the Stytch consumer project; empty turns the consumer API off
	// outside dev mode.
	StytchConsumerProjectID string
	// StytchConsumerSecret is the consumer project secret, from STYTCH_CONSUMER_SECRET or the file
	// named by STYTCH_CONSUMER_SECRET_FILE.
	StytchConsumerSecret string
	// StytchConsumerBaseURL overrides the base URL derived from the consumer project ID.
	StytchConsumerBaseURL string
	// StytchConsumerPublicToken is the consumer project's public token, which OAuth start URLs
	// carry (it is meant for browsers: not a secret); empty: no OAuth start URLs. Dev mode uses the
	// emulator's.
	StytchConsumerPublicToken string
	// StytchPublicToken is the B2B project's public token, which SSO and B2B OAuth start URLs carry
	// (meant for browsers: not a secret); empty: no such start URLs. Dev mode uses the emulator's.
	StytchPublicToken string
	// Cookies are the session cookies' names per project and their Domain attribute.
	Cookies Cookies
	// DevListenPublic lets dev mode listen on non-loopback addresses (AUTHSVC_DEV_LISTEN_PUBLIC;
	// see listen.go in this package).
	DevListenPublic bool
	// DevRBACPolicy is the custom RBAC policy file (JSON, Stytch's policy shape) of dev mode's
	// emulator (AUTHSVC_DEV_RBAC_POLICY); empty: the example internal/rbac/example_policy.json.
	DevRBACPolicy string
	// DevUserInfoURL is the external OIDC provider's UserInfo endpoint that dev mode's emulator
	// calls for B2B sessions/migrate (AUTHSVC_DEV_USERINFO_URL); empty: migrate answers 400.
	DevUserInfoURL string
	// AllowedRedirectURLs is the allowlist for magic-link and discovery redirect URLs; the first entry
	// is the default used when a request omits one.
	AllowedRedirectURLs []string
	// CORSOrigins lists the browser origins allowed to call the REST API.
	CORSOrigins []string
	// Env is development or production; production refuses dev mode.
	Env string
	// InsecureCookies drops the Secure attribute from session cookies, for plain-HTTP local development
	// only (the default in dev mode); refused in production.
	InsecureCookies bool

	// Server: listen addresses, TLS, shutdown (internal/server).
	Server server.Conf
	// Telemetry: the log level (internal/telemetry).
	Telemetry telemetry.Conf
	// Redis: the deployment shared state lives in, if any (internal/redisclient).
	Redis redisclient.Conf
	// Admission: rate limits, trusted proxies, fail modes without Redis (internal/admission).
	Admission admission.Conf
	// Idempotency: the keys that encrypt stored responses (internal/idempotency).
	Idempotency idempotency.Conf
	// Edge: the edge authorizer's rules file and identity headers (internal/edge).
	Edge edge.Conf
	// Webhook: the signing secret of Stytch's webhooks (internal/webhook).
	Webhook webhook.Conf
	// Session: the session checkers' verified-token cache (internal/session).
	Session session.Conf
}

// Cookies are the names of the session cookies the REST gateway reads and sets, per project, and
// the Domain attribute they are set with.
type Cookies struct {
	// Session and SessionJWT name the B2B member session's cookies (AUTHSVC_SESSION_COOKIE,
	// AUTHSVC_SESSION_JWT_COOKIE).
	Session, SessionJWT string
	// ConsumerSession and ConsumerSessionJWT name the consumer user session's cookies
	// (AUTHSVC_CONSUMER_SESSION_COOKIE, AUTHSVC_CONSUMER_SESSION_JWT_COOKIE).
	ConsumerSession, ConsumerSessionJWT string
	// Domain is the cookies' Domain attribute (AUTHSVC_COOKIE_DOMAIN); empty sets host-only cookies.
	Domain string
}

// Default cookie names: Stytch's frontend SDKs use them, for either kind of project.
const (
	DefaultSessionCookie    = "stytch_session" //nolint:gosec // a cookie name, not a credential
	DefaultSessionJWTCookie = "stytch_session_jwt"
)

// DevMode reports whether authsvc should run against the embedded Stytch emulator: neither project
// is configured. Dev mode serves both the B2B and the consumer API.
func (c *Config) DevMode() bool { return c.StytchProjectID == "" && c.StytchConsumerProjectID == "" }

// B2BOn reports whether the B2B API is served: its project is configured, or dev mode.
func (c *Config) B2BOn() bool { return c.StytchProjectID != "" || c.DevMode() }

// ConsumerOn reports whether the consumer API is served: its project is configured, or dev mode.
func (c *Config) ConsumerOn() bool { return c.StytchConsumerProjectID != "" || c.DevMode() }

// sections are the packages' sections, in the order they are set and validated.
func (c *Config) sections() []setting.Section {
	return []setting.Section{&c.Telemetry, &c.Server, &c.Redis, &c.Admission, &c.Idempotency, &c.Edge, &c.Webhook, &c.Session}
}

// stringFlag stores a flag's raw text so that every value, boolean ones included, is parsed in one
// place (its Var's Set) with an error that names the environment variable.
type stringFlag struct {
	dst    *string
	isBool bool
	// redact is the Var's Redact: how String, which the flag package prints as the default in
	// -help, shows a value that can hold a secret.
	redact func(string) string
}

func (f stringFlag) String() string {
	if f.dst == nil || *f.dst == "" {
		return ""
	}
	if f.redact != nil {
		return f.redact(*f.dst)
	}
	return *f.dst
}

func (f stringFlag) Set(v string) error { *f.dst = v; return nil }

func (f stringFlag) IsBoolFlag() bool { return f.isBool }

// bound is one setting with the text that applies: the flag's if given, else the variable's.
type bound struct {
	v     setting.Var
	text  string
	given bool
}

// Load parses args (without the program name) and the environment given by getenv. Output for -help
// goes to out. It returns flag.ErrHelp when help was requested.
//
// Order: every section's defaults; this package's own settings, which decide the mode; the
// defaults that depend on the mode (dev mode listens on loopback, production drains); the sections'
// settings given; each section's Validate; the rules across sections.
func Load(args []string, getenv func(string) string, out io.Writer) (*Config, error) {
	var c Config
	own := &core{c: &c}
	all := append([]setting.Section{own}, c.sections()...)
	if err := setting.Check(all...); err != nil {
		return nil, err
	}

	fs := flag.NewFlagSet("authsvc", flag.ContinueOnError)
	fs.SetOutput(out)
	bySection := make([][]*bound, len(all))
	byFlag := map[string]*bound{}
	for i, s := range all {
		s.SetDefaults()
		for _, v := range s.Vars() {
			g := &bound{v: v, text: v.Default}
			if e := getenv(v.Env); e != "" {
				g.text, g.given = e, true
			}
			// The flag's default, shown by -help, is the variable's value when set (redacted for
			// a setting that can hold a secret).
			fs.Var(stringFlag{dst: &g.text, isBool: v.Bool, redact: v.Redact}, v.Flag, v.Usage+" ($"+v.Env+")")
			bySection[i] = append(bySection[i], g)
			byFlag[v.Flag] = g
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { byFlag[f.Name].given = true })
	set := func(gs []*bound) error {
		for _, g := range gs {
			if g.given {
				if err := g.v.Set(g.text); err != nil {
					return setting.Named(g.v.Env, err)
				}
			}
		}
		return nil
	}

	if err := set(bySection[0]); err != nil {
		return nil, err
	}
	if err := own.Validate(); err != nil {
		return nil, err
	}
	if c.DevMode() {
		c.Server.SetDefaultHost(devListenHost)
	}
	if c.Env == EnvProduction {
		c.Server.DrainDelay = defaultProductionDrainDelay
	}
	for i, s := range all[1:] {
		if err := set(bySection[i+1]); err != nil {
			return nil, err
		}
		if err := s.Validate(); err != nil {
			return nil, err
		}
	}
	if err := c.acrossSections(); err != nil {
		return nil, err
	}
	return &c, nil
}

// acrossSections holds the rules that involve more than one section.
func (c *Config) acrossSections() error {
	if c.Env == EnvProduction && c.Admission.Off {
		return errors.New(admission.EnvMode + ": off is refused when AUTHSVC_ENV=production")
	}
	return c.checkDevListen()
}

// core is this package's own section: the settings that decide the mode and the REST surface.
type core struct {
	c *Config
	// secretFile, consumerSecretFile and insecureCookies are resolved by Validate: each file
	// against its secret variable, the cookies' default against the mode.
	secretFile, consumerSecretFile, insecureCookies string
}

func (*core) Key() string { return "authsvc" }

func (o *core) Vars() []setting.Var {
	c := o.c
	text := func(dst *string) func(string) error { return func(s string) error { *dst = s; return nil } }
	list := func(dst *[]string) func(string) error {
		return func(s string) error { *dst = setting.List(s); return nil }
	}
	boolean := func(dst *bool) func(string) error {
		return func(s string) error {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("%q is not a boolean", s)
			}
			*dst = b
			return nil
		}
	}
	return []setting.Var{
		{Env: "STYTCH_PROJECT_ID", Flag: "stytch-project-id", Usage: "Stytch B2B project ID; with no consumer project either, starts the embedded emulator (dev mode)", Set: text(&c.StytchProjectID)},
		{Env: "STYTCH_SECRET", Flag: "stytch-secret", Usage: "Stytch B2B project secret (prefer STYTCH_SECRET_FILE)", Redact: setting.Hidden, Set: text(&c.StytchSecret)},
		{Env: "STYTCH_SECRET_FILE", Flag: "stytch-secret-file", Usage: "file holding the Stytch B2B project secret", Set: text(&o.secretFile)},
		{Env: "STYTCH_BASE_URL", Flag: "stytch-base-url", Usage: "Stytch API base URL of the B2B project; default derived from the project ID", Set: text(&c.StytchBaseURL)},
		{Env: "STYTCH_CONSUMER_PROJECT_ID", Flag: "stytch-consumer-project-id", Usage: "Stytch consumer project ID; empty turns the consumer API off (outside dev mode)", Set: text(&c.StytchConsumerProjectID)},
		{Env: "STYTCH_CONSUMER_SECRET", Flag: "stytch-consumer-secret", Usage: "Stytch consumer project secret (prefer STYTCH_CONSUMER_SECRET_FILE)", Redact: setting.Hidden, Set: text(&c.StytchConsumerSecret)},
		{Env: "STYTCH_CONSUMER_SECRET_FILE", Flag: "stytch-consumer-secret-file", Usage: "file holding the Stytch consumer project secret", Set: text(&o.consumerSecretFile)},
		{Env: "STYTCH_CONSUMER_BASE_URL", Flag: "stytch-consumer-base-url", Usage: "Stytch API base URL of the consumer project; default derived from its project ID", Set: text(&c.StytchConsumerBaseURL)},
		{Env: "STYTCH_CONSUMER_PUBLIC_TOKEN", Flag: "stytch-consumer-public-token", Usage: "public token of the consumer project, for OAuth start URLs (public, not a secret); empty: OAuthService.StartURL is refused", Set: text(&c.StytchConsumerPublicToken)},
		{Env: "STYTCH_PUBLIC_TOKEN", Flag: "stytch-public-token", Usage: "public token of the B2B project, for SSO and B2B OAuth start URLs (public, not a secret); empty: the StartURL of SSOService and of the B2B OAuthService is refused", Set: text(&c.StytchPublicToken)},
		{Env: "AUTHSVC_SESSION_COOKIE", Flag: "session-cookie", Default: DefaultSessionCookie, Usage: "name of the B2B session token cookie", Set: text(&c.Cookies.Session)},
		{Env: "AUTHSVC_SESSION_JWT_COOKIE", Flag: "session-jwt-cookie", Default: DefaultSessionJWTCookie, Usage: "name of the B2B session JWT cookie", Set: text(&c.Cookies.SessionJWT)},
		{Env: "AUTHSVC_CONSUMER_SESSION_COOKIE", Flag: "consumer-session-cookie", Default: DefaultSessionCookie, Usage: "name of the consumer session token cookie", Set: text(&c.Cookies.ConsumerSession)},
		{Env: "AUTHSVC_CONSUMER_SESSION_JWT_COOKIE", Flag: "consumer-session-jwt-cookie", Default: DefaultSessionJWTCookie, Usage: "name of the consumer session JWT cookie", Set: text(&c.Cookies.ConsumerSessionJWT)},
		{Env: "AUTHSVC_COOKIE_DOMAIN", Flag: "cookie-domain", Usage: "Domain attribute of the session cookies (e.g. example.com, shared with its subdomains); empty: host-only cookies", Set: text(&c.Cookies.Domain)},
		{Env: "AUTHSVC_ALLOWED_REDIRECT_URLS", Flag: "allowed-redirect-urls", Usage: "comma-separated redirect URL allowlist; the first is the default", Set: list(&c.AllowedRedirectURLs)},
		{Env: "AUTHSVC_CORS_ORIGINS", Flag: "cors-origins", Usage: "comma-separated browser origins allowed by CORS", Set: list(&c.CORSOrigins)},
		{Env: "AUTHSVC_ENV", Flag: "env", Default: EnvDevelopment, Usage: "development or production", Set: text(&c.Env)},
		{Env: "AUTHSVC_INSECURE_COOKIES", Flag: "insecure-cookies", Bool: true, Usage: "omit the Secure cookie attribute for plain-HTTP local use (default: true in dev mode, false otherwise)", Set: text(&o.insecureCookies)},
		{Env: devListenPublicEnv, Flag: "dev-listen-public", Bool: true, Default: "false", Usage: "let dev mode listen on non-loopback addresses, exposing /dev/outbox (login tokens), /dev/m2m/clients and the dev console at /dev/ to the network", Set: boolean(&c.DevListenPublic)},
		{Env: "AUTHSVC_DEV_RBAC_POLICY", Flag: "dev-rbac-policy", Usage: "dev mode: JSON file of the emulator's custom RBAC policy (resources, roles), merged into Stytch's default roles; empty: the example policy (billing_admin, finance)", Set: text(&c.DevRBACPolicy)},
		{Env: "AUTHSVC_DEV_USERINFO_URL", Flag: "dev-userinfo-url", Usage: "dev mode: the external OIDC provider's UserInfo endpoint the emulator calls for B2B sessions/migrate; empty: migrate is refused", Set: text(&c.DevUserInfoURL)},
	}
}

func (o *core) SetDefaults() {
	c := o.c
	c.StytchProjectID, c.StytchSecret, c.StytchBaseURL = "", "", ""
	c.StytchConsumerProjectID, c.StytchConsumerSecret, c.StytchConsumerBaseURL = "", "", ""
	c.StytchConsumerPublicToken, c.StytchPublicToken = "", ""
	c.Cookies = Cookies{
		Session: DefaultSessionCookie, SessionJWT: DefaultSessionJWTCookie,
		ConsumerSession: DefaultSessionCookie, ConsumerSessionJWT: DefaultSessionJWTCookie,
	}
	c.AllowedRedirectURLs, c.CORSOrigins = nil, nil
	c.Env, c.InsecureCookies, c.DevListenPublic = EnvDevelopment, false, false
	c.DevRBACPolicy, c.DevUserInfoURL = "", ""
	o.secretFile, o.consumerSecretFile, o.insecureCookies = "", "", ""
}

func (o *core) Validate() error {
	c := o.c
	if err := loadSecret(&c.StytchSecret, "STYTCH_SECRET", o.secretFile); err != nil {
		return err
	}
	if err := loadSecret(&c.StytchConsumerSecret, "STYTCH_CONSUMER_SECRET", o.consumerSecretFile); err != nil {
		return err
	}
	// Dev mode runs on a laptop over plain HTTP, where browsers and curl would drop Secure cookies; a
	// deployment with real credentials keeps them Secure unless told otherwise.
	if o.insecureCookies == "" {
		c.InsecureCookies = c.DevMode()
	} else {
		b, err := strconv.ParseBool(o.insecureCookies)
		if err != nil {
			return fmt.Errorf("AUTHSVC_INSECURE_COOKIES: %q is not a boolean", o.insecureCookies)
		}
		c.InsecureCookies = b
	}
	return c.validate()
}

// loadSecret reads the secret variable env's _FILE variant into dst.
func loadSecret(dst *string, env, file string) error {
	if file == "" {
		return nil
	}
	if *dst != "" {
		return fmt.Errorf("%s_FILE: set either %s or %s_FILE, not both", env, env, env)
	}
	b, err := os.ReadFile(file) //nolint:gosec // the operator names the file on purpose
	if err != nil {
		// The path is operator configuration, not a secret; the content is never printed.
		return fmt.Errorf("%s_FILE: cannot read %q: %w", env, file, errors.Unwrap(err))
	}
	*dst = strings.TrimSpace(string(b))
	if *dst == "" {
		return fmt.Errorf("%s_FILE: %q is empty", env, file)
	}
	return nil
}

func (c *Config) validate() error {
	switch c.Env {
	case EnvDevelopment, EnvProduction:
	default:
		return fmt.Errorf("AUTHSVC_ENV: %q is neither %q nor %q", c.Env, EnvDevelopment, EnvProduction)
	}
	if c.DevMode() && c.Env == EnvProduction {
		return errors.New("STYTCH_PROJECT_ID: required when AUTHSVC_ENV=production, or STYTCH_CONSUMER_PROJECT_ID, or both (dev mode with the embedded emulator is refused in production)")
	}
	// Each project is configured completely or not at all; a half-configured one names what is
	// missing.
	for _, p := range []struct{ id, secret, idEnv, secretEnv, baseURL, baseURLEnv string }{
		{c.StytchProjectID, c.StytchSecret, "STYTCH_PROJECT_ID", "STYTCH_SECRET", c.StytchBaseURL, "STYTCH_BASE_URL"},
		{c.StytchConsumerProjectID, c.StytchConsumerSecret, "STYTCH_CONSUMER_PROJECT_ID", "STYTCH_CONSUMER_SECRET", c.StytchConsumerBaseURL, "STYTCH_CONSUMER_BASE_URL"},
	} {
		switch {
		case p.id == "" && p.secret != "":
			return fmt.Errorf("%s: a Stytch secret is set (%s) but no project ID", p.idEnv, p.secretEnv)
		case p.id != "" && p.secret == "":
			return fmt.Errorf("%s: required with %s (or set %s_FILE)", p.secretEnv, p.idEnv, p.secretEnv)
		case p.id == "" && p.baseURL != "" && !c.DevMode():
			return fmt.Errorf("%s: set without %s", p.baseURLEnv, p.idEnv)
		}
		if p.baseURL != "" {
			if err := checkURL(p.baseURL, false); err != nil {
				return fmt.Errorf("%s: %w", p.baseURLEnv, err)
			}
			// Every request to Stytch carries the project secret; a local emulator over plain HTTP
			// is fine in development only.
			if c.Env == EnvProduction && !strings.HasPrefix(strings.ToLower(p.baseURL), "https://") {
				return fmt.Errorf("%s: http:// is refused when AUTHSVC_ENV=production (the Stytch secret would travel in clear); use https://", p.baseURLEnv)
			}
		}
	}
	if c.StytchPublicToken != "" && c.StytchProjectID == "" && !c.DevMode() {
		return errors.New("STYTCH_PUBLIC_TOKEN: set without STYTCH_PROJECT_ID")
	}
	if c.StytchConsumerPublicToken != "" && c.StytchConsumerProjectID == "" && !c.DevMode() {
		return errors.New("STYTCH_CONSUMER_PUBLIC_TOKEN: set without STYTCH_CONSUMER_PROJECT_ID")
	}
	if err := c.Cookies.validate(c.B2BOn() && c.ConsumerOn()); err != nil {
		return err
	}
	for _, u := range c.AllowedRedirectURLs {
		if err := checkURL(u, true); err != nil {
			return fmt.Errorf("AUTHSVC_ALLOWED_REDIRECT_URLS: %w", err)
		}
	}
	for _, o := range c.CORSOrigins {
		if err := checkOrigin(o); err != nil {
			return fmt.Errorf("AUTHSVC_CORS_ORIGINS: %w", err)
		}
	}
	if c.Env == EnvProduction && c.InsecureCookies {
		return errors.New("AUTHSVC_INSECURE_COOKIES: refused when AUTHSVC_ENV=production")
	}
	return nil
}

// validate checks the cookie names and, when both projects are served, that their cookies cannot
// overwrite each other.
//
// Without a Domain attribute the cookies are host-only: a B2B and a consumer frontend that reach
// authsvc through different host names (b2b-auth.example.com, auth.example.com) keep separate
// cookies even under equal names, which is why both projects default to Stytch's names. With
// AUTHSVC_COOKIE_DOMAIN every host under the domain shares one cookie jar, so equal names would make
// one project's login overwrite the other's session: refused.
func (k Cookies) validate(bothProjects bool) error {
	for _, n := range []struct{ env, name string }{
		{"AUTHSVC_SESSION_COOKIE", k.Session},
		{"AUTHSVC_SESSION_JWT_COOKIE", k.SessionJWT},
		{"AUTHSVC_CONSUMER_SESSION_COOKIE", k.ConsumerSession},
		{"AUTHSVC_CONSUMER_SESSION_JWT_COOKIE", k.ConsumerSessionJWT},
	} {
		if !validCookieName(n.name) {
			return fmt.Errorf("%s: %q is not a cookie name (letters, digits and ! # $ %% & ' * + - . ^ _ ` | ~)", n.env, n.name)
		}
	}
	if k.Session == k.SessionJWT {
		return errors.New("AUTHSVC_SESSION_JWT_COOKIE: must differ from AUTHSVC_SESSION_COOKIE")
	}
	if k.ConsumerSession == k.ConsumerSessionJWT {
		return errors.New("AUTHSVC_CONSUMER_SESSION_JWT_COOKIE: must differ from AUTHSVC_CONSUMER_SESSION_COOKIE")
	}
	if k.Domain != "" && strings.ContainsAny(k.Domain, " ;,/:") {
		return fmt.Errorf("AUTHSVC_COOKIE_DOMAIN: %q is not a domain", k.Domain)
	}
	if bothProjects && k.Domain != "" {
		b2b := []string{k.Session, k.SessionJWT}
		for _, n := range []string{k.ConsumerSession, k.ConsumerSessionJWT} {
			if n == b2b[0] || n == b2b[1] {
				return fmt.Errorf("AUTHSVC_CONSUMER_SESSION_COOKIE / AUTHSVC_CONSUMER_SESSION_JWT_COOKIE: %q is also a B2B cookie name, and with AUTHSVC_COOKIE_DOMAIN set both projects' cookies share one jar, so one login would overwrite the other's session; give the consumer cookies other names (e.g. stytch_consumer_session)", n)
			}
		}
	}
	return nil
}

// validCookieName reports whether s is an RFC 6265 cookie name (an HTTP token).
func validCookieName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}

func checkURL(raw string, allowQuery bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if !allowQuery && (u.RawQuery != "" || u.Fragment != "") {
		return fmt.Errorf("%q must not have a query or fragment", raw)
	}
	return nil
}

func checkOrigin(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("%q is not an origin such as https://app.example.com", raw)
	}
	return nil
}
