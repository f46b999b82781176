package revocation_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/internal/redisclient"
	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/revocation"
	"github.com/authsvc/authsvc/internal/testkit"
)

// channel is where replicas publish revocations (revocation.channel).
const channel = "authsvc:revocations"

// signalTimeout only keeps a broken test from hanging until the global test timeout; nothing
// waits for it to pass.
const signalTimeout = 30 * time.Second

// observed is a replica's list that reports what its subscription does.
type observed struct {
	*revocation.List
	applied    chan string   // subject of each message processed ("" when unreadable)
	subscribed chan struct{} // each confirmed subscription
	logs       *testkit.LogBuffer
	metrics    *sdkmetric.ManualReader
}

// observedReplica builds a list on rdb and waits until it is subscribed.
func observedReplica(t *testing.T, rdb redis.UniversalClient, clk *testkit.Clock, adjust func(*revocation.Config)) *observed {
	t.Helper()
	o := &observed{
		applied:    make(chan string, 256),
		subscribed: make(chan struct{}, 16),
		logs:       &testkit.LogBuffer{},
		metrics:    sdkmetric.NewManualReader(),
	}
	cfg := revocation.Config{
		Redis:         rdb,
		Now:           clk.Now,
		Logger:        slog.New(slog.NewTextHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(o.metrics)),
	}
	if adjust != nil {
		adjust(&cfg)
	}
	// The hooks never block the subscription: the buffers are far larger than any test needs.
	l, err := revocation.NewObserved(cfg,
		func(s string) {
			select {
			case o.applied <- s:
			default:
			}
		},
		func() {
			select {
			case o.subscribed <- struct{}{}:
			default:
			}
		})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, l.Close()) })
	o.List = l
	o.waitSubscribed(t)
	return o
}

func (o *observed) waitSubscribed(t *testing.T) {
	t.Helper()
	select {
	case <-o.subscribed:
	case <-time.After(signalTimeout):
		t.Fatal("no subscription confirmed")
	}
}

// waitApplied waits until the list has processed the message about subject.
func (o *observed) waitApplied(t *testing.T, subject string) {
	t.Helper()
	for {
		select {
		case s := <-o.applied:
			if s == subject {
				return
			}
		case <-time.After(signalTimeout):
			t.Fatalf("no message about %q", subject)
		}
	}
}

func (o *observed) storeErrors(t *testing.T, op string) int64 {
	t.Helper()
	return testkit.CounterSum(t, o.metrics, revocation.MetricStoreErrors, attribute.String("op", op))
}

// client is the request path's client of authsvc (internal/redisclient), with its breaker on clk.
func client(t *testing.T, srv *redistest.Server, clk *testkit.Clock) redis.UniversalClient {
	t.Helper()
	return openClient(t, srv, clk).Redis()
}

func openClient(t *testing.T, srv *redistest.Server, clk *testkit.Clock) *redisclient.Client {
	t.Helper()
	c, err := redisclient.OpenURL(srv.URL(), redisclient.Options{Now: clk.Now})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// A session revoked on A is revoked on B as soon as B has the message, although B had just found
// it not revoked and its clock never moves (so its cached answer never expires): only the message
// can tell it. B then answers from memory, with Redis gone.
func TestRevocationReachesOtherReplicaByMessage(t *testing.T) {
	srv := redistest.Start(t)
	clk := testkit.NewClock(time.Now())
	a := replica(t, srv, clk)
	b := observedReplica(t, client(t, srv, clk), clk, nil)
	ctx := t.Context()

	require.False(t, b.IsRevoked(ctx, "s1"))
	a.Revoke(ctx, "s1", clk.Now().Add(6*time.Minute))
	b.waitApplied(t, "s1")
	assert.True(t, b.IsRevoked(ctx, "s1"))
	assert.False(t, b.IsMemberRevoked(ctx, "s1", clk.Now().Add(-time.Minute)), "a session message revokes no member")

	srv.Stop(t)
	assert.True(t, b.IsRevoked(ctx, "s1"), "held in B's memory")
}

// A member revoked on A is revoked on B the same way, cut-off included.
func TestMemberRevocationReachesOtherReplicaByMessage(t *testing.T) {
	srv := redistest.Start(t)
	clk := testkit.NewClock(time.Now().Truncate(time.Second))
	a := replica(t, srv, clk)
	b := observedReplica(t, client(t, srv, clk), clk, nil)
	ctx := t.Context()
	at := clk.Now()
	before := at.Add(-time.Minute)

	require.False(t, b.IsMemberRevoked(ctx, "m1", before))
	a.RevokeMember(ctx, "m1", at, at.Add(6*time.Minute))
	b.waitApplied(t, "m1")
	assert.True(t, b.IsMemberRevoked(ctx, "m1", before))
	assert.False(t, b.IsMemberRevoked(ctx, "m1", at), "a JWT issued at the cut-off (a new login)")
	assert.False(t, b.IsRevoked(ctx, "m1"), "a member message revokes no session")
}

// While subscribed, a "not revoked" answer is trusted for SubscribedRecheckAfter, not
// RecheckAfter; after that the key in Redis (here written without a message, as if B had missed
// it) is read again.
func TestSubscribedReplicaTrustsItsAnswersLonger(t *testing.T) {
	srv := redistest.Start(t)
	clk := testkit.NewClock(time.Now())
	b := observedReplica(t, client(t, srv, clk), clk, nil)
	ctx := t.Context()

	require.False(t, b.IsRevoked(ctx, "s1"))
	setKey(t, srv, "authsvc:revoked:s1", clk.Now().Add(6*time.Minute))
	clk.Advance(revocation.DefaultRecheckAfter)
	assert.False(t, b.IsRevoked(ctx, "s1"), "trusted past RecheckAfter while subscribed")
	clk.Advance(revocation.DefaultSubscribedRecheckAfter - revocation.DefaultRecheckAfter)
	assert.True(t, b.IsRevoked(ctx, "s1"), "asked Redis again after SubscribedRecheckAfter")
}

// Messages published while B was disconnected are lost: when Redis comes back (here restarted,
// empty) B resubscribes and drops every cached "not revoked" answer, so that it asks Redis again
// instead of trusting them. The failure is counted and the recovery logged.
func TestResubscriptionDropsCachedAnswers(t *testing.T) {
	srv := redistest.Start(t)
	clk := testkit.NewClock(time.Now())
	// A plain client: authsvc's breaker would, on this frozen clock, stay open after the restart.
	b := observedReplica(t, srv.Client(t), clk, nil)
	ctx := t.Context()

	require.False(t, b.IsRevoked(ctx, "s1"))
	require.False(t, b.IsMemberRevoked(ctx, "m1", clk.Now().Add(-time.Minute)))
	srv.Restart(t)
	b.waitSubscribed(t)
	// What B missed: revocations recorded in Redis without B hearing of them.
	setKey(t, srv, "authsvc:revoked:s1", clk.Now().Add(6*time.Minute))
	require.NoError(t, srv.Client(t).Set(ctx, "authsvc:revoked-member:m1",
		strconv.FormatInt(clk.Now().Add(6*time.Minute).UnixMilli(), 10)+":"+strconv.FormatInt(clk.Now().UnixMilli(), 10), time.Hour).Err())

	assert.True(t, b.IsRevoked(ctx, "s1"), "the cached answer was dropped")
	assert.True(t, b.IsMemberRevoked(ctx, "m1", clk.Now().Add(-time.Minute)), "the cached member answer was dropped")
	assert.GreaterOrEqual(t, b.storeErrors(t, "subscribe"), int64(1))
	assert.Contains(t, b.logs.String(), "subscribed to revocations again")
}

// A message B cannot read stands for a revocation B missed: it drops its cached answers and
// counts the message.
func TestUnreadableMessageDropsCachedAnswers(t *testing.T) {
	srv := redistest.Start(t)
	clk := testkit.NewClock(time.Now())
	b := observedReplica(t, client(t, srv, clk), clk, nil)
	ctx := t.Context()

	require.False(t, b.IsRevoked(ctx, "s1"))
	setKey(t, srv, "authsvc:revoked:s1", clk.Now().Add(6*time.Minute))
	require.NoError(t, srv.Client(t).Publish(ctx, channel, "x 123 s1").Err())
	b.waitApplied(t, "")
	assert.True(t, b.IsRevoked(ctx, "s1"))
	assert.Equal(t, int64(1), b.storeErrors(t, "message"))
}

// Every replica hears every revocation, so what it keeps from messages is bounded by Capacity:
// beyond it a message only drops the cached answer, and the key in Redis answers.
func TestMessagesKeepMemoryBounded(t *testing.T) {
	srv := redistest.Start(t)
	clk := testkit.NewClock(time.Now())
	a := replica(t, srv, clk)
	b := observedReplica(t, client(t, srv, clk), clk, func(c *revocation.Config) { c.Capacity = 2 })
	ctx := t.Context()

	ids := []string{"s1", "s2", "s3", "s4", "s5"}
	for _, id := range ids {
		require.False(t, b.IsRevoked(ctx, id))
		a.Revoke(ctx, id, clk.Now().Add(6*time.Minute))
		b.waitApplied(t, id)
	}
	assert.Equal(t, 2, revocation.HeldSessions(b.List))
	for _, id := range ids {
		assert.True(t, b.IsRevoked(ctx, id), id)
	}
}

// Close ends the subscription's goroutine, whether subscribed or waiting to retry an
// unreachable Redis, and may be called twice; WaitSubscribed gives up with its context.
func TestCloseEndsTheSubscription(t *testing.T) {
	srv := redistest.Start(t)
	clk := testkit.NewClock(time.Now())
	before := goleak.IgnoreCurrent()

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	l, err := revocation.New(revocation.Config{Redis: rdb, Now: clk.Now})
	require.NoError(t, err)
	require.NoError(t, l.WaitSubscribed(t.Context()))
	require.NoError(t, l.Close())
	require.NoError(t, l.Close())
	require.NoError(t, rdb.Close())
	goleak.VerifyNone(t, before)

	srv.Stop(t)
	rdb = redis.NewClient(&redis.Options{Addr: srv.Addr})
	l, err = revocation.New(revocation.Config{Redis: rdb, Now: clk.Now})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, l.WaitSubscribed(ctx), context.Canceled)
	require.NoError(t, l.Close())
	require.NoError(t, rdb.Close())
	goleak.VerifyNone(t, before)

	mem, err := revocation.New(revocation.Config{})
	require.NoError(t, err)
	require.NoError(t, mem.WaitSubscribed(t.Context()), "nothing to wait for without Redis")
	require.NoError(t, mem.Close())
}

func setKey(t *testing.T, srv *redistest.Server, key string, until time.Time) {
	t.Helper()
	require.NoError(t, srv.Client(t).Set(t.Context(), key, strconv.FormatInt(until.UnixMilli(), 10), time.Hour).Err())
}

// A subscription whose connection goes silent (no reset: a partition, a dead NAT entry) is given
// up when Redis does not answer a ping, and replaced; the new subscription drops the answers B
// cached, since a message may have been lost meanwhile. Takes a few seconds: the ping waits for
// a second without messages, the verdict for three more.
func TestSilentSubscriptionIsReplaced(t *testing.T) {
	srv := redistest.Start(t)
	proxy := startProxy(t, srv.Addr)
	clk := testkit.NewClock(time.Now())
	a := replica(t, srv, clk)
	rdb := redis.NewClient(&redis.Options{Addr: proxy.addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	b := observedReplica(t, rdb, clk, nil)
	ctx := t.Context()

	require.False(t, b.IsRevoked(ctx, "s1"))
	proxy.silenceSubscriptions()
	a.Revoke(ctx, "s1", clk.Now().Add(6*time.Minute)) // its message is lost on the silent connection
	b.waitSubscribed(t)
	assert.True(t, b.IsRevoked(ctx, "s1"), "the cached answer was dropped")
	assert.GreaterOrEqual(t, b.storeErrors(t, "subscribe"), int64(1))
	assert.Contains(t, b.logs.String(), "no reply from Redis")
}

// With internal/redisclient's Subscriber (as authsvc wires it), the subscription neither waits
// for nor trips the request path's circuit breaker (here a go-redis Limiter that refuses
// everything, standing in for internal/redisclient's): with the breaker open it still subscribes,
// and its handshakes report nothing to it, while lookups still go through it.
func TestSubscriptionBypassesTheBreaker(t *testing.T) {
	srv := redistest.Start(t)
	clk := testkit.NewClock(time.Now())
	open := &openBreaker{}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, Limiter: open})
	t.Cleanup(func() { _ = rdb.Close() })
	sub := openClient(t, srv, clk).Subscriber()
	b := observedReplica(t, rdb, clk, func(c *revocation.Config) { c.Subscriber = sub })

	assert.Zero(t, open.reports.Load(), "the subscription reported nothing to the breaker")
	assert.False(t, b.IsRevoked(t.Context(), "s1"))
	assert.Equal(t, int64(1), b.storeErrors(t, "check"), "the lookup was refused by the breaker")
}

// openBreaker is a go-redis Limiter that refuses everything, as authsvc's breaker does for a
// second after an outage.
type openBreaker struct{ reports atomic.Int64 }

func (o *openBreaker) Allow() error         { return redisclient.ErrCoolingDown }
func (o *openBreaker) ReportResult(_ error) { o.reports.Add(1) }

// proxy forwards TCP to Redis and can silence the connections that subscribed: they stay open
// but carry nothing either way, as a partitioned network would.
type proxy struct {
	ln net.Listener
	to string
	wg sync.WaitGroup

	mu    sync.Mutex
	pipes []*pipe
}

type pipe struct {
	client, server net.Conn
	subscribed     atomic.Bool // the client sent SUBSCRIBE
	silent         atomic.Bool
}

func startProxy(t *testing.T, to string) *proxy {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, to: to}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, pp := range p.pipes {
			_ = pp.client.Close()
			_ = pp.server.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.to)
		if err != nil {
			_ = c.Close()
			continue
		}
		pp := &pipe{client: c, server: s}
		p.mu.Lock()
		p.pipes = append(p.pipes, pp)
		p.mu.Unlock()
		p.wg.Go(func() { pp.copy(s, c, true) })
		p.wg.Go(func() { pp.copy(c, s, false) })
	}
}

// copy forwards src to dst until either closes, dropping everything once the pipe is silent.
func (pp *pipe) copy(dst, src net.Conn, fromClient bool) {
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if fromClient && bytes.Contains(bytes.ToLower(buf[:n]), []byte("subscribe")) {
			pp.subscribed.Store(true)
		}
		if pp.silent.Load() {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (p *proxy) silenceSubscriptions() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pp := range p.pipes {
		if pp.subscribed.Load() {
			pp.silent.Store(true)
		}
	}
}
