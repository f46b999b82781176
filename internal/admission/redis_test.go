package admission

import (
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/redisclient"
	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/testkit"
)

// openRedis is the request path's client of authsvc (internal/redisclient) for url, closed when the
// test ends; now is its breaker's clock.
func openRedis(t testing.TB, url string, now func() time.Time) redis.UniversalClient {
	t.Helper()
	c, err := redisclient.OpenURL(url, redisclient.Options{Now: now})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c.Redis()
}

func newRedisStore(t *testing.T, clk *testkit.Clock) (*RedisStore, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	return NewRedisStore(openRedis(t, srv.URL(), clk.Now)), srv
}

func TestRedisTake(t *testing.T) {
	s, _ := newRedisStore(t, newClock())
	r := Rate{Events: 5, Per: 10 * time.Minute}
	for i := range 5 {
		d, err := s.Take(t.Context(), "k", r)
		require.NoError(t, err)
		require.True(t, d.Allowed, "event %d", i+1)
	}
	d, err := s.Take(t.Context(), "k", r)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	// Redis's own clock has moved a little since the first event.
	assert.Greater(t, d.RetryAfter, time.Minute)
	assert.LessOrEqual(t, d.RetryAfter, 2*time.Minute)

	d, err = s.Take(t.Context(), "other", r)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
}

// Concurrent attempts (as from many replicas) cannot all pass before any is counted.
func TestRedisReserveIsAtomic(t *testing.T) {
	s, srv := newRedisStore(t, newClock())
	f := Failures{Max: 5, Window: 10 * time.Minute}
	var wg sync.WaitGroup
	results := make(chan error, 40)
	decisions := make(chan Decision, 40)
	for range 40 {
		wg.Go(func() {
			d, err := s.Reserve(t.Context(), "k", f)
			results <- err
			decisions <- d
		})
	}
	wg.Wait()
	close(results)
	close(decisions)
	for err := range results {
		require.NoError(t, err)
	}
	allowed := 0
	for d := range decisions {
		if d.Allowed {
			allowed++
		}
	}
	assert.Equal(t, 5, allowed)

	d, err := s.Reserve(t.Context(), "k", f)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Greater(t, d.RetryAfter, 9*time.Minute)

	require.NoError(t, s.Refund(t.Context(), "k", f))
	d, err = s.Reserve(t.Context(), "k", f)
	require.NoError(t, err)
	assert.True(t, d.Allowed, "a refunded attempt is available again")

	// A refund with nothing reserved creates no key (it would otherwise live forever, negative).
	require.NoError(t, s.Refund(t.Context(), "never", f))
	c := srv.Client(t)
	assert.Equal(t, int64(0), c.Exists(t.Context(), "authsvc:admission:never").Val())
	ttl := c.PTTL(t.Context(), "authsvc:admission:k").Val()
	assert.Greater(t, ttl, 9*time.Minute, "the counter expires with its window")
}

func TestRedisPeekFail(t *testing.T) {
	s, srv := newRedisStore(t, newClock())
	testPeekFail(t, s, nil)
	ttl := srv.Client(t).PTTL(t.Context(), "authsvc:admission:k").Val()
	assert.Greater(t, ttl, 9*time.Minute, "the counter expires with its window")
}

// After a connection failure the client skips Redis for a cooldown instead of paying a timeout
// per call; it tries again once the cooldown has passed.
func TestRedisBreaker(t *testing.T) {
	clk := newClock()
	s, srv := newRedisStore(t, clk)
	r := Rate{Events: 100, Per: time.Minute}
	_, err := s.Take(t.Context(), "k", r)
	require.NoError(t, err)

	srv.Stop(t)
	_, err = s.Take(t.Context(), "k", r)
	require.Error(t, err)
	_, err = s.Take(t.Context(), "k", r)
	require.ErrorIs(t, err, redisclient.ErrCoolingDown)

	srv.Restart(t)
	_, err = s.Take(t.Context(), "k", r)
	require.ErrorIs(t, err, redisclient.ErrCoolingDown, "still cooling down: the clock has not moved")
	clk.Advance(redisclient.Cooldown)
	d, err := s.Take(t.Context(), "k", r)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
}

// An operation waits for Redis as long as the store's timeout (AUTHSVC_REDIS_TIMEOUT) allows: with
// Redis paused for 400 ms, the default 150 ms gives up and a one-second budget sees the answer.
func TestRedisStoreTimeout(t *testing.T) {
	srv := redistest.Start(t)
	r := Rate{Events: 5, Per: time.Minute}
	pause := func() {
		c, err := redisclient.OpenURL(srv.URL(), redisclient.Options{})
		require.NoError(t, err)
		defer func() { _ = c.Close() }()
		require.NoError(t, c.Subscriber().Do(t.Context(), "CLIENT", "PAUSE", "400", "ALL").Err())
	}

	// Clients whose own I/O timeouts are long, so that only the store's bound is measured; a new
	// one for each half, as the first one's circuit breaker opens on the failure.
	client := func() redis.UniversalClient {
		var conf redisclient.Conf
		require.NoError(t, conf.SetURL(srv.URL()))
		require.NoError(t, conf.SetTimeout("3s"))
		c, err := redisclient.Open(conf, redisclient.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return c.Redis()
	}

	pause()
	_, err := NewRedisStore(client()).Take(t.Context(), "k", r)
	require.ErrorContains(t, err, "timeout", "the default bound, %s, is shorter than the pause", DefaultRedisOpTimeout)

	time.Sleep(450 * time.Millisecond) // the pause is over
	pause()
	d, err := NewRedisStore(client()).WithTimeout(time.Second).Take(t.Context(), "k", r)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
}
