package verify

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// fuzzVerifier is a verifier over one known key (kid "fuzz-key") and a clock that never moves, plus
// an independent signature check for the fuzz oracles. Valid tokens signed by that key are added as
// seeds at run time (the key is made per run); the committed corpus in testdata/fuzz holds
// JWT-shaped tokens signed by other keys, with other algorithms, or broken in structure.
type fuzzVerifier struct {
	v   *Verifier
	key testKey
}

func newFuzzVerifier(f *testing.F) *fuzzVerifier {
	f.Helper()
	clock := newTestClock()
	// One key of its own: the shared pool makes three, and every fuzz worker pays for its setup.
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	key := testKey{kid: "fuzz-key", priv: priv}
	jwks := &fakeJWKS{}
	jwks.set(jwksJSON(f, key), nil)
	cache := newCache(f, jwks.Fetch, clock, true)
	// No cache: every input takes the full verification path.
	return &fuzzVerifier{v: newVerifier(f, cache, clock, func(c *VerifierConfig) { c.CacheSize = -1 }), key: key}
}

// signatureValid is the oracle: does tok carry an RS256 signature of the fuzz key, checked by
// golang-jwt alone without any of the verifier's code.
func (fv *fuzzVerifier) signatureValid(tok string) bool {
	_, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return &fv.key.priv.PublicKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}), jwt.WithoutClaimsValidation())
	return err == nil
}

// FuzzVerifySession feeds arbitrary tokens to VerifySession: it must never panic, must never accept
// a token whose signature is not the project key's, and must always say why it refused.
func FuzzVerifySession(f *testing.F) {
	fv := newFuzzVerifier(f)
	now := newTestClock().Now()
	f.Add(sign(f, fv.key, sessionClaims(now)))
	f.Add(sign(f, fv.key, m2mClaims(now, "read:users")))
	f.Fuzz(func(t *testing.T, tok string) {
		claims, err := fv.v.VerifySession(context.Background(), tok)
		if err != nil {
			if claims != nil {
				t.Fatalf("claims returned with error %v", err)
			}
			if Reason(err) == "other" || Reason(err) == "ok" {
				t.Fatalf("refusal without a reason: %v", err)
			}
			return
		}
		if !fv.signatureValid(tok) {
			t.Fatalf("accepted a token without a valid signature: %q", tok)
		}
		if claims.SessionID == "" || claims.MemberID == "" {
			t.Fatalf("accepted a session token without session or member ID: %q", tok)
		}
	})
}

// FuzzVerifyM2M feeds arbitrary tokens and required scopes to VerifyM2M: it must never panic, never
// accept a token without a valid signature, and never admit scopes the token does not hold.
func FuzzVerifyM2M(f *testing.F) {
	fv := newFuzzVerifier(f)
	now := newTestClock().Now()
	f.Add(sign(f, fv.key, m2mClaims(now, "read:users write:users")), "read:users")
	f.Add(sign(f, fv.key, m2mClaims(now, "read:*")), "read:users read:members")
	f.Add(sign(f, fv.key, sessionClaims(now)), "")
	f.Fuzz(func(t *testing.T, tok, scopes string) {
		required := strings.Fields(scopes)
		claims, err := fv.v.VerifyM2M(context.Background(), tok, required)
		if err != nil {
			if Reason(err) == "other" || Reason(err) == "ok" {
				t.Fatalf("refusal without a reason: %v", err)
			}
			if claims != nil && Reason(err) != "insufficient_scope" {
				t.Fatalf("claims returned with error %v", err)
			}
			return
		}
		if !fv.signatureValid(tok) {
			t.Fatalf("accepted a token without a valid signature: %q", tok)
		}
		if !ScopesSatisfied(claims.Scopes, required) {
			t.Fatalf("admitted %q with scopes %q", required, claims.Scopes)
		}
	})
}
