package verify

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
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

// BenchmarkVerifyUserSessionFirstTime is BenchmarkVerifySessionFirstTime for
// a consumer project's verifier and user session JWTs.
func BenchmarkVerifyUserSessionFirstTime(b *testing.B) {
	v, k, clock := benchVerifier(b, func(c *VerifierConfig) {
		c.CacheSize = 1 << 20
		c.ProjectType = ProjectConsumer
	})
	now := clock.Now()
	const distinct = 2048
	toks := make([]string, distinct)
	for i := range toks {
		c := userSessionClaims(now)
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

// BenchmarkVerifyUserSessionCached is BenchmarkVerifySessionCached for a
// consumer project's verifier: the same user session JWT again, with the
// revocation hooks (the per-subject one asked with the user ID).
func BenchmarkVerifyUserSessionCached(b *testing.B) {
	v, k, clock := benchVerifier(b, func(c *VerifierConfig) {
		c.MaxTokenAge = time.Hour
		c.ProjectType = ProjectConsumer
		c.IsRevoked = func(context.Context, string) bool { return false }
		c.IsMemberRevoked = func(context.Context, string, time.Time) bool { return false }
	})
	tok := sign(b, k, userSessionClaims(clock.Now()))
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
}

// BenchmarkVerifySessionWrongProjectType is another project's session JWT
// (a consumer user's given to a B2B verifier): refused from its claims, with
// no key lookup and no RSA work.
func BenchmarkVerifySessionWrongProjectType(b *testing.B) {
	v, k, clock := benchVerifier(b, nil)
	tok := sign(b, k, userSessionClaims(clock.Now()))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.VerifySession(ctx, tok); err == nil {
			b.Fatal("a consumer JWT was accepted by a B2B verifier")
		}
	}
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

// emulatorSessionClaims is a session JWT shaped like the ones the emulator
// (and Stytch) issue after an email magic link followed by an SMS OTP: two
// authentication factors with their email and phone objects, two roles, and
// three custom claims. n makes each token distinct.
func emulatorSessionClaims(now time.Time, n int) jwt.MapClaims {
	ts := now.Add(-10 * time.Minute).Format(time.RFC3339)
	return jwt.MapClaims{
		"iss": "stytch.com/" + testProject,
		"aud": []string{testProject},
		"sub": "member-test-0f8c1d2e-3a4b-4c5d-8e9f-a0b1c2d3e4f5",
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
		claimSession: map[string]any{
			"id":               fmt.Sprintf("member-session-test-1a2b3c4d-5e6f-4a7b-8c9d-%012d", n),
			"started_at":       ts,
			"last_accessed_at": now.Format(time.RFC3339),
			"expires_at":       now.Add(7 * 24 * time.Hour).Format(time.RFC3339),
			"attributes":       map[string]any{"ip_address": "", "user_agent": ""},
			"authentication_factors": []any{
				map[string]any{
					"type": "magic_link", "delivery_method": "email",
					"last_authenticated_at": ts, "created_at": ts, "updated_at": ts,
					"email_factor": map[string]any{
						"email_id":      "member-email-test-5b6c7d8e-9f0a-4b1c-2d3e-4f5a6b7c8d9e",
						"email_address": "ada.lovelace@example.com",
					},
				},
				map[string]any{
					"type": "otp", "delivery_method": "sms",
					"last_authenticated_at": ts, "created_at": ts, "updated_at": ts,
					"phone_number_factor": map[string]any{
						"phone_id":     "member-phone-test-6c7d8e9f-0a1b-4c2d-3e4f-5a6b7c8d9e0f",
						"phone_number": "+15005550006",
					},
				},
			},
			"roles": []string{"stytch_member", "billing_admin"},
		},
		claimOrganization: map[string]any{
			"organization_id": "organization-test-7d8e9f0a-1b2c-4d3e-4f5a-6b7c8d9e0f1a",
			"slug":            "acme-corp",
		},
		"tenant":   "acme",
		"plan":     "enterprise",
		"features": []string{"audit_log", "sso"},
	}
}

// rsaOnly is the floor of any verifier: SHA-256 of the signing input and an
// RSA-2048 PKCS#1 v1.5 verify, the signature already base64-decoded.
type rsaOnly struct {
	input []byte
	sig   []byte
}

func splitForRSA(b *testing.B, tok string) rsaOnly {
	b.Helper()
	dot := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	require.NoError(b, err)
	return rsaOnly{input: []byte(tok[:dot]), sig: sig}
}

func (r rsaOnly) verify(pub *rsa.PublicKey) error {
	sum := sha256.Sum256(r.input)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], r.sig) //nolint:wrapcheck // benchmark
}

// emulatorUserSessionClaims is emulatorSessionClaims as a consumer project
// issues it: a user as sub, no organization claim.
func emulatorUserSessionClaims(now time.Time, n int) jwt.MapClaims {
	c := emulatorSessionClaims(now, n)
	delete(c, claimOrganization)
	c["sub"] = "user-test-0f8c1d2e-3a4b-4c5d-8e9f-a0b1c2d3e4f5"
	s := c[claimSession].(map[string]any)
	s["id"] = fmt.Sprintf("session-test-1a2b3c4d-5e6f-4a7b-8c9d-%012d", n)
	s["roles"] = []string{"stytch_user"}
	return c
}

// BenchmarkVerifySessionFirstSightVsRSA measures first-sight verification of
// an emulator-shaped session JWT against a bare RSA verify of the same
// token, interleaved in each iteration so that load on a shared machine
// falls on both alike. Each side is timed per iteration and reported as its
// median (a thread descheduled for milliseconds on a busy machine spoils a
// few iterations, not the median), with their ratio, verifier/rsa. ns/op
// and allocs/op are of both sides together (the RSA side alone is
// BenchmarkRSAVerifyPKCS1v15). cache=off verifies one token with the
// verified-token cache disabled; cache=on verifies a different token every
// time with the cache enabled, as production sees a new token (token hash
// and cache insert included).
func BenchmarkVerifySessionFirstSightVsRSA(b *testing.B) {
	benchFirstSightVsRSA(b, ProjectB2B, emulatorSessionClaims)
}

// BenchmarkVerifyUserSessionFirstSightVsRSA is
// BenchmarkVerifySessionFirstSightVsRSA for a consumer project's verifier
// and user session JWTs.
func BenchmarkVerifyUserSessionFirstSightVsRSA(b *testing.B) {
	benchFirstSightVsRSA(b, ProjectConsumer, emulatorUserSessionClaims)
}

func benchFirstSightVsRSA(b *testing.B, pt ProjectType, claims func(time.Time, int) jwt.MapClaims) {
	for _, withCache := range []bool{false, true} {
		b.Run(fmt.Sprintf("cache=%s", map[bool]string{false: "off", true: "on"}[withCache]), func(b *testing.B) {
			v, k, clock := benchVerifier(b, func(c *VerifierConfig) {
				c.ProjectType = pt
				c.CacheSize = -1
				if withCache {
					c.CacheSize = 1 << 20
				}
			})
			now := clock.Now()
			distinct := 1
			if withCache {
				distinct = 512
			}
			toks := make([]string, distinct)
			raw := make([]rsaOnly, distinct)
			for i := range toks {
				toks[i] = sign(b, k, claims(now, i))
				raw[i] = splitForRSA(b, toks[i])
			}
			pub := &k.priv.PublicKey
			ctx := context.Background()
			verifierTimes := make([]time.Duration, b.N)
			rsaTimes := make([]time.Duration, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				j := i % distinct
				if withCache && j == 0 && i > 0 {
					v.cache.Purge()
				}
				// Alternate which side goes first so neither always runs
				// with the other's data warm in cache.
				if i%2 == 0 {
					t0 := time.Now()
					_, err := v.VerifySession(ctx, toks[j])
					t1 := time.Now()
					rerr := raw[j].verify(pub)
					t2 := time.Now()
					if err != nil || rerr != nil {
						b.Fatal(err, rerr)
					}
					verifierTimes[i], rsaTimes[i] = t1.Sub(t0), t2.Sub(t1)
				} else {
					t0 := time.Now()
					rerr := raw[j].verify(pub)
					t1 := time.Now()
					_, err := v.VerifySession(ctx, toks[j])
					t2 := time.Now()
					if err != nil || rerr != nil {
						b.Fatal(err, rerr)
					}
					rsaTimes[i], verifierTimes[i] = t1.Sub(t0), t2.Sub(t1)
				}
			}
			b.StopTimer()
			verifierMedian, rsaMedian := median(verifierTimes), median(rsaTimes)
			b.ReportMetric(float64(verifierMedian.Nanoseconds()), "verifier-ns/op")
			b.ReportMetric(float64(rsaMedian.Nanoseconds()), "rsa-ns/op")
			b.ReportMetric(float64(verifierMedian)/float64(rsaMedian), "verifier/rsa")
			b.ReportMetric(float64(len(toks[0])), "token_bytes")
		})
	}
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// BenchmarkRSAVerifyPKCS1v15 is the RSA side of
// BenchmarkVerifySessionFirstSightVsRSA alone, for its allocations.
func BenchmarkRSAVerifyPKCS1v15(b *testing.B) {
	_, k, clock := benchVerifier(b, nil)
	r := splitForRSA(b, sign(b, k, emulatorSessionClaims(clock.Now(), 0)))
	pub := &k.priv.PublicKey
	b.ReportAllocs()
	for b.Loop() {
		if err := r.verify(pub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeClaims is the claims decoding of an emulator-shaped session
// JWT alone, payload (already base64-decoded) to SessionClaims: decoder is
// the package's, encoding_json the implementation it replaced
// (reference_test.go). encoding_json_typed and encoding_json_valid are what
// encoding/json would cost at best: decoding into plain structs (without
// custom claims, exact names or SessionClaims), and only validating.
func BenchmarkDecodeClaims(b *testing.B) {
	_, k, clock := benchVerifier(b, nil)
	tok := sign(b, k, emulatorSessionClaims(clock.Now(), 0))
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	require.NoError(b, err)
	b.Run("decoder", func(b *testing.B) {
		s := string(payload)
		b.SetBytes(int64(len(s)))
		b.ReportAllocs()
		for b.Loop() {
			c := &parsedClaims{kind: kindSession}
			if err := c.decode(s); err != nil {
				b.Fatal(err)
			}
			if _, err := c.sessionClaims(false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		for b.Loop() {
			c := &refParsedClaims{kind: kindSession}
			if err := json.Unmarshal(payload, c); err != nil {
				b.Fatal(err)
			}
			if _, err := c.sessionClaims(false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json_typed", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		for b.Loop() {
			var c typedPayload
			if err := json.Unmarshal(payload, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json_valid", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		for b.Loop() {
			if !json.Valid(payload) {
				b.Fatal("invalid")
			}
		}
	})
}

// typedPayload is a session JWT's payload as plain structs for
// encoding/json.
type typedPayload struct {
	Issuer    string            `json:"iss"`
	Subject   string            `json:"sub"`
	Audience  jwt.ClaimStrings  `json:"aud"`
	ExpiresAt *jwt.NumericDate  `json:"exp"`
	NotBefore *jwt.NumericDate  `json:"nbf"`
	IssuedAt  *jwt.NumericDate  `json:"iat"`
	Org       *wireOrganization `json:"https://stytch.com/organization"`
	Session   *struct {
		ID                    string             `json:"id"`
		StartedAt             string             `json:"started_at"`
		LastAccessedAt        string             `json:"last_accessed_at"`
		ExpiresAt             string             `json:"expires_at"`
		Attributes            *refWireAttributes `json:"attributes"`
		AuthenticationFactors []struct {
			Type                string `json:"type"`
			DeliveryMethod      string `json:"delivery_method"`
			LastAuthenticatedAt string `json:"last_authenticated_at"`
			CreatedAt           string `json:"created_at"`
			UpdatedAt           string `json:"updated_at"`
			EmailFactor         *struct {
				EmailID      string `json:"email_id"`
				EmailAddress string `json:"email_address"`
			} `json:"email_factor"`
			PhoneNumberFactor *struct {
				PhoneID     string `json:"phone_id"`
				PhoneNumber string `json:"phone_number"`
			} `json:"phone_number_factor"`
		} `json:"authentication_factors"`
		Roles []string `json:"roles"`
	} `json:"https://stytch.com/session"`
}

// BenchmarkCacheEntryBytes is the memory one verified-token cache entry keeps:
// the live heap after 4000 distinct session JWTs shaped like the emulator's
// (emulatorSessionClaims) were verified into the cache,
// less the heap before, per entry (the tokens themselves were allocated before
// the first reading). It sizes AUTHSVC_SESSION_CACHE_SIZE (internal/session's
// Conf). Each iteration signs 4000 tokens and fills a fresh verifier with
// them (its ns/op is that whole fill, seconds: b.Loop runs it once), so the
// figure is the same whatever b.N is.
func BenchmarkCacheEntryBytes(b *testing.B) {
	for _, tc := range []struct {
		name    string
		project ProjectType
		claims  func(time.Time, int) jwt.MapClaims
	}{
		{"member_session", ProjectB2B, emulatorSessionClaims},
		{"user_session", ProjectConsumer, emulatorUserSessionClaims},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const entries = 4000
			var perEntry float64
			for b.Loop() {
				v, k, clock := benchVerifier(b, func(c *VerifierConfig) {
					c.CacheSize = 2 * entries
					c.ProjectType = tc.project
				})
				toks := make([]string, entries)
				for i := range toks {
					toks[i] = sign(b, k, tc.claims(clock.Now(), i))
				}
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				for _, tok := range toks {
					if _, err := v.VerifySession(context.Background(), tok); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				if n := v.cache.Len(); n != entries {
					b.Fatalf("%d entries cached, want %d", n, entries)
				}
				perEntry = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / entries
				runtime.KeepAlive(v)
				runtime.KeepAlive(toks)
			}
			b.ReportMetric(perEntry, "bytes/entry")
		})
	}
}
