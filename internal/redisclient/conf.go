package redisclient

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/config/setting"
)

// EnvURL is the variable that names the Redis deployment.
const EnvURL = "AUTHSVC_REDIS_URL"

// Topology is the kind of Redis deployment a URL names.
type Topology string

// The deployments AUTHSVC_REDIS_URL can name.
const (
	// Server is one Redis server (or a proxy or managed endpoint that looks like one).
	Server Topology = "server"
	// Cluster is a Redis Cluster, reached through seed nodes.
	Cluster Topology = "cluster"
	// Sentinel is a primary that Redis Sentinel watches and fails over.
	Sentinel Topology = "sentinel"
)

// URL schemes besides redis:// and rediss://. go-redis reads one URL form per topology (ParseURL,
// ParseClusterURL, ParseFailoverURL) but all three with the redis:// scheme; the suffix says which
// one an operator means, since a URL with one seed address could be any of the three.
const (
	clusterSuffix  = "+cluster"
	sentinelSuffix = "+sentinel"
)

// Conf is the Redis section of the configuration: AUTHSVC_REDIS_URL, parsed once. The zero value
// means no Redis: shared state stays in each replica's memory. It never holds the URL as text,
// so that printing a configuration cannot print a password.
type Conf struct {
	target *target
	// timeout is one request-path operation's budget (AUTHSVC_REDIS_TIMEOUT); zero means
	// DefaultTimeout.
	timeout time.Duration
}

// EnvTimeout is the variable that sets one request-path Redis operation's budget.
const EnvTimeout = "AUTHSVC_REDIS_TIMEOUT"

// DefaultTimeout is one request-path Redis operation's budget, dial included (an admission
// budget, an idempotency record, a revocation lookup): Redis on the same network answers in about a
// millisecond, and admission sits in front of every send and check, so a slow or dead Redis must
// cost milliseconds. Raise it (AUTHSVC_REDIS_TIMEOUT) for a Redis farther away; MinTimeout and
// MaxTimeout bound it.
const (
	DefaultTimeout = 150 * time.Millisecond
	MinTimeout     = 10 * time.Millisecond
	MaxTimeout     = 10 * time.Second
)

// target is a parsed URL: exactly one of the options is set, per topology.
type target struct {
	topology Topology
	server   *redis.Options
	cluster  *redis.ClusterOptions
	sentinel *redis.FailoverOptions
}

// Key implements setting.Section.
func (*Conf) Key() string { return "redis" }

// Vars implements setting.Section.
func (c *Conf) Vars() []setting.Var {
	return []setting.Var{{
		Env:   EnvURL,
		Flag:  "redis-url",
		Usage: "Redis URL for state shared between replicas (redis://host:6379/0; redis+cluster:// and redis+sentinel:// for Cluster and Sentinel)",
		// A URL can carry passwords, in its user part and (Sentinel) in its query.
		Redact: redactURL,
		Set:    c.SetURL,
	}, {
		Env:     EnvTimeout,
		Flag:    "redis-timeout",
		Usage:   "budget of one Redis operation on the request path, connecting included (rate-limit budgets, idempotency records, revocation lookups); the client's read and write timeouts are two thirds of it",
		Default: DefaultTimeout.String(),
		Set:     c.SetTimeout,
	}}
}

// SetTimeout parses AUTHSVC_REDIS_TIMEOUT, a Go duration between MinTimeout and MaxTimeout.
func (c *Conf) SetTimeout(raw string) error {
	d, err := time.ParseDuration(raw)
	if err != nil {
		return fmt.Errorf("not a duration (e.g. 150ms, 1s): %q", raw)
	}
	if d < MinTimeout || d > MaxTimeout {
		return fmt.Errorf("%s is outside %s..%s", d, MinTimeout, MaxTimeout)
	}
	c.timeout = d
	return nil
}

// Timeout is one request-path operation's budget: the stores bound each operation by it.
func (c Conf) Timeout() time.Duration {
	if c.timeout == 0 {
		return DefaultTimeout
	}
	return c.timeout
}

// SetDefaults implements setting.Section: no Redis, DefaultTimeout.
func (c *Conf) SetDefaults() { c.target, c.timeout = nil, DefaultTimeout }

// Validate implements setting.Section. A Conf is only ever filled by SetURL, which refuses what
// it cannot use, so there is nothing left to check.
func (*Conf) Validate() error { return nil }

// Enabled reports whether a Redis deployment is configured.
func (c Conf) Enabled() bool { return c.target != nil }

// Topology is the kind of deployment configured; empty without Redis.
func (c Conf) Topology() Topology {
	if c.target == nil {
		return ""
	}
	return c.target.topology
}

// SetURL parses raw with go-redis's parser for its topology; empty means no Redis. The forms:
//
//	redis://[user:password@]host[:port][/db]       one server (rediss:// for TLS), redis.ParseURL
//	redis+cluster://[user:password@]host[:port]?addr=host2:port&addr=...
//	                                               Redis Cluster, the seed nodes (rediss+cluster://
//	                                               for TLS), redis.ParseClusterURL
//	redis+sentinel://[user:password@]host:port[/db]?master_name=NAME&addr=host2:port&...
//	                                               Sentinel: host:port and each addr are Sentinels,
//	                                               user:password@ authenticates to them, and the
//	                                               username= and password= parameters to the
//	                                               primary (rediss+sentinel:// for TLS),
//	                                               redis.ParseFailoverURL
//
// The port defaults to 6379 (give a Sentinel's, usually 26379). Other query parameters are
// go-redis's (client_name, pool_size, ...); Open sets the timeouts (from AUTHSVC_REDIS_TIMEOUT) and
// retries itself. Errors never
// quote the URL: it may hold a password.
func (c *Conf) SetURL(raw string) error {
	if raw == "" {
		c.target = nil
		return nil
	}
	t, err := parseURL(raw)
	if err != nil {
		return err
	}
	c.target = t
	return nil
}

func parseURL(raw string) (*target, error) {
	u, err := url.Parse(raw)
	// url.Parse's error quotes the URL, password included: say what is wrong without it.
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("not a redis:// or rediss:// URL with a host")
	}
	base, topology := u.Scheme, Server
	if b, ok := strings.CutSuffix(base, clusterSuffix); ok {
		base, topology = b, Cluster
	} else if b, ok := strings.CutSuffix(base, sentinelSuffix); ok {
		base, topology = b, Sentinel
	}
	if base != "redis" && base != "rediss" {
		return nil, errors.New("not a redis:// or rediss:// URL with a host (redis+cluster:// and redis+sentinel:// name a Cluster and a Sentinel)")
	}
	plain := *u
	plain.Scheme = base
	t := &target{topology: topology}
	switch topology {
	case Server:
		t.server, err = redis.ParseURL(plain.String())
	case Cluster:
		t.cluster, err = redis.ParseClusterURL(plain.String())
	case Sentinel:
		t.sentinel, err = redis.ParseFailoverURL(plain.String())
		if err == nil && t.sentinel.MasterName == "" {
			err = errors.New("a redis+sentinel:// URL needs master_name=, the name the Sentinels know the primary by")
		}
	}
	if err != nil {
		// go-redis's messages name the part at fault (scheme, database, option names), not the
		// credentials.
		return nil, fmt.Errorf("%s URL: %w", topology, err)
	}
	return t, nil
}

// redactURL is how -help shows AUTHSVC_REDIS_URL: the user part's password and the value of every
// query parameter whose name holds "password" (Sentinel's password=, for the primary) become
// "xxxxx"; text that does not parse as a URL is not shown at all.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return setting.Hidden(raw)
	}
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}
