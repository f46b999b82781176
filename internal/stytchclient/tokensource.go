package stytchclient

import (
	"context"
	"encoding/binary"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// TokenFetcher issues one M2M token; (*Client).M2MTokenRaw is one.
type TokenFetcher func(ctx context.Context, p M2MTokenParams) (*M2MToken, error)

// TokenSourceConfig configures a TokenSource. The zero value is usable.
type TokenSourceConfig struct {
	// RefreshAt is the fraction of a token's lifetime after which the next
	// request fetches a new one. Zero means 0.8 (48 min of Stytch's 60).
	RefreshAt float64
	// FetchTimeout bounds one upstream fetch, which runs detached from any
	// single caller's context. Zero means 30 s.
	FetchTimeout time.Duration
	// MaxEntries bounds the cache; when it is full, the token fetched longest ago is dropped. Zero
	// means 1024.
	MaxEntries int
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
	// OnLookup, when set, is told of every Token call: hit when a cached
	// token was returned without waiting for a fetch. It feeds a metric
	// (Stats counts the same) and must be cheap; it never sees a token.
	OnLookup func(ctx context.Context, hit bool)
}

// TokenSourceStats counts cache outcomes.
type TokenSourceStats struct {
	Hits    uint64 // answered from cache
	Misses  uint64 // needed a token not in cache (or due for refresh)
	Fetches uint64 // upstream calls actually made (misses collapse into these)
}

// TokenSource hands out M2M access tokens, caching each per (client ID,
// client secret, scope set). The official SDK caches nothing, so every
// service call would cost a token round trip and spend the token rate limit.
//
//   - Scope sets are normalised (sorted, de-duplicated) so "a b" and "b a"
//     share a token.
//   - The secret is part of the key: a caller with the right client ID but a
//     wrong secret must never receive a token cached for someone who knew
//     the secret (and during a rotation both secrets get their own entry).
//   - A token is refreshed once RefreshAt of its lifetime has passed; if
//     that refresh fails while the old token is still valid, the old token is
//     returned (Stytch tokens cannot be revoked early anyway).
//   - Concurrent misses for one key make one upstream call (singleflight);
//     each waiter still honours its own context.
//   - Errors are never cached.
//   - The cache is a golang-lru LRU ordered by when each token was fetched: hits read it with
//     Peek (a shared lock) rather than Get (an exclusive one, to move the entry), since every
//     service call is a hit. A token is stored again at each refresh, and Stytch's tokens all
//     live an hour, so the entry fetched longest ago, the first dropped, is also the closest to
//     expiry.
type TokenSource struct {
	fetch   TokenFetcher
	refresh float64
	timeout time.Duration
	now     func() time.Time
	lookup  func(ctx context.Context, hit bool)

	entries *lru.Cache[string, *tokenEntry]
	group   singleflight.Group

	hits, misses, fetches atomic.Uint64
}

type tokenEntry struct {
	tok       *M2MToken
	refreshAt time.Time
	expiresAt time.Time
}

// NewTokenSource returns a TokenSource that fetches with fetch.
func NewTokenSource(fetch TokenFetcher, cfg TokenSourceConfig) *TokenSource {
	ts := &TokenSource{
		fetch:   fetch,
		refresh: cfg.RefreshAt,
		timeout: cfg.FetchTimeout,
		now:     cfg.Now,
		lookup:  cfg.OnLookup,
	}
	if ts.refresh <= 0 || ts.refresh >= 1 {
		ts.refresh = 0.8
	}
	if ts.timeout <= 0 {
		ts.timeout = 30 * time.Second
	}
	size := cfg.MaxEntries
	if size <= 0 {
		size = 1024
	}
	// lru.New fails only for a size below 1.
	ts.entries, _ = lru.New[string, *tokenEntry](size)
	if ts.now == nil {
		ts.now = time.Now
	}
	return ts
}

// TokenSource returns a TokenSource backed by this client's token endpoint.
func (c *Client) TokenSource(cfg TokenSourceConfig) *TokenSource {
	return NewTokenSource(c.M2MTokenRaw, cfg)
}

// Token returns a valid access token for p, from cache when possible.
// The returned token is shared: do not modify it.
func (ts *TokenSource) Token(ctx context.Context, p M2MTokenParams) (*M2MToken, error) {
	var buf [256]byte
	kb := appendTokenKey(buf[:0], p)
	now := ts.now()

	// The key is viewed in place rather than copied into a string, which would put it on the heap
	// on every hit: Peek only looks it up, and kb is not changed while it runs.
	e, _ := ts.entries.Peek(unsafe.String(unsafe.SliceData(kb), len(kb))) //nolint:gosec // read-only view, see above
	if e != nil && now.Before(e.refreshAt) {
		ts.hits.Add(1)
		if ts.lookup != nil {
			ts.lookup(ctx, true)
		}
		return e.tok, nil
	}
	ts.misses.Add(1)
	if ts.lookup != nil {
		ts.lookup(ctx, false)
	}
	key := string(kb)

	ch := ts.group.DoChan(key, func() (any, error) {
		return ts.fill(ctx, key, p)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			// Refresh failed: an unexpired old token is still good to use.
			if e != nil && ts.now().Before(e.expiresAt) {
				return e.tok, nil
			}
			return nil, r.Err
		}
		tok, _ := r.Val.(*M2MToken)
		return tok, nil
	}
}

// fill fetches one token and stores it. It runs once per key at a time.
// The fetch is detached from the leader's cancellation (other waiters may
// still want the result) but keeps its values (trace context) and is
// bounded by FetchTimeout.
func (ts *TokenSource) fill(ctx context.Context, key string, p M2MTokenParams) (*M2MToken, error) {
	// Another flight may have filled the key between our cache miss and
	// this flight starting.
	if e, _ := ts.entries.Peek(key); e != nil && ts.now().Before(e.refreshAt) {
		return e.tok, nil
	}

	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ts.timeout)
	defer cancel()
	ts.fetches.Add(1)
	tok, err := ts.fetch(fctx, p)
	if err != nil {
		return nil, err
	}
	issued := ts.now()
	tok.IssuedAt = issued
	life := time.Duration(tok.ExpiresIn) * time.Second
	ne := &tokenEntry{
		tok:       tok,
		refreshAt: issued.Add(time.Duration(float64(life) * ts.refresh)),
		expiresAt: issued.Add(life),
	}
	ts.entries.Add(key, ne)
	return tok, nil
}

// Stats returns hit, miss and fetch counts since creation.
func (ts *TokenSource) Stats() TokenSourceStats {
	return TokenSourceStats{Hits: ts.hits.Load(), Misses: ts.misses.Load(), Fetches: ts.fetches.Load()}
}

// appendTokenKey appends the cache key of p to b: client ID, secret and
// the sorted, de-duplicated scopes, each length-prefixed so no two
// different parameter sets share a key (whatever bytes IDs or secrets
// contain). The secret is in the key as given: the map lives only in this
// process, next to the tokens it guards, which are bearer credentials of
// the same weight, and keys are never logged. Hashing it instead would put
// a SHA-256 on every hit for no gain in what a memory dump reveals.
//
// Built in a caller-provided buffer so a cache hit allocates nothing.
func appendTokenKey(b []byte, p M2MTokenParams) []byte {
	b = appendField(b, p.ClientID)
	b = appendField(b, p.ClientSecret)
	scopes := p.Scopes
	if !slices.IsSorted(scopes) || hasAdjacentDup(scopes) {
		var arr [16]string // small scope sets sort on the stack
		sorted := append(arr[:0], scopes...)
		slices.Sort(sorted)
		scopes = slices.Compact(sorted)
	}
	for _, sc := range scopes {
		b = appendField(b, sc)
	}
	return b
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// tokenKey is appendTokenKey as a string.
func tokenKey(p M2MTokenParams) string { return string(appendTokenKey(nil, p)) }

func hasAdjacentDup(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return true
		}
	}
	return false
}
