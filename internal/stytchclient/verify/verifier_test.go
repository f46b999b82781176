package verify

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/authsvc/authsvc/internal/testkit"
)

// fixture is a verifier over a JWKS cache serving one real RSA key.
type fixture struct {
	clock *testkit.Clock
	jwks  *fakeJWKS
	cache *JWKSCache
	key   testKey
	v     *Verifier
}

func newFixture(t *testing.T, mod func(*VerifierConfig)) *fixture {
	t.Helper()
	f := &fixture{clock: newTestClock(), jwks: &fakeJWKS{}, key: testKey{kid: "kid-1", priv: rsaKey(t, 0)}}
	f.jwks.set(jwksJSON(t, f.key), nil)
	f.cache = newCache(t, f.jwks.Fetch, f.clock, true)
	f.v = newVerifier(t, f.cache, f.clock, mod)
	return f
}

func TestVerifySessionReturnsClaims(t *testing.T) {
	f := newFixture(t, nil)
	now := f.clock.Now()
	tok := sign(t, f.key, sessionClaims(now))

	got, err := f.v.VerifySession(t.Context(), tok)
	require.NoError(t, err)

	assert.Equal(t, "member-test-aaaa", got.MemberID)
	assert.Equal(t, "member-session-test-bbbb", got.SessionID)
	assert.Equal(t, "organization-test-dddd", got.OrganizationID)
	assert.Equal(t, "acme", got.OrganizationSlug)
	assert.Equal(t, []string{"stytch_member", "stytch_admin"}, got.Roles)
	assert.Equal(t, SessionAttributes{IPAddress: "203.0.113.7", UserAgent: "test-agent"}, got.Attributes)
	assert.True(t, now.Add(-time.Hour).Equal(got.StartedAt))
	assert.True(t, now.Equal(got.LastAccessedAt))
	assert.True(t, now.Add(23*time.Hour).Equal(got.ExpiresAt))
	assert.True(t, now.Equal(got.IssuedAt))
	assert.True(t, now.Equal(got.NotBefore))
	assert.True(t, now.Add(5*time.Minute).Equal(got.Expiry))
	assert.Equal(t, "stytch.com/"+testProject, got.Issuer)
	assert.Equal(t, map[string]any{"team": "blue", "tier": float64(3)}, got.CustomClaims)
	require.Len(t, got.AuthenticationFactors, 2)
	ml := got.AuthenticationFactors[0]
	assert.Equal(t, "magic_link", ml.Type)
	assert.Equal(t, "email", ml.DeliveryMethod)
	assert.Equal(t, &EmailFactor{EmailID: "member-email-test-cccc", EmailAddress: "someone@example.com"}, ml.EmailFactor)
	assert.Nil(t, ml.PhoneNumberFactor)
	assert.Nil(t, ml.Other)
	sso := got.AuthenticationFactors[1]
	assert.Equal(t, "sso", sso.Type)
	assert.Equal(t, map[string]any{"oidc_sso_factor": map[string]any{"id": "oidc-1", "provider_id": "p-1"}}, sso.Other)
}

func TestVerifyM2M(t *testing.T) {
	f := newFixture(t, nil)
	now := f.clock.Now()
	tok := sign(t, f.key, m2mClaims(now, "read:users write:users  read:books"))

	t.Run("scopes met", func(t *testing.T) {
		got, err := f.v.VerifyM2M(t.Context(), tok, []string{"read:users", "read:books"})
		require.NoError(t, err)
		assert.Equal(t, "m2m-client-test-eeee", got.ClientID)
		assert.Equal(t, []string{"read:users", "write:users", "read:books"}, got.Scopes)
		assert.Equal(t, map[string]any{"env": "prod"}, got.CustomClaims)
		assert.True(t, now.Add(time.Hour).Equal(got.Expiry))
		assert.True(t, now.Equal(got.IssuedAt))
	})
	t.Run("scope missing is insufficient scope, with claims", func(t *testing.T) {
		got, err := f.v.VerifyM2M(t.Context(), tok, []string{"delete:users"})
		require.ErrorIs(t, err, ErrInsufficientScope)
		assert.Equal(t, "insufficient_scope", Reason(err))
		require.NotNil(t, got)
		assert.Equal(t, "m2m-client-test-eeee", got.ClientID)
	})
	t.Run("session JWT is not an M2M token", func(t *testing.T) {
		_, err := f.v.VerifyM2M(t.Context(), sign(t, f.key, sessionClaims(now)), nil)
		require.ErrorIs(t, err, ErrMalformed)
	})
	t.Run("M2M token is not a session JWT", func(t *testing.T) {
		_, err := f.v.VerifySession(t.Context(), tok) // tok is cached as M2M by now
		require.ErrorIs(t, err, ErrMalformed)
		_, err = f.v.VerifySession(t.Context(), sign(t, f.key, m2mClaims(now.Add(time.Second), "read:users")))
		require.ErrorIs(t, err, ErrMalformed)
	})
}

// hs256WithPublicKey is the classic algorithm-confusion forgery: HMAC keyed
// with the issuer's public key, which a verifier that trusts the header's
// alg would accept.
func hs256WithPublicKey(t *testing.T, k testKey, claims jwt.MapClaims) string {
	t.Helper()
	return hs256WithKey(t, k.kid, &k.priv.PublicKey, claims)
}

func hs256WithKey(t *testing.T, kid string, pub *rsa.PublicKey, claims jwt.MapClaims) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(pemBytes)
	require.NoError(t, err)
	return s
}

func algNone(t *testing.T, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	return s
}

// forgedSessionTokens are tokens that must be rejected without any key
// fetch: every one names the served kid, or has no kid at all.
func forgedSessionTokens(t *testing.T, good testKey, now time.Time) []struct {
	name   string
	token  string
	reason error
} {
	t.Helper()
	other := testKey{kid: good.kid, priv: rsaKey(t, 1)}
	with := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := sessionClaims(now)
		mod(c)
		return c
	}
	good2 := sign(t, good, sessionClaims(now))
	parts := strings.Split(good2, ".")
	tampered := with(func(c jwt.MapClaims) { c["sub"] = "member-test-attacker" })
	tamperedPayload, err := json.Marshal(tampered)
	require.NoError(t, err)
	noKID := jwt.NewWithClaims(jwt.SigningMethodRS256, sessionClaims(now))
	noKIDToken, err := noKID.SignedString(good.priv)
	require.NoError(t, err)

	return []struct {
		name   string
		token  string
		reason error
	}{
		{"wrong key under the served kid", sign(t, other, sessionClaims(now)), ErrBadSignature},
		{"payload swapped under a genuine signature", parts[0] + "." + base64.RawURLEncoding.EncodeToString(tamperedPayload) + "." + parts[2], ErrBadSignature},
		{"alg none", algNone(t, good.kid, sessionClaims(now)), ErrBadSignature},
		{"alg none with empty signature and no kid", algNone(t, "", sessionClaims(now)), ErrBadSignature},
		{"HS256 signed with the public key", hs256WithPublicKey(t, good, sessionClaims(now)), ErrBadSignature},
		{"wrong audience", sign(t, good, with(func(c jwt.MapClaims) { c["aud"] = []string{"project-test-other"} })), ErrWrongAudience},
		{"audience missing", sign(t, good, with(func(c jwt.MapClaims) { delete(c, "aud") })), ErrMalformed},
		{"wrong issuer", sign(t, good, with(func(c jwt.MapClaims) { c["iss"] = "stytch.com/project-test-other" })), ErrWrongIssuer},
		{"issuer missing", sign(t, good, with(func(c jwt.MapClaims) { delete(c, "iss") })), ErrMalformed},
		{"exp missing", sign(t, good, with(func(c jwt.MapClaims) { delete(c, "exp") })), ErrMalformed},
		{"iat missing", sign(t, good, with(func(c jwt.MapClaims) { delete(c, "iat") })), ErrMalformed},
		{"sub missing", sign(t, good, with(func(c jwt.MapClaims) { delete(c, "sub") })), ErrMalformed},
		{"session claim missing", sign(t, good, with(func(c jwt.MapClaims) { delete(c, claimSession) })), ErrMalformed},
		{"exp not a number", sign(t, good, with(func(c jwt.MapClaims) { c["exp"] = "tomorrow" })), ErrMalformed},
		{"kid missing", noKIDToken, ErrMalformed},
		{"garbage", "not-a-jwt", ErrMalformed},
		{"three dots of garbage", "a.b.c", ErrMalformed},
		{"empty", "", ErrMalformed},
		{"oversized", strings.Repeat("a", MaxTokenBytes+1), ErrMalformed},
		{"expired but wrong audience is not refreshable", sign(t, good, with(func(c jwt.MapClaims) {
			c["aud"] = "project-test-other"
			c["exp"] = now.Add(-time.Hour).Unix()
		})), ErrWrongAudience},
		{"expired and forged is forged", sign(t, other, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() })), ErrBadSignature},
		{"not yet valid", sign(t, good, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })), ErrNotYetValid},
		{"issued in the future", sign(t, good, with(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() })), ErrNotYetValid},
	}
}

func TestVerifySessionRejectsForgedTokensWithoutFetching(t *testing.T) {
	f := newFixture(t, nil)
	fetchesBefore := f.jwks.calls.Load()
	for _, tt := range forgedSessionTokens(t, f.key, f.clock.Now()) {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.v.VerifySession(t.Context(), tt.token)
			require.ErrorIs(t, err, tt.reason)
			assert.Nil(t, got)
			assert.False(t, Refreshable(err), "forged or misaddressed tokens must never go to Stytch")
			if tt.token != "" {
				assert.NotContains(t, err.Error(), tt.token[:min(len(tt.token), 40)], "error must not echo the token")
			}
		})
	}
	assert.Equal(t, fetchesBefore, f.jwks.calls.Load(), "no JWKS fetch for forged tokens naming a known kid")
}

func TestVerifySessionTimeRules(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*VerifierConfig)
		advance time.Duration
		reason  error // nil: valid
	}{
		{"fresh", nil, 0, nil},
		{"just before exp", nil, 5*time.Minute - time.Second, nil},
		{"after exp within default leeway", nil, 5*time.Minute + 20*time.Second, nil},
		{"after exp beyond default leeway", nil, 5*time.Minute + 31*time.Second, ErrExpired},
		{"after exp with no leeway", func(c *VerifierConfig) { c.Leeway = -1 }, 5*time.Minute + time.Second, ErrExpired},
		{"after exp within a larger leeway", func(c *VerifierConfig) { c.Leeway = 2 * time.Minute }, 6 * time.Minute, nil},
		{"younger than max age", func(c *VerifierConfig) { c.MaxTokenAge = time.Minute }, 59 * time.Second, nil},
		{"older than max age", func(c *VerifierConfig) { c.MaxTokenAge = time.Minute }, 61 * time.Second, ErrTooOld},
		{"expired and too old is expired", func(c *VerifierConfig) { c.MaxTokenAge = time.Minute }, time.Hour, ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, cached := range []bool{false, true} {
				f := newFixture(t, tt.mod)
				tok := sign(t, f.key, sessionClaims(f.clock.Now()))
				if cached {
					_, err := f.v.VerifySession(t.Context(), tok)
					require.NoError(t, err)
				}
				f.clock.Advance(tt.advance)
				_, err := f.v.VerifySession(t.Context(), tok)
				if tt.reason == nil {
					require.NoError(t, err, "cached=%v", cached)
					continue
				}
				require.ErrorIs(t, err, tt.reason, "cached=%v", cached)
				assert.True(t, Refreshable(err))
			}
		})
	}
}

func TestVerifySessionIssuers(t *testing.T) {
	tests := []struct {
		name    string
		baseURL string
		iss     string
		ok      bool
	}{
		{"project issuer", "", "stytch.com/" + testProject, true},
		{"base URL not accepted unless configured", "", "https://test.stytch.com", false},
		{"configured base URL", "https://test.stytch.com/", "https://test.stytch.com", true},
		{"project issuer still accepted with base URL", "https://test.stytch.com", "stytch.com/" + testProject, true},
		{"other project", "https://test.stytch.com", "stytch.com/project-test-other", false},
		{"prefix is not enough", "", "stytch.com/" + testProject + "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *VerifierConfig) { c.BaseURL = tt.baseURL })
			c := sessionClaims(f.clock.Now())
			c["iss"] = tt.iss
			_, err := f.v.VerifySession(t.Context(), sign(t, f.key, c))
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrWrongIssuer)
		})
	}
}

func TestVerifySessionAudienceAsString(t *testing.T) {
	f := newFixture(t, nil)
	c := sessionClaims(f.clock.Now())
	c["aud"] = testProject
	_, err := f.v.VerifySession(t.Context(), sign(t, f.key, c))
	require.NoError(t, err)
	c["aud"] = []string{"project-test-other", testProject}
	_, err = f.v.VerifySession(t.Context(), sign(t, f.key, c))
	require.NoError(t, err)
}

func TestVerifiedTokenCache(t *testing.T) {
	t.Run("a token seen again costs no RSA verification", func(t *testing.T) {
		f := newFixture(t, nil)
		tok := sign(t, f.key, sessionClaims(f.clock.Now()))
		first, err := f.v.VerifySession(t.Context(), tok)
		require.NoError(t, err)
		require.Equal(t, uint64(1), f.v.signatureChecks.Load())
		for range 5 {
			again, err := f.v.VerifySession(t.Context(), tok)
			require.NoError(t, err)
			assert.Same(t, first, again)
		}
		assert.Equal(t, uint64(1), f.v.signatureChecks.Load())
	})
	t.Run("disabled cache verifies every time", func(t *testing.T) {
		f := newFixture(t, func(c *VerifierConfig) { c.CacheSize = -1 })
		tok := sign(t, f.key, sessionClaims(f.clock.Now()))
		for range 3 {
			_, err := f.v.VerifySession(t.Context(), tok)
			require.NoError(t, err)
		}
		assert.Equal(t, uint64(3), f.v.signatureChecks.Load())
	})
	t.Run("bounded: the least recently used entry is evicted", func(t *testing.T) {
		f := newFixture(t, func(c *VerifierConfig) { c.CacheSize = 2 })
		now := f.clock.Now()
		var toks []string
		for i := range 3 {
			c := sessionClaims(now)
			c["n"] = i
			toks = append(toks, sign(t, f.key, c))
		}
		for _, tok := range toks {
			_, err := f.v.VerifySession(t.Context(), tok)
			require.NoError(t, err)
		}
		require.Equal(t, uint64(3), f.v.signatureChecks.Load())
		_, err := f.v.VerifySession(t.Context(), toks[2]) // still cached
		require.NoError(t, err)
		assert.Equal(t, uint64(3), f.v.signatureChecks.Load())
		_, err = f.v.VerifySession(t.Context(), toks[0]) // evicted
		require.NoError(t, err)
		assert.Equal(t, uint64(4), f.v.signatureChecks.Load())
		assert.Equal(t, 2, f.v.cache.Len())
	})
	t.Run("keyed by hash, never by the token", func(t *testing.T) {
		f := newFixture(t, nil)
		tok := sign(t, f.key, sessionClaims(f.clock.Now()))
		_, err := f.v.VerifySession(t.Context(), tok)
		require.NoError(t, err)
		keys := f.v.cache.Keys()
		require.Len(t, keys, 1)
		assert.Equal(t, tokenHash(tok), keys[0])
	})
	t.Run("failures are not cached", func(t *testing.T) {
		f := newFixture(t, nil)
		c := sessionClaims(f.clock.Now())
		c["aud"] = "project-test-other"
		_, err := f.v.VerifySession(t.Context(), sign(t, f.key, c))
		require.ErrorIs(t, err, ErrWrongAudience)
		assert.Equal(t, 0, f.v.cache.Len())
	})
}

func TestRevocationHook(t *testing.T) {
	revoked := map[string]bool{}
	var asked []string
	f := newFixture(t, func(c *VerifierConfig) {
		c.IsRevoked = func(_ context.Context, sessionID string) bool {
			asked = append(asked, sessionID)
			return revoked[sessionID]
		}
	})
	tok := sign(t, f.key, sessionClaims(f.clock.Now()))

	_, err := f.v.VerifySession(t.Context(), tok) // miss path
	require.NoError(t, err)
	revoked["member-session-test-bbbb"] = true
	_, err = f.v.VerifySession(t.Context(), tok) // cached path
	require.ErrorIs(t, err, ErrRevoked)
	assert.False(t, Refreshable(err))
	assert.Equal(t, []string{"member-session-test-bbbb", "member-session-test-bbbb"}, asked)

	fresh := sessionClaims(f.clock.Now())
	fresh["n"] = 1
	_, err = f.v.VerifySession(t.Context(), sign(t, f.key, fresh)) // miss path, revoked
	require.ErrorIs(t, err, ErrRevoked)
}

func TestMemberRevocationHook(t *testing.T) {
	var cutoff time.Time // member-test-aaaa's JWTs issued before it are revoked
	type ask struct {
		member string
		iat    time.Time
	}
	var asked []ask
	f := newFixture(t, func(c *VerifierConfig) {
		c.IsMemberRevoked = func(_ context.Context, memberID string, issuedAt time.Time) bool {
			asked = append(asked, ask{memberID, issuedAt})
			return memberID == "member-test-aaaa" && issuedAt.Before(cutoff)
		}
	})
	issued := f.clock.Now().Truncate(time.Second)
	tok := sign(t, f.key, sessionClaims(issued))

	_, err := f.v.VerifySession(t.Context(), tok) // miss path
	require.NoError(t, err)
	cutoff = issued.Add(time.Second)
	_, err = f.v.VerifySession(t.Context(), tok) // cached path
	require.ErrorIs(t, err, ErrRevoked)
	require.Len(t, asked, 2)
	for _, a := range asked {
		assert.Equal(t, "member-test-aaaa", a.member)
		assert.True(t, a.iat.Equal(issued), "asked with the token's iat %s, want %s", a.iat, issued)
	}

	f.clock.Advance(2 * time.Second)
	_, err = f.v.VerifySession(t.Context(), sign(t, f.key, sessionClaims(f.clock.Now()))) // a JWT issued after the cut-off
	require.NoError(t, err)

	// An M2M token is asked about by its client ID (a deleted M2M client).
	m2mTok := sign(t, f.key, m2mClaims(f.clock.Now(), "read:users"))
	_, err = f.v.VerifyM2M(t.Context(), m2mTok, nil)
	require.NoError(t, err)
	require.Len(t, asked, 4)
	assert.Equal(t, "m2m-client-test-eeee", asked[3].member)
	revokedClient := true
	f2 := newFixture(t, func(c *VerifierConfig) {
		c.IsMemberRevoked = func(_ context.Context, id string, _ time.Time) bool {
			return revokedClient && id == "m2m-client-test-eeee"
		}
	})
	m2mTok = sign(t, f2.key, m2mClaims(f2.clock.Now(), "read:users"))
	_, err = f2.v.VerifyM2M(t.Context(), m2mTok, nil)
	require.ErrorIs(t, err, ErrRevoked)
	revokedClient = false
	_, err = f2.v.VerifyM2M(t.Context(), m2mTok, nil)
	require.NoError(t, err)
}

func consumer(c *VerifierConfig) { c.ProjectType = ProjectConsumer }

func TestVerifyUserSessionReturnsClaims(t *testing.T) {
	f := newFixture(t, consumer)
	now := f.clock.Now()
	assert.Equal(t, ProjectConsumer, f.v.ProjectType())

	got, err := f.v.VerifySession(t.Context(), sign(t, f.key, userSessionClaims(now)))
	require.NoError(t, err)
	assert.Equal(t, "user-test-aaaa", got.UserID)
	assert.Empty(t, got.MemberID, "a user is not a member")
	assert.Equal(t, "user-test-aaaa", got.Subject())
	assert.Equal(t, "session-test-bbbb", got.SessionID)
	assert.Empty(t, got.OrganizationID)
	assert.Equal(t, []string{"stytch_user"}, got.Roles)
	assert.True(t, now.Add(23*time.Hour).Equal(got.ExpiresAt))
	assert.Equal(t, map[string]any{"team": "blue", "tier": float64(3)}, got.CustomClaims)
	require.Len(t, got.AuthenticationFactors, 2)
	assert.Equal(t, "magic_link", got.AuthenticationFactors[0].Type)
}

// A session JWT of the other project type is refused for that reason, before any key is looked up
// (so not even a kid this project's JWKS lacks costs a refetch), and is no case for Stytch.
func TestVerifySessionRefusesTheOtherProjectType(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*VerifierConfig)
		claims func(time.Time) jwt.MapClaims
	}{
		{"consumer JWT to a B2B verifier", nil, userSessionClaims},
		{"B2B JWT to a consumer verifier", consumer, sessionClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.mod)
			fetches := f.jwks.calls.Load()
			for _, kid := range []string{f.key.kid, "kid-of-the-other-project"} {
				tok := sign(t, testKey{kid: kid, priv: f.key.priv}, tt.claims(f.clock.Now()))
				got, err := f.v.VerifySession(t.Context(), tok)
				require.ErrorIs(t, err, ErrWrongProjectType)
				assert.Nil(t, got)
				assert.Equal(t, "wrong_project_type", Reason(err))
				assert.False(t, Refreshable(err))
				require.NotErrorIs(t, err, ErrMalformed)
			}
			assert.Equal(t, fetches, f.jwks.calls.Load(), "no JWKS refetch for another project's token")
			assert.Zero(t, f.v.signatureChecks.Load())
		})
	}
}

// A consumer project's M2M tokens verify as in a B2B project.
func TestConsumerVerifierVerifiesM2M(t *testing.T) {
	f := newFixture(t, consumer)
	got, err := f.v.VerifyM2M(t.Context(), sign(t, f.key, m2mClaims(f.clock.Now(), "read:users")), []string{"read:users"})
	require.NoError(t, err)
	assert.Equal(t, "m2m-client-test-eeee", got.ClientID)
}

// The per-subject revocation hook is asked with the user ID in a consumer project, on the miss and
// the cached path alike.
func TestUserRevocationHook(t *testing.T) {
	var cutoff time.Time
	var asked []string
	f := newFixture(t, func(c *VerifierConfig) {
		consumer(c)
		c.IsMemberRevoked = func(_ context.Context, subject string, issuedAt time.Time) bool {
			asked = append(asked, subject)
			return subject == "user-test-aaaa" && issuedAt.Before(cutoff)
		}
	})
	tok := sign(t, f.key, userSessionClaims(f.clock.Now()))
	_, err := f.v.VerifySession(t.Context(), tok)
	require.NoError(t, err)
	cutoff = f.clock.Now().Add(time.Second)
	_, err = f.v.VerifySession(t.Context(), tok)
	require.ErrorIs(t, err, ErrRevoked)
	assert.Equal(t, []string{"user-test-aaaa", "user-test-aaaa"}, asked)
}

func TestVerifySpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	f := newFixture(t, func(c *VerifierConfig) { c.TracerProvider = tp })
	tok := sign(t, f.key, sessionClaims(f.clock.Now()))

	for range 2 {
		_, err := f.v.VerifySession(t.Context(), tok)
		require.NoError(t, err)
	}
	_, err := f.v.VerifySession(t.Context(), "garbage")
	require.Error(t, err)

	spans := rec.Ended()
	require.Len(t, spans, 3)
	want := []map[string]string{
		{"verify.path": "local", "verify.outcome": "valid", "verify.reason": "ok"},
		{"verify.path": "cache", "verify.outcome": "valid", "verify.reason": "ok"},
		{"verify.path": "local", "verify.outcome": "invalid", "verify.reason": "malformed"},
	}
	for i, s := range spans {
		assert.Equal(t, "verify.session", s.Name())
		got := map[string]string{}
		for _, kv := range s.Attributes() {
			got[string(kv.Key)] = kv.Value.String()
			assert.NotContains(t, kv.Value.String(), tok[:20], "span must not carry the token")
		}
		assert.Equal(t, want[i], got)
	}
}

type keySourceFunc func(ctx context.Context, kid string) (*rsa.PublicKey, error)

func (f keySourceFunc) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	return f(ctx, kid)
}

func TestForeignKeySourceErrorIsUnknownKey(t *testing.T) {
	clock := newTestClock()
	v := newVerifier(t, keySourceFunc(func(context.Context, string) (*rsa.PublicKey, error) {
		return nil, errStytchDown
	}), clock, nil)
	_, err := v.VerifySession(t.Context(), sign(t, testKey{kid: "kid-1", priv: rsaKey(t, 0)}, sessionClaims(clock.Now())))
	require.ErrorIs(t, err, ErrUnknownKey)
	assert.False(t, Refreshable(err))
}

func TestNewVerifierAndCacheRejectBadConfig(t *testing.T) {
	_, err := NewVerifier(VerifierConfig{Keys: keySourceFunc(nil)})
	require.Error(t, err)
	_, err = NewVerifier(VerifierConfig{ProjectID: testProject})
	require.Error(t, err)
	_, err = NewVerifier(VerifierConfig{ProjectID: testProject, Keys: keySourceFunc(nil), ProjectType: "enterprise"})
	require.ErrorContains(t, err, "ProjectType")
	_, err = NewJWKSCache(JWKSCacheConfig{})
	require.Error(t, err)
}

func TestTokenCacheSharding(t *testing.T) {
	assert.Len(t, newTokenCache(2).shards, 1, "small caches stay one exact LRU")
	big := newTokenCache(10_000)
	require.Len(t, big.shards, cacheShards)
	for i := range 20_000 {
		h := tokenHash(fmt.Sprint(i))
		big.Add(h, &cacheEntry{})
	}
	assert.LessOrEqual(t, big.Len(), 10_000+cacheShards, "bounded")
	assert.Greater(t, big.Len(), 9_000)
	big.Purge()
	assert.Equal(t, 0, big.Len())
}
