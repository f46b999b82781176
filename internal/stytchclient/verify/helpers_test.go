package verify

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testProject = "project-test-11111111-2222-3333-4444-555555555555"

// newTestClock is the movable clock shared by a test's cache, verifier and token minting.
func newTestClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// testKey is a real RSA signing key with its kid.
type testKey struct {
	kid  string
	priv *rsa.PrivateKey
}

// Keys are expensive to generate under -race; tests share a small pool,
// generated on first use.
var (
	keyPoolOnce sync.Once
	keyPool     [3]*rsa.PrivateKey
)

func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	keyPoolOnce.Do(func() {
		for j := range keyPool {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keyPool[j] = k
		}
	})
	return keyPool[i]
}

// jwksJSON serialises the public halves of keys as a JWKS document, with
// jwkset so the document is what a real issuer would serve.
func jwksJSON(t testing.TB, keys ...testKey) []byte {
	t.Helper()
	doc := jwkset.JWKSMarshal{}
	for _, k := range keys {
		jwk, err := jwkset.NewJWKFromKey(&k.priv.PublicKey, jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: jwkset.AlgRS256, USE: jwkset.UseSig},
		})
		require.NoError(t, err)
		doc.Keys = append(doc.Keys, jwk.Marshal())
	}
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	return raw
}

// fakeJWKS is a Fetcher over a document the test swaps at will; it counts
// calls and can be made to fail or to block until released. It stands in for
// Stytch only in the pure tests; the emulator tests use real HTTP.
type fakeJWKS struct {
	mu      sync.Mutex
	doc     []byte
	err     error
	gate    chan struct{} // when non-nil, Fetch waits for it to close
	started chan struct{} // when non-nil, receives one value per Fetch start
	calls   atomic.Int64
}

func (f *fakeJWKS) set(doc []byte, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.doc, f.err = doc, err
}

func (f *fakeJWKS) Fetch(ctx context.Context) ([]byte, error) {
	f.calls.Add(1)
	f.mu.Lock()
	gate, started := f.gate, f.started
	f.mu.Unlock()
	if started != nil {
		started <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return f.doc, nil
}

var errStytchDown = errors.New("connection refused")

// newCache builds a JWKSCache over fetch and waits for its first load when
// the fetcher can succeed.
func newCache(t testing.TB, fetch Fetcher, clock *testkit.Clock, wait bool) *JWKSCache {
	t.Helper()
	c, err := NewJWKSCache(JWKSCacheConfig{
		Fetch:    fetch,
		Name:     "test",
		Now:      clock.Now,
		RetryMin: time.Millisecond,
		RetryMax: 5 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	if wait {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, c.WaitReady(ctx))
	}
	return c
}

func newVerifier(t testing.TB, keys KeySource, clock *testkit.Clock, mod func(*VerifierConfig)) *Verifier {
	t.Helper()
	cfg := VerifierConfig{ProjectID: testProject, Keys: keys, Now: clock.Now}
	if mod != nil {
		mod(&cfg)
	}
	v, err := NewVerifier(cfg)
	require.NoError(t, err)
	return v
}

// sessionClaims returns the claims Stytch puts in a B2B session JWT, issued
// at now and living 5 minutes.
func sessionClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": "stytch.com/" + testProject,
		"aud": []string{testProject},
		"sub": "member-test-aaaa",
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
		claimSession: map[string]any{
			"id":               "member-session-test-bbbb",
			"started_at":       now.Add(-time.Hour).Format(time.RFC3339),
			"last_accessed_at": now.Format(time.RFC3339),
			"expires_at":       now.Add(23 * time.Hour).Format(time.RFC3339),
			"attributes":       map[string]any{"ip_address": "203.0.113.7", "user_agent": "test-agent"},
			"roles":            []string{"stytch_member", "stytch_admin"},
			"authentication_factors": []any{
				map[string]any{
					"type":                  "magic_link",
					"delivery_method":       "email",
					"last_authenticated_at": now.Add(-time.Hour).Format(time.RFC3339),
					"created_at":            now.Add(-time.Hour).Format(time.RFC3339),
					"updated_at":            now.Add(-time.Hour).Format(time.RFC3339),
					"email_factor":          map[string]any{"email_id": "member-email-test-cccc", "email_address": "someone@example.com"},
				},
				map[string]any{
					"type":                  "sso",
					"delivery_method":       "sso_oidc",
					"oidc_sso_factor":       map[string]any{"id": "oidc-1", "provider_id": "p-1"},
					"last_authenticated_at": now.Format(time.RFC3339),
				},
			},
		},
		claimOrganization: map[string]any{"organization_id": "organization-test-dddd", "slug": "acme"},
		"team":            "blue",
		"tier":            float64(3),
	}
}

// userSessionClaims returns the claims Stytch puts in a consumer project's
// session JWT: sessionClaims' shape with a user as sub and no organization
// claim.
func userSessionClaims(now time.Time) jwt.MapClaims {
	c := sessionClaims(now)
	delete(c, claimOrganization)
	c["sub"] = "user-test-aaaa"
	s := c[claimSession].(map[string]any)
	s["id"] = "session-test-bbbb"
	s["roles"] = []string{"stytch_user"}
	return c
}

func m2mClaims(now time.Time, scope string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":   "stytch.com/" + testProject,
		"aud":   []string{testProject},
		"sub":   "m2m-client-test-eeee",
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"scope": scope,
		"env":   "prod",
	}
}

// sign makes an RS256 JWT with k, kid in the header.
func sign(t testing.TB, k testKey, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.priv)
	require.NoError(t, err)
	return s
}
