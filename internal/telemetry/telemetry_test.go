package telemetry_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/authsvc/authsvc/internal/telemetry"
)

// otelEnv lists every variable Setup or the SDK reads; clearEnv blanks them so a developer's shell
// cannot change a test's outcome. Setup treats empty as unset, as the SDK does.
var otelEnv = []string{
	"OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER",
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
	"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
	"OTEL_METRICS_EXEMPLAR_FILTER", "OTEL_SEMCONV_STABILITY_OPT_IN",
}

func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range otelEnv {
		t.Setenv(k, "")
	}
}

type harness struct {
	tel    *telemetry.Telemetry
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	logs   *bytes.Buffer
}

// setup runs Setup with in-memory sinks; the environment must be prepared before.
func setup(t *testing.T, mutate func(*telemetry.Config)) *harness {
	t.Helper()
	h := &harness{
		spans:  tracetest.NewInMemoryExporter(),
		reader: sdkmetric.NewManualReader(),
		logs:   &bytes.Buffer{},
	}
	cfg := telemetry.Config{
		ServiceName:    "authsvc-test",
		ServiceVersion: "1.2.3",
		LogLevel:       "debug",
		LogOutput:      h.logs,
		SpanExporter:   h.spans,
		MetricReaders:  []sdkmetric.Reader{h.reader},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	tel, err := telemetry.Setup(t.Context(), cfg)
	require.NoError(t, err)
	h.tel = tel
	t.Cleanup(func() {
		// t.Context is already cancelled during Cleanup.
		require.NoError(t, tel.Shutdown(context.Background()))
	})
	return h
}

func resourceAttrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range s.Resource().Attributes() {
		m[kv.Key] = kv.Value.String()
	}
	return m
}

func TestSetupExportsSpansWithResource(t *testing.T) {
	clearEnv(t)
	h := setup(t, nil)

	_, span := h.tel.TracerProvider.Tracer("test").Start(t.Context(), "op")
	span.End()

	got := h.spans.GetSpans().Snapshots()
	require.Len(t, got, 1)
	assert.Equal(t, "op", got[0].Name())
	attrs := resourceAttrs(got[0])
	assert.Equal(t, "authsvc-test", attrs["service.name"])
	assert.Equal(t, "1.2.3", attrs["service.version"])
	assert.NotEmpty(t, attrs["host.name"])
}

func TestResourceEnvironmentOverridesConfig(t *testing.T) {
	clearEnv(t)
	t.Setenv("OTEL_SERVICE_NAME", "authsvc-canary")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=staging,service.version=9.9.9")
	h := setup(t, nil)

	_, span := h.tel.TracerProvider.Tracer("test").Start(t.Context(), "op")
	span.End()

	got := h.spans.GetSpans().Snapshots()
	require.Len(t, got, 1)
	attrs := resourceAttrs(got[0])
	assert.Equal(t, "authsvc-canary", attrs["service.name"])
	assert.Equal(t, "9.9.9", attrs["service.version"])
	assert.Equal(t, "staging", attrs["deployment.environment.name"])
}

func TestSamplerFromEnvironmentIsParentBased(t *testing.T) {
	clearEnv(t)
	t.Setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
	t.Setenv("OTEL_TRACES_SAMPLER_ARG", "0")
	h := setup(t, nil)
	tracer := h.tel.TracerProvider.Tracer("test")

	_, root := tracer.Start(t.Context(), "root")
	root.End()
	assert.False(t, root.SpanContext().IsSampled(), "ratio 0 must not sample a new trace")

	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1},
		SpanID:     trace.SpanID{2},
		TraceFlags: trace.FlagsSampled,
		Remote:     true,
	})
	_, child := tracer.Start(trace.ContextWithRemoteSpanContext(t.Context(), parent), "child")
	child.End()

	got := h.spans.GetSpans().Snapshots()
	require.Len(t, got, 1, "only the child of a sampled parent is exported")
	assert.Equal(t, "child", got[0].Name())
}

func TestSetupRejectsBadConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		level   string
		wantErr error
		wantMsg string
	}{
		{
			name:    "unknown sampler",
			env:     map[string]string{"OTEL_TRACES_SAMPLER": "sometimes"},
			wantErr: telemetry.ErrInvalidEnv,
			wantMsg: "OTEL_TRACES_SAMPLER",
		},
		{
			name:    "ratio above one",
			env:     map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
			wantErr: telemetry.ErrInvalidEnv,
			wantMsg: "OTEL_TRACES_SAMPLER_ARG",
		},
		{
			name:    "unknown traces exporter",
			env:     map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"},
			wantErr: telemetry.ErrInvalidEnv,
			wantMsg: "OTEL_TRACES_EXPORTER",
		},
		{
			name: "unknown OTLP protocol",
			env: map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
				"OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon",
			},
			wantErr: telemetry.ErrInvalidEnv,
			wantMsg: "OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL",
		},
		{
			name:    "unknown metrics exporter",
			env:     map[string]string{"OTEL_METRICS_EXPORTER": "statsd"},
			wantErr: telemetry.ErrInvalidEnv,
			wantMsg: "OTEL_METRICS_EXPORTER",
		},
		{
			name:    "log level",
			level:   "loud",
			wantErr: telemetry.ErrInvalidLogLevel,
			wantMsg: `"loud"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			tel, err := telemetry.Setup(t.Context(), telemetry.Config{LogLevel: tc.level})
			require.ErrorIs(t, err, tc.wantErr)
			assert.Nil(t, tel)
			assert.Contains(t, err.Error(), tc.wantMsg)
		})
	}
}

func TestNoExporterWithoutEnvironment(t *testing.T) {
	clearEnv(t)
	// Without an injected exporter and without OTEL_* a span has nowhere to go; the only observable
	// difference from an OTLP exporter is that Shutdown does not dial anything, so it returns at once
	// even with an already-expired context (an OTLP exporter would report the deadline).
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{LogOutput: &bytes.Buffer{}})
	require.NoError(t, err)
	_, span := tel.TracerProvider.Tracer("test").Start(t.Context(), "op")
	span.End()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, tel.Shutdown(ctx))
}

func TestShutdownTwice(t *testing.T) {
	clearEnv(t)
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{LogOutput: &bytes.Buffer{}})
	require.NoError(t, err)
	require.NoError(t, tel.Shutdown(context.Background()))
	require.NoError(t, tel.Shutdown(context.Background()))
}

// scrape serves /metrics in the plain Prometheus text format and parses it.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(rec.Body)
	require.NoError(t, err)
	return fams
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// find returns the series of family name whose labels include want.
func find(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	fam, ok := fams[name]
	require.Truef(t, ok, "metric family %s missing", name)
	for _, m := range fam.GetMetric() {
		got := labelsOf(m)
		match := true
		for k, v := range want {
			if got[k] != v {
				match = false
				break
			}
		}
		if match {
			return m
		}
	}
	require.Failf(t, "series missing", "%s%v not among %v", name, want, fam.GetMetric())
	return nil
}

func TestMetricsHandlerServesAuthMetrics(t *testing.T) {
	clearEnv(t)
	h := setup(t, nil)
	ctx := t.Context()
	m := h.tel.Auth

	m.SessionVerified(ctx, telemetry.PathLocal, telemetry.OutcomeValid, "ok")
	m.SessionVerified(ctx, telemetry.PathLocal, telemetry.OutcomeValid, "ok")
	m.SessionVerified(ctx, telemetry.PathRemote, telemetry.OutcomeInvalid, "revoked")
	m.AdmissionRejected(ctx, "per_caller")
	m.M2MTokenLookup(ctx, true)
	m.M2MTokenLookup(ctx, true)
	m.M2MTokenLookup(ctx, false)

	fams := scrape(t, h.tel.MetricsHandler)

	local := find(t, fams, "authsvc_session_verifications_total",
		map[string]string{"path": "local", "outcome": "valid", "reason": "ok"})
	assert.InDelta(t, 2, local.GetCounter().GetValue(), 0)
	remote := find(t, fams, "authsvc_session_verifications_total",
		map[string]string{"path": "remote", "outcome": "invalid", "reason": "revoked"})
	assert.InDelta(t, 1, remote.GetCounter().GetValue(), 0)

	rejected := find(t, fams, "authsvc_admission_rejections_total", map[string]string{"limit": "per_caller"})
	assert.InDelta(t, 1, rejected.GetCounter().GetValue(), 0)

	hits := find(t, fams, "authsvc_m2m_token_source_lookups_total", map[string]string{"result": "hit"})
	assert.InDelta(t, 2, hits.GetCounter().GetValue(), 0)
	misses := find(t, fams, "authsvc_m2m_token_source_lookups_total", map[string]string{"result": "miss"})
	assert.InDelta(t, 1, misses.GetCounter().GetValue(), 0)

	// The Go and process collectors share the private registry.
	assert.Contains(t, fams, "go_goroutines")
}

// TestStytchMetricNamesOnPrometheus pins how the instruments internal/stytchclient defines (same
// names, units and attribute keys, recreated here so this package does not depend on it) appear on
// /metrics, since the dashboard and alerts query those Prometheus names.
func TestStytchMetricNamesOnPrometheus(t *testing.T) {
	clearEnv(t)
	h := setup(t, nil)
	ctx := t.Context()
	meter := h.tel.MeterProvider.Meter("stytchclient-shape")

	dur, err := meter.Float64Histogram("stytch.client.duration", metric.WithUnit("s"))
	require.NoError(t, err)
	dur.Record(ctx, 0.03, metric.WithAttributes(
		attribute.String("stytch.endpoint", "POST /v1/b2b/sessions/authenticate"),
		attribute.Int("http.response.status_code", 200)))
	dur.Record(ctx, 1, metric.WithAttributes(
		attribute.String("stytch.endpoint", "POST /v1/b2b/sessions/authenticate"),
		attribute.String("error.type", "timeout")))

	keys, err := meter.Int64ObservableGauge("stytch.jwks.keys")
	require.NoError(t, err)
	age, err := meter.Float64ObservableGauge("stytch.jwks.refresh.age", metric.WithUnit("s"))
	require.NoError(t, err)
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(keys, 3, metric.WithAttributes(attribute.String("jwks", "b2b")))
		o.ObserveFloat64(age, 42, metric.WithAttributes(attribute.String("jwks", "b2b")))
		return nil
	}, keys, age)
	require.NoError(t, err)
	defer func() { require.NoError(t, reg.Unregister()) }()

	fams := scrape(t, h.tel.MetricsHandler)
	assert.Equal(t, dto.MetricType_HISTOGRAM, fams["stytch_client_duration_seconds"].GetType())
	ok := find(t, fams, "stytch_client_duration_seconds", map[string]string{
		"stytch_endpoint": "POST /v1/b2b/sessions/authenticate", "http_response_status_code": "200",
	})
	assert.Equal(t, uint64(1), ok.GetHistogram().GetSampleCount())
	find(t, fams, "stytch_client_duration_seconds", map[string]string{"error_type": "timeout"})
	gotKeys := find(t, fams, "stytch_jwks_keys", map[string]string{"jwks": "b2b"})
	assert.InDelta(t, 3, gotKeys.GetGauge().GetValue(), 0)
	gotAge := find(t, fams, "stytch_jwks_refresh_age_seconds", map[string]string{"jwks": "b2b"})
	assert.InDelta(t, 42, gotAge.GetGauge().GetValue(), 0)
}

func TestNilAuthMetricsRecordNothing(t *testing.T) {
	var m *telemetry.AuthMetrics
	ctx := t.Context()
	// Must not panic: packages run without telemetry in their own unit tests.
	m.SessionVerified(ctx, telemetry.PathCache, telemetry.OutcomeError, "stytch_error")
	m.AdmissionRejected(ctx, "global")
	m.M2MTokenLookup(ctx, true)
}

func TestManualReaderSeesAuthMetrics(t *testing.T) {
	clearEnv(t)
	h := setup(t, nil)
	h.tel.Auth.AdmissionRejected(t.Context(), "global")

	var rm metricdata.ResourceMetrics
	require.NoError(t, h.reader.Collect(t.Context(), &rm))
	var names []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			names = append(names, m.Name)
		}
	}
	assert.Contains(t, names, telemetry.MetricAdmissionRejections)
}

func TestExemplarsCarryTraceID(t *testing.T) {
	clearEnv(t)
	h := setup(t, nil)
	hist, err := h.tel.MeterProvider.Meter("test").Float64Histogram("test.latency", metric.WithUnit("s"))
	require.NoError(t, err)

	ctx, span := h.tel.TracerProvider.Tracer("test").Start(t.Context(), "call")
	hist.Record(ctx, 0.02)
	span.End()

	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8")
	h.tel.MetricsHandler.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)

	var bucketLine string
	for line := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(line, "test_latency_seconds_bucket") && strings.Contains(line, " # {") {
			bucketLine = line
			break
		}
	}
	require.NotEmpty(t, bucketLine, "no bucket with an exemplar in:\n%s", rec.Body.String())
	assert.Contains(t, bucketLine, `trace_id="`+span.SpanContext().TraceID().String()+`"`)
	assert.Contains(t, bucketLine, `span_id="`+span.SpanContext().SpanID().String()+`"`)
}

// TestInstrumentationMetricNames pins the Prometheus names and labels that otelgrpc and otelhttp
// produce through this exporter, because deploy/grafana and deploy/prometheus query them.
func TestInstrumentationMetricNames(t *testing.T) {
	clearEnv(t)
	h := setup(t, nil)
	tel := h.tel

	lis, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	// The server records its call-duration sample after the status reaches the client, so the
	// test stops the server and waits for its handlers (WaitForHandlers) before it scrapes.
	srv := grpc.NewServer(grpc.WaitForHandlers(true), grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(tel.TracerProvider),
		otelgrpc.WithMeterProvider(tel.MeterProvider),
		otelgrpc.WithPropagators(tel.Propagator),
	)))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			srv.Stop()
			require.NoError(t, <-served)
		}
	}
	t.Cleanup(stop)

	conn, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(tel.TracerProvider),
			otelgrpc.WithMeterProvider(tel.MeterProvider),
			otelgrpc.WithPropagators(tel.Propagator),
		)))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, conn.Close()) })
	_, err = healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	_, err = healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{Service: "nope"})
	require.Error(t, err)

	web := otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}), "gateway", otelhttp.WithTracerProvider(tel.TracerProvider), otelhttp.WithMeterProvider(tel.MeterProvider))
	web.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/v1/x", nil))

	stop()
	fams := scrape(t, tel.MetricsHandler)
	ok := find(t, fams, "rpc_server_call_duration_seconds", map[string]string{
		"rpc_method":               "grpc.health.v1.Health/Check",
		"rpc_response_status_code": "OK",
		"rpc_system_name":          "grpc",
	})
	assert.Equal(t, uint64(1), ok.GetHistogram().GetSampleCount())
	notFound := find(t, fams, "rpc_server_call_duration_seconds", map[string]string{
		"rpc_method":               "grpc.health.v1.Health/Check",
		"rpc_response_status_code": "NOT_FOUND",
	})
	assert.Equal(t, uint64(1), notFound.GetHistogram().GetSampleCount())
	find(t, fams, "rpc_client_call_duration_seconds", map[string]string{"rpc_method": "grpc.health.v1.Health/Check"})
	find(t, fams, "http_server_request_duration_seconds", map[string]string{
		"http_request_method":       "POST",
		"http_response_status_code": "418",
	})
}
