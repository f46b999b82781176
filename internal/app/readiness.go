package app

import (
	"context"
	"fmt"
	"time"

	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/server"
)

// redisReadyTimeout bounds the readiness PING; the client's own dial and I/O timeouts (a few hundred
// milliseconds, internal/admission) normally end it sooner.
const redisReadyTimeout = time.Second

// redisReadiness is the Redis part of /readyz: nil without AUTHSVC_REDIS_URL or with Redis
// answering. With Redis down it is an error (not ready) when the policy requires Redis, and a
// server.Degraded (ready, and the body says why) otherwise; see redisRequired.
func redisReadiness(ctx context.Context, cfg *config.Config, ping func(context.Context) error) error {
	if ping == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, redisReadyTimeout)
	defer cancel()
	err := ping(ctx)
	if err == nil {
		return nil
	}
	if redisRequired(cfg) {
		return fmt.Errorf("redis unreachable and AUTHSVC_REDIS_FAIL_CHECKS=closed: %w", err)
	}
	return &server.Degraded{Reason: "redis unreachable: " + err.Error()}
}

// redisRequired: readiness fails on Redis only when code and token checks, the traffic authsvc
// exists for, are declared closed without it. Redis is shared by every replica, so a 503 for a Redis
// outage takes all of them out of the load balancer at once, and session verification (local, no
// Redis) stops with them. With the default policy (sends closed, checks local) a replica without
// Redis still verifies sessions and checks codes under per-replica limits, which is worth more than
// no replica at all. An operator who declared checks closed has said that without Redis there is
// nothing to serve.
func redisRequired(cfg *config.Config) bool { return cfg.Admission.RedisFailChecks == "closed" }

// redisPing is the readiness probe of the shared Redis client; nil without Redis.
func (s *sharedState) redisPing() func(context.Context) error {
	if s == nil || s.redis == nil {
		return nil
	}
	return func(ctx context.Context) error { return s.redis.Ping(ctx).Err() }
}
