package revocation_test

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/revocation"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"))
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func TestMemory(t *testing.T) {
	clk := &clock{t: time.Now()}
	l, err := revocation.New(revocation.Config{Now: clk.Now})
	require.NoError(t, err)
	ctx := t.Context()
	assert.False(t, l.IsRevoked(ctx, "s1"))
	l.Revoke(ctx, "s1", clk.Now().Add(6*time.Minute))
	l.Revoke(ctx, "s2", clk.Now().Add(-time.Second)) // already lapsed: ignored
	l.Revoke(ctx, "", clk.Now().Add(time.Minute))
	assert.True(t, l.IsRevoked(ctx, "s1"))
	assert.False(t, l.IsRevoked(ctx, "s2"))
	assert.False(t, l.IsRevoked(ctx, ""))

	l.Revoke(ctx, "s1", clk.Now().Add(time.Minute)) // an earlier end never shortens a revocation
	clk.Advance(5 * time.Minute)
	assert.True(t, l.IsRevoked(ctx, "s1"))
	clk.Advance(time.Minute)
	assert.False(t, l.IsRevoked(ctx, "s1"), "forgotten once its JWTs have expired")
}

// Two replicas on one Redis: a revocation on one is seen by the other, at once for a session it
// never checked, and within RecheckAfter for one it had just found not revoked.
func TestSharedThroughRedis(t *testing.T) {
	srv := redistest.Start(t)
	clk := &clock{t: time.Now()}
	replica := func() *revocation.List {
		rdb, err := admission.NewRedisClient(srv.URL(), clk.Now)
		require.NoError(t, err)
		t.Cleanup(func() { _ = rdb.Close() })
		l, err := revocation.New(revocation.Config{Redis: rdb, Now: clk.Now})
		require.NoError(t, err)
		return l
	}
	a, b := replica(), replica()
	ctx := t.Context()

	a.Revoke(ctx, "s1", clk.Now().Add(6*time.Minute))
	assert.True(t, b.IsRevoked(ctx, "s1"))

	assert.False(t, b.IsRevoked(ctx, "s2"))
	a.Revoke(ctx, "s2", clk.Now().Add(6*time.Minute))
	assert.False(t, b.IsRevoked(ctx, "s2"), "B trusts its recent answer for RecheckAfter")
	clk.Advance(revocation.DefaultRecheckAfter)
	assert.True(t, b.IsRevoked(ctx, "s2"))

	ttl := srv.Client(t).PTTL(ctx, "authsvc:revoked:s1").Val()
	assert.Greater(t, ttl, 5*time.Minute, "Redis forgets the entry when its JWTs expire")
	assert.LessOrEqual(t, ttl, 6*time.Minute)
}

// With Redis down the list answers from what this replica knows, logs once, counts, and never
// blocks.
func TestRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	clk := &clock{t: time.Now()}
	rdb, err := admission.NewRedisClient(srv.URL(), clk.Now)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rdb.Close() })
	var logs bytes.Buffer
	reader := sdkmetric.NewManualReader()
	l, err := revocation.New(revocation.Config{
		Redis: rdb, Now: clk.Now,
		Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
	})
	require.NoError(t, err)
	srv.Stop(t)
	ctx := t.Context()

	l.Revoke(ctx, "s1", clk.Now().Add(6*time.Minute))
	assert.True(t, l.IsRevoked(ctx, "s1"), "the revoking replica still knows")
	assert.False(t, l.IsRevoked(ctx, "s2"), "fail open for sessions it knows nothing about")
	assert.False(t, l.IsRevoked(ctx, "s3"))

	assert.Equal(t, 1, bytes.Count(logs.Bytes(), []byte("Redis unavailable")), "logged at most every 10 s")
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	var revokeErrs, checkErrs int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != revocation.MetricStoreErrors {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				switch v, _ := dp.Attributes.Value(attribute.Key("op")); v.AsString() {
				case "revoke":
					revokeErrs += dp.Value
				case "check":
					checkErrs += dp.Value
				}
			}
		}
	}
	assert.Equal(t, int64(1), revokeErrs)
	assert.Equal(t, int64(2), checkErrs)
}
