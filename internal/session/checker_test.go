package session_test

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
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/internal/session"
	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
	"github.com/authsvc/authsvc/internal/testkit/sessionkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type sessionHarness struct {
	emu      *stytchemu.Server
	client   *sc.Client
	keys     *verify.JWKSCache
	auth     *session.Checker
	orgID    string
	memberID string
	jwt      string
	token    string
}

// newSessionHarness wires client → JWKS cache → checker exactly as production does, with the
// emulator's clock everywhere, and logs a member in with a 60-minute session. cfg adjusts the
// checker's configuration.
func newSessionHarness(t *testing.T, cfg ...func(*session.Config)) *sessionHarness {
	t.Helper()
	emu := testkit.Emulator(t, stytchemu.WithStartTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	client := testkit.Client(t, emu)
	cache := sessionkit.JWKS(t, emu, client)
	checker := sessionkit.Checker(t, emu, client, cache, cfg...)
	ctx := t.Context()

	org, err := client.OrganizationCreate(ctx, sc.OrganizationCreateParams{OrganizationName: "Sessions", OrganizationSlug: "sessions-org"})
	require.NoError(t, err)
	m, err := client.MemberCreate(ctx, sc.MemberCreateParams{OrganizationID: org.Organization.OrganizationID, EmailAddress: "dana@example.com"})
	require.NoError(t, err)
	_, err = client.MagicLinkLoginOrSignup(ctx, sc.MagicLinkLoginOrSignupParams{OrganizationID: org.Organization.OrganizationID, EmailAddress: "dana@example.com"})
	require.NoError(t, err)
	msg, ok := emu.LastMessage("dana@example.com")
	require.True(t, ok)
	res, err := client.MagicLinkAuthenticate(ctx, sc.MagicLinkAuthenticateParams{MagicLinksToken: msg.Token, SessionDurationMinutes: 60})
	require.NoError(t, err)
	emu.ResetRequests()
	return &sessionHarness{
		emu:      emu,
		client:   client,
		keys:     cache,
		auth:     checker,
		orgID:    org.Organization.OrganizationID,
		memberID: m.MemberID,
		jwt:      res.SessionJWT,
		token:    res.SessionToken,
	}
}

func TestAuthenticateSessionValidJWTIsLocal(t *testing.T) {
	s := newSessionHarness(t)
	res, err := s.auth.Check(t.Context(), session.Request{JWT: s.jwt})
	require.NoError(t, err)
	assert.Equal(t, session.PathLocal, res.Path)
	assert.Equal(t, "ok", res.Reason)
	assert.Equal(t, s.memberID, res.Session.MemberID)
	assert.NotEmpty(t, res.Session.MemberSessionID)
	require.NotNil(t, res.Claims)
	assert.Nil(t, res.Stytch, "the local path has no member object and no refreshed JWT")
	assert.Equal(t, sc.MemberSession{JWT: s.jwt}, res.Credential, "the JWT that proved the session is forwarded as is")
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
			res, err := s.auth.Check(t.Context(), session.Request{JWT: tt.token})
			require.ErrorIs(t, err, tt.reason)
			require.NotNil(t, res)
			assert.Equal(t, session.PathLocal, res.Path)
			assert.Equal(t, 0, s.emu.Requests("*"))
		})
	}
}

func TestAuthenticateSessionExpiredJWTIsRefreshedRemotely(t *testing.T) {
	s := newSessionHarness(t)
	s.emu.Advance(6 * time.Minute) // JWTs live 5 min; the session 60

	res, err := s.auth.Check(t.Context(), session.Request{JWT: s.jwt})
	require.NoError(t, err)
	assert.Equal(t, session.PathRemote, res.Path)
	assert.Equal(t, "expired", res.Reason)
	assert.Equal(t, 1, s.emu.Requests("POST /v1/b2b/sessions/authenticate"))
	assert.Equal(t, 1, s.emu.Requests("*"))
	require.NotNil(t, res.Stytch)
	assert.Equal(t, s.memberID, res.Stytch.Member.MemberID)
	assert.Equal(t, s.memberID, res.Session.MemberID)
	require.NotEmpty(t, res.Credential.JWT)
	assert.NotEqual(t, s.jwt, res.Credential.JWT)

	// The refreshed JWT is good locally again: no further calls.
	again, err := s.auth.Check(t.Context(), session.Request{JWT: res.Credential.JWT})
	require.NoError(t, err)
	assert.Equal(t, session.PathLocal, again.Path)
	assert.Equal(t, 1, s.emu.Requests("*"))
}

func TestAuthenticateSessionExpiredJWTOfRevokedSession(t *testing.T) {
	s := newSessionHarness(t)
	_, err := s.client.SessionsRevoke(t.Context(), sc.SessionsRevokeParams{SessionToken: s.token})
	require.NoError(t, err)
	s.emu.Advance(6 * time.Minute)
	s.emu.ResetRequests()

	res, err := s.auth.Check(t.Context(), session.Request{JWT: s.jwt})
	require.Error(t, err)
	assert.True(t, sc.IsNotFound(err), "got %v", err)
	assert.Equal(t, session.PathRemote, res.Path)
	assert.Equal(t, 1, s.emu.Requests("*"))
}

func TestAuthenticateSessionMaxTokenAge(t *testing.T) {
	s := newSessionHarness(t)
	s.emu.Advance(2 * time.Minute) // still within exp

	res, err := s.auth.Check(t.Context(), session.Request{JWT: s.jwt, MaxTokenAge: 3 * time.Minute})
	require.NoError(t, err)
	assert.Equal(t, session.PathLocal, res.Path)
	assert.Equal(t, 0, s.emu.Requests("*"))

	res, err = s.auth.Check(t.Context(), session.Request{JWT: s.jwt, MaxTokenAge: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, session.PathRemote, res.Path)
	assert.Equal(t, "too_old", res.Reason)
	assert.Equal(t, 1, s.emu.Requests("*"))
}

func TestAuthenticateSessionArguments(t *testing.T) {
	s := newSessionHarness(t)
	t.Run("session token goes remote", func(t *testing.T) {
		res, err := s.auth.Check(t.Context(), session.Request{Token: s.token})
		require.NoError(t, err)
		assert.Equal(t, session.PathRemote, res.Path)
		assert.Equal(t, "opaque_token", res.Reason)
	})
	t.Run("both or neither is refused locally", func(t *testing.T) {
		s.emu.ResetRequests()
		for _, p := range []session.Request{{}, {Token: s.token, JWT: s.jwt}} {
			_, err := s.auth.Check(t.Context(), p)
			require.ErrorIs(t, err, session.ErrTooManySessionArguments)
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

func mustKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return k
}
