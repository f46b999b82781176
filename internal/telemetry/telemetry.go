package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	promexporter "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// ScopeName is the instrumentation scope of authsvc's own tracers and meters.
const ScopeName = "github.com/authsvc/authsvc"

// DefaultServiceName is used when Config.ServiceName is empty and OTEL_SERVICE_NAME is unset.
const DefaultServiceName = "authsvc"

// Config configures [Setup]. The zero value is usable: service "authsvc", level info, logs to stderr,
// exporters from the environment, no globals touched.
type Config struct {
	// ServiceName becomes the service.name resource attribute. OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES override it, as the OpenTelemetry specification requires.
	ServiceName string
	// ServiceVersion becomes service.version (the build's version string).
	ServiceVersion string
	// LogLevel is debug, info, warn or error; empty means info.
	LogLevel string
	// LogOutput receives the JSON log lines; nil means os.Stderr.
	LogOutput io.Writer

	// SetGlobals installs the tracer provider, meter provider, propagator and an OpenTelemetry error
	// handler that logs through Logger as the process-wide otel globals, and Logger as go-redis's
	// process-wide logger ([RedisLogger]). The binary sets it; tests
	// leave it false so parallel tests do not share state.
	SetGlobals bool

	// SpanExporter, when set, receives every sampled span synchronously as it ends, in addition to
	// the exporter chosen by the environment. Meant for tests (tracetest.InMemoryExporter); a
	// synchronous exporter on the request path is too slow for production.
	SpanExporter sdktrace.SpanExporter
	// MetricReaders are added to the meter provider in addition to the Prometheus reader and the
	// environment's OTLP reader (tests pass a sdkmetric.ManualReader).
	MetricReaders []sdkmetric.Reader
	// Sampler overrides OTEL_TRACES_SAMPLER; nil keeps the environment's choice, whose default is
	// parentbased_always_on.
	Sampler sdktrace.Sampler
}

// Telemetry is what [Setup] built. Its fields are safe for concurrent use.
type Telemetry struct {
	// TracerProvider creates tracers; hand it to otelgrpc/otelhttp via their WithTracerProvider.
	TracerProvider *sdktrace.TracerProvider
	// MeterProvider creates meters; hand it to otelgrpc/otelhttp via their WithMeterProvider.
	MeterProvider *sdkmetric.MeterProvider
	// Propagator is W3C trace context plus W3C baggage.
	Propagator propagation.TextMapPropagator
	// Logger writes JSON with trace_id/span_id and redaction; see [NewLogHandler].
	Logger *slog.Logger
	// MetricsHandler serves the Prometheus text (and OpenMetrics, with exemplars, when the scraper
	// asks for it) for the admin port's /metrics. It reads a private registry, never the global one.
	MetricsHandler http.Handler
	// Auth holds authsvc's own instruments, created from MeterProvider.
	Auth *AuthMetrics

	shutdown []func(context.Context) error
}

// Setup builds tracing, metrics and logging from cfg and the standard OTEL_* environment.
//
// Exporters (traces and metrics independently):
//   - OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER: otlp, console or none, as in the contrib
//     autoexport package. When unset, OTLP is used only if an endpoint is configured
//     (OTEL_EXPORTER_OTLP_ENDPOINT or the signal's OTEL_EXPORTER_OTLP_{TRACES,METRICS}_ENDPOINT);
//     otherwise nothing is exported, so a developer laptop does not retry localhost:4318 forever.
//   - OTEL_METRICS_EXPORTER=prometheus is treated as none: Prometheus text is always served by
//     MetricsHandler on the admin port, and a second HTTP server on :9464 would only confuse.
//   - OTEL_EXPORTER_OTLP_PROTOCOL (and the per-signal variants): grpc or http/protobuf (default).
//   - Endpoint, headers, TLS, timeout and compression: the OTLP exporters read OTEL_EXPORTER_OTLP_*
//     themselves; OTEL_METRIC_EXPORT_INTERVAL is read by the periodic reader.
//
// Sampling: OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG are read by the SDK; Setup validates
// them first so a typo fails startup naming the variable instead of silently sampling everything.
// Resource: service.name, service.version, host.name, telemetry.sdk.*, then OTEL_RESOURCE_ATTRIBUTES
// and OTEL_SERVICE_NAME. Exemplars: the SDK's trace_based filter (OTEL_METRICS_EXEMPLAR_FILTER).
//
// On error everything already started is shut down again.
func Setup(ctx context.Context, cfg Config) (_ *Telemetry, err error) {
	level, err := ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	if err := validateSamplerEnv(os.Getenv); err != nil {
		return nil, err
	}
	out := cfg.LogOutput
	if out == nil {
		out = os.Stderr
	}

	t := &Telemetry{
		Logger:     slog.New(NewLogHandler(out, level)),
		Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, t.Shutdown(ctx))
		}
	}()

	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, err
	}

	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if cfg.Sampler != nil {
		tpOpts = append(tpOpts, sdktrace.WithSampler(cfg.Sampler))
	}
	spanExp, err := spanExporterFromEnv(ctx, os.Getenv)
	if err != nil {
		return nil, err
	}
	if spanExp != nil {
		tpOpts = append(tpOpts, sdktrace.WithBatcher(spanExp))
	}
	if cfg.SpanExporter != nil {
		tpOpts = append(tpOpts, sdktrace.WithSyncer(cfg.SpanExporter))
	}
	t.TracerProvider = sdktrace.NewTracerProvider(tpOpts...)
	t.shutdown = append(t.shutdown, t.TracerProvider.Shutdown)

	reg := prometheus.NewRegistry()
	// Process and Go runtime metrics are what an operator checks first (memory, goroutines, FDs);
	// they live on the same private registry so /metrics is one scrape.
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("telemetry: register Go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("telemetry: register process collector: %w", err)
	}
	promReader, err := promexporter.New(
		promexporter.WithRegisterer(reg),
		// Pinned explicitly: the exporter's default depends on a prometheus/common global and is
		// announced to change; dashboards and alerts depend on these names.
		promexporter.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
	}
	t.MetricsHandler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:          reg,
		EnableOpenMetrics: true, // exemplars are only carried by the OpenMetrics format
		ErrorHandling:     promhttp.ContinueOnError,
	})

	mpOpts := []sdkmetric.Option{sdkmetric.WithResource(res), sdkmetric.WithReader(promReader)}
	metricReader, err := metricReaderFromEnv(ctx, os.Getenv)
	if err != nil {
		return nil, errors.Join(err, promReader.Shutdown(ctx))
	}
	if metricReader != nil {
		mpOpts = append(mpOpts, sdkmetric.WithReader(metricReader))
	}
	for _, r := range cfg.MetricReaders {
		mpOpts = append(mpOpts, sdkmetric.WithReader(r))
	}
	t.MeterProvider = sdkmetric.NewMeterProvider(mpOpts...)
	t.shutdown = append(t.shutdown, t.MeterProvider.Shutdown)

	t.Auth, err = NewAuthMetrics(t.MeterProvider.Meter(ScopeName))
	if err != nil {
		return nil, err
	}

	if cfg.SetGlobals {
		otel.SetTracerProvider(t.TracerProvider)
		otel.SetMeterProvider(t.MeterProvider)
		otel.SetTextMapPropagator(t.Propagator)
		logger := t.Logger
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			logger.Warn("opentelemetry error", slog.Any("error", err))
		}))
		redis.SetLogger(RedisLogger{Logger: logger})
	}
	return t, nil
}

// Shutdown flushes and stops exporters: pending spans are sent and a last metric collection is
// pushed. It honours ctx's deadline; call it after the servers have stopped so their final spans
// are included. It is safe to call more than once.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	// Reverse order: metrics (which may observe state) before the tracer provider they were set up after.
	for i := len(t.shutdown) - 1; i >= 0; i-- {
		if err := t.shutdown[i](ctx); err != nil && !errors.Is(err, sdkmetric.ErrReaderShutdown) {
			errs = append(errs, err)
		}
	}
	t.shutdown = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("telemetry: shutdown: %w", err)
	}
	return nil
}

func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	name := cfg.ServiceName
	if name == "" {
		name = DefaultServiceName
	}
	attrs := resource.WithAttributes(semconv.ServiceName(name))
	if cfg.ServiceVersion != "" {
		attrs = resource.WithAttributes(semconv.ServiceName(name), semconv.ServiceVersion(cfg.ServiceVersion))
	}
	// Later options win: the environment overrides the defaults compiled into the binary.
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		attrs,
		resource.WithHost(),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource (check OTEL_RESOURCE_ATTRIBUTES): %w", err)
	}
	return res, nil
}
