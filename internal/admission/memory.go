package admission

import (
	"context"
	"hash/maphash"
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

const (
	// DefaultMemoryCapacity bounds a MemoryStore: about 200 bytes per key, so ~20 MB.
	DefaultMemoryCapacity = 100_000
	memoryShards          = 16
)

// MemoryStore keeps budgets in this process: token buckets from golang.org/x/time/rate and failure
// counters, in a golang-lru LRU per shard that evicts the least recently used key when full. An
// evicted key starts again with a full budget; the bound is large enough that only a flood of
// distinct keys (itself limited per IP) evicts anything. The shards are simplelru's (not
// thread-safe) under the shard's own mutex, because every operation reads and updates an entry
// in one critical section.
type MemoryStore struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [memoryShards]memoryShard
}

type memoryShard struct {
	mu      sync.Mutex
	entries *simplelru.LRU[string, *memoryEntry]
}

type memoryEntry struct {
	lim *rate.Limiter // rate budgets
	// failure budgets
	count   int
	resetAt time.Time
}

// NewMemoryStore returns an empty store holding at most capacity keys (zero:
// DefaultMemoryCapacity). now is the clock (nil: time.Now).
func NewMemoryStore(capacity int, now func() time.Time) *MemoryStore {
	if capacity <= 0 {
		capacity = DefaultMemoryCapacity
	}
	if now == nil {
		now = time.Now
	}
	s := &MemoryStore{now: now, seed: maphash.MakeSeed()}
	per := max(capacity/memoryShards, 1)
	for i := range s.shards {
		// simplelru.NewLRU fails only for a size below 1, which per cannot be.
		s.shards[i].entries, _ = simplelru.NewLRU[string, *memoryEntry](per, nil)
	}
	return s
}

var _ Store = (*MemoryStore)(nil)

func (s *MemoryStore) shard(key string) *memoryShard {
	return &s.shards[maphash.String(s.seed, key)%memoryShards]
}

// get returns key's entry, creating it with mk, and marks it used. The caller holds sh.mu.
func (sh *memoryShard) get(key string, mk func() *memoryEntry) *memoryEntry {
	if e, ok := sh.entries.Get(key); ok {
		return e
	}
	e := mk()
	sh.entries.Add(key, e)
	return e
}

// Take implements Store.
func (s *MemoryStore) Take(_ context.Context, key string, r Rate) (Decision, error) {
	now := s.now()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.get(key, func() *memoryEntry {
		return &memoryEntry{lim: rate.NewLimiter(rate.Every(r.interval()), r.burst())}
	})
	if e.lim == nil { // a key reused across kinds: cannot happen with limit-prefixed keys
		e.lim = rate.NewLimiter(rate.Every(r.interval()), r.burst())
	}
	if e.lim.AllowN(now, 1) {
		return Decision{Allowed: true}, nil
	}
	missing := 1 - e.lim.TokensAt(now)
	wait := time.Duration(math.Ceil(missing * float64(r.interval())))
	return Decision{RetryAfter: max(wait, time.Millisecond)}, nil
}

// Reserve implements Store.
func (s *MemoryStore) Reserve(_ context.Context, key string, f Failures) (Decision, error) {
	now := s.now()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.get(key, func() *memoryEntry { return &memoryEntry{} })
	if !now.Before(e.resetAt) {
		e.count, e.resetAt = 0, now.Add(f.Window)
	}
	if e.count >= f.Max {
		return Decision{RetryAfter: e.resetAt.Sub(now)}, nil
	}
	e.count++
	return Decision{Allowed: true}, nil
}

// Peek implements Store.
func (s *MemoryStore) Peek(_ context.Context, key string, f Failures) (Decision, error) {
	now := s.now()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.entries.Peek(key); ok {
		if now.Before(e.resetAt) && e.count >= f.Max {
			return Decision{RetryAfter: e.resetAt.Sub(now)}, nil
		}
	}
	return Decision{Allowed: true}, nil
}

// Fail implements Store.
func (s *MemoryStore) Fail(_ context.Context, key string, f Failures) error {
	now := s.now()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.get(key, func() *memoryEntry { return &memoryEntry{} })
	if !now.Before(e.resetAt) {
		e.count, e.resetAt = 0, now.Add(f.Window)
	}
	e.count++
	return nil
}

// Refund implements Store.
func (s *MemoryStore) Refund(_ context.Context, key string, _ Failures) error {
	now := s.now()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.entries.Peek(key); ok {
		if e.count > 0 && now.Before(e.resetAt) {
			e.count--
		}
	}
	return nil
}

// Len is the number of keys held (for tests and metrics).
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		s.shards[i].mu.Lock()
		n += s.shards[i].entries.Len()
		s.shards[i].mu.Unlock()
	}
	return n
}
