package stytchclient_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

type sessionHarness struct {
	*harness
	auth     *sc.SessionAuthenticator
	memberID string
	jwt      string
	token    string
}

// newSessionHarness wires client → JWKS cache → verifier → authenticator
// exactly as production does, with the emulator's clock everywhere, and
// logs a member in with a 60-minute session.
func newSessionHarness(t *testing.T) *sessionHarness {
	t.Helper()
	h := newHarness(t)
	ctx := t.Context()
	cache, err := verify.NewJWKSCache(verify.JWKSCacheConfig{Fetch: h.client.FetchJWKS, Now: h.emu.Now})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, cache.Close()) })
	require.NoError(t, cache.WaitReady(ctx))
	v, err := verify.NewVerifier(verify.VerifierConfig{ProjectID: h.emu.ProjectID(), Keys: cache, BaseURL: h.emu.URL, Now: h.emu.Now})
	require.NoError(t, err)

	org := newOrg(t, h.client)
	m, err := h.client.MemberCreate(ctx, sc.MemberCreateParams{OrganizationID: org.OrganizationID, EmailAddress: "dana@example.com"})
	require.NoError(t, err)
	_, err = h.client.MagicLinkLoginOrSignup(ctx, sc.MagicLinkLoginOrSignupParams{OrganizationID: org.OrganizationID, EmailAddress: "dana@example.com"})
	require.NoError(t, err)
	msg, ok := h.emu.LastMessage("dana@example.com")
	require.True(t, ok)
	res, err := h.client.MagicLinkAuthenticate(ctx, sc.MagicLinkAuthenticateParams{MagicLinksToken: msg.Token, SessionDurationMinutes: 60})
	require.NoError(t, err)
	h.emu.ResetRequests()
	return &sessionHarness{
		harness:  h,
		auth:     sc.NewSessionAuthenticator(h.client, v, h.emu.Now),
		memberID: m.MemberID,
		jwt:      res.SessionJWT,
		token:    res.SessionToken,
	}
}

func TestAuthenticateSessionValidJWTIsLocal(t *testing.T) {
	s := newSessionHarness(t)
	res, err := s.auth.AuthenticateSession(t.Context(), sc.AuthenticateSessionParams{SessionJWT: s.jwt})
	require.NoError(t, err)
	assert.Equal(t, sc.PathLocal, res.Path)
	assert.Equal(t, "ok", res.Reason)
	assert.Equal(t, s.memberID, res.Session.MemberID)
	assert.NotEmpty(t, res.Session.MemberSessionID)
	require.NotNil(t, res.Claims)
	assert.Nil(t, res.Member, "the local path has no member object")
	assert.Empty(t, res.SessionJWT)
	assert.Equal(t, 0, s.emu.Requests("*"))
}

func TestAuthenticateSessionForgedJWTsNeverReachStytch(t *testing.T) {
	s := newSessionHarness(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	tests := []struct {
		name   string
		token  string
		reason error
	}{
		{"tampered payload", tamperSub(t, s.jwt), verify.ErrBadSignature},
		{"alg none", algNone(t, s.jwt), verify.ErrBadSignature},
		{"signed by another key with the real kid", resign(t, s.jwt, otherKey), verify.ErrBadSignature},
		{"garbage", "not-a.jwt.at-all", verify.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.auth.AuthenticateSession(t.Context(), sc.AuthenticateSessionParams{SessionJWT: tt.token})
			require.ErrorIs(t, err, tt.reason)
			require.NotNil(t, res)
			assert.Equal(t, sc.PathLocal, res.Path)
			assert.Equal(t, 0, s.emu.Requests("*"))
		})
	}
}

func TestAuthenticateSessionExpiredJWTIsRefreshedRemotely(t *testing.T) {
	s := newSessionHarness(t)
	s.emu.Advance(6 * time.Minute) // JWTs live 5 min; the session 60

	res, err := s.auth.AuthenticateSession(t.Context(), sc.AuthenticateSessionParams{SessionJWT: s.jwt})
	require.NoError(t, err)
	assert.Equal(t, sc.PathRemote, res.Path)
	assert.Equal(t, "expired", res.Reason)
	assert.Equal(t, 1, s.emu.Requests("POST /v1/b2b/sessions/authenticate"))
	assert.Equal(t, 1, s.emu.Requests("*"))
	require.NotNil(t, res.Member)
	assert.Equal(t, s.memberID, res.Member.MemberID)
	assert.Equal(t, s.memberID, res.Session.MemberID)
	require.NotEmpty(t, res.SessionJWT)
	assert.NotEqual(t, s.jwt, res.SessionJWT)

	// The refreshed JWT is good locally again: no further calls.
	again, err := s.auth.AuthenticateSession(t.Context(), sc.AuthenticateSessionParams{SessionJWT: res.SessionJWT})
	require.NoError(t, err)
	assert.Equal(t, sc.PathLocal, again.Path)
	assert.Equal(t, 1, s.emu.Requests("*"))
}

func TestAuthenticateSessionExpiredJWTOfRevokedSession(t *testing.T) {
	s := newSessionHarness(t)
	_, err := s.client.SessionsRevoke(t.Context(), sc.SessionsRevokeParams{SessionToken: s.token})
	require.NoError(t, err)
	s.emu.Advance(6 * time.Minute)
	s.emu.ResetRequests()

	res, err := s.auth.AuthenticateSession(t.Context(), sc.AuthenticateSessionParams{SessionJWT: s.jwt})
	require.Error(t, err)
	assert.True(t, sc.IsNotFound(err), "got %v", err)
	assert.Equal(t, sc.PathRemote, res.Path)
	assert.Equal(t, 1, s.emu.Requests("*"))
}

func TestAuthenticateSessionMaxTokenAge(t *testing.T) {
	s := newSessionHarness(t)
	s.emu.Advance(2 * time.Minute) // still within exp

	res, err := s.auth.AuthenticateSession(t.Context(), sc.AuthenticateSessionParams{SessionJWT: s.jwt, MaxTokenAge: 3 * time.Minute})
	require.NoError(t, err)
	assert.Equal(t, sc.PathLocal, res.Path)
	assert.Equal(t, 0, s.emu.Requests("*"))

	res, err = s.auth.AuthenticateSession(t.Context(), sc.AuthenticateSessionParams{SessionJWT: s.jwt, MaxTokenAge: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, sc.PathRemote, res.Path)
	assert.Equal(t, "too_old", res.Reason)
	assert.Equal(t, 1, s.emu.Requests("*"))
}

func TestAuthenticateSessionArguments(t *testing.T) {
	s := newSessionHarness(t)
	t.Run("session token goes remote", func(t *testing.T) {
		res, err := s.auth.AuthenticateSession(t.Context(), sc.AuthenticateSessionParams{SessionToken: s.token})
		require.NoError(t, err)
		assert.Equal(t, sc.PathRemote, res.Path)
		assert.Equal(t, "opaque_token", res.Reason)
	})
	t.Run("both or neither is refused locally", func(t *testing.T) {
		s.emu.ResetRequests()
		for _, p := range []sc.AuthenticateSessionParams{{}, {SessionToken: s.token, SessionJWT: s.jwt}} {
			_, err := s.auth.AuthenticateSession(t.Context(), p)
			require.ErrorIs(t, err, sc.ErrTooManySessionArguments)
		}
		assert.Equal(t, 0, s.emu.Requests("*"))
	})
}

// Forgeries.

func jwtParts(t *testing.T, token string) (header, payload map[string]any, sig string) {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		return m
	}
	return dec(parts[0]), dec(parts[1]), parts[2]
}

func enc(t *testing.T, m map[string]any) string {
	t.Helper()
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tamperSub(t *testing.T, token string) string {
	h, p, sig := jwtParts(t, token)
	p["sub"] = "member-test-someone-else"
	return enc(t, h) + "." + enc(t, p) + "." + sig
}

func algNone(t *testing.T, token string) string {
	h, p, _ := jwtParts(t, token)
	h["alg"] = "none"
	return enc(t, h) + "." + enc(t, p) + "."
}

func resign(t *testing.T, token string, key *rsa.PrivateKey) string {
	h, p, _ := jwtParts(t, token)
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(p))
	tok.Header["kid"] = h["kid"]
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}
