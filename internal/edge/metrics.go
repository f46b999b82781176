package edge

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric names (OpenTelemetry form). Prometheus: authsvc_edge_decisions_total{rule, decision,
// reason}, authsvc_edge_decision_duration_seconds{rule, decision}, authsvc_edge_rules_reloads_total{result}.
const (
	MetricDecisions        = "authsvc.edge.decisions"
	MetricDecisionDuration = "authsvc.edge.decision.duration"
	MetricReloads          = "authsvc.edge.rules.reloads"
)

// Attribute keys of the edge's metrics.
const (
	AttrRule     = attribute.Key("rule")
	AttrDecision = attribute.Key("decision")
	AttrReason   = attribute.Key("reason")
	AttrResult   = attribute.Key("result")
)

// durationBuckets resolve the sub-millisecond decisions of local checks (the goal is p99 < 2 ms)
// and the tens of milliseconds of a remote one.
var durationBuckets = []float64{
	0.00005, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
}

// Metrics are the edge's instruments. A nil *Metrics records nothing.
type Metrics struct {
	decisions metric.Int64Counter
	duration  metric.Float64Histogram
	reloads   metric.Int64Counter
	// opts caches one label set per (rule, decision, reason): the values come from the rules file
	// and fixed words, so the set stays small.
	opts sync.Map // labels -> [2]metric.MeasurementOption (counter, histogram)
}

type labels struct{ rule, decision, reason string }

// NewMetrics creates the instruments on meter.
func NewMetrics(meter metric.Meter) (*Metrics, error) {
	m := &Metrics{}
	var err error
	if m.decisions, err = meter.Int64Counter(MetricDecisions, metric.WithUnit("{decision}"),
		metric.WithDescription("Edge authorization decisions (Envoy Check and forward auth) by rule, decision (allow, deny) and reason.")); err != nil {
		return nil, fmt.Errorf("edge: %s: %w", MetricDecisions, err)
	}
	if m.duration, err = meter.Float64Histogram(MetricDecisionDuration, metric.WithUnit("s"),
		metric.WithDescription("Time to decide one edge authorization request, by rule and decision."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return nil, fmt.Errorf("edge: %s: %w", MetricDecisionDuration, err)
	}
	if m.reloads, err = meter.Int64Counter(MetricReloads, metric.WithUnit("{reload}"),
		metric.WithDescription("Reloads of the edge rules file: ok, or error (the previous rules stay in force).")); err != nil {
		return nil, fmt.Errorf("edge: %s: %w", MetricReloads, err)
	}
	return m, nil
}

func (m *Metrics) record(ctx context.Context, d Decision, took time.Duration) {
	if m == nil {
		return
	}
	l := labels{rule: d.Rule, decision: "deny", reason: d.Reason}
	if d.Allowed {
		l.decision = "allow"
	}
	if l.rule == "" {
		l.rule = "none"
	}
	o, ok := m.opts.Load(l)
	if !ok {
		o, _ = m.opts.LoadOrStore(l, [2]metric.MeasurementOption{
			metric.WithAttributeSet(attribute.NewSet(AttrRule.String(l.rule), AttrDecision.String(l.decision), AttrReason.String(l.reason))),
			metric.WithAttributeSet(attribute.NewSet(AttrRule.String(l.rule), AttrDecision.String(l.decision))),
		})
	}
	opts := o.([2]metric.MeasurementOption) //nolint:forcetypeassert // only this function stores
	m.decisions.Add(ctx, 1, opts[0])
	m.duration.Record(ctx, took.Seconds(), opts[1])
}

func (m *Metrics) reloaded(ctx context.Context, ok bool) {
	if m == nil {
		return
	}
	result := "ok"
	if !ok {
		result = "error"
	}
	m.reloads.Add(ctx, 1, metric.WithAttributes(AttrResult.String(result)))
}
