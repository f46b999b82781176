package verify

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/testkit"
)

func benchVerifier(b *testing.B, mod func(*VerifierConfig)) (*Verifier, testKey, *testkit.Clock) {
	b.Helper()
	clock := newTestClock()
	k := testKey{kid: "kid-1", priv: rsaKey(b, 0)}
	jwks := &fakeJWKS{}
	jwks.set(jwksJSON(b, k), nil)
	cache := newCache(b, jwks.Fetch, clock, true)
	return newVerifier(b, cache, clock, mod), k, clock
}

// BenchmarkVerifySessionFirstTime is a token never seen before: parse, RSA
// verify, claims decode, cache insert. Tokens are pre-signed outside the timer.
func BenchmarkVerifySessionFirstTime(b *testing.B) {
	v, k, clock := benchVerifier(b, func(c *VerifierConfig) { c.CacheSize = 1 << 20 })
	now := clock.Now()
	const distinct = 2048
	toks := make([]string, distinct)
	for i := range toks {
		c := sessionClaims(now)
		c["n"] = i
		toks[i] = sign(b, k, c)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%distinct == 0 && i > 0 {
			b.StopTimer()
			v.cache.Purge()
			b.StartTimer()
		}
		if _, err := v.VerifySession(ctx, toks[i%distinct]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(toks[0])), "token_bytes")
}

// BenchmarkVerifySessionCached is the same token again: hash, cache lookup,
// key-still-served check, exp/max-age recheck, revocation hook.
func BenchmarkVerifySessionCached(b *testing.B) {
	for _, withRevocation := range []bool{false, true} {
		b.Run(fmt.Sprintf("revocation_hook=%v", withRevocation), func(b *testing.B) {
			v, k, clock := benchVerifier(b, func(c *VerifierConfig) {
				c.MaxTokenAge = time.Hour
				if withRevocation {
					c.IsRevoked = func(context.Context, string) bool { return false }
				}
			})
			tok := sign(b, k, sessionClaims(clock.Now()))
			ctx := context.Background()
			_, err := v.VerifySession(ctx, tok)
			require.NoError(b, err)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := v.VerifySession(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			require.Equal(b, uint64(1), v.signatureChecks.Load())
			b.ReportMetric(float64(len(tok)), "token_bytes")
		})
	}
}

// BenchmarkVerifySessionCachedParallel is the cached path under contention
// on the cache's lock.
func BenchmarkVerifySessionCachedParallel(b *testing.B) {
	v, k, clock := benchVerifier(b, nil)
	tok := sign(b, k, sessionClaims(clock.Now()))
	_, err := v.VerifySession(context.Background(), tok)
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := v.VerifySession(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyM2M covers a first-time M2M token (RSA) and a cached one,
// both with a scope check.
func BenchmarkVerifyM2M(b *testing.B) {
	required := []string{"read:users"}
	b.Run("first_time", func(b *testing.B) {
		v, k, clock := benchVerifier(b, func(c *VerifierConfig) { c.CacheSize = -1 })
		tok := sign(b, k, m2mClaims(clock.Now(), "read:users write:users read:books"))
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := v.VerifyM2M(ctx, tok, required); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		v, k, clock := benchVerifier(b, nil)
		tok := sign(b, k, m2mClaims(clock.Now(), "read:users write:users read:books"))
		ctx := context.Background()
		_, err := v.VerifyM2M(ctx, tok, required)
		require.NoError(b, err)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := v.VerifyM2M(ctx, tok, required); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifySessionForged is junk traffic: a wrong-key token is
// rejected locally, at RSA cost, with no fetch.
func BenchmarkVerifySessionForged(b *testing.B) {
	v, _, clock := benchVerifier(b, nil)
	tok := sign(b, testKey{kid: "kid-1", priv: rsaKey(b, 1)}, sessionClaims(clock.Now()))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.VerifySession(ctx, tok); err == nil {
			b.Fatal("forged token accepted")
		}
	}
}

// BenchmarkTokenHash isolates the SHA-256 of a session JWT, the floor of
// the cached path.
func BenchmarkTokenHash(b *testing.B) {
	clock := newTestClock()
	tok := sign(b, testKey{kid: "kid-1", priv: rsaKey(b, 0)}, sessionClaims(clock.Now()))
	b.SetBytes(int64(len(tok)))
	b.ReportAllocs()
	var sink [32]byte
	for b.Loop() {
		sink = tokenHash(tok)
	}
	_ = sink
}
