package stytchemu_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

// factorOf returns the first session factor of the given type.
func factorOf(t *testing.T, r response, typ string) map[string]any {
	t.Helper()
	fs, _ := r.obj("member_session")["authentication_factors"].([]any)
	for _, f := range fs {
		m, _ := f.(map[string]any)
		if m["type"] == typ {
			return m
		}
	}
	t.Fatalf("no %s factor in %s", typ, r.raw)
	return nil
}

func newAttestWorld(t *testing.T, extra ...stytchemu.TrustedAuthProfile) *world {
	t.Helper()
	p, err := stytchemu.ExampleTrustedAuthProfile()
	require.NoError(t, err)
	return newWorld(t, stytchemu.WithTrustedAuthProfiles(append([]stytchemu.TrustedAuthProfile{p}, extra...)...))
}

func (w *world) mint(t *testing.T, email, orgID string) string {
	t.Helper()
	tok, err := w.h.emu.MintTrustedAuthToken(stytchemu.ExampleTrustedAuthProfileID, email, orgID, 0)
	require.NoError(t, err)
	return tok
}

func attest(profile, token string, more map[string]any) call {
	b := map[string]any{"profile_id": profile, "token": token}
	for k, v := range more {
		b[k] = v
	}
	return post("/v1/b2b/sessions/attest", b)
}

func TestAttestExampleProfileGivesSessionWithTrustedFactor(t *testing.T) {
	w := newAttestWorld(t)
	tok := w.mint(t, w.user.Email, w.orgA.ID)
	r := w.h.do(attest(stytchemu.ExampleTrustedAuthProfileID, tok, map[string]any{"session_custom_claims": map[string]any{"plan": "pro"}}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, w.user.ID, r.str("member_id"))
	assert.NotEmpty(t, r.str("session_token"))
	assert.NotEmpty(t, r.str("session_jwt"))
	f := factorOf(t, r, "trusted_auth_token")
	assert.Equal(t, "trusted_token_exchange", f["delivery_method"])
	tf, _ := f["trusted_auth_token_factor"].(map[string]any)
	assert.NotEmpty(t, tf["token_id"])
	assert.Equal(t, "pro", r.obj("member_session")["custom_claims"].(map[string]any)["plan"])

	// The session is real: sessions/authenticate accepts its token.
	a := w.h.do(post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": r.str("session_token")}))
	assert.Equal(t, http.StatusOK, a.status, "%s", a.raw)

	// A token attests once.
	again := w.h.do(attest(stytchemu.ExampleTrustedAuthProfileID, tok, nil))
	assert.Equal(t, http.StatusUnauthorized, again.status)
	assert.Equal(t, "invalid_trusted_auth_token", again.str("error_type"))
}

func TestAttestAddsFactorToPassedSession(t *testing.T) {
	w := newAttestWorld(t)
	r := w.h.do(attest(stytchemu.ExampleTrustedAuthProfileID, w.mint(t, w.user.Email, w.orgA.ID), map[string]any{"session_token": w.userSes.Token}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, w.userSes.ID, r.obj("member_session")["member_session_id"], "the passed session is extended, not replaced")
	assert.Contains(t, factorTypes(r), "trusted_auth_token/trusted_token_exchange")

	both := w.h.do(attest(stytchemu.ExampleTrustedAuthProfileID, w.mint(t, w.user.Email, w.orgA.ID),
		map[string]any{"session_token": w.userSes.Token, "session_jwt": w.userSes.JWT}))
	assert.Equal(t, http.StatusBadRequest, both.status)
	assert.Equal(t, "too_many_session_arguments", both.str("error_type"))
}

func TestAttestOrganization(t *testing.T) {
	w := newAttestWorld(t)
	noClaim := w.mint(t, w.user.Email, "")
	r := w.h.do(attest(stytchemu.ExampleTrustedAuthProfileID, noClaim, nil))
	assert.Equal(t, http.StatusBadRequest, r.status, "no organization claim and no organization_id")
	r = w.h.do(attest(stytchemu.ExampleTrustedAuthProfileID, noClaim, map[string]any{"organization_id": "acme"}))
	require.Equal(t, http.StatusOK, r.status, "organization_id (here a slug) stands in for the claim: %s", r.raw)
	assert.Equal(t, w.orgA.ID, r.obj("organization")["organization_id"])

	r = w.h.do(attest(stytchemu.ExampleTrustedAuthProfileID, w.mint(t, w.user.Email, w.orgA.ID), map[string]any{"organization_id": w.orgB.ID}))
	assert.Equal(t, http.StatusBadRequest, r.status, "organization_id contradicting the claim")
}

func TestAttestJITProvisioning(t *testing.T) {
	w := newAttestWorld(t)
	r := w.h.do(attest(stytchemu.ExampleTrustedAuthProfileID, w.mint(t, "new@acme.test", w.orgA.ID), nil))
	assert.Equal(t, http.StatusNotFound, r.status, "no JIT in an organization that does not allow it")
	assert.Equal(t, "member_not_found", r.str("error_type"))

	jit, err := w.h.emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Open", EmailJITProvisioning: "RESTRICTED", EmailAllowedDomains: []string{"open.test"}})
	require.NoError(t, err)
	r = w.h.do(attest(stytchemu.ExampleTrustedAuthProfileID, w.mint(t, "new@open.test", jit.ID), nil))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "new@open.test", r.obj("member")["email_address"])
	assert.Equal(t, "active", r.obj("member")["status"])

	// JIT needs the organization in the token, not only in the request.
	r = w.h.do(attest(stytchemu.ExampleTrustedAuthProfileID, w.mint(t, "other@open.test", ""), map[string]any{"organization_id": jit.ID}))
	assert.Equal(t, http.StatusNotFound, r.status, "%s", r.raw)
}

// signed builds a token with claims, signed by key with method.
func signed(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func pemOf(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestAttestRefusesBadTokens(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	prof := stytchemu.TrustedAuthProfile{
		ProfileID: "pem-profile", Issuer: "https://issuer.test", Audience: "aud-1",
		PublicKeysPEM:    []string{pemOf(t, &key.PublicKey)},
		AttributeMapping: stytchemu.TrustedAuthAttributes{EmailAddress: "mail", OrganizationID: "org", TokenID: "tid"},
	}
	w := newAttestWorld(t, prof)
	now := w.h.emu.Now()
	good := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": "https://issuer.test", "aud": "aud-1", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
			"mail": w.user.Email, "org": w.orgA.ID, "tid": "t-" + time.Now().Format(time.RFC3339Nano),
		}
	}
	with := func(k string, v any) jwt.MapClaims {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	ok := w.h.do(attest("pem-profile", signed(t, jwt.SigningMethodRS256, key, good(), ""), nil))
	require.Equal(t, http.StatusOK, ok.status, "the mapped claims are read: %s", ok.raw)

	cases := map[string]string{
		"other key":      signed(t, jwt.SigningMethodRS256, other, good(), ""),
		"wrong issuer":   signed(t, jwt.SigningMethodRS256, key, with("iss", "https://evil.test"), ""),
		"wrong audience": signed(t, jwt.SigningMethodRS256, key, with("aud", "aud-2"), ""),
		"expired":        signed(t, jwt.SigningMethodRS256, key, with("exp", now.Add(-time.Minute).Unix()), ""),
		"no exp":         signed(t, jwt.SigningMethodRS256, key, with("exp", nil), ""),
		"issued later":   signed(t, jwt.SigningMethodRS256, key, with("iat", now.Add(time.Hour).Unix()), ""),
		"no email":       signed(t, jwt.SigningMethodRS256, key, with("mail", nil), ""),
		"no token id":    signed(t, jwt.SigningMethodRS256, key, with("tid", nil), ""),
		"HS256 with PEM": signed(t, jwt.SigningMethodHS256, []byte(pemOf(t, &key.PublicKey)), good(), ""),
		"garbage":        "not-a-jwt",
		"alg none":       signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good(), ""),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			r := w.h.do(attest("pem-profile", tok, nil))
			assert.Equal(t, http.StatusUnauthorized, r.status, "%s", r.raw)
			assert.Equal(t, "invalid_trusted_auth_token", r.str("error_type"))
		})
	}
	r := w.h.do(attest("no-such-profile", signed(t, jwt.SigningMethodRS256, key, good(), ""), nil))
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "trusted_auth_token_profile_not_found", r.str("error_type"))
	r = w.h.do(post("/v1/b2b/sessions/attest", map[string]any{"profile_id": "pem-profile"}))
	assert.Equal(t, http.StatusBadRequest, r.status)
}

func TestAttestJWKSProfileFromFile(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	b64 := base64.RawURLEncoding.EncodeToString
	jwks := map[string]any{"keys": []any{map[string]any{
		"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
		"x": b64(key.X.FillBytes(make([]byte, 32))), "y": b64(key.Y.FillBytes(make([]byte, 32))),
	}}}
	file := []any{map[string]any{"profile_id": "jwks-profile", "issuer": "iss-2", "audience": "aud-2", "jwks": jwks}}
	raw, err := json.Marshal(file)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "profiles.json")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	ps, err := stytchemu.LoadTrustedAuthProfiles(path)
	require.NoError(t, err)
	w := newWorld(t, stytchemu.WithTrustedAuthProfiles(ps...))
	now := w.h.emu.Now()
	claims := jwt.MapClaims{"iss": "iss-2", "aud": "aud-2", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "email": w.user.Email, "organization_id": w.orgA.ID, "jti": "j1"}
	r := w.h.do(attest("jwks-profile", signed(t, jwt.SigningMethodES256, key, claims, "k1"), nil))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	r = w.h.do(attest("jwks-profile", signed(t, jwt.SigningMethodES256, key, claims, "unknown-kid"), nil))
	assert.Equal(t, http.StatusUnauthorized, r.status)

	require.NoError(t, os.WriteFile(path, []byte(`[{"profile_id":"p","issuer":"i","audience":"a"}]`), 0o600))
	_, err = stytchemu.LoadTrustedAuthProfiles(path)
	require.Error(t, err, "a profile needs keys")
}

func TestMintTrustedAuthTokenControlEndpoint(t *testing.T) {
	w := newAttestWorld(t)
	r := w.h.do(call{
		method: http.MethodPost, path: "/emulator/trusted_auth_tokens", noAuth: true,
		body: map[string]any{"email_address": w.user.Email, "organization_id": w.orgA.ID},
	})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	a := w.h.do(attest(stytchemu.ExampleTrustedAuthProfileID, r.str("token"), nil))
	assert.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	bad := w.h.do(call{method: http.MethodPost, path: "/emulator/trusted_auth_tokens", noAuth: true, body: map[string]any{"email_address": "nope"}})
	assert.Equal(t, http.StatusBadRequest, bad.status)
}

// userInfoServer is a loopback OIDC UserInfo endpoint: it knows tokens.
func userInfoServer(t *testing.T, tokens map[string]string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		body, ok := tokens[r.Header.Get("Authorization")]
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestMigrateCallsUserInfo(t *testing.T) {
	ui, calls := userInfoServer(t, map[string]string{
		"Bearer good":       `{"sub":"ext-1","email":"user@acme.test","email_verified":true}`,
		"Bearer stranger":   `{"sub":"ext-2","email":"stranger@acme.test"}`,
		"Bearer unverified": `{"sub":"ext-3","email":"user@acme.test","email_verified":false}`,
		"Bearer noemail":    `{"sub":"ext-4"}`,
	})
	w := newWorld(t, stytchemu.WithUserInfoURL(ui.URL))
	migrate := func(tok string) response {
		return w.h.do(post("/v1/b2b/sessions/migrate", map[string]any{"session_token": tok, "organization_id": w.orgA.ID, "session_duration_minutes": 30}))
	}
	r := migrate("good")
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, w.user.ID, r.str("member_id"))
	f := factorOf(t, r, "imported")
	assert.Equal(t, "email", f["delivery_method"])
	assert.NotEmpty(t, r.str("session_jwt"))

	for tok, want := range map[string]int{"bad": 401, "unverified": 401, "noemail": 401, "stranger": 404} {
		r := migrate(tok)
		assert.Equal(t, want, r.status, "%s: %s", tok, r.raw)
	}
	assert.Equal(t, int32(5), calls.Load())
	r = w.h.do(post("/v1/b2b/sessions/migrate", map[string]any{"session_token": "good", "organization_id": "no-such-org"}))
	assert.Equal(t, http.StatusNotFound, r.status)
	r = w.h.do(post("/v1/b2b/sessions/migrate", map[string]any{"session_token": "good"}))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, int32(5), calls.Load(), "bad requests do not reach the provider")
}

func TestMigrateWithoutUserInfoURL(t *testing.T) {
	w := newWorld(t)
	r := w.h.do(post("/v1/b2b/sessions/migrate", map[string]any{"session_token": "x", "organization_id": w.orgA.ID}))
	assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.raw)
}

func TestImpersonationAuthenticate(t *testing.T) {
	w := newWorld(t)
	tok, err := w.h.emu.CreateImpersonationToken(w.mfaUser.ID, "member-dashboard-1", "support@vendor.test")
	require.NoError(t, err)
	r := w.h.do(post("/v1/b2b/impersonation/authenticate", map[string]any{"impersonation_token": tok}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, true, r.body["member_authenticated"], "MFA is never required for impersonation")
	assert.Empty(t, r.str("intermediate_session_token"))
	assert.Equal(t, w.orgB.ID, r.str("organization_id"))
	assert.NotEmpty(t, r.str("session_jwt"))
	f := factorOf(t, r, "impersonated")
	assert.Equal(t, "impersonation", f["delivery_method"])
	assert.Equal(t, map[string]any{"impersonator_id": "member-dashboard-1", "impersonator_email_address": "support@vendor.test"}, f["impersonated_factor"])
	_, sent := w.h.emu.LastMessage("+15555550100")
	assert.False(t, sent, "no MFA code is sent")

	again := w.h.do(post("/v1/b2b/impersonation/authenticate", map[string]any{"impersonation_token": tok}))
	assert.Equal(t, http.StatusNotFound, again.status, "single use")
	assert.Equal(t, "impersonation_token_not_found", again.str("error_type"))

	tok, err = w.h.emu.CreateImpersonationToken(w.user.ID, "member-dashboard-1", "support@vendor.test")
	require.NoError(t, err)
	w.h.emu.Advance(5*time.Minute + time.Second)
	expired := w.h.do(post("/v1/b2b/impersonation/authenticate", map[string]any{"impersonation_token": tok}))
	assert.Equal(t, http.StatusNotFound, expired.status, "expires after 5 minutes")
	missing := w.h.do(post("/v1/b2b/impersonation/authenticate", map[string]any{}))
	assert.Equal(t, http.StatusBadRequest, missing.status)
}

func TestImpersonationControlEndpoint(t *testing.T) {
	w := newWorld(t)
	r := w.h.do(call{
		method: http.MethodPost, path: "/emulator/impersonation_tokens", noAuth: true,
		body: map[string]any{"member_id": w.user.ID, "impersonator_id": "dash-1", "impersonator_email_address": "ops@vendor.test"},
	})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	a := w.h.do(post("/v1/b2b/impersonation/authenticate", map[string]any{"impersonation_token": r.str("impersonation_token")}))
	assert.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	bad := w.h.do(call{
		method: http.MethodPost, path: "/emulator/impersonation_tokens", noAuth: true,
		body: map[string]any{"member_id": w.user.ID, "impersonator_id": "dash-1"},
	})
	assert.Equal(t, http.StatusBadRequest, bad.status, "the impersonator's email is required")
}
