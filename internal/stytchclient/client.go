package stytchclient

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// Base URLs chosen from the project ID when Config.BaseURL is empty.
const (
	LiveBaseURL = "https://api.stytch.com"
	TestBaseURL = "https://test.stytch.com"
)

// Defaults for the HTTP client built when Config.HTTPClient is nil. They are
// deliberately finite: the official SDK uses http.Client{} with no timeout at
// all, so one stuck Stytch connection can hold a request (and its goroutine)
// forever.
const (
	DefaultDialTimeout           = 5 * time.Second
	DefaultTLSHandshakeTimeout   = 5 * time.Second
	DefaultResponseHeaderTimeout = 15 * time.Second // search can take ~9 s (Stytch docs)
	DefaultRequestTimeout        = 20 * time.Second // one attempt, body included
	DefaultMaxResponseBytes      = 8 << 20          // 1000 members in a search page fit comfortably
)

// Config configures a Client. ProjectID and Secret are required.
type Config struct {
	// ProjectID is the Stytch project ID; also the Basic auth user name.
	ProjectID string
	// Secret is the project secret; the Basic auth password. Never logged.
	Secret string
	// BaseURL overrides the API host (custom domains, the emulator). Empty
	// means derive from ProjectID: "project-live-" → LiveBaseURL, anything
	// else → TestBaseURL.
	BaseURL string
	// HTTPClient, if set, supplies the transport, timeout, and jar. Its
	// Transport is wrapped (tracing, query redaction); the value itself is
	// not modified. Nil builds a pooled client with DefaultDialTimeout,
	// DefaultTLSHandshakeTimeout, DefaultResponseHeaderTimeout, and
	// DefaultRequestTimeout.
	HTTPClient *http.Client
	// Version is sent in the User-Agent as "authsvc/<Version>". Empty → "dev".
	Version string
	// TracerProvider and MeterProvider default to the otel globals.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Retry bounds retries of safe requests; the zero value uses defaults.
	Retry RetryPolicy
	// MaxResponseBytes caps how much of a response body is read; zero means
	// DefaultMaxResponseBytes. A larger success body is an error.
	MaxResponseBytes int64
	// ProjectType says which kind of Stytch project ProjectID is: ProjectB2B (empty means B2B)
	// or ProjectConsumer. It picks the JWKS endpoint (GetJWKS, FetchJWKS) and makes a method
	// of the other kind fail with *ProjectTypeError before any request.
	ProjectType ProjectType
}

// Client is a typed Stytch REST client for one project, B2B or consumer
// (Config.ProjectType), with the M2M endpoints both kinds have. It is safe for
// concurrent use. Construct it with New.
type Client struct {
	projectID   string
	projectType ProjectType
	secret      string
	baseURL     string
	userAgent   string
	http        *http.Client
	timeout     time.Duration // one attempt, body included; 0 = none (see attempt)
	retry       RetryPolicy
	maxBody     int64
	duration    metric.Float64Histogram
	labelSets   sync.Map // recordLabels -> metric.RecordOption
	labelSetN   atomic.Int32
}

// New validates cfg and returns a Client. It makes no network call, so it
// never fails because Stytch is down.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.ProjectID) == "" {
		return nil, errors.New("stytchclient: Config.ProjectID is required")
	}
	if reason := checkSegment(cfg.ProjectID); reason != "" {
		// It is a path parameter of the JWKS and token endpoints; refused here, a bad one can never
		// surface later as a caller's bad request.
		return nil, errors.New("stytchclient: Config.ProjectID " + reason)
	}
	if cfg.Secret == "" {
		return nil, errors.New("stytchclient: Config.Secret is required")
	}
	projectType, err := resolveProjectType(cfg.ProjectType)
	if err != nil {
		return nil, err
	}
	base, err := resolveBaseURL(cfg.ProjectID, cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	version := cfg.Version
	if version == "" {
		version = "dev"
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	mp := cfg.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	maxBody := cfg.MaxResponseBytes
	if maxBody <= 0 {
		maxBody = DefaultMaxResponseBytes
	}

	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultRequestTimeout, Transport: newDefaultTransport()}
	}
	baseRT := hc.Transport
	if baseRT == nil {
		baseRT = http.DefaultTransport
	}
	// otelhttp makes the client span and HTTP metrics from a URL whose
	// query values are redacted (see do: url.full would otherwise carry
	// email_address=...). annotate, below it, restores the real query,
	// buffers the capped body, and exposes the live span so Stytch's
	// request ID and error type are set before otelhttp ends it.
	//
	// otelhttp's own client metrics are not recorded (a no-op meter): stytch.client.duration below
	// is the client's latency metric, by endpoint template, and otelhttp's histograms would repeat it
	// per host at a cost on every call.
	rt := otelhttp.NewTransport(
		&annotate{next: baseRT, maxBody: maxBody},
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(spanName),
	)

	meter := mp.Meter(instrumentationName)
	hist, err := meter.Float64Histogram("stytch.client.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of one attempt of a Stytch API call, by endpoint template and status."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20))
	if err != nil {
		return nil, fmt.Errorf("stytchclient: creating duration histogram: %w", err)
	}

	return &Client{
		projectID:   cfg.ProjectID,
		projectType: projectType,
		secret:      cfg.Secret,
		baseURL:     base,
		userAgent:   "authsvc/" + version,
		// hc.Timeout bounds each attempt through its context (attempt), not http.Client.Timeout:
		// for a transport net/http does not know (otelhttp's), Client.Timeout costs a goroutine,
		// a timer and two channels per request, and a wake-up of that goroutine when the request
		// ends.
		timeout: hc.Timeout,
		http: &http.Client{
			Transport: rt,
			Jar:       hc.Jar,
			// Stytch's API does not redirect. Following one would resend
			// the request (and for same-host redirects the Basic auth) to
			// wherever a proxy pointed us, so a 3xx is returned as an *Error.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		retry:    cfg.Retry.withDefaults(),
		maxBody:  maxBody,
		duration: hist,
	}, nil
}

// ProjectID returns the configured project ID.
func (c *Client) ProjectID() string { return c.projectID }

// ProjectType returns the configured project type (ProjectB2B when Config.ProjectType was empty).
func (c *Client) ProjectType() ProjectType { return c.projectType }

// BaseURL returns the API base URL in use (no trailing slash).
func (c *Client) BaseURL() string { return c.baseURL }

func resolveBaseURL(projectID, override string) (string, error) {
	if override == "" {
		if strings.HasPrefix(projectID, "project-live-") {
			return LiveBaseURL, nil
		}
		return TestBaseURL, nil
	}
	u, err := url.Parse(override)
	if err != nil {
		return "", fmt.Errorf("stytchclient: Config.BaseURL is not a URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("stytchclient: Config.BaseURL must be http or https, got scheme %q", u.Scheme)
	case u.Host == "":
		return "", errors.New("stytchclient: Config.BaseURL has no host")
	case u.User != nil:
		return "", errors.New("stytchclient: Config.BaseURL must not contain credentials")
	case u.RawQuery != "" || u.Fragment != "":
		return "", errors.New("stytchclient: Config.BaseURL must not have a query or fragment")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// newDefaultTransport is http.DefaultTransport's shape with explicit,
// shorter timeouts and a bigger idle pool for a single upstream host.
func newDefaultTransport() *http.Transport {
	d := &net.Dialer{Timeout: DefaultDialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32, // all traffic goes to one host
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   DefaultTLSHandshakeTimeout,
		ResponseHeaderTimeout: DefaultResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

// MemberSession identifies a member on whose behalf a B2B write is made.
// When set, the request carries X-Stytch-Member-Session and/or
// X-Stytch-Member-SessionJWT and Stytch enforces that member's RBAC
// permissions. Set at most one of Token and JWT.
type MemberSession struct {
	Token string
	JWT   string
}

func (m MemberSession) apply(h http.Header) {
	if m.Token != "" {
		h.Set("X-Stytch-Member-Session", m.Token)
	}
	if m.JWT != "" {
		h.Set("X-Stytch-Member-SessionJWT", m.JWT)
	}
}
