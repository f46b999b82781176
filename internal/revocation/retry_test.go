package revocation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/revocation"
	"github.com/authsvc/authsvc/internal/testkit"
)

// A revocation Redis did not take (here: Redis down when the session was revoked) is written and
// published once Redis is back, so the other replicas learn of it then: without the retry they
// would never hear of it and would accept the session's JWTs until they expire.
func TestRevocationRedisRefusedReachesOtherReplicasLater(t *testing.T) {
	srv := redistest.Start(t)
	clk := testkit.NewClock(time.Now())
	a := observedReplica(t, client(t, srv, clk), clk, nil)
	ctx := t.Context()

	srv.Stop(t)
	a.Revoke(ctx, "s1", clk.Now().Add(6*time.Minute))
	a.RevokeMember(ctx, "m1", clk.Now(), clk.Now().Add(6*time.Minute))
	require.True(t, a.IsRevoked(ctx, "s1"), "the revoking replica knows at once")
	assert.Equal(t, int64(2), a.storeErrors(t, "revoke"))

	srv.Restart(t)
	clk.Advance(2 * time.Second) // past the breaker's cooldown (internal/redisclient), on this clock
	// B starts after the outage: only the Redis keys can tell it.
	b := observedReplica(t, srv.Client(t), clk, nil)
	require.Eventually(t, func() bool {
		return b.IsRevoked(ctx, "s1") && b.IsMemberRevoked(ctx, "m1", clk.Now().Add(-time.Minute))
	}, signalTimeout, 10*time.Millisecond, "the revocations reached Redis once it was back")
	require.Eventually(t, func() bool { return strings.Contains(a.logs.String(), "are now written and published") },
		signalTimeout, 10*time.Millisecond)

	ttl := srv.Client(t).PTTL(ctx, "authsvc:revoked:s1").Val()
	assert.Greater(t, ttl, 5*time.Minute, "Redis forgets the entry when its JWTs expire")
	assert.LessOrEqual(t, ttl, 6*time.Minute)
}

// A revocation that lapses while Redis is down is not written afterwards; Close ends the retries
// while Redis is still down (TestMain's leak check covers the goroutine).
func TestRevocationRetriesEndWhenTheyLapseOrTheListCloses(t *testing.T) {
	srv := redistest.Start(t)
	clk := testkit.NewClock(time.Now())
	rdb := client(t, srv, clk)
	a := observedReplica(t, rdb, clk, nil)
	ctx := t.Context()

	srv.Stop(t)
	a.Revoke(ctx, "lapses", clk.Now().Add(time.Minute))
	clk.Advance(2 * time.Minute)
	srv.Restart(t)
	// A second revocation, made after the restart while the breaker is still open on this
	// clock's frozen second, is queued behind the first and written by the same retries.
	a.Revoke(ctx, "s2", clk.Now().Add(6*time.Minute))
	clk.Advance(2 * time.Second)
	require.Eventually(t, func() bool {
		return srv.Client(t).Exists(ctx, "authsvc:revoked:s2").Val() == 1
	}, signalTimeout, 10*time.Millisecond)
	assert.Zero(t, srv.Client(t).Exists(ctx, "authsvc:revoked:lapses").Val(), "a lapsed revocation is dropped, not written")

	c, err := revocation.New(revocation.Config{Redis: rdb, Now: clk.Now})
	require.NoError(t, err)
	srv.Stop(t)
	c.Revoke(ctx, "s3", clk.Now().Add(6*time.Minute))
	done := make(chan error, 1)
	go func() { done <- c.Close() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(signalTimeout):
		t.Fatal("Close waited for Redis")
	}
}
