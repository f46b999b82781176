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
	"github.com/authsvc/authsvc/internal/idempotency"
	"github.com/authsvc/authsvc/internal/redisclient"
	"github.com/authsvc/authsvc/internal/server"
	"github.com/authsvc/authsvc/internal/telemetry"
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
	// StytchProjectID is the Stytch project; empty means dev mode (embedded emulator).
	StytchProjectID string
	// StytchSecret is the project secret, from STYTCH_SECRET or the file named by STYTCH_SECRET_FILE.
	StytchSecret string
	// StytchBaseURL overrides the base URL derived from the project ID (custom domains, an emulator).
	StytchBaseURL string
	// DevListenPublic lets dev mode listen on non-loopback addresses (AUTHSVC_DEV_LISTEN_PUBLIC;
	// see listen.go in this package).
	DevListenPublic bool
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
}

// DevMode reports whether authsvc should run against the embedded Stytch emulator.
func (c *Config) DevMode() bool { return c.StytchProjectID == "" }

// sections are the packages' sections, in the order they are set and validated.
func (c *Config) sections() []setting.Section {
	return []setting.Section{&c.Telemetry, &c.Server, &c.Redis, &c.Admission, &c.Idempotency}
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
	// secretFile and insecureCookies are resolved by Validate: the file against STYTCH_SECRET,
	// the cookies' default against the mode.
	secretFile, insecureCookies string
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
		{Env: "STYTCH_PROJECT_ID", Flag: "stytch-project-id", Usage: "Stytch project ID; empty starts the embedded emulator (dev mode)", Set: text(&c.StytchProjectID)},
		{Env: "STYTCH_SECRET", Flag: "stytch-secret", Usage: "Stytch project secret (prefer STYTCH_SECRET_FILE)", Redact: setting.Hidden, Set: text(&c.StytchSecret)},
		{Env: "STYTCH_SECRET_FILE", Flag: "stytch-secret-file", Usage: "file holding the Stytch project secret", Set: text(&o.secretFile)},
		{Env: "STYTCH_BASE_URL", Flag: "stytch-base-url", Usage: "Stytch API base URL; default derived from the project ID", Set: text(&c.StytchBaseURL)},
		{Env: "AUTHSVC_ALLOWED_REDIRECT_URLS", Flag: "allowed-redirect-urls", Usage: "comma-separated redirect URL allowlist; the first is the default", Set: list(&c.AllowedRedirectURLs)},
		{Env: "AUTHSVC_CORS_ORIGINS", Flag: "cors-origins", Usage: "comma-separated browser origins allowed by CORS", Set: list(&c.CORSOrigins)},
		{Env: "AUTHSVC_ENV", Flag: "env", Default: EnvDevelopment, Usage: "development or production", Set: text(&c.Env)},
		{Env: "AUTHSVC_INSECURE_COOKIES", Flag: "insecure-cookies", Bool: true, Usage: "omit the Secure cookie attribute for plain-HTTP local use (default: true in dev mode, false otherwise)", Set: text(&o.insecureCookies)},
		{Env: devListenPublicEnv, Flag: "dev-listen-public", Bool: true, Default: "false", Usage: "let dev mode listen on non-loopback addresses, exposing /dev/outbox (login tokens) and /dev/m2m/clients to the network", Set: boolean(&c.DevListenPublic)},
	}
}

func (o *core) SetDefaults() {
	c := o.c
	c.StytchProjectID, c.StytchSecret, c.StytchBaseURL = "", "", ""
	c.AllowedRedirectURLs, c.CORSOrigins = nil, nil
	c.Env, c.InsecureCookies, c.DevListenPublic = EnvDevelopment, false, false
	o.secretFile, o.insecureCookies = "", ""
}

func (o *core) Validate() error {
	c := o.c
	if err := c.loadSecret(o.secretFile); err != nil {
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

func (c *Config) loadSecret(file string) error {
	if file == "" {
		return nil
	}
	if c.StytchSecret != "" {
		return errors.New("STYTCH_SECRET_FILE: set either STYTCH_SECRET or STYTCH_SECRET_FILE, not both")
	}
	b, err := os.ReadFile(file) //nolint:gosec // the operator names the file on purpose
	if err != nil {
		// The path is operator configuration, not a secret; the content is never printed.
		return fmt.Errorf("STYTCH_SECRET_FILE: cannot read %q: %w", file, errors.Unwrap(err))
	}
	c.StytchSecret = strings.TrimSpace(string(b))
	if c.StytchSecret == "" {
		return fmt.Errorf("STYTCH_SECRET_FILE: %q is empty", file)
	}
	return nil
}

func (c *Config) validate() error {
	switch c.Env {
	case EnvDevelopment, EnvProduction:
	default:
		return fmt.Errorf("AUTHSVC_ENV: %q is neither %q nor %q", c.Env, EnvDevelopment, EnvProduction)
	}
	if c.StytchProjectID == "" {
		if c.Env == EnvProduction {
			return errors.New("STYTCH_PROJECT_ID: required when AUTHSVC_ENV=production (dev mode with the embedded emulator is refused in production)")
		}
		if c.StytchSecret != "" {
			return errors.New("STYTCH_PROJECT_ID: a Stytch secret is set but no project ID")
		}
	} else if c.StytchSecret == "" {
		return errors.New("STYTCH_SECRET: required with STYTCH_PROJECT_ID (or set STYTCH_SECRET_FILE)")
	}
	if c.StytchBaseURL != "" {
		if err := checkURL(c.StytchBaseURL, false); err != nil {
			return fmt.Errorf("STYTCH_BASE_URL: %w", err)
		}
		// Every request to Stytch carries the project secret; a local emulator over plain HTTP is
		// fine in development only.
		if c.Env == EnvProduction && !strings.HasPrefix(strings.ToLower(c.StytchBaseURL), "https://") {
			return errors.New("STYTCH_BASE_URL: http:// is refused when AUTHSVC_ENV=production (the Stytch secret would travel in clear); use https://")
		}
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
