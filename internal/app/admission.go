package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/idempotency"
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

// admissionInterceptors returns, in order, idempotency keys (a replay spends no budget) and rate
// limits, both before any call to Stytch. They run after caller access, whose principal scopes
// idempotency keys and per-caller budgets.
func (a *App) admissionInterceptors(_ context.Context, cfg *config.Config, _ serviceDeps) ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor, error) {
	acfg := admission.Config{
		IPs:           admission.NewIPResolver(cfg.Admission.TrustedProxies),
		Caller:        callerIdentity,
		Now:           a.shared.now,
		Logger:        a.log.With("component", "admission"),
		Metrics:       a.tel.Auth,
		MeterProvider: a.tel.MeterProvider,
	}
	policy := admission.DefaultPolicy()
	var err error
	if policy.SendsOnStoreError, err = admission.ParseFailMode(cfg.Admission.RedisFailSends); err != nil {
		return nil, nil, fmt.Errorf("AUTHSVC_REDIS_FAIL_SENDS: %w", err)
	}
	if policy.ChecksOnStoreError, err = admission.ParseFailMode(cfg.Admission.RedisFailChecks); err != nil {
		return nil, nil, fmt.Errorf("AUTHSVC_REDIS_FAIL_CHECKS: %w", err)
	}
	if err := policy.Override(cfg.Admission.Limits); err != nil {
		return nil, nil, fmt.Errorf("AUTHSVC_ADMISSION_LIMITS: %w", err)
	}
	acfg.Policy = policy
	var idemStore idempotency.Store
	if a.shared.redis != nil {
		acfg.Store = admission.NewRedisStore(a.shared.redis)
		idemStore = idempotency.NewRedisStore(a.shared.redis)
	}
	ctl, err := admission.New(acfg)
	if err != nil {
		return nil, nil, err
	}
	idem, err := idempotency.New(idempotency.Config{
		Store:   idemStore,
		Applies: ctl.Idempotent,
		Caller:  callerIdentity,
		Now:     a.shared.now,
		Logger:  a.log.With("component", "idempotency"),
	})
	if err != nil {
		return nil, nil, err
	}
	unary := []grpc.UnaryServerInterceptor{idem.UnaryServerInterceptor()}
	if cfg.Admission.Off {
		a.log.Warn("AUTHSVC_ADMISSION=off: rate limits are disabled (load tests only)")
	} else {
		unary = append(unary, ctl.UnaryServerInterceptor())
	}
	// authsvc has no streaming RPCs of its own (health Watch is not limited).
	return unary, nil, nil
}

// callerIdentity names the authenticated caller for per-caller budgets and idempotency scopes.
func callerIdentity(ctx context.Context) string {
	p, ok := access.PrincipalFrom(ctx)
	if !ok {
		return ""
	}
	switch p.Kind {
	case access.KindMember:
		return "member:" + p.MemberID
	case access.KindService:
		return "service:" + p.ClientID
	default:
		return ""
	}
}
