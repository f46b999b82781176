// Package telemetry sets up authsvc's OpenTelemetry traces and metrics, its Prometheus /metrics
// handler and its slog JSON logger, and defines the service-specific instruments that other packages
// share.
//
// One call to [Setup] returns everything the binary needs and one [Telemetry.Shutdown] that flushes
// it. Exporters follow the standard OTEL_* environment variables (see [Setup]); with none of them set
// nothing leaves the process except what Prometheus scrapes from the admin port.
//
// Logs are JSON with trace_id and span_id on every record emitted inside a span, and a ReplaceAttr
// ([RedactAttr]) masks attributes whose key names a secret, token, code, password or email as a second
// line of defence: callers must still not log such values.
//
// Conf (conf.go) is the package's configuration section: AUTHSVC_LOG_LEVEL, checked by the parser
// Setup uses.
package telemetry
