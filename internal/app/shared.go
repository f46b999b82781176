package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/revocation"
	"github.com/authsvc/authsvc/internal/telemetry"
)

// sharedState is the state replicas share when AUTHSVC_REDIS_URL is set (budgets, idempotency
// records, revoked sessions) and keep per replica otherwise.
type sharedState struct {
	redis       *redis.Client // nil without AUTHSVC_REDIS_URL
	subscriber  *redis.Client // the revocation list's subscription's (no circuit breaker); nil likewise
	revocations *revocation.List
	now         func() time.Time
}

// openShared connects (lazily: an unreachable Redis does not stop startup) and builds the
// revocation list, which the verifier needs before the services exist.
func openShared(cfg *config.Config, now func() time.Time, tel *telemetry.Telemetry) (*sharedState, error) {
	s := &sharedState{now: now}
	if cfg.RedisURL != "" {
		var err error
		if s.redis, err = admission.NewRedisClient(cfg.RedisURL, now); err != nil {
			return nil, fmt.Errorf("AUTHSVC_REDIS_URL: %w", err)
		}
		if s.subscriber, err = revocation.NewSubscriberClient(cfg.RedisURL); err != nil {
			return nil, errors.Join(fmt.Errorf("AUTHSVC_REDIS_URL: %w", err), s.close())
		}
	}
	var rdb, sub redis.UniversalClient
	if s.redis != nil {
		rdb, sub = s.redis, s.subscriber
	}
	revs, err := revocation.New(revocation.Config{
		Redis:         rdb,
		Subscriber:    sub,
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

func (s *sharedState) close() error {
	if s == nil {
		return nil
	}
	var errs []error
	if s.revocations != nil {
		errs = append(errs, s.revocations.Close()) // before the clients it uses
	}
	if s.subscriber != nil {
		errs = append(errs, s.subscriber.Close())
	}
	if s.redis != nil {
		errs = append(errs, s.redis.Close())
	}
	return errors.Join(errs...)
}
