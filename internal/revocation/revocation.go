package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
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
	// memberKeyPrefix keys member revocations; member IDs and session IDs never collide, but
	// separate prefixes keep the two readable in Redis.
	memberKeyPrefix = "authsvc:revoked-member:"
	pruneEvery      = time.Minute
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

// List is the revocation list of sessions and members. It fits verify.VerifierConfig.IsRevoked
// and IsMemberRevoked, and service.Revocations.
type List struct {
	rdb      redis.UniversalClient
	now      func() time.Time
	recheck  time.Duration
	capacity int
	log      *slog.Logger
	logEvery *rate.Sometimes
	errs     metric.Int64Counter
	flight   singleflight.Group

	mu       sync.RWMutex
	sessions table // by session ID
	members  table // by member ID
}

// table is the local knowledge about one kind of subject (sessions or members), guarded by
// List.mu.
type table struct {
	redisPrefix string
	revoked     map[string]entry     // subject -> revocation
	clean       map[string]time.Time // subject -> when Redis said "not revoked"
	pruneAt     time.Time
}

// entry revokes the subject's tokens issued before at, until until (when the last of them has
// expired). A session revocation has at == until: every token of the session.
type entry struct{ at, until time.Time }

func newTable(redisPrefix string) table {
	return table{redisPrefix: redisPrefix, revoked: make(map[string]entry), clean: make(map[string]time.Time)}
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
		sessions: newTable(keyPrefix),
		members:  newTable(memberKeyPrefix),
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
	l.put(ctx, &l.sessions, sessionID, entry{at: until, until: until})
}

// RevokeMember revokes every session JWT of memberID issued before at (by its iat), until the
// given time (when the last such JWT has expired). Sessions the member starts afterwards are not
// affected; at == until revokes every JWT of the member until then (a deleted member). Like
// Revoke it records locally first.
func (l *List) RevokeMember(ctx context.Context, memberID string, at, until time.Time) {
	l.put(ctx, &l.members, memberID, entry{at: at, until: until})
}

func (l *List) put(ctx context.Context, t *table, subject string, e entry) {
	now := l.now()
	if subject == "" || !e.until.After(now) {
		return
	}
	l.remember(t, subject, e, now)
	if l.rdb == nil {
		return
	}
	// The Stytch revocation already happened; a caller hanging up must not skip recording it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisTimeout)
	defer cancel()
	err := l.rdb.Set(ctx, t.redisPrefix+subject, encodeEntry(e), e.until.Sub(now)).Err()
	if err != nil {
		l.failed(ctx, "revoke", err)
	}
}

// IsRevoked reports whether sessionID is revoked. It is on the hot path of every local session
// verification: a local answer costs a map lookup; only a session this replica knows nothing
// recent about costs a Redis GET (shared by concurrent callers).
func (l *List) IsRevoked(ctx context.Context, sessionID string) bool {
	_, ok := l.lookup(ctx, &l.sessions, sessionID)
	return ok
}

// IsMemberRevoked reports whether a session JWT of memberID issued at issuedAt is revoked by a
// RevokeMember. It fits verify.VerifierConfig.IsMemberRevoked and costs what IsRevoked costs.
func (l *List) IsMemberRevoked(ctx context.Context, memberID string, issuedAt time.Time) bool {
	e, ok := l.lookup(ctx, &l.members, memberID)
	return ok && issuedAt.Before(e.at)
}

// lookup returns the live revocation of subject, from local knowledge or, when this replica knows
// nothing recent, from Redis.
func (l *List) lookup(ctx context.Context, t *table, subject string) (entry, bool) {
	now := l.now()
	l.mu.RLock()
	e, revoked := t.revoked[subject]
	checked, clean := t.clean[subject]
	l.mu.RUnlock()
	if revoked && now.Before(e.until) {
		return e, true
	}
	if l.rdb == nil || subject == "" || (clean && now.Sub(checked) < l.recheck) {
		return entry{}, false
	}
	v, _, _ := l.flight.Do(t.redisPrefix+subject, func() (any, error) {
		e, ok := l.fetch(ctx, t, subject)
		return fetched{e, ok}, nil
	})
	f := v.(fetched)
	return f.e, f.ok
}

type fetched struct {
	e  entry
	ok bool
}

// fetch asks Redis and caches the answer locally.
func (l *List) fetch(ctx context.Context, t *table, subject string) (entry, bool) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	s, err := l.rdb.Get(ctx, t.redisPrefix+subject).Result()
	now := l.now()
	switch {
	case errors.Is(err, redis.Nil):
		l.mu.Lock()
		if len(t.clean) >= l.capacity {
			clear(t.clean) // every entry is at most RecheckAfter from being stale anyway
		}
		t.clean[subject] = now
		l.mu.Unlock()
		return entry{}, false
	case err != nil:
		l.failed(ctx, "check", err)
		return entry{}, false
	}
	e, err := decodeEntry(s)
	if err != nil {
		l.failed(ctx, "check", fmt.Errorf("malformed entry: %w", err))
		return entry{}, false
	}
	if !now.Before(e.until) {
		return entry{}, false
	}
	l.remember(t, subject, e, now)
	return e, true
}

// encodeEntry writes until in Unix milliseconds, and ":at" only when at differs (a member
// revocation); a session entry keeps the plain form older replicas read.
func encodeEntry(e entry) string {
	s := strconv.FormatInt(e.until.UnixMilli(), 10)
	if !e.at.Equal(e.until) {
		s += ":" + strconv.FormatInt(e.at.UnixMilli(), 10)
	}
	return s
}

func decodeEntry(s string) (entry, error) {
	untilText, atText, hasAt := strings.Cut(s, ":")
	until, err := strconv.ParseInt(untilText, 10, 64)
	if err != nil {
		return entry{}, err
	}
	e := entry{at: time.UnixMilli(until), until: time.UnixMilli(until)}
	if hasAt {
		at, err := strconv.ParseInt(atText, 10, 64)
		if err != nil {
			return entry{}, err
		}
		e.at = time.UnixMilli(at)
	}
	return e, nil
}

func (l *List) remember(t *table, subject string, e entry, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !now.Before(t.pruneAt) || len(t.revoked) >= l.capacity {
		for id, old := range t.revoked {
			if !now.Before(old.until) {
				delete(t.revoked, id)
			}
		}
		t.pruneAt = now.Add(pruneEvery)
	}
	if old, ok := t.revoked[subject]; ok && now.Before(old.until) {
		// Two revocations of one subject: the later cut-off and the later end both hold.
		if old.at.After(e.at) {
			e.at = old.at
		}
		if old.until.After(e.until) {
			e.until = old.until
		}
	}
	t.revoked[subject] = e
	delete(t.clean, subject)
}

func (l *List) failed(ctx context.Context, op string, err error) {
	l.errs.Add(ctx, 1, metric.WithAttributes(attribute.String("op", op)))
	l.logEvery.Do(func() {
		l.log.WarnContext(ctx, "revocation list: Redis unavailable; answering from local knowledge (logged at most every 10s)",
			"op", op, "error", err.Error())
	})
}
