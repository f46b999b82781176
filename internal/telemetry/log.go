package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// Log attribute keys added to every record emitted inside a span.
const (
	LogKeyTraceID = "trace_id"
	LogKeySpanID  = "span_id"
)

// ErrInvalidLogLevel is wrapped by [ParseLevel]'s error.
var ErrInvalidLogLevel = errors.New("invalid log level")

// ParseLevel maps debug, info, warn (or warning) and error, in any case, to a slog level; empty
// means info. slog.Level's own UnmarshalText also accepts forms like "info+2", which operators
// should not need and which would make the accepted set hard to document.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	default:
		return 0, fmt.Errorf("telemetry: %w %q: want debug, info, warn or error", ErrInvalidLogLevel, s)
	}
}

// NewLogHandler returns authsvc's log handler: slog JSON to w at level, with [RedactAttr] applied to
// every attribute, durations written with their unit, and trace_id/span_id added from the record's
// context when it carries a valid span.
func NewLogHandler(w io.Writer, level slog.Leveler) slog.Handler {
	root := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: (&redactor{}).replace})
	return &traceHandler{root: root, current: root}
}

// traceHandler adds the span's IDs to each record. slog qualifies attributes added in Handle by
// every group opened with WithGroup, so after a WithGroup the IDs would land inside the group and log
// queries on trace_id would miss them. To keep them top level the handler remembers the chain of
// WithAttrs/WithGroup calls and, only for records that carry a span and only when a group is open,
// rebuilds the chain on top of a root that already holds the IDs.
type traceHandler struct {
	root    slog.Handler // the JSON handler with no attrs or groups applied
	current slog.Handler // root with ops applied
	ops     []func(slog.Handler) slog.Handler
	grouped bool
}

func (h *traceHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.current.Enabled(ctx, level)
}

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return h.current.Handle(ctx, r) //nolint:wrapcheck // a handler passes its delegate's error through
	}
	ids := []slog.Attr{
		slog.String(LogKeyTraceID, sc.TraceID().String()),
		slog.String(LogKeySpanID, sc.SpanID().String()),
	}
	if !h.grouped {
		r = r.Clone()
		r.AddAttrs(ids...)
		return h.current.Handle(ctx, r) //nolint:wrapcheck // as above
	}
	hh := h.root.WithAttrs(ids)
	for _, op := range h.ops {
		hh = op(hh)
	}
	return hh.Handle(ctx, r) //nolint:wrapcheck // as above
}

func (h *traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.with(func(next slog.Handler) slog.Handler { return next.WithAttrs(attrs) }, false)
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(func(next slog.Handler) slog.Handler { return next.WithGroup(name) }, true)
}

func (h *traceHandler) with(op func(slog.Handler) slog.Handler, group bool) *traceHandler {
	ops := make([]func(slog.Handler) slog.Handler, len(h.ops), len(h.ops)+1)
	copy(ops, h.ops)
	return &traceHandler{
		root:    h.root,
		current: op(h.current),
		ops:     append(ops, op),
		grouped: h.grouped || group,
	}
}

// durationWithUnit writes a time.Duration as Go's duration text ("1.5s", "20ms") instead of slog's
// JSON default, a bare integer of nanoseconds that a reader takes for seconds or milliseconds.
func durationWithUnit(a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// RedisLogger writes go-redis's own log lines (a failed dial, a pool problem), which it otherwise
// prints to stderr as plain text, as WARN records of logger with component=redis. [Setup] installs
// it with redis.SetLogger when Config.SetGlobals is set: go-redis has one logger per process.
type RedisLogger struct{ Logger *slog.Logger }

// Printf implements go-redis's logging interface.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimSpace(strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
	l.Logger.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("component", "redis"))
}
