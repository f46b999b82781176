package revocation_test

import (
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

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

// replica is one authsvc replica's list on the shared Redis.
func replica(t *testing.T, srv *redistest.Server, clk *clock) *revocation.List {
	t.Helper()
	l, err := revocation.New(revocation.Config{Redis: client(t, srv, clk), Now: clk.Now})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, l.Close()) })
	return l
}

// Two replicas on one Redis: a revocation on one is seen by the other, which never checked the
// session, through the Redis key (the message is covered in subscribe_test.go).
func TestSharedThroughRedis(t *testing.T) {
	srv := redistest.Start(t)
	clk := &clock{t: time.Now()}
	a, b := replica(t, srv, clk), replica(t, srv, clk)
	ctx := t.Context()

	a.Revoke(ctx, "s1", clk.Now().Add(6*time.Minute))
	assert.True(t, b.IsRevoked(ctx, "s1"))
	assert.False(t, b.IsRevoked(ctx, "s2"))

	ttl := srv.Client(t).PTTL(ctx, "authsvc:revoked:s1").Val()
	assert.Greater(t, ttl, 5*time.Minute, "Redis forgets the entry when its JWTs expire")
	assert.LessOrEqual(t, ttl, 6*time.Minute)
}

// With Redis down the list answers from what this replica knows, logs once, counts, and never
// blocks.
func TestRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	clk := &clock{t: time.Now()}
	rdb := client(t, srv, clk)
	var logs syncBuffer // the subscription's goroutine logs too
	reader := sdkmetric.NewManualReader()
	l, err := revocation.New(revocation.Config{
		Redis: rdb, Now: clk.Now,
		Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, l.Close()) })
	srv.Stop(t)
	ctx := t.Context()

	l.Revoke(ctx, "s1", clk.Now().Add(6*time.Minute))
	assert.True(t, l.IsRevoked(ctx, "s1"), "the revoking replica still knows")
	assert.False(t, l.IsRevoked(ctx, "s2"), "fail open for sessions it knows nothing about")
	assert.False(t, l.IsRevoked(ctx, "s3"))
	l.RevokeMember(ctx, "m1", clk.Now(), clk.Now().Add(6*time.Minute))
	assert.True(t, l.IsMemberRevoked(ctx, "m1", clk.Now().Add(-time.Second)), "the revoking replica still knows the member")

	assert.Equal(t, 1, strings.Count(logs.String(), "Redis unavailable"), "logged at most every 10 s")
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
	assert.Equal(t, int64(2), revokeErrs)
	assert.Equal(t, int64(2), checkErrs)
}

// A member revocation rejects the member's JWTs issued before its cut-off, not the sessions the
// member starts afterwards, and lapses when the last such JWT has expired.
func TestMemberRevocation(t *testing.T) {
	clk := &clock{t: time.Now().Truncate(time.Second)}
	l, err := revocation.New(revocation.Config{Now: clk.Now})
	require.NoError(t, err)
	ctx := t.Context()
	before, at := clk.Now().Add(-time.Minute), clk.Now()

	assert.False(t, l.IsMemberRevoked(ctx, "m1", before))
	l.RevokeMember(ctx, "m1", at, at.Add(6*time.Minute))
	assert.True(t, l.IsMemberRevoked(ctx, "m1", before), "a JWT issued before the cut-off")
	assert.False(t, l.IsMemberRevoked(ctx, "m1", at), "a JWT issued at the cut-off (a new login)")
	assert.False(t, l.IsMemberRevoked(ctx, "m2", before), "another member")
	assert.False(t, l.IsRevoked(ctx, "m1"), "members and sessions are separate")

	// A second, later revocation (the member deleted: everything until the end) widens it.
	l.RevokeMember(ctx, "m1", at.Add(6*time.Minute), at.Add(6*time.Minute))
	assert.True(t, l.IsMemberRevoked(ctx, "m1", at.Add(time.Minute)))
	// An earlier cut-off never narrows it.
	l.RevokeMember(ctx, "m1", at, at.Add(time.Minute))
	assert.True(t, l.IsMemberRevoked(ctx, "m1", at.Add(time.Minute)))

	clk.Advance(6 * time.Minute)
	assert.False(t, l.IsMemberRevoked(ctx, "m1", before), "forgotten once its JWTs have expired")
	l.RevokeMember(ctx, "", at, at.Add(time.Hour))
	assert.False(t, l.IsMemberRevoked(ctx, "", before))
}

// A member revoked on one replica is revoked on the other, with its cut-off; session entries keep
// the plain Redis form older replicas read.
func TestMemberRevocationSharedThroughRedis(t *testing.T) {
	srv := redistest.Start(t)
	clk := &clock{t: time.Now().Truncate(time.Second)}
	a, b := replica(t, srv, clk), replica(t, srv, clk)
	ctx := t.Context()
	at := clk.Now()

	a.RevokeMember(ctx, "m1", at, at.Add(6*time.Minute))
	assert.True(t, b.IsMemberRevoked(ctx, "m1", at.Add(-time.Second)))
	assert.False(t, b.IsMemberRevoked(ctx, "m1", at), "the cut-off travels with the entry")
	assert.False(t, b.IsRevoked(ctx, "m1"))

	rc := srv.Client(t)
	ttl := rc.PTTL(ctx, "authsvc:revoked-member:m1").Val()
	assert.Greater(t, ttl, 5*time.Minute)
	assert.LessOrEqual(t, ttl, 6*time.Minute)

	a.Revoke(ctx, "s1", at.Add(6*time.Minute))
	assert.Equal(t, strconv.FormatInt(at.Add(6*time.Minute).UnixMilli(), 10), rc.Get(ctx, "authsvc:revoked:s1").Val())
	// An entry in the plain form (written by an older replica) still reads.
	require.NoError(t, rc.Set(ctx, "authsvc:revoked:s2", strconv.FormatInt(at.Add(time.Minute).UnixMilli(), 10), time.Minute).Err())
	assert.True(t, b.IsRevoked(ctx, "s2"))
}
