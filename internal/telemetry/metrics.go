package telemetry

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric names (OpenTelemetry form) of the instruments defined here. On /metrics the Prometheus
// exporter turns dots into underscores, appends the unit ("_seconds") and "_total" on counters; the
// Prometheus names in the comments are what deploy/grafana and deploy/prometheus query.
//
// Stytch call latency and the JWKS gauges are not here: internal/stytchclient and its verify
// package own them (stytch.client.duration, stytch.jwks.keys, stytch.jwks.refresh.age,
// stytch.jwks.refreshes), next to the code that measures them.
const (
	// MetricSessionVerifications: session/token verification outcomes. Each deciding step counts
	// once: a session JWT that expired counts as local (invalid, expired) and, when it then goes to
	// Stytch, as remote (reason "expired": why it went remote).
	// Prometheus: authsvc_session_verifications_total{kind, path, outcome, reason}.
	MetricSessionVerifications = "authsvc.session.verifications"
	// MetricAdmissionRejections: calls refused by admission control.
	// Prometheus: authsvc_admission_rejections_total{limit}.
	MetricAdmissionRejections = "authsvc.admission.rejections"
	// MetricM2MTokenSource: M2M token-source lookups, hit (cached token reused) or miss (fetched).
	// Prometheus: authsvc_m2m_token_source_lookups_total{result}.
	MetricM2MTokenSource = "authsvc.m2m.token_source.lookups" //nolint:gosec // a metric name, not a credential
)

// Attribute (label) keys of authsvc's own metrics.
const (
	AttrKind    = attribute.Key("kind")
	AttrPath    = attribute.Key("path")
	AttrOutcome = attribute.Key("outcome")
	AttrReason  = attribute.Key("reason")
	AttrLimit   = attribute.Key("limit")
	AttrResult  = attribute.Key("result")
)

// VerifyPath says which path decided a session or token verification.
type VerifyPath string

// Verification paths.
const (
	PathLocal  VerifyPath = "local"  // JWT checked against the cached JWKS, no network
	PathCache  VerifyPath = "cache"  // a token verified before, answered from the verified-token cache
	PathRemote VerifyPath = "remote" // Stytch was asked
)

// Outcome is the result of a verification.
type Outcome string

// Credential kinds of a verification.
const (
	KindSession     = "session"      // a member session (JWT or opaque token)
	KindUserSession = "user_session" // a consumer user session (JWT or opaque token)
	KindM2M         = "m2m"          // an M2M access token
)

// Verification outcomes.
const (
	OutcomeValid   Outcome = "valid"   // credential accepted
	OutcomeInvalid Outcome = "invalid" // credential rejected (expired, bad signature, revoked...)
	OutcomeError   Outcome = "error"   // could not decide (Stytch unavailable, JWKS not loaded)
)

// AuthMetrics holds authsvc's own instruments so every package records under the same names and
// units. A nil *AuthMetrics records nothing, which lets packages run in tests without telemetry.
//
// Labels must stay low-cardinality: limits and reasons from a fixed set (e.g. "ok", "expired",
// "bad_signature", "unknown_kid", "revoked", "stytch_error"), never error strings, IDs, emails or
// tokens.
type AuthMetrics struct {
	sessionVerification metric.Int64Counter
	admissionRejections metric.Int64Counter
	m2mTokenSource      metric.Int64Counter

	// The two token-source label sets, built once: a lookup is on the hot path of IssueToken.
	m2mHit, m2mMiss metric.AddOption

	// verifyOpts caches one label set per (kind, path, outcome, reason): building an attribute set
	// sorts and allocates, and every session check records one. The values come from fixed sets, so
	// the cache stays small; maxVerifyLabelSets bounds it should a caller ever pass free text.
	verifyOpts sync.Map // verifyLabels -> metric.AddOption
	verifyN    atomic.Int32
}

type verifyLabels struct {
	kind    string
	path    VerifyPath
	outcome Outcome
	reason  string
}

const maxVerifyLabelSets = 1024

// NewAuthMetrics creates the instruments on meter.
func NewAuthMetrics(meter metric.Meter) (*AuthMetrics, error) {
	m := &AuthMetrics{}
	var err error
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
	m.m2mHit = metric.WithAttributeSet(attribute.NewSet(AttrResult.String("hit")))
	m.m2mMiss = metric.WithAttributeSet(attribute.NewSet(AttrResult.String("miss")))
	return m, nil
}

// SessionVerified counts one member session verification; reason is a short fixed word.
func (m *AuthMetrics) SessionVerified(ctx context.Context, path VerifyPath, outcome Outcome, reason string) {
	m.CredentialVerified(ctx, KindSession, path, outcome, reason)
}

// CredentialVerified counts one verification of a credential of kind ([KindSession],
// [KindUserSession], [KindM2M]);
// reason is a short fixed word (verify.Reason's labels, or why a check went remote).
func (m *AuthMetrics) CredentialVerified(ctx context.Context, kind string, path VerifyPath, outcome Outcome, reason string) {
	if m == nil {
		return
	}
	k := verifyLabels{kind, path, outcome, reason}
	if o, ok := m.verifyOpts.Load(k); ok {
		m.sessionVerification.Add(ctx, 1, o.(metric.AddOption))
		return
	}
	o := metric.WithAttributeSet(attribute.NewSet(AttrKind.String(kind),
		AttrPath.String(string(path)), AttrOutcome.String(string(outcome)), AttrReason.String(reason)))
	if m.verifyN.Load() < maxVerifyLabelSets {
		m.verifyN.Add(1)
		m.verifyOpts.Store(k, o)
	}
	m.sessionVerification.Add(ctx, 1, o)
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
	if hit {
		m.m2mTokenSource.Add(ctx, 1, m.m2mHit)
		return
	}
	m.m2mTokenSource.Add(ctx, 1, m.m2mMiss)
}
