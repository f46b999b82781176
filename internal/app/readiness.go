package app

import (
	"context"
	"fmt"

	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/server"
)

// redisReadiness is the Redis part of /readyz: nil without AUTHSVC_REDIS_URL or with Redis
// answering. With Redis down it is an error (not ready) when the policy requires Redis, and a
// server.Degraded (ready, and the body says why) otherwise; see redisRequired.
func redisReadiness(ctx context.Context, cfg *config.Config, ping func(context.Context) error) error {
	if ping == nil {
		return nil
	}
	err := ping(ctx)
	if err == nil {
		return nil
	}
	if redisRequired(cfg) {
		return fmt.Errorf("redis unreachable and %s=closed: %w", admission.EnvFailChecks, err)
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
func redisRequired(cfg *config.Config) bool {
	return cfg.Admission.Policy.ChecksOnStoreError == admission.FailClosed
}

// redisPing is the readiness probe of the shared Redis client (bounded by
// redisclient.ReadyTimeout); nil without Redis.
func (s *sharedState) redisPing() func(context.Context) error {
	if s == nil || s.redis == nil {
		return nil
	}
	return s.redis.Ping
}
