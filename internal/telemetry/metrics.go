package telemetry

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric names (OpenTelemetry form). On /metrics the Prometheus exporter turns dots into
// underscores, appends the unit ("_seconds") and "_total" on counters; the Prometheus names are in
// the comments and are what deploy/grafana and deploy/prometheus query.
const (
	// MetricStytchDuration: Stytch API call latency, seconds, by endpoint template and HTTP status.
	// Prometheus: authsvc_stytch_request_duration_seconds{stytch_endpoint, http_response_status_code}.
	MetricStytchDuration = "authsvc.stytch.request.duration"
	// MetricSessionVerifications: session/token verification outcomes.
	// Prometheus: authsvc_session_verifications_total{path, outcome, reason}.
	MetricSessionVerifications = "authsvc.session.verifications"
	// MetricJWKSKeys: keys in the cached JWKS. Prometheus: authsvc_jwks_keys.
	MetricJWKSKeys = "authsvc.jwks.keys"
	// MetricJWKSAge: seconds since the last successful JWKS refresh; absent until the first one.
	// Prometheus: authsvc_jwks_last_refresh_age_seconds.
	MetricJWKSAge = "authsvc.jwks.last_refresh.age"
	// MetricAdmissionRejections: calls refused by admission control.
	// Prometheus: authsvc_admission_rejections_total{limit}.
	MetricAdmissionRejections = "authsvc.admission.rejections"
	// MetricM2MTokenSource: M2M token-source lookups, hit (cached token reused) or miss (fetched).
	// Prometheus: authsvc_m2m_token_source_lookups_total{result}.
	MetricM2MTokenSource = "authsvc.m2m.token_source.lookups"
)

// Attribute (label) keys of authsvc's own metrics.
const (
	AttrStytchEndpoint = attribute.Key("stytch.endpoint")
	AttrHTTPStatusCode = attribute.Key("http.response.status_code")
	AttrPath           = attribute.Key("path")
	AttrOutcome        = attribute.Key("outcome")
	AttrReason         = attribute.Key("reason")
	AttrLimit          = attribute.Key("limit")
	AttrResult         = attribute.Key("result")
)

// VerifyPath says which path decided a session or token verification.
type VerifyPath string

// Verification paths.
const (
	PathLocal  VerifyPath = "local"  // JWT checked against the cached JWKS, no network
	PathCache  VerifyPath = "cache"  // a recent remote answer reused
	PathRemote VerifyPath = "remote" // Stytch was asked
)

// Outcome is the result of a verification.
type Outcome string

// Verification outcomes.
const (
	OutcomeValid   Outcome = "valid"   // credential accepted
	OutcomeInvalid Outcome = "invalid" // credential rejected (expired, bad signature, revoked...)
	OutcomeError   Outcome = "error"   // could not decide (Stytch unavailable, JWKS not loaded)
)

// JWKSState is what the JWKS cache reports at each collection.
type JWKSState struct {
	// Keys is the number of keys currently usable.
	Keys int
	// LastRefresh is the time of the last successful fetch; zero if none succeeded yet.
	LastRefresh time.Time
}

// latencyBuckets match otelgrpc's server histogram so Stytch time and RPC time can be compared
// bucket by bucket on one dashboard.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// AuthMetrics holds authsvc's own instruments so every package records under the same names and
// units. A nil *AuthMetrics records nothing, which lets packages run in tests without telemetry.
//
// Labels must stay low-cardinality: endpoint templates, never concrete URLs; reasons from a fixed
// set (e.g. "ok", "expired", "bad_signature", "unknown_kid", "revoked", "stytch_error"), never
// error strings; never IDs, emails or tokens.
type AuthMetrics struct {
	meter               metric.Meter
	stytchDuration      metric.Float64Histogram
	sessionVerification metric.Int64Counter
	admissionRejections metric.Int64Counter
	m2mTokenSource      metric.Int64Counter
	jwksKeys            metric.Int64ObservableGauge
	jwksAge             metric.Float64ObservableGauge
}

// NewAuthMetrics creates the instruments on meter.
func NewAuthMetrics(meter metric.Meter) (*AuthMetrics, error) {
	m := &AuthMetrics{meter: meter}
	var err error
	if m.stytchDuration, err = meter.Float64Histogram(MetricStytchDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Duration of Stytch API calls by endpoint template and HTTP status (0: no response)."),
		metric.WithExplicitBucketBoundaries(latencyBuckets...),
	); err != nil {
		return nil, fmt.Errorf("telemetry: %s: %w", MetricStytchDuration, err)
	}
	if m.sessionVerification, err = meter.Int64Counter(MetricSessionVerifications,
		metric.WithUnit("{verification}"),
		metric.WithDescription("Session and token verifications by deciding path (local, cache, remote), outcome and reason."),
	); err != nil {
		return nil, fmt.Errorf("telemetry: %s: %w", MetricSessionVerifications, err)
	}
	if m.admissionRejections, err = meter.Int64Counter(MetricAdmissionRejections,
		metric.WithUnit("{rejection}"),
		metric.WithDescription("Calls refused by admission control, by the limit that refused them."),
	); err != nil {
		return nil, fmt.Errorf("telemetry: %s: %w", MetricAdmissionRejections, err)
	}
	if m.m2mTokenSource, err = meter.Int64Counter(MetricM2MTokenSource,
		metric.WithUnit("{lookup}"),
		metric.WithDescription("M2M token-source lookups: hit when a cached access token was reused, miss when one was fetched."),
	); err != nil {
		return nil, fmt.Errorf("telemetry: %s: %w", MetricM2MTokenSource, err)
	}
	if m.jwksKeys, err = meter.Int64ObservableGauge(MetricJWKSKeys,
		metric.WithUnit("{key}"),
		metric.WithDescription("Keys in the cached Stytch JWKS."),
	); err != nil {
		return nil, fmt.Errorf("telemetry: %s: %w", MetricJWKSKeys, err)
	}
	if m.jwksAge, err = meter.Float64ObservableGauge(MetricJWKSAge,
		metric.WithUnit("s"),
		metric.WithDescription("Seconds since the last successful JWKS refresh; absent before the first."),
	); err != nil {
		return nil, fmt.Errorf("telemetry: %s: %w", MetricJWKSAge, err)
	}
	return m, nil
}

// StytchRequest records one Stytch API call. endpoint is the template the span is named after
// ("POST /v1/b2b/sessions/authenticate"), statusCode the HTTP status or 0 when no response arrived.
// Record it with the call's context so the exemplar links to the Stytch span.
func (m *AuthMetrics) StytchRequest(ctx context.Context, endpoint string, statusCode int, d time.Duration) {
	if m == nil {
		return
	}
	m.stytchDuration.Record(ctx, d.Seconds(), metric.WithAttributes(
		AttrStytchEndpoint.String(endpoint), AttrHTTPStatusCode.Int(statusCode)))
}

// SessionVerified counts one session or M2M token verification; reason is a short fixed word.
func (m *AuthMetrics) SessionVerified(ctx context.Context, path VerifyPath, outcome Outcome, reason string) {
	if m == nil {
		return
	}
	m.sessionVerification.Add(ctx, 1, metric.WithAttributes(
		AttrPath.String(string(path)), AttrOutcome.String(string(outcome)), AttrReason.String(reason)))
}

// AdmissionRejected counts one call refused by the named limit (e.g. "global", "per_caller",
// "per_email").
func (m *AuthMetrics) AdmissionRejected(ctx context.Context, limit string) {
	if m == nil {
		return
	}
	m.admissionRejections.Add(ctx, 1, metric.WithAttributes(AttrLimit.String(limit)))
}

// M2MTokenLookup counts one M2M token-source lookup: hit when a cached token was reused.
func (m *AuthMetrics) M2MTokenLookup(ctx context.Context, hit bool) {
	if m == nil {
		return
	}
	result := "miss"
	if hit {
		result = "hit"
	}
	m.m2mTokenSource.Add(ctx, 1, metric.WithAttributes(AttrResult.String(result)))
}

// ObserveJWKS registers state as the source of the JWKS gauges; the JWKS cache calls it once when it
// starts and calls the returned unregister when it stops. state runs at every collection (each
// scrape and each OTLP export), so it must be cheap and safe for concurrent use. Register one source
// per process: the gauges carry no labels to tell two apart.
func (m *AuthMetrics) ObserveJWKS(state func() JWKSState) (unregister func() error, err error) {
	if m == nil {
		return func() error { return nil }, nil
	}
	reg, err := m.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := state()
		o.ObserveInt64(m.jwksKeys, int64(s.Keys))
		if !s.LastRefresh.IsZero() {
			o.ObserveFloat64(m.jwksAge, time.Since(s.LastRefresh).Seconds())
		}
		return nil
	}, m.jwksKeys, m.jwksAge)
	if err != nil {
		return nil, fmt.Errorf("telemetry: register JWKS callback: %w", err)
	}
	return reg.Unregister, nil
}
