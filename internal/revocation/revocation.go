package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/authsvc/authsvc/internal/telemetry"
)

const (
	// DefaultRecheckAfter is how long a "not revoked" answer from Redis is trusted locally.
	DefaultRecheckAfter = time.Second
	// DefaultCapacity bounds each local map (revoked sessions; recent "not revoked" answers).
	DefaultCapacity = 200_000
	// MetricStoreErrors counts Redis failures. Prometheus: authsvc_revocation_store_errors_total{op}.
	MetricStoreErrors = "authsvc.revocation.store_errors"

	redisTimeout = 150 * time.Millisecond
	keyPrefix    = "authsvc:revoked:"
	pruneEvery   = time.Minute
)

// Config builds a List.
type Config struct {
	// Redis shares the list between replicas; nil keeps it in memory.
	Redis redis.UniversalClient
	// Now is the clock; give it the verifier's. Nil means time.Now.
	Now func() time.Time
	// RecheckAfter is how long a "not revoked" answer from Redis is trusted; zero means
	// DefaultRecheckAfter, negative asks Redis on every check of an unknown session.
	RecheckAfter time.Duration
	// Capacity bounds each local map; zero means DefaultCapacity.
	Capacity int
	// Logger receives Redis failures, at most one line per 10 s; nil discards.
	Logger *slog.Logger
	// MeterProvider creates the store-error counter; nil counts nothing.
	MeterProvider metric.MeterProvider
}

// List is the revocation list. It fits verify.VerifierConfig.IsRevoked and service.Revocations.
type List struct {
	rdb      redis.UniversalClient
	now      func() time.Time
	recheck  time.Duration
	capacity int
	log      *slog.Logger
	logEvery *rate.Sometimes
	errs     metric.Int64Counter
	flight   singleflight.Group

	mu      sync.RWMutex
	revoked map[string]time.Time // session ID -> revoked until
	clean   map[string]time.Time // session ID -> when Redis said "not revoked"
	pruneAt time.Time
}

// New returns an empty list.
func New(cfg Config) (*List, error) {
	l := &List{
		rdb:      cfg.Redis,
		now:      cfg.Now,
		recheck:  cfg.RecheckAfter,
		capacity: cfg.Capacity,
		log:      cfg.Logger,
		logEvery: &rate.Sometimes{Interval: 10 * time.Second},
		revoked:  make(map[string]time.Time),
		clean:    make(map[string]time.Time),
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.recheck == 0 {
		l.recheck = DefaultRecheckAfter
	}
	if l.capacity <= 0 {
		l.capacity = DefaultCapacity
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	mp := cfg.MeterProvider
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	var err error
	if l.errs, err = mp.Meter(telemetry.ScopeName).Int64Counter(MetricStoreErrors,
		metric.WithUnit("{error}"),
		metric.WithDescription("Revocation list operations Redis could not answer (the list then answers from local knowledge)."),
	); err != nil {
		return nil, fmt.Errorf("revocation: %s: %w", MetricStoreErrors, err)
	}
	return l, nil
}

// Revoke remembers sessionID as revoked until the given time (when its last JWT has expired). It
// records locally first, so this replica rejects the session even if Redis fails.
func (l *List) Revoke(ctx context.Context, sessionID string, until time.Time) {
	now := l.now()
	if sessionID == "" || !until.After(now) {
		return
	}
	l.remember(sessionID, until, now)
	if l.rdb == nil {
		return
	}
	// The Stytch revocation already happened; a caller hanging up must not skip recording it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisTimeout)
	defer cancel()
	err := l.rdb.Set(ctx, keyPrefix+sessionID, strconv.FormatInt(until.UnixMilli(), 10), until.Sub(now)).Err()
	if err != nil {
		l.failed(ctx, "revoke", err)
	}
}

// IsRevoked reports whether sessionID is revoked. It is on the hot path of every local session
// verification: a local answer costs a map lookup; only a session this replica knows nothing
// recent about costs a Redis GET (shared by concurrent callers).
func (l *List) IsRevoked(ctx context.Context, sessionID string) bool {
	now := l.now()
	l.mu.RLock()
	until, revoked := l.revoked[sessionID]
	checked, clean := l.clean[sessionID]
	l.mu.RUnlock()
	if revoked && now.Before(until) {
		return true
	}
	if l.rdb == nil || (clean && now.Sub(checked) < l.recheck) {
		return false
	}
	v, _, _ := l.flight.Do(sessionID, func() (any, error) {
		return l.fetch(ctx, sessionID), nil
	})
	return v.(bool)
}

// fetch asks Redis and caches the answer locally.
func (l *List) fetch(ctx context.Context, sessionID string) bool {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	s, err := l.rdb.Get(ctx, keyPrefix+sessionID).Result()
	now := l.now()
	switch {
	case errors.Is(err, redis.Nil):
		l.mu.Lock()
		if len(l.clean) >= l.capacity {
			clear(l.clean) // every entry is at most RecheckAfter from being stale anyway
		}
		l.clean[sessionID] = now
		l.mu.Unlock()
		return false
	case err != nil:
		l.failed(ctx, "check", err)
		return false
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		l.failed(ctx, "check", fmt.Errorf("malformed entry: %w", err))
		return false
	}
	until := time.UnixMilli(ms)
	if !now.Before(until) {
		return false
	}
	l.remember(sessionID, until, now)
	return true
}

func (l *List) remember(sessionID string, until, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !now.Before(l.pruneAt) || len(l.revoked) >= l.capacity {
		for id, u := range l.revoked {
			if !now.Before(u) {
				delete(l.revoked, id)
			}
		}
		l.pruneAt = now.Add(pruneEvery)
	}
	if u, ok := l.revoked[sessionID]; !ok || until.After(u) {
		l.revoked[sessionID] = until
	}
	delete(l.clean, sessionID)
}

func (l *List) failed(ctx context.Context, op string, err error) {
	l.errs.Add(ctx, 1, metric.WithAttributes(attribute.String("op", op)))
	l.logEvery.Do(func() {
		l.log.WarnContext(ctx, "revocation list: Redis unavailable; answering from local knowledge (logged at most every 10s)",
			"op", op, "error", err.Error())
	})
}
