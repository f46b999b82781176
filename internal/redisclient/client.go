package redisclient

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Settings of the clients. The request path's timeouts follow the operation budget
// (Conf.Timeout, AUTHSVC_REDIS_TIMEOUT): admission control sits in front of every send and check,
// so a slow or dead Redis must cost that budget, not go-redis's default seconds.
const (
	// minDialTimeout is the request path's least dial timeout: a TLS handshake needs more than a
	// command. A dial is bounded by the operation's budget as well.
	minDialTimeout = 250 * time.Millisecond
	// Cooldown is how long the request path's client skips Redis after a connection failure.
	Cooldown = time.Second
	// subscriberDialTimeout bounds the subscription client's dial.
	subscriberDialTimeout = 500 * time.Millisecond
	// ReadyTimeout bounds the readiness PING; the dial and I/O timeouts normally end it sooner.
	ReadyTimeout = time.Second
)

// ErrCoolingDown is returned without contacting Redis for Cooldown after a connection failure.
var ErrCoolingDown = errors.New("redis: cooling down after a failure")

// Options are what Open needs besides the configuration.
type Options struct {
	// Now is the circuit breaker's clock; nil means time.Now. Tests pass a clock they move.
	Now func() time.Time
}

// Client is an open Redis deployment: the request path's client and the subscription's.
type Client struct {
	rdb, sub redis.UniversalClient
	timeout  time.Duration
}

// Open builds the clients for c (see the package documentation). It does not touch the network.
func Open(c Conf, o Options) (*Client, error) {
	if c.target == nil {
		return nil, errors.New("redisclient: no Redis URL configured")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	newBreaker := func() redis.Hook { return &breaker{now: o.Now, cooldown: Cooldown} }
	t := c.target
	requestPath := requestPathTimeouts(c.Timeout())
	var cl Client
	cl.timeout = c.Timeout()
	switch t.topology {
	case Cluster:
		rdb := redis.NewClusterClient(clusterOptions(*t.cluster, requestPath))
		// Per node: the cluster client routes each command to one node, and one node's outage
		// must not turn the others away.
		rdb.OnNewNode(func(node *redis.Client) { node.AddHook(newBreaker()) })
		cl.rdb = rdb
		cl.sub = redis.NewClusterClient(clusterOptions(*t.cluster, subscription))
	case Sentinel:
		cl.rdb = newFailover(failoverOptions(*t.sentinel, requestPath))
		cl.rdb.AddHook(newBreaker())
		cl.sub = newFailover(failoverOptions(*t.sentinel, subscription))
	default:
		cl.rdb = redis.NewClient(serverOptions(*t.server, requestPath))
		cl.rdb.AddHook(newBreaker())
		cl.sub = redis.NewClient(serverOptions(*t.server, subscription))
	}
	return &cl, nil
}

// OpenURL is SetURL and Open: a client for one URL (tests, benchmarks).
func OpenURL(raw string, o Options) (*Client, error) {
	var c Conf
	if err := c.SetURL(raw); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvURL, err)
	}
	return Open(c, o)
}

// newFailover builds a Sentinel client. go-redis routes reads to replicas only through its
// cluster-shaped failover client, which NewFailoverClient refuses (it panics) for the routing
// options; both are UniversalClients.
func newFailover(o *redis.FailoverOptions) redis.UniversalClient {
	if o.RouteByLatency || o.RouteRandomly {
		return redis.NewFailoverClusterClient(o)
	}
	return redis.NewFailoverClient(o)
}

// Redis is the request path's client (admission budgets, idempotency records, revocation
// lookups), with the circuit breaker.
func (c *Client) Redis() redis.UniversalClient { return c.rdb }

// Timeout is one request-path operation's budget (Conf.Timeout): the stores on Redis() bound each
// operation by it.
func (c *Client) Timeout() time.Duration { return c.timeout }

// Subscriber is the client of the revocation list's subscription: same deployment, no breaker.
func (c *Client) Subscriber() redis.UniversalClient { return c.sub }

// Ping is the readiness probe: nil when Redis answers within ReadyTimeout. It goes through the
// breaker, so a Redis known to be down is reported at once.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	return c.rdb.Ping(ctx).Err()
}

// Close closes both clients. Whatever uses them (the revocation list's subscription) must be
// closed first.
func (c *Client) Close() error {
	return errors.Join(c.sub.Close(), c.rdb.Close())
}

// timeouts are the client settings Open decides, whatever the URL said; each topology's options
// have them under the same names.
type timeouts struct {
	dial, read, write, pool time.Duration
	dialerRetries           int
	maxRetries              int
	contextTimeout          bool
}

// requestPathTimeouts are the request path's settings for an operation budget op: reads, writes
// and waits for a pooled connection take two thirds of it (150 ms → 100 ms), so that a slow answer
// fails inside the budget with go-redis's own error; the dial at least minDialTimeout; no command
// retries (a retry would spend the budget twice); the caller's context bounds it all.
func requestPathTimeouts(op time.Duration) timeouts {
	io := op * 2 / 3
	return timeouts{dial: max(minDialTimeout, op), read: io, write: io, pool: io, dialerRetries: 1, maxRetries: -1, contextTimeout: true}
}

// subscription keeps go-redis's I/O defaults: the subscription sets its own receive deadline and
// retries itself (the loop in internal/revocation).
var subscription = timeouts{dial: subscriberDialTimeout, dialerRetries: 1, maxRetries: -1}

// serverOptions, clusterOptions and failoverOptions apply t to a copy of the parsed options, so
// that the two clients of one URL never share them.
func serverOptions(o redis.Options, t timeouts) *redis.Options {
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = t.dial, t.read, t.write, t.pool
	o.DialerRetries, o.MaxRetries, o.ContextTimeoutEnabled = t.dialerRetries, t.maxRetries, t.contextTimeout
	return &o
}

func clusterOptions(o redis.ClusterOptions, t timeouts) *redis.ClusterOptions {
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = t.dial, t.read, t.write, t.pool
	o.DialerRetries, o.MaxRetries, o.ContextTimeoutEnabled = t.dialerRetries, t.maxRetries, t.contextTimeout
	return &o
}

func failoverOptions(o redis.FailoverOptions, t timeouts) *redis.FailoverOptions {
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = t.dial, t.read, t.write, t.pool
	o.DialerRetries, o.MaxRetries, o.ContextTimeoutEnabled = t.dialerRetries, t.maxRetries, t.contextTimeout
	return &o
}

// breaker is a minimal circuit breaker as a go-redis hook. Hand-written because it is a dozen
// lines on go-redis's own extension point; a breaker library would add a dependency for less
// control over which errors count (a Redis error reply or a cancelled caller is not an outage). A
// hook rather than go-redis's Limiter option, which Sentinel clients do not take.
type breaker struct {
	now       func() time.Time
	cooldown  time.Duration
	openUntil atomic.Int64 // unix nanoseconds
}

func (b *breaker) allow() error {
	if b.now().UnixNano() < b.openUntil.Load() {
		return ErrCoolingDown
	}
	return nil
}

func (b *breaker) report(err error) {
	if isOutage(err) {
		b.openUntil.Store(b.now().Add(b.cooldown).UnixNano())
	}
}

// DialHook implements redis.Hook: dials happen inside commands, whose result counts.
func (*breaker) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (b *breaker) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := b.allow(); err != nil {
			cmd.SetErr(err)
			return err
		}
		err := next(ctx, cmd)
		b.report(err)
		return err
	}
}

// ProcessPipelineHook implements redis.Hook (pipelines and transactions).
func (b *breaker) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if err := b.allow(); err != nil {
			for _, cmd := range cmds {
				cmd.SetErr(err)
			}
			return err
		}
		err := next(ctx, cmds)
		b.report(err)
		return err
	}
}

// isOutage tells connection trouble (refused, reset, timed out) from answers: a nil reply, an
// error reply from the server, or the caller giving up.
func isOutage(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var reply redis.Error
	return !errors.As(err, &reply)
}
