package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/redisclient"
	"github.com/authsvc/authsvc/internal/revocation"
	"github.com/authsvc/authsvc/internal/telemetry"
)

// sharedState is the state replicas share when AUTHSVC_REDIS_URL is set (budgets, idempotency
// records, revoked sessions) and keep per replica otherwise.
type sharedState struct {
	redis       *redisclient.Client // nil without AUTHSVC_REDIS_URL
	revocations *revocation.List
	now         func() time.Time
}

// openShared builds the Redis clients (lazily connected: an unreachable Redis does not stop
// startup) and the revocation list, which the verifier needs before the services exist.
func openShared(cfg *config.Config, now func() time.Time, tel *telemetry.Telemetry) (*sharedState, error) {
	s := &sharedState{now: now}
	var rdb, sub redis.UniversalClient
	var timeout time.Duration
	if cfg.Redis.Enabled() {
		var err error
		if s.redis, err = redisclient.Open(cfg.Redis, redisclient.Options{Now: now}); err != nil {
			return nil, fmt.Errorf("%s: %w", redisclient.EnvURL, err)
		}
		rdb, sub, timeout = s.redis.Redis(), s.redis.Subscriber(), s.redis.Timeout()
	}
	revs, err := revocation.New(revocation.Config{
		Redis:         rdb,
		Subscriber:    sub,
		RedisTimeout:  timeout,
		Now:           now,
		Logger:        tel.Logger.With("component", "revocation"),
		MeterProvider: tel.MeterProvider,
	})
	if err != nil {
		return nil, errors.Join(err, s.close())
	}
	s.revocations = revs
	return s, nil
}

// store is the request path's Redis client for the stores; nil without Redis.
func (s *sharedState) store() redis.UniversalClient {
	if s.redis == nil {
		return nil
	}
	return s.redis.Redis()
}

func (s *sharedState) close() error {
	if s == nil {
		return nil
	}
	var errs []error
	if s.revocations != nil {
		errs = append(errs, s.revocations.Close()) // before the clients it uses
	}
	if s.redis != nil {
		errs = append(errs, s.redis.Close())
	}
	return errors.Join(errs...)
}
