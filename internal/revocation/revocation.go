package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/authsvc/authsvc/internal/telemetry"
)

const (
	// DefaultRecheckAfter is how long a "not revoked" answer from Redis is trusted locally while
	// this replica is not subscribed to revocations (starting, or Redis unreachable).
	DefaultRecheckAfter = time.Second
	// DefaultSubscribedRecheckAfter is how long a "not revoked" answer from Redis is trusted while
	// this replica is subscribed: every revocation then arrives as a message, so the answer only
	// backs up a message lost in a way the subscription cannot notice.
	DefaultSubscribedRecheckAfter = 30 * time.Second
	// DefaultCapacity bounds each local map (revoked sessions; recent "not revoked" answers).
	DefaultCapacity = 200_000
	// MetricStoreErrors counts Redis failures, by op: revoke, revoke_retry (a revocation Redis did
	// not take, written again in the background until it does), check, subscribe (the subscription
	// to revocations broke or could not be made) and message (a message that could not be read).
	// Prometheus: authsvc_revocation_store_errors_total{op}.
	MetricStoreErrors = "authsvc.revocation.store_errors"

	// DefaultRedisTimeout bounds one Redis operation when Config.RedisTimeout is zero.
	DefaultRedisTimeout = 150 * time.Millisecond
	keyPrefix           = "authsvc:revoked:"
	// memberKeyPrefix keys member revocations; member IDs and session IDs never collide, but
	// separate prefixes keep the two readable in Redis.
	memberKeyPrefix = "authsvc:revoked-member:"
	pruneEvery      = time.Minute
)

// Config builds a List.
type Config struct {
	// Redis shares the list between replicas; nil keeps it in memory.
	Redis redis.UniversalClient
	// Subscriber is the client the subscription to revocations connects with (on the same Redis);
	// nil means Redis. authsvc passes internal/redisclient's Subscriber, which has no circuit
	// breaker: the request path's breaker must neither hold the subscription back, which has its
	// own backoff, nor be opened by a slow handshake on this background connection, which would
	// refuse sends for a second.
	Subscriber redis.UniversalClient
	// Now is the clock; give it the verifier's. Nil means time.Now.
	Now func() time.Time
	// RecheckAfter is how long a "not revoked" answer from Redis is trusted while the replica is
	// not subscribed to revocations; zero means DefaultRecheckAfter, negative asks Redis on every
	// check of an unknown session.
	RecheckAfter time.Duration
	// SubscribedRecheckAfter is how long a "not revoked" answer from Redis is trusted while the
	// replica is subscribed; zero means DefaultSubscribedRecheckAfter, negative asks Redis on every
	// check of an unknown session.
	SubscribedRecheckAfter time.Duration
	// RedisTimeout bounds one Redis operation (a lookup, a write); zero means
	// DefaultRedisTimeout. authsvc passes internal/redisclient's Timeout (AUTHSVC_REDIS_TIMEOUT).
	RedisTimeout time.Duration
	// Capacity bounds each local map; zero means DefaultCapacity.
	Capacity int
	// Logger receives Redis failures, at most one line per 10 s, and the subscription coming back;
	// nil discards.
	Logger *slog.Logger
	// MeterProvider creates the store-error counter; nil counts nothing.
	MeterProvider metric.MeterProvider
}

// List is the revocation list of sessions and members. It fits verify.VerifierConfig.IsRevoked
// and IsMemberRevoked, and service.Revocations. With Redis, Close ends its subscription.
type List struct {
	rdb          redis.UniversalClient
	now          func() time.Time
	recheck      time.Duration
	subRecheck   time.Duration
	capacity     int
	redisTimeout time.Duration
	log          *slog.Logger
	logEvery     *rate.Sometimes
	errs         metric.Int64Counter
	flight       singleflight.Group
	hooks        hooks
	sub          *subscription // nil without Redis
	retry        *retrier      // nil without Redis
	isSubscribed atomic.Bool   // the subscription is confirmed and has not failed since

	mu       sync.RWMutex
	sessions table // by session ID
	members  table // by member ID
	// gen counts the times cached "not revoked" answers were dropped; a lookup that started before
	// a drop must not cache what Redis told it, which may predate a message this replica missed.
	gen uint64
}

// hooks let tests observe the subscription; both are nil in production.
type hooks struct {
	applied    func(subject string) // a message was applied (its revocation is visible)
	subscribed func()               // a subscription was confirmed and cached answers dropped
}

// table is the local knowledge about one kind of subject (sessions or members), guarded by
// List.mu.
//
// revoked is a plain map, written by hand, because it is no cache: an entry must hold until its
// JWTs have expired (pruned then), this replica's own revocations are never dropped, and a learned
// one that finds the table full is refused rather than pushing an older one out (see remember). An
// LRU would silently un-revoke sessions. clean, the "not revoked" answers, is a cache: a dropped
// answer costs one Redis GET, so it is golang-lru's LRU. Its simplelru is not thread-safe: it is
// read with Peek under List.mu's read lock (Peek only reads, which is how golang-lru's own
// thread-safe Cache calls it) and written under the write lock.
type table struct {
	kind        byte // in messages: kindSession or kindMember
	redisPrefix string
	revoked     map[string]entry                  // subject -> revocation
	clean       *simplelru.LRU[string, time.Time] // subject -> when Redis said "not revoked"
	pruneAt     time.Time
}

// entry revokes the subject's tokens issued before at, until until (when the last of them has
// expired). A session revocation has at == until: every token of the session.
type entry struct{ at, until time.Time }

func newTable(kind byte, redisPrefix string, capacity int) table {
	// simplelru.NewLRU fails only for a size below 1, which capacity cannot be.
	clean, _ := simplelru.NewLRU[string, time.Time](capacity, nil)
	return table{kind: kind, redisPrefix: redisPrefix, revoked: make(map[string]entry), clean: clean}
}

// New returns an empty list. With Redis it subscribes to revocations in the background (an
// unreachable Redis does not delay it); Close ends the subscription.
func New(cfg Config) (*List, error) { return newList(cfg, hooks{}) }

func newList(cfg Config, h hooks) (*List, error) {
	l := &List{
		rdb:          cfg.Redis,
		now:          cfg.Now,
		recheck:      cfg.RecheckAfter,
		subRecheck:   cfg.SubscribedRecheckAfter,
		capacity:     cfg.Capacity,
		redisTimeout: cfg.RedisTimeout,
		log:          cfg.Logger,
		logEvery:     &rate.Sometimes{Interval: 10 * time.Second},
		hooks:        h,
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.recheck == 0 {
		l.recheck = DefaultRecheckAfter
	}
	if l.subRecheck == 0 {
		l.subRecheck = DefaultSubscribedRecheckAfter
	}
	if l.capacity <= 0 {
		l.capacity = DefaultCapacity
	}
	if l.redisTimeout <= 0 {
		l.redisTimeout = DefaultRedisTimeout
	}
	l.sessions = newTable(kindSession, keyPrefix, l.capacity)
	l.members = newTable(kindMember, memberKeyPrefix, l.capacity)
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
	if l.rdb != nil {
		l.retry = newRetrier()
		sub := cfg.Subscriber
		if sub == nil {
			sub = l.rdb
		}
		l.subscribe(sub)
	}
	return l, nil
}

// Revoke remembers sessionID as revoked until the given time (when its last JWT has expired). It
// records locally first, so this replica rejects the session even if Redis fails, then in Redis
// and, in the same transaction, tells the other replicas. A write Redis does not take is retried
// in the background until it does or the revocation lapses (retry.go).
func (l *List) Revoke(ctx context.Context, sessionID string, until time.Time) {
	l.put(ctx, &l.sessions, sessionID, entry{at: until, until: until})
}

// RevokeMember revokes every session JWT of memberID issued before at (by its iat), until the
// given time. memberID may as well be a consumer user's ID (a deleted user, "log out everywhere"):
// the verifier asks about a user session's JWT by its user ID, and Stytch's member and user IDs
// never collide (member-... and user-...), so one list serves both. Revoked until the
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
	l.remember(t, subject, e, now, false)
	if l.rdb == nil {
		return
	}
	if err := l.write(ctx, t, subject, e, now); err != nil {
		l.failed(ctx, "revoke", err)
		l.retryLater(t, subject) //nolint:contextcheck // the retries outlive the request that revoked
	}
}

// IsRevoked reports whether sessionID is revoked. It is on the hot path of every local session
// verification: a local answer costs a map lookup; only a session this replica knows nothing
// recent about costs a Redis GET (shared by concurrent callers).
func (l *List) IsRevoked(ctx context.Context, sessionID string) bool {
	_, ok := l.lookup(ctx, &l.sessions, sessionID)
	return ok
}

// IsMemberRevoked (asked with a member ID, or a consumer user's ID; see RevokeMember) reports
// whether a session JWT of memberID issued at issuedAt is revoked by a
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
	checked, clean := t.clean.Peek(subject)
	l.mu.RUnlock()
	if revoked && now.Before(e.until) {
		return e, true
	}
	if l.rdb == nil || subject == "" || (clean && now.Sub(checked) < l.trustFor()) {
		return entry{}, false
	}
	v, _, _ := l.flight.Do(t.redisPrefix+subject, func() (any, error) {
		e, ok := l.fetch(ctx, t, subject)
		return fetched{e, ok}, nil
	})
	f := v.(fetched)
	return f.e, f.ok
}

// trustFor is how long a "not revoked" answer is trusted now.
func (l *List) trustFor() time.Duration {
	if l.isSubscribed.Load() {
		return l.subRecheck
	}
	return l.recheck
}

type fetched struct {
	e  entry
	ok bool
}

// fetch asks Redis and caches the answer locally.
func (l *List) fetch(ctx context.Context, t *table, subject string) (entry, bool) {
	ctx, cancel := context.WithTimeout(ctx, l.redisTimeout)
	defer cancel()
	l.mu.RLock()
	gen := l.gen
	l.mu.RUnlock()
	s, err := l.rdb.Get(ctx, t.redisPrefix+subject).Result()
	now := l.now()
	switch {
	case errors.Is(err, redis.Nil):
		l.mu.Lock()
		if l.gen == gen {
			t.clean.Add(subject, now) // when full, the answer stored longest ago goes
		}
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
	l.remember(t, subject, e, now, true)
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

// remember records a live revocation of subject. learned says it came from Redis (a GET or a
// message), which can tell it again: then, when Capacity live revocations are already held, it is
// not stored; only the subject's "not revoked" answer is forgotten (and lookups in flight are told
// not to cache theirs), so the next check asks Redis. Memory stays bounded whatever the other
// replicas revoke; this replica's own revocations are always kept, since Redis may have failed to
// record them.
func (l *List) remember(t *table, subject string, e entry, now time.Time, learned bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// A full table is pruned at once for this replica's own revocations, but for learned ones only
	// when due: every replica hears every revocation, and a scan of the whole table per message
	// would cost the most exactly when revocations pour in.
	if !now.Before(t.pruneAt) || (!learned && len(t.revoked) >= l.capacity) {
		for id, old := range t.revoked {
			if !now.Before(old.until) {
				delete(t.revoked, id)
			}
		}
		t.pruneAt = now.Add(pruneEvery)
	}
	old, ok := t.revoked[subject]
	if learned && !ok && len(t.revoked) >= l.capacity {
		t.clean.Remove(subject)
		l.gen++
		return
	}
	if ok && now.Before(old.until) {
		// Two revocations of one subject: the later cut-off and the later end both hold.
		if old.at.After(e.at) {
			e.at = old.at
		}
		if old.until.After(e.until) {
			e.until = old.until
		}
	}
	t.revoked[subject] = e
	t.clean.Remove(subject)
}

func (l *List) failed(ctx context.Context, op string, err error) {
	l.errs.Add(ctx, 1, metric.WithAttributes(attribute.String("op", op)))
	l.logEvery.Do(func() {
		l.log.WarnContext(ctx, "revocation list: Redis unavailable; answering from local knowledge (logged at most every 10s)",
			"op", op, "error", err.Error())
	})
}
