package stytchemu_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

// jwksKeyfunc fetches a JWKS endpoint over HTTP and builds a standard
// keyfunc (MicahParks/keyfunc) from it.
func (h *harness) jwksKeyfunc(t *testing.T, path string) jwt.Keyfunc {
	t.Helper()
	r := h.do(call{method: http.MethodGet, path: path + h.emu.ProjectID(), noAuth: true})
	require.Equal(t, http.StatusOK, r.status)
	k, err := keyfunc.NewJWKSetJSON(json.RawMessage(r.raw))
	require.NoError(t, err)
	return k.Keyfunc
}

// verify parses a token the way a careful relying party does: RS256 only,
// kid required, iss and aud checked, exp and iat required, at the emulator's time.
func (h *harness) verify(kf jwt.Keyfunc, tok string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["kid"].(string); !ok {
			return nil, jwt.ErrTokenUnverifiable
		}
		return kf(t)
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer("stytch.com/"+h.emu.ProjectID()),
		jwt.WithAudience(h.emu.ProjectID()),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(h.emu.Now),
	)
	return claims, err //nolint:wrapcheck // test helper
}

func TestSessionJWTClaims(t *testing.T) {
	w := newWorld(t)
	ses, err := w.h.emu.CreateSessionWithClaims(w.orgA.ID, w.admin.ID, 2*time.Hour, map[string]any{"tenant": "t1", "iss": "ignored"})
	require.NoError(t, err)

	for _, path := range []string{"/v1/b2b/sessions/jwks/", "/v1/sessions/jwks/"} {
		t.Run(path, func(t *testing.T) {
			claims, err := w.h.verify(w.h.jwksKeyfunc(t, path), ses.JWT)
			require.NoError(t, err)
			assert.Equal(t, "stytch.com/"+w.h.emu.ProjectID(), claims["iss"])
			assert.Equal(t, []any{w.h.emu.ProjectID()}, claims["aud"])
			assert.Equal(t, w.admin.ID, claims["sub"])
			assert.InDelta(t, epoch.Unix(), claims["iat"], 0)
			assert.InDelta(t, epoch.Unix(), claims["nbf"], 0)
			assert.InDelta(t, epoch.Add(5*time.Minute).Unix(), claims["exp"], 0)
			assert.Equal(t, "t1", claims["tenant"])

			s := claims["https://stytch.com/session"].(map[string]any)
			assert.Equal(t, ses.ID, s["id"])
			assert.Equal(t, epoch.Format(time.RFC3339), s["started_at"])
			assert.Equal(t, epoch.Format(time.RFC3339), s["last_accessed_at"])
			assert.Equal(t, epoch.Add(2*time.Hour).Format(time.RFC3339), s["expires_at"])
			assert.ElementsMatch(t, []any{"stytch_member", "stytch_admin"}, s["roles"])
			assert.Contains(t, s, "attributes")
			f := s["authentication_factors"].([]any)[0].(map[string]any)
			assert.Equal(t, "magic_link", f["type"])
			assert.Equal(t, w.admin.Email, f["email_factor"].(map[string]any)["email_address"])

			o := claims["https://stytch.com/organization"].(map[string]any)
			assert.Equal(t, map[string]any{"organization_id": w.orgA.ID, "slug": "acme"}, o)
		})
	}
}

func TestSessionJWTExpiresAfterFiveMinutes(t *testing.T) {
	h := newWorld(t).h
	w := h.emu
	org, err := w.CreateOrganization(stytchemu.OrganizationParams{Name: "X"})
	require.NoError(t, err)
	m, err := w.CreateMember(org.ID, stytchemu.MemberParams{Email: "x@x.test"})
	require.NoError(t, err)
	ses, err := w.CreateSession(org.ID, m.ID, time.Hour)
	require.NoError(t, err)
	kf := h.jwksKeyfunc(t, "/v1/b2b/sessions/jwks/")

	w.Advance(5*time.Minute + time.Second)
	_, err = h.verify(kf, ses.JWT)
	require.ErrorIs(t, err, jwt.ErrTokenExpired)

	// The session lives on: authenticate with the stale JWT returns a fresh one.
	r := h.do(post("/v1/b2b/sessions/authenticate", map[string]any{"session_jwt": ses.JWT}))
	require.Equal(t, http.StatusOK, r.status)
	_, err = h.verify(kf, r.str("session_jwt"))
	require.NoError(t, err)
}

func TestKeyRotationOverlap(t *testing.T) {
	w := newWorld(t)
	emu := w.h.emu
	oldKID := emu.KeyIDs()[0]
	oldJWT := w.userSes.JWT

	newKID, err := emu.RotateKeys()
	require.NoError(t, err)
	assert.Equal(t, []string{oldKID, newKID}, emu.KeyIDs())
	ses, err := emu.CreateSession(w.orgA.ID, w.admin.ID, time.Hour)
	require.NoError(t, err)
	tok, _, err := jwt.NewParser().ParseUnverified(ses.JWT, jwt.MapClaims{})
	require.NoError(t, err)
	assert.Equal(t, newKID, tok.Header["kid"], "new tokens are signed with the new key")

	overlap := w.h.jwksKeyfunc(t, "/v1/b2b/sessions/jwks/")
	for name, j := range map[string]string{"old": oldJWT, "new": ses.JWT} {
		_, err := w.h.verify(overlap, j)
		require.NoError(t, err, name)
	}

	emu.RetireOldKeys()
	after := w.h.jwksKeyfunc(t, "/v1/b2b/sessions/jwks/")
	_, err = w.h.verify(after, oldJWT)
	require.Error(t, err, "the old key is no longer served")
	_, err = w.h.verify(after, ses.JWT)
	require.NoError(t, err)
	// The emulator itself no longer accepts JWTs of the retired key.
	r := w.h.do(post("/v1/b2b/sessions/authenticate", map[string]any{"session_jwt": oldJWT}))
	assert.Equal(t, http.StatusNotFound, r.status)
}

func TestVerifierRejectsForeignTokens(t *testing.T) {
	w := newWorld(t)
	kf := w.h.jwksKeyfunc(t, "/v1/b2b/sessions/jwks/")
	base := map[string]any{
		"iss": "stytch.com/" + w.h.emu.ProjectID(), "aud": []string{w.h.emu.ProjectID()}, "sub": "member-x",
		"iat": epoch.Unix(), "nbf": epoch.Unix(), "exp": epoch.Add(time.Minute).Unix(),
	}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range base {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	cases := []struct {
		name   string
		claims map[string]any
		ok     bool
	}{
		{"well formed", base, true},
		{"other audience", with("aud", []string{"project-test-other"}), false},
		{"other issuer", with("iss", "stytch.com/project-test-other"), false},
		{"expired", with("exp", epoch.Add(-time.Minute).Unix()), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := w.h.emu.SignJWT(tc.claims)
			require.NoError(t, err)
			_, err = w.h.verify(kf, tok)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}

func TestM2MAccessToken(t *testing.T) {
	w := newWorld(t)
	require.NoError(t, w.h.emu.SetM2MCustomClaims(w.client.ClientID, map[string]any{"team": "billing"}))
	token := func(secret, scope string) response {
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {w.client.ClientID}, "client_secret": {secret}}
		if scope != "" {
			v.Set("scope", scope)
		}
		return w.h.do(call{method: http.MethodPost, path: "/v1/public/" + w.h.emu.ProjectID() + "/oauth2/token", body: v.Encode(), ctype: "application/x-www-form-urlencoded", noAuth: true})
	}
	r := token(w.client.ClientSecret, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	claims, err := w.h.verify(w.h.jwksKeyfunc(t, "/v1/b2b/sessions/jwks/"), r.str("access_token"))
	require.NoError(t, err)
	assert.Equal(t, w.client.ClientID, claims["sub"])
	assert.Equal(t, "read:users write:users", claims["scope"])
	assert.InDelta(t, epoch.Add(time.Hour).Unix(), claims["exp"], 0)
	assert.Equal(t, "billing", claims["team"])

	// Three-step rotation: during it both secrets work, after it only the new one.
	start := w.h.do(post("/v1/m2m/clients/"+w.client.ClientID+"/secrets/rotate/start", nil))
	require.Equal(t, http.StatusOK, start.status)
	next := start.obj("m2m_client")["next_client_secret"].(string)
	assert.Equal(t, http.StatusOK, token(w.client.ClientSecret, "").status, "old secret during rotation")
	assert.Equal(t, http.StatusOK, token(next, "read:users").status, "next secret during rotation")
	require.Equal(t, http.StatusOK, w.h.do(post("/v1/m2m/clients/"+w.client.ClientID+"/secrets/rotate", nil)).status)
	assert.Equal(t, http.StatusUnauthorized, token(w.client.ClientSecret, "").status, "old secret after rotation")
	assert.Equal(t, http.StatusOK, token(next, "").status, "new secret after rotation")

	// Cancel discards the pending secret.
	start = w.h.do(post("/v1/m2m/clients/"+w.client.ClientID+"/secrets/rotate/start", nil))
	discarded := start.obj("m2m_client")["next_client_secret"].(string)
	require.Equal(t, http.StatusOK, w.h.do(post("/v1/m2m/clients/"+w.client.ClientID+"/secrets/rotate/cancel", nil)).status)
	assert.Equal(t, http.StatusUnauthorized, token(discarded, "").status)
	assert.Equal(t, http.StatusOK, token(next, "").status)
}
