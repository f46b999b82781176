package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/redis/go-redis/v9"
)

// Record is what is stored under a key: the hash of the request that claimed it and, once done,
// the serialized response, encrypted with the key KeyID names (or in the clear when KeyID is
// empty).
type Record struct {
	Hash     []byte `json:"h"`
	Done     bool   `json:"d,omitempty"`
	Response []byte `json:"r,omitempty"`
	KeyID    string `json:"k,omitempty"`
}

// Store keeps records.
type Store interface {
	// Begin claims key for a call with request hash h for inFlight, or returns the record already
	// there (claimed=false).
	Begin(ctx context.Context, key string, h []byte, inFlight time.Duration) (rec Record, claimed bool, err error)
	// Complete stores the finished call's record for ttl.
	Complete(ctx context.Context, key string, rec Record, ttl time.Duration) error
	// Release forgets key (the call failed).
	Release(ctx context.Context, key string) error
}

// DefaultMemoryCapacity bounds a MemoryStore's records.
const DefaultMemoryCapacity = 50_000

// MemoryStore keeps records in this process, at most capacity of them, in a golang-lru LRU: when
// full, the record least recently claimed, completed or read is dropped. Each record carries its
// expiry and counts as absent once past it (golang-lru's expirable LRU would drop it on time, but
// runs a goroutine that nothing can stop).
type MemoryStore struct {
	now func() time.Time

	mu      sync.Mutex
	records *simplelru.LRU[string, memRecord] // not thread-safe: guarded by mu
}

type memRecord struct {
	rec     Record
	expires time.Time
}

// NewMemoryStore returns an empty store; capacity zero means DefaultMemoryCapacity; now nil means
// time.Now.
func NewMemoryStore(capacity int, now func() time.Time) *MemoryStore {
	if capacity <= 0 {
		capacity = DefaultMemoryCapacity
	}
	if now == nil {
		now = time.Now
	}
	// simplelru.NewLRU fails only for a size below 1, which capacity cannot be.
	records, _ := simplelru.NewLRU[string, memRecord](capacity, nil)
	return &MemoryStore{now: now, records: records}
}

var _ Store = (*MemoryStore)(nil)

// Begin implements Store.
func (s *MemoryStore) Begin(_ context.Context, key string, h []byte, inFlight time.Duration) (Record, bool, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.records.Get(key); ok && now.Before(r.expires) {
		return r.rec, false, nil
	}
	s.records.Add(key, memRecord{rec: Record{Hash: h}, expires: now.Add(inFlight)})
	return Record{}, true, nil
}

// Complete implements Store.
func (s *MemoryStore) Complete(_ context.Context, key string, rec Record, ttl time.Duration) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records.Add(key, memRecord{rec: rec, expires: now.Add(ttl)})
	return nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records.Remove(key)
	return nil
}

// RedisStore keeps records in Redis under "authsvc:idempotency:<hash>", shared by every replica.
type RedisStore struct {
	rdb     redis.UniversalClient
	timeout time.Duration
}

// DefaultRedisTimeout bounds one store operation unless WithTimeout says otherwise.
const DefaultRedisTimeout = 150 * time.Millisecond

// NewRedisStore returns a store on rdb.
func NewRedisStore(rdb redis.UniversalClient) *RedisStore {
	return &RedisStore{rdb: rdb, timeout: DefaultRedisTimeout}
}

// WithTimeout sets the bound of one store operation (zero keeps DefaultRedisTimeout); authsvc
// passes internal/redisclient's Timeout (AUTHSVC_REDIS_TIMEOUT). It returns s.
func (s *RedisStore) WithTimeout(d time.Duration) *RedisStore {
	if d > 0 {
		s.timeout = d
	}
	return s
}

var _ Store = (*RedisStore)(nil)

const redisPrefix = "authsvc:idempotency:"

// Begin implements Store: SET NX claims the key atomically across replicas.
func (s *RedisStore) Begin(ctx context.Context, key string, h []byte, inFlight time.Duration) (Record, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	claim, err := json.Marshal(Record{Hash: h})
	if err != nil {
		return Record{}, false, fmt.Errorf("idempotency: encode: %w", err)
	}
	// Two tries: the existing record can expire between SET NX and GET.
	for range 2 {
		ok, err := s.rdb.SetNX(ctx, redisPrefix+key, claim, inFlight).Result()
		if err != nil {
			return Record{}, false, fmt.Errorf("idempotency: redis claim: %w", err)
		}
		if ok {
			return Record{}, true, nil
		}
		b, err := s.rdb.Get(ctx, redisPrefix+key).Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return Record{}, false, fmt.Errorf("idempotency: redis get: %w", err)
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return Record{}, false, fmt.Errorf("idempotency: malformed record: %w", err)
		}
		return rec, false, nil
	}
	return Record{}, false, errors.New("idempotency: key changed state twice during the claim")
}

// Complete implements Store.
func (s *RedisStore) Complete(ctx context.Context, key string, rec Record, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("idempotency: encode: %w", err)
	}
	if err := s.rdb.Set(ctx, redisPrefix+key, b, ttl).Err(); err != nil {
		return fmt.Errorf("idempotency: redis store: %w", err)
	}
	return nil
}

// Release implements Store.
func (s *RedisStore) Release(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.rdb.Del(ctx, redisPrefix+key).Err(); err != nil {
		return fmt.Errorf("idempotency: redis release: %w", err)
	}
	return nil
}
