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
)

// Environment names accepted by AUTHSVC_ENV.
const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
)

// Config is authsvc's validated configuration.
type Config struct {
	// StytchProjectID is the Stytch project; empty means dev mode (embedded emulator).
	StytchProjectID string
	// StytchSecret is the project secret, from STYTCH_SECRET or the file named by STYTCH_SECRET_FILE.
	StytchSecret string
	// StytchBaseURL overrides the base URL derived from the project ID (custom domains, an emulator).
	StytchBaseURL string

	// GRPCAddr, HTTPAddr and AdminAddr are the listen addresses (see listen.go in this package):
	// loopback by default in dev mode, every interface otherwise.
	GRPCAddr  string
	HTTPAddr  string
	AdminAddr string
	// DevListenPublic lets dev mode listen on non-loopback addresses (AUTHSVC_DEV_LISTEN_PUBLIC).
	DevListenPublic bool

	// AllowedRedirectURLs is the allowlist for magic-link and discovery redirect URLs; the first entry
	// is the default used when a request omits one.
	AllowedRedirectURLs []string
	// CORSOrigins lists the browser origins allowed to call the REST API.
	CORSOrigins []string
	// RedisURL, when set, moves shared state (limits, revocations, idempotency keys) to Redis.
	RedisURL string
	// Env is development or production; production refuses dev mode.
	Env string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// ShutdownGrace bounds graceful shutdown before in-flight RPCs are cut.
	ShutdownGrace time.Duration
	// DrainDelay is how long shutdown keeps serving, not ready, before the listeners close (see
	// shutdown.go in this package).
	DrainDelay time.Duration
	// InsecureCookies drops the Secure attribute from session cookies, for plain-HTTP local development
	// only (the default in dev mode); refused in production.
	InsecureCookies bool

	// Admission settings (internal/admission; see admission.go in this package).
	Admission Admission
	// TLS settings of the public ports (see tls.go in this package).
	TLS TLS
	// Idempotency settings (internal/idempotency; see idempotency.go in this package).
	Idempotency Idempotency
}

// DevMode reports whether authsvc should run against the embedded Stytch emulator.
func (c *Config) DevMode() bool { return c.StytchProjectID == "" }

// setting describes one configuration value: its environment variable, flag and default.
type setting struct {
	env, flag, def, usage string
	dst                   *string
	isBool                bool // -flag alone means true
}

// stringFlag stores a flag's raw text so that every value, boolean ones included, is validated in one
// place with an error that names the environment variable.
type stringFlag struct {
	dst    *string
	isBool bool
}

func (f stringFlag) String() string {
	if f.dst == nil {
		return ""
	}
	return *f.dst
}

func (f stringFlag) Set(v string) error { *f.dst = v; return nil }

func (f stringFlag) IsBoolFlag() bool { return f.isBool }

// Load parses args (without the program name) and the environment given by getenv. Output for -help
// goes to out. It returns flag.ErrHelp when help was requested.
func Load(args []string, getenv func(string) string, out io.Writer) (*Config, error) {
	var (
		c                                                   Config
		secretFile, redirects, origins, grace, insecureCook string
		adm                                                 admissionRaw
		tlsr                                                tlsRaw
		lis                                                 listenRaw
		idem                                                idempotencyRaw
		drain                                               drainRaw
	)
	settings := []setting{
		{"STYTCH_PROJECT_ID", "stytch-project-id", "", "Stytch project ID; empty starts the embedded emulator (dev mode)", &c.StytchProjectID, false},
		{"STYTCH_SECRET", "stytch-secret", "", "Stytch project secret (prefer STYTCH_SECRET_FILE)", &c.StytchSecret, false},
		{"STYTCH_SECRET_FILE", "stytch-secret-file", "", "file holding the Stytch project secret", &secretFile, false},
		{"STYTCH_BASE_URL", "stytch-base-url", "", "Stytch API base URL; default derived from the project ID", &c.StytchBaseURL, false},
		{"AUTHSVC_ALLOWED_REDIRECT_URLS", "allowed-redirect-urls", "", "comma-separated redirect URL allowlist; the first is the default", &redirects, false},
		{"AUTHSVC_CORS_ORIGINS", "cors-origins", "", "comma-separated browser origins allowed by CORS", &origins, false},
		{"AUTHSVC_REDIS_URL", "redis-url", "", "Redis URL for state shared between replicas (redis://host:6379/0)", &c.RedisURL, false},
		{"AUTHSVC_ENV", "env", EnvDevelopment, "development or production", &c.Env, false},
		{"AUTHSVC_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", &c.LogLevel, false},
		{"AUTHSVC_SHUTDOWN_GRACE", "shutdown-grace", "20s", "how long in-flight calls may finish on shutdown", &grace, false},
		{"AUTHSVC_INSECURE_COOKIES", "insecure-cookies", "", "omit the Secure cookie attribute for plain-HTTP local use (default: true in dev mode, false otherwise)", &insecureCook, true},
	}
	settings = append(settings, lis.settings()...)
	settings = append(settings, adm.settings()...)
	settings = append(settings, tlsr.settings()...)
	settings = append(settings, idem.settings()...)
	settings = append(settings, drain.settings()...)

	fs := flag.NewFlagSet("authsvc", flag.ContinueOnError)
	fs.SetOutput(out)
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		*s.dst = def
		fs.Var(stringFlag{dst: s.dst, isBool: s.isBool}, s.flag, s.usage+" ($"+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	c.AllowedRedirectURLs = splitList(redirects)
	c.CORSOrigins = splitList(origins)

	if err := c.loadSecret(secretFile); err != nil {
		return nil, err
	}
	var err error
	if c.ShutdownGrace, err = time.ParseDuration(grace); err != nil || c.ShutdownGrace < 0 {
		return nil, fmt.Errorf("AUTHSVC_SHUTDOWN_GRACE: %q is not a non-negative duration such as 20s", grace)
	}
	// Dev mode runs on a laptop over plain HTTP, where browsers and curl would drop Secure cookies; a
	// deployment with real credentials keeps them Secure unless told otherwise.
	if insecureCook == "" {
		c.InsecureCookies = c.StytchProjectID == ""
	} else if c.InsecureCookies, err = strconv.ParseBool(insecureCook); err != nil {
		return nil, fmt.Errorf("AUTHSVC_INSECURE_COOKIES: %q is not a boolean", insecureCook)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if err := c.loadListen(lis); err != nil {
		return nil, err
	}
	if err := c.loadAdmission(adm); err != nil {
		return nil, err
	}
	if err := c.loadTLS(tlsr); err != nil {
		return nil, err
	}
	if err := c.loadIdempotency(idem); err != nil {
		return nil, err
	}
	if err := c.loadDrain(drain); err != nil {
		return nil, err
	}
	return &c, nil
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
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("AUTHSVC_LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel)
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
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			return errors.New("AUTHSVC_REDIS_URL: not a redis:// or rediss:// URL with a host")
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

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
