package redisclient_test

import (
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/redisclient"
	"github.com/authsvc/authsvc/internal/redistest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func open(t *testing.T, url string, clk *clock) *redisclient.Client {
	t.Helper()
	var now func() time.Time
	if clk != nil {
		now = clk.Now
	}
	c, err := redisclient.OpenURL(url, redisclient.Options{Now: now})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Each URL form builds go-redis's client for its topology (without touching the network), with
// authsvc's timeouts and no command retries on the request path, and go-redis's I/O defaults on
// the subscription.
func TestClientPerTopology(t *testing.T) {
	c := open(t, "redis://127.0.0.1:1/3", nil)
	rdb, ok := c.Redis().(*redis.Client)
	require.True(t, ok, "%T", c.Redis())
	o := rdb.Options()
	assert.Equal(t, "127.0.0.1:1", o.Addr)
	assert.Equal(t, 3, o.DB)
	assert.Equal(t, 250*time.Millisecond, o.DialTimeout)
	assert.Equal(t, 100*time.Millisecond, o.ReadTimeout)
	assert.Zero(t, o.MaxRetries, "no command retries (go-redis stores -1 as 0)")
	assert.True(t, o.ContextTimeoutEnabled)
	sub, ok := c.Subscriber().(*redis.Client)
	require.True(t, ok, "%T", c.Subscriber())
	assert.Equal(t, 500*time.Millisecond, sub.Options().DialTimeout)
	assert.NotEqual(t, 100*time.Millisecond, sub.Options().ReadTimeout, "go-redis's default: the subscription sets its own deadlines")
	assert.Zero(t, sub.Options().MaxRetries)

	c = open(t, "redis+cluster://127.0.0.1:1?addr=127.0.0.1:2", nil)
	cl, ok := c.Redis().(*redis.ClusterClient)
	require.True(t, ok, "%T", c.Redis())
	assert.Equal(t, []string{"127.0.0.1:1", "127.0.0.1:2"}, cl.Options().Addrs)
	assert.Equal(t, 100*time.Millisecond, cl.Options().ReadTimeout)
	assert.Equal(t, -1, cl.Options().MaxRetries)
	_, ok = c.Subscriber().(*redis.ClusterClient)
	assert.True(t, ok, "%T", c.Subscriber())

	c = open(t, "redis+sentinel://127.0.0.1:1/2?master_name=authsvc&addr=127.0.0.1:2", nil)
	fo, ok := c.Redis().(*redis.Client)
	require.True(t, ok, "%T", c.Redis())
	assert.Contains(t, fo.String(), "FailoverClient", "a Sentinel-managed client")
	assert.Equal(t, 2, fo.Options().DB)
	assert.Equal(t, 100*time.Millisecond, fo.Options().ReadTimeout)
	_, ok = c.Subscriber().(*redis.Client)
	assert.True(t, ok, "%T", c.Subscriber())

	// Routing reads to replicas needs go-redis's cluster-shaped failover client.
	c = open(t, "redis+sentinel://127.0.0.1:1?master_name=authsvc&route_randomly=true", nil)
	_, ok = c.Redis().(*redis.ClusterClient)
	assert.True(t, ok, "%T", c.Redis())

	_, err := redisclient.Open(redisclient.Conf{}, redisclient.Options{})
	require.Error(t, err, "no URL, no client")
}

// deployments start each topology on real redis-server processes and return its URL and the
// process whose outage the client must survive.
var deployments = map[string]func(t *testing.T) (url string, data *redistest.Server){
	"server": func(t *testing.T) (string, *redistest.Server) {
		s := redistest.Start(t)
		return s.URL(), s
	},
	"cluster": func(t *testing.T) (string, *redistest.Server) {
		s := redistest.StartCluster(t)
		return "redis+cluster://" + s.Addr, s
	},
	"sentinel": func(t *testing.T) (string, *redistest.Server) {
		primary := redistest.Start(t)
		sentinel := redistest.StartSentinel(t, primary, "authsvc")
		return "redis+sentinel://" + sentinel.Addr + "/0?master_name=authsvc", primary
	},
}

// On every topology, the request path's client answers, and after a connection failure skips
// Redis for the cooldown instead of paying a timeout per call, trying again once it has passed;
// the readiness ping says the same.
func TestBreakerPerTopology(t *testing.T) {
	for name, start := range deployments {
		t.Run(name, func(t *testing.T) {
			url, data := start(t)
			clk := &clock{t: time.Now()}
			c := open(t, url, clk)
			ctx := t.Context()
			require.NoError(t, c.Redis().Set(ctx, "k", "v", time.Minute).Err())
			require.NoError(t, c.Ping(ctx))

			data.Stop(t)
			require.Error(t, c.Redis().Get(ctx, "k").Err())
			require.ErrorIs(t, c.Redis().Get(ctx, "k").Err(), redisclient.ErrCoolingDown)
			require.ErrorIs(t, c.Ping(ctx), redisclient.ErrCoolingDown, "readiness sees the outage at once")

			data.Restart(t)
			require.ErrorIs(t, c.Redis().Get(ctx, "k").Err(), redisclient.ErrCoolingDown, "still cooling down: the clock has not moved")
			clk.Advance(redisclient.Cooldown)
			require.NoError(t, c.Redis().Set(ctx, "k", "v2", time.Minute).Err())
			assert.Equal(t, "v2", c.Redis().Get(ctx, "k").Val())
		})
	}
}

// On every topology, a message published with the request path's client reaches a subscription
// of the subscriber client: the revocation list's path.
func TestPubSubPerTopology(t *testing.T) {
	for name, start := range deployments {
		t.Run(name, func(t *testing.T) {
			url, _ := start(t)
			c := open(t, url, nil)
			ctx := t.Context()
			ps := c.Subscriber().Subscribe(ctx, "authsvc:test")
			t.Cleanup(func() { _ = ps.Close() })
			_, err := ps.Receive(ctx) // the subscription's confirmation
			require.NoError(t, err)
			require.NoError(t, c.Redis().Publish(ctx, "authsvc:test", "hello").Err())
			msg, err := ps.ReceiveMessage(ctx)
			require.NoError(t, err)
			assert.Equal(t, "hello", msg.Payload)
		})
	}
}
