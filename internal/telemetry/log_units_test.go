package telemetry_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/telemetry"
	"github.com/authsvc/authsvc/internal/testkit"
)

// slog's JSON handler writes a time.Duration as integer nanoseconds; authsvc's writes it with its
// unit, at the top level, inside groups and through With.
func TestLogDurationsCarryUnits(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(telemetry.NewLogHandler(&buf, slog.LevelInfo))
	log.Info("stopped", "took", 1500*time.Millisecond, slog.Duration("grace", 20*time.Second))
	log.With("elapsed", 20*time.Millisecond).WithGroup("req").Info("grouped", "wait", 250*time.Microsecond, "count", 3)
	log.Info("redacted first", "token_ttl", time.Minute)

	recs := records(t, &buf)
	require.Len(t, recs, 3)
	assert.Equal(t, "1.5s", recs[0]["took"])
	assert.Equal(t, "20s", recs[0]["grace"])
	assert.Equal(t, "20ms", recs[1]["elapsed"])
	assert.Equal(t, map[string]any{"wait": "250µs", "count": float64(3)}, recs[1]["req"])
	assert.Equal(t, telemetry.Redacted, recs[2]["token_ttl"], "a secret-named key stays redacted whatever its kind")
}

// With SetGlobals (as the binary runs), go-redis's own log lines come out as JSON records of the
// app's logger instead of plain text on stderr. The line checked is the one a dead Redis causes.
func TestRedisClientLogsAreJSON(t *testing.T) {
	clearEnv(t)
	srv := redistest.Start(t)
	srv.Stop(t)

	logs := &testkit.LogBuffer{}
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{LogOutput: logs, SetGlobals: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DialerRetries: 1, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	require.Error(t, rdb.Ping(t.Context()).Err(), "Redis is stopped")

	var dial map[string]any
	for _, rec := range records(t, logs.Bytes()) {
		if msg, _ := rec["msg"].(string); strings.Contains(msg, "failed to dial") {
			dial = rec
		}
	}
	require.NotNil(t, dial, "go-redis's dial failure must be a JSON record; got:\n%s", logs.Bytes())
	assert.Equal(t, "WARN", dial["level"])
	assert.Equal(t, "redis", dial["component"])
	assert.Contains(t, dial["msg"], srv.Addr, "the line says which Redis")
}
