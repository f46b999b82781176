package telemetry_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/telemetry"
)

// records decodes the JSON lines in buf.
func records(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		out = append(out, rec)
	}
	return out
}

func TestLoggerAddsTraceAndSpanIDs(t *testing.T) {
	clearEnv(t)
	h := setup(t, nil)
	log := h.tel.Logger

	ctx, span := h.tel.TracerProvider.Tracer("test").Start(t.Context(), "op")
	log.InfoContext(ctx, "inside")
	log.With("rpc", "Check").WithGroup("req").InfoContext(ctx, "grouped", "size", 3)
	span.End()
	log.InfoContext(t.Context(), "outside")

	recs := records(t, h.logs)
	require.Len(t, recs, 3)
	traceID := span.SpanContext().TraceID().String()
	spanID := span.SpanContext().SpanID().String()

	assert.Equal(t, "inside", recs[0]["msg"])
	assert.Equal(t, traceID, recs[0][telemetry.LogKeyTraceID])
	assert.Equal(t, spanID, recs[0][telemetry.LogKeySpanID])

	// IDs stay top level even when the logger has an open group, so log queries find them.
	assert.Equal(t, "grouped", recs[1]["msg"])
	assert.Equal(t, traceID, recs[1][telemetry.LogKeyTraceID])
	assert.Equal(t, spanID, recs[1][telemetry.LogKeySpanID])
	assert.Equal(t, "Check", recs[1]["rpc"])
	assert.Equal(t, map[string]any{"size": float64(3)}, recs[1]["req"])

	assert.Equal(t, "outside", recs[2]["msg"])
	assert.NotContains(t, recs[2], telemetry.LogKeyTraceID)
	assert.NotContains(t, recs[2], telemetry.LogKeySpanID)
}

func TestLoggerLevelAndRedaction(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(telemetry.NewLogHandler(&buf, slog.LevelWarn))
	log.Info("dropped")
	log.Warn("kept", "session_token", "tok-123", "email", "alice@example.com")

	recs := records(t, &buf)
	require.Len(t, recs, 1)
	assert.Equal(t, "kept", recs[0]["msg"])
	assert.Equal(t, telemetry.Redacted, recs[0]["session_token"])
	assert.Equal(t, "a***@example.com", recs[0]["email"])
	assert.NotContains(t, buf.String(), "tok-123")
	assert.NotContains(t, buf.String(), "alice@")
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
	}{
		{"", slog.LevelInfo},
		{"debug", slog.LevelDebug},
		{"INFO", slog.LevelInfo},
		{"warn", slog.LevelWarn},
		{"warning", slog.LevelWarn},
		{" error ", slog.LevelError},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := telemetry.ParseLevel(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{"trace", "info+2", "verbose"} {
		t.Run(bad, func(t *testing.T) {
			_, err := telemetry.ParseLevel(bad)
			require.ErrorIs(t, err, telemetry.ErrInvalidLogLevel)
			assert.Contains(t, err.Error(), "want debug, info, warn or error")
		})
	}
}
