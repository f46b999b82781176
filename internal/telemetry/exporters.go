package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ErrInvalidEnv is wrapped by every error about a malformed OTEL_* variable; the message names the
// variable.
var ErrInvalidEnv = errors.New("invalid OpenTelemetry environment")

// exporterWanted decides whether a signal exports at all. The specification's default exporter is
// otlp even with no endpoint, which makes every laptop and test run retry localhost:4318; authsvc
// exports only when the operator asked for it by naming an exporter or an endpoint.
func exporterWanted(getenv func(string) string, exporterVar, signalEndpointVar string) (string, bool) {
	name := strings.TrimSpace(getenv(exporterVar))
	switch name {
	case "none":
		return name, false
	case "":
		if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv(signalEndpointVar) == "" {
			return "", false
		}
		return "otlp", true
	default:
		return name, true
	}
}

// spanExporterFromEnv returns the environment's span exporter, or nil when none is wanted.
// The exporter itself is built by autoexport so OTEL_EXPORTER_OTLP_* keep their standard meaning.
func spanExporterFromEnv(ctx context.Context, getenv func(string) string) (sdktrace.SpanExporter, error) {
	name, ok := exporterWanted(getenv, "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if !ok {
		return nil, nil
	}
	// With OTEL_TRACES_EXPORTER unset (and an endpoint set) autoexport defaults to otlp.
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w: OTEL_TRACES_EXPORTER=%q / OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL: %w",
			ErrInvalidEnv, name, err)
	}
	return exp, nil
}

// metricReaderFromEnv returns the environment's push reader, or nil when none is wanted.
func metricReaderFromEnv(ctx context.Context, getenv func(string) string) (sdkmetric.Reader, error) {
	name, ok := exporterWanted(getenv, "OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
	if !ok || name == "prometheus" {
		// Prometheus text is always served by Telemetry.MetricsHandler on the admin port.
		return nil, nil
	}
	r, err := autoexport.NewMetricReader(ctx)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w: OTEL_METRICS_EXPORTER=%q / OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL: %w",
			ErrInvalidEnv, name, err)
	}
	return r, nil
}

// validateSamplerEnv checks OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG the way the SDK will
// read them. The SDK only reports a bad value to the otel error handler and falls back to sampling
// everything; authsvc fails at startup instead, naming the variable. The names are the
// specification's; keep in step with go.opentelemetry.io/otel/sdk/trace's sampler_env.go.
func validateSamplerEnv(getenv func(string) string) error {
	sampler := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER")))
	arg := strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER_ARG"))
	switch sampler {
	case "", "always_on", "always_off", "parentbased_always_on", "parentbased_always_off":
		return nil
	case "traceidratio", "parentbased_traceidratio":
		if arg == "" {
			return nil
		}
		v, err := strconv.ParseFloat(arg, 64)
		if err != nil || v < 0 || v > 1 {
			return fmt.Errorf("telemetry: %w: OTEL_TRACES_SAMPLER_ARG=%q is not a ratio between 0 and 1",
				ErrInvalidEnv, arg)
		}
		return nil
	default:
		return fmt.Errorf("telemetry: %w: OTEL_TRACES_SAMPLER=%q is not one of always_on, always_off, "+
			"traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio",
			ErrInvalidEnv, sampler)
	}
}
