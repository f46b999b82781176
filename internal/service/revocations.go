package service

import (
	"context"
	"sync"
	"time"
)

// MemoryRevocations is an in-process Revocations, for a single replica or until a shared store
// (Redis, when AUTHSVC_REDIS_URL is set) takes over. Entries expire on their own; the map is pruned
// on writes, so it holds at most the sessions revoked in the last few minutes.
type MemoryRevocations struct {
	now func() time.Time

	mu      sync.RWMutex
	until   map[string]time.Time
	pruneAt time.Time
}

var _ Revocations = (*MemoryRevocations)(nil)

// NewMemoryRevocations returns an empty list. now is the clock (nil: time.Now); give it the
// verifier's clock.
func NewMemoryRevocations(now func() time.Time) *MemoryRevocations {
	if now == nil {
		now = time.Now
	}
	return &MemoryRevocations{now: now, until: make(map[string]time.Time)}
}

// Revoke remembers sessionID as revoked until the given time.
func (r *MemoryRevocations) Revoke(_ context.Context, sessionID string, until time.Time) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !now.Before(r.pruneAt) {
		for id, u := range r.until {
			if !now.Before(u) {
				delete(r.until, id)
			}
		}
		r.pruneAt = now.Add(time.Minute)
	}
	if u, ok := r.until[sessionID]; !ok || until.After(u) {
		r.until[sessionID] = until
	}
}

// IsRevoked reports whether sessionID was revoked and the revocation has not lapsed.
func (r *MemoryRevocations) IsRevoked(_ context.Context, sessionID string) bool {
	r.mu.RLock()
	u, ok := r.until[sessionID]
	r.mu.RUnlock()
	return ok && r.now().Before(u)
}
