package verify

import (
	"crypto/sha256"

	lru "github.com/hashicorp/golang-lru/v2"
)

// tokenCache is the verified-token cache: bounded LRU shards from
// hashicorp/golang-lru, keyed by the token's SHA-256. golang-lru takes an
// exclusive lock even on Get (a hit moves the entry), so a large cache is
// split into shards by the first hash byte to keep many cores from queueing
// on one mutex; a small one stays a single exact LRU.
type tokenCache struct {
	shards []*lru.Cache[[sha256.Size]byte, *cacheEntry]
	mask   byte
}

const (
	cacheShards        = 16 // a power of two
	minEntriesPerShard = 256
)

func newTokenCache(size int) *tokenCache {
	n := 1
	if size >= cacheShards*minEntriesPerShard {
		n = cacheShards
	}
	per := (size + n - 1) / n
	tc := &tokenCache{shards: make([]*lru.Cache[[sha256.Size]byte, *cacheEntry], n), mask: byte(n - 1)}
	for i := range tc.shards {
		// lru.New fails only for a size <= 0, which per cannot be.
		tc.shards[i], _ = lru.New[[sha256.Size]byte, *cacheEntry](per)
	}
	return tc
}

func (tc *tokenCache) shard(h [sha256.Size]byte) *lru.Cache[[sha256.Size]byte, *cacheEntry] {
	return tc.shards[h[0]&tc.mask]
}

func (tc *tokenCache) Get(h [sha256.Size]byte) (*cacheEntry, bool) { return tc.shard(h).Get(h) }

func (tc *tokenCache) Add(h [sha256.Size]byte, e *cacheEntry) { tc.shard(h).Add(h, e) }

// Len returns the number of entries across shards.
func (tc *tokenCache) Len() int {
	n := 0
	for _, s := range tc.shards {
		n += s.Len()
	}
	return n
}

// Purge drops every entry.
func (tc *tokenCache) Purge() {
	for _, s := range tc.shards {
		s.Purge()
	}
}

// Keys returns every key (tests).
func (tc *tokenCache) Keys() [][sha256.Size]byte {
	var out [][sha256.Size]byte
	for _, s := range tc.shards {
		out = append(out, s.Keys()...)
	}
	return out
}
