package revocation_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/revocation"
	"github.com/authsvc/authsvc/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"))
}

func TestMemory(t *testing.T) {
	clk := testkit.NewClock(time.Now())
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
func replica(t *testing.T, srv *redistest.Server, clk *testkit.Clock) *revocation.List {
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
	clk := testkit.NewClock(time.Now())
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
	clk := testkit.NewClock(time.Now())
	rdb := client(t, srv, clk)
	var logs testkit.LogBuffer // the subscription's goroutine logs too
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
	revokeErrs := testkit.CounterSum(t, reader, revocation.MetricStoreErrors, attribute.String("op", "revoke"))
	checkErrs := testkit.CounterSum(t, reader, revocation.MetricStoreErrors, attribute.String("op", "check"))
	assert.Equal(t, int64(2), revokeErrs)
	assert.Equal(t, int64(2), checkErrs)
}

// A consumer user is revoked by the same list, by user ID, and apart from any member.
func TestUserRevocationByUserID(t *testing.T) {
	clk := testkit.NewClock(time.Now().Truncate(time.Second))
	l, err := revocation.New(revocation.Config{Now: clk.Now})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, l.Close()) })
	ctx := t.Context()
	at := clk.Now()
	l.RevokeMember(ctx, "user-test-1", at, at.Add(6*time.Minute))
	assert.True(t, l.IsMemberRevoked(ctx, "user-test-1", at.Add(-time.Second)), "the user's older JWTs are revoked")
	assert.False(t, l.IsMemberRevoked(ctx, "user-test-1", at.Add(time.Second)), "a session started afterwards is not")
	assert.False(t, l.IsMemberRevoked(ctx, "member-test-1", at.Add(-time.Second)), "no member is touched")
}

// A member revocation rejects the member's JWTs issued before its cut-off, not the sessions the
// member starts afterwards, and lapses when the last such JWT has expired.
func TestMemberRevocation(t *testing.T) {
	clk := testkit.NewClock(time.Now().Truncate(time.Second))
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
	clk := testkit.NewClock(time.Now().Truncate(time.Second))
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

// getCounter counts the GETs a Redis client sends.
type getCounter struct{ n atomic.Int64 }

func (*getCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (g *getCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "get" {
			g.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (*getCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// The cached "not revoked" answers are bounded by Capacity: beyond it the answer stored longest
// ago is dropped (its session costs a Redis GET again), and the others are kept.
func TestNotRevokedAnswersDropTheOldest(t *testing.T) {
	srv := redistest.Start(t)
	clk := testkit.NewClock(time.Now()) // never moves: no answer grows stale
	rdb := srv.Client(t)
	gets := &getCounter{}
	rdb.AddHook(gets)
	l, err := revocation.New(revocation.Config{Redis: rdb, Now: clk.Now, Capacity: 2})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, l.Close()) })
	ctx := t.Context()
	require.NoError(t, l.WaitSubscribed(ctx)) // a (re)subscription drops every cached answer

	for _, id := range []string{"s1", "s2", "s3"} {
		require.False(t, l.IsRevoked(ctx, id))
	}
	require.Equal(t, int64(3), gets.n.Load())
	assert.False(t, l.IsRevoked(ctx, "s2"))
	assert.False(t, l.IsRevoked(ctx, "s3"))
	assert.Equal(t, int64(3), gets.n.Load(), "the two latest answers are kept")
	assert.False(t, l.IsRevoked(ctx, "s1"))
	assert.Equal(t, int64(4), gets.n.Load(), "the oldest answer was dropped")
}
