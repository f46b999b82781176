package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"slices"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// DefaultTimeout bounds a unary call that carries no deadline of its own (see [WithTimeout]).
const DefaultTimeout = 10 * time.Second

// Default keepalive: a ping after a minute without activity, and the connection dropped when a ping
// is not answered within 20 s, so a peer that vanished (a killed pod, a dropped NAT entry) is noticed
// in well under two minutes. authsvc accepts pings every 20 s or more (its keepalive enforcement
// policy); servers on gRPC's default policy accept one every 5 minutes and close the connection with
// "too_many_pings" below that.
const (
	DefaultKeepaliveTime    = time.Minute
	DefaultKeepaliveTimeout = 20 * time.Second
)

// Option configures [New].
type Option func(*settings)

type settings struct {
	tlsConfig *tls.Config
	insecure  bool
	transport int // how many of WithTLS / WithMutualTLS / WithInsecure were given

	timeout time.Duration

	m2m *m2mCredentials

	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagators    propagation.TextMapPropagator

	keepalive keepalive.ClientParameters
	now       func() time.Time
	dialOpts  []grpc.DialOption
	errs      []error
}

type m2mCredentials struct {
	clientID, clientSecret string
	scopes                 []string
}

func defaultSettings() settings {
	return settings{
		timeout:   DefaultTimeout,
		keepalive: keepalive.ClientParameters{Time: DefaultKeepaliveTime, Timeout: DefaultKeepaliveTimeout},
		now:       time.Now,
	}
}

// WithTLS connects over TLS with cfg (cloned; nil means the system roots and TLS 1.2 or newer).
// TLS with the system roots is also what [New] does when no transport option is given.
func WithTLS(cfg *tls.Config) Option {
	return func(s *settings) {
		s.transport++
		if cfg == nil {
			s.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			return
		}
		s.tlsConfig = cfg.Clone()
	}
}

// WithMutualTLS connects over TLS presenting cert as the client certificate and trusting only roots
// for the server's certificate (nil roots means the system roots).
func WithMutualTLS(cert tls.Certificate, roots *x509.CertPool) Option {
	return func(s *settings) {
		s.transport++
		s.tlsConfig = &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{cert},
			RootCAs:      roots,
		}
	}
}

// WithInsecure connects without transport security. It exists for local development (authsvc in dev
// mode listens in plain text) and must be asked for explicitly: with it, M2M access tokens and
// client secrets cross the network in the clear.
func WithInsecure() Option {
	return func(s *settings) {
		s.transport++
		s.insecure = true
	}
}

// WithTimeout sets the deadline given to a unary call whose context has none; the deadline covers
// every retry of the call. Zero or a negative value disables the default (calls then wait as long as
// their context allows). Default [DefaultTimeout].
func WithTimeout(d time.Duration) Option {
	return func(s *settings) { s.timeout = d }
}

// WithM2MCredentials makes the client call as an M2M client: it obtains an access token for
// clientID/clientSecret (optionally narrowed to scopes; none means all of the client's scopes) from
// authsvc's M2MService.IssueToken, caches and refreshes it, and attaches it to every RPC whose access
// rule admits services.
func WithM2MCredentials(clientID, clientSecret string, scopes ...string) Option {
	return func(s *settings) {
		if clientID == "" || clientSecret == "" {
			s.errs = append(s.errs, errors.New("WithM2MCredentials: client ID and secret are required"))
			return
		}
		s.m2m = &m2mCredentials{clientID: clientID, clientSecret: clientSecret, scopes: slices.Clone(scopes)}
	}
}

// WithTracerProvider records a client span per call with tp (default: the global provider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(s *settings) { s.tracerProvider = tp }
}

// WithMeterProvider records the standard RPC client metrics with mp (default: the global provider).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(s *settings) { s.meterProvider = mp }
}

// WithPropagators propagates trace context with p (default: the global propagators).
func WithPropagators(p propagation.TextMapPropagator) Option {
	return func(s *settings) { s.propagators = p }
}

// WithKeepalive replaces the default keepalive ([DefaultKeepaliveTime], [DefaultKeepaliveTimeout]).
// Keep Time at or above the server's enforcement minimum (20 s for authsvc).
func WithKeepalive(p keepalive.ClientParameters) Option {
	return func(s *settings) { s.keepalive = p }
}

// WithClock sets the clock that decides when the cached access token is due for refresh. Tests move
// it; production code leaves the default, time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *settings) {
		if now != nil {
			s.now = now
		}
	}
}

// WithDialOptions appends raw gRPC dial options (for example an extra stats handler or
// interceptor). They are applied after the client's own, so a later option of the same kind wins
// where gRPC lets one replace another.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(s *settings) { s.dialOpts = append(s.dialOpts, opts...) }
}
