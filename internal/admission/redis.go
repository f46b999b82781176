package admission

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// DefaultRedisOpTimeout bounds one store operation, dial included; the client's own timeouts
// (internal/redisclient) are shorter still.
const DefaultRedisOpTimeout = 150 * time.Millisecond

// RedisStore shares budgets between replicas through Redis: rate budgets with
// github.com/go-redis/redis_rate (GCRA, one atomic script per call, Redis's clock), failure budgets
// with two small scripts (below).
type RedisStore struct {
	rdb     redis.UniversalClient
	rate    *redis_rate.Limiter
	prefix  string
	timeout time.Duration
}

var _ Store = (*RedisStore)(nil)

// NewRedisStore keeps budgets in rdb (internal/redisclient's request-path client) under keys
// starting "authsvc:admission:".
func NewRedisStore(rdb redis.UniversalClient) *RedisStore {
	return &RedisStore{rdb: rdb, rate: redis_rate.NewLimiter(rdb), prefix: "authsvc:admission:", timeout: DefaultRedisOpTimeout}
}

// WithTimeout sets the bound of one store operation (zero keeps DefaultRedisOpTimeout); authsvc
// passes internal/redisclient's Timeout (AUTHSVC_REDIS_TIMEOUT). It returns s.
func (s *RedisStore) WithTimeout(d time.Duration) *RedisStore {
	if d > 0 {
		s.timeout = d
	}
	return s
}

// Take implements Store.
func (s *RedisStore) Take(ctx context.Context, key string, r Rate) (Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := s.rate.Allow(ctx, s.prefix+key, redis_rate.Limit{Rate: r.Events, Burst: r.burst(), Period: r.Per})
	if err != nil {
		return Decision{}, fmt.Errorf("redis rate %s: %w", key, err)
	}
	if res.Allowed > 0 {
		return Decision{Allowed: true}, nil
	}
	return Decision{RetryAfter: max(res.RetryAfter, time.Millisecond)}, nil
}

// Failure counters are not something redis_rate offers: a GCRA bucket cannot give back an attempt
// that turned out not to fail. Each script is one atomic step, so concurrent attempts on several
// replicas cannot all pass the check before any of them counts. The key expires with its window
// (set on first use), so no counter outlives it.
var (
	reserveScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return {0, redis.call('PTTL', KEYS[1])}
end
return {1, 0}
`)
	// refundScript never creates a key: a refund after the window ended has nothing to give back.
	refundScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 and redis.call('PTTL', KEYS[1]) > 0 then return redis.call('DECR', KEYS[1]) end
return 0
`)
)

// Reserve implements Store.
func (s *RedisStore) Reserve(ctx context.Context, key string, f Failures) (Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	v, err := reserveScript.Run(ctx, s.rdb, []string{s.prefix + key}, f.Max, f.Window.Milliseconds()).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("redis reserve %s: %w", key, err)
	}
	if len(v) != 2 {
		return Decision{}, fmt.Errorf("redis reserve %s: unexpected reply %v", key, v)
	}
	if v[0] == 1 {
		return Decision{Allowed: true}, nil
	}
	return Decision{RetryAfter: max(time.Duration(v[1])*time.Millisecond, time.Millisecond)}, nil
}

// Peek implements Store.
func (s *RedisStore) Peek(ctx context.Context, key string, f Failures) (Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var get *redis.StringCmd
	var ttl *redis.DurationCmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, s.prefix+key)
		ttl = p.PTTL(ctx, s.prefix+key)
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return Decision{}, fmt.Errorf("redis peek %s: %w", key, err)
	}
	n, err := get.Int()
	if errors.Is(err, redis.Nil) || (err == nil && n < f.Max) {
		return Decision{Allowed: true}, nil
	}
	if err != nil {
		return Decision{}, fmt.Errorf("redis peek %s: %w", key, err)
	}
	return Decision{RetryAfter: max(ttl.Val(), time.Millisecond)}, nil
}

// Fail implements Store: the reserve script with no ceiling counts one failure and starts the
// window if needed.
func (s *RedisStore) Fail(ctx context.Context, key string, f Failures) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := reserveScript.Run(ctx, s.rdb, []string{s.prefix + key}, math.MaxInt32, f.Window.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("redis fail %s: %w", key, err)
	}
	return nil
}

// Refund implements Store.
func (s *RedisStore) Refund(ctx context.Context, key string, _ Failures) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := refundScript.Run(ctx, s.rdb, []string{s.prefix + key}).Err(); err != nil {
		return fmt.Errorf("redis refund %s: %w", key, err)
	}
	return nil
}
