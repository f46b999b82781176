package verify

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// The tests in this file run the verifier against the Stytch emulator over
// real HTTP on loopback: real RS256 tokens, a real JWKS endpoint, and the
// emulator's request counters to prove what did (not) reach "Stytch".

const jwksRoute = "GET /v1/b2b/sessions/jwks/{project_id}"

type emuEnv struct {
	srv   *stytchemu.Server
	hc    *http.Client
	cache *JWKSCache
	v     *Verifier
	// attempts receives one value per JWKS fetch attempt made by the cache.
	attempts chan error
}

func startEmulator(t *testing.T) (*stytchemu.Server, *http.Client) {
	t.Helper()
	srv := testkit.Emulator(t, stytchemu.WithSandbox(), stytchemu.WithStartTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return srv, &http.Client{Transport: tr}
}

// httpFetcher is what the REST client will hand the cache, minus tracing:
// a plain GET of the JWKS URL.
func httpFetcher(hc *http.Client, jwksURL string, attempts chan<- error) Fetcher {
	return func(ctx context.Context) (raw []byte, err error) {
		defer func() {
			if attempts != nil {
				attempts <- err
			}
		}()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("jwks: HTTP %d", resp.StatusCode)
		}
		return body, nil
	}
}

// newEmuEnv starts an emulator and a cache and verifier over it. The cache
// and verifier share the emulator's clock. When wait is set it returns once
// the keys are loaded.
func newEmuEnv(t *testing.T, wait bool, mod func(*VerifierConfig), setup func(*stytchemu.Server)) *emuEnv {
	t.Helper()
	srv, hc := startEmulator(t)
	if setup != nil {
		setup(srv)
	}
	env := &emuEnv{srv: srv, hc: hc, attempts: make(chan error, 1000)}
	cache, err := NewJWKSCache(JWKSCacheConfig{
		Fetch:        httpFetcher(hc, srv.URL+"/v1/b2b/sessions/jwks/"+srv.ProjectID(), env.attempts),
		Name:         "b2b",
		Now:          srv.Now,
		FetchTimeout: 5 * time.Second,
		RetryMin:     time.Millisecond,
		RetryMax:     10 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, cache.Close()) })
	env.cache = cache
	if wait {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		require.NoError(t, cache.WaitReady(ctx))
	}
	cfg := VerifierConfig{ProjectID: srv.ProjectID(), Keys: cache, BaseURL: srv.URL, Now: srv.Now}
	if mod != nil {
		mod(&cfg)
	}
	env.v, err = NewVerifier(cfg)
	require.NoError(t, err)
	return env
}

func (e *emuEnv) call(t *testing.T, path string, body any, basic bool, out any) {
	t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+path, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", ct)
	if basic {
		req.SetBasicAuth(e.srv.ProjectID(), e.srv.Secret())
	}
	resp, err := e.hc.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "POST %s", path)
	require.NoError(t, json.Unmarshal(raw, out))
}

// sessionJWT authenticates the sandbox session and returns the JWT the
// emulator signs with its current key.
func (e *emuEnv) sessionJWT(t *testing.T) string {
	t.Helper()
	var out struct {
		SessionJWT string `json:"session_jwt"`
	}
	e.call(t, "/v1/b2b/sessions/authenticate", map[string]any{"session_token": stytchemu.SandboxSessionToken}, true, &out)
	require.NotEmpty(t, out.SessionJWT)
	return out.SessionJWT
}

// m2mToken creates an M2M client with scopes and exchanges its credentials
// for an access token.
func (e *emuEnv) m2mToken(t *testing.T, scopes ...string) (clientID, token string) {
	t.Helper()
	clientID = fmt.Sprintf("m2m-client-test-%d", time.Now().UnixNano())
	const secret = "secret-test-0123456789abcdef0123456789abcdef"
	var created struct {
		M2MClient struct {
			ClientID string `json:"client_id"`
		} `json:"m2m_client"`
	}
	e.call(t, "/v1/m2m/clients", map[string]any{"client_id": clientID, "client_secret": secret, "scopes": scopes}, true, &created)
	require.Equal(t, clientID, created.M2MClient.ClientID)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	e.call(t, "/v1/public/"+e.srv.ProjectID()+"/oauth2/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret},
	}, false, &tok)
	require.NotEmpty(t, tok.AccessToken)
	return clientID, tok.AccessToken
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	require.NoError(t, err)
	kid, _ := tok.Header["kid"].(string)
	require.NotEmpty(t, kid)
	return kid
}

func TestEmulatorSessionJWTVerifies(t *testing.T) {
	env := newEmuEnv(t, true, nil, nil)
	tok := env.sessionJWT(t)
	env.srv.ResetRequests()

	got, err := env.v.VerifySession(t.Context(), tok)
	require.NoError(t, err)
	assert.Equal(t, stytchemu.SandboxMemberID, got.MemberID)
	assert.Equal(t, stytchemu.SandboxOrganizationID, got.OrganizationID)
	assert.NotEmpty(t, got.SessionID)
	assert.NotEmpty(t, got.Roles)
	assert.Equal(t, "stytch.com/"+env.srv.ProjectID(), got.Issuer)
	assert.True(t, env.srv.Now().Equal(got.IssuedAt))
	assert.True(t, got.Expiry.After(got.IssuedAt))
	assert.False(t, got.ExpiresAt.IsZero(), "session expiry decoded")

	// Seen again: no RSA, no request.
	again, err := env.v.VerifySession(t.Context(), tok)
	require.NoError(t, err)
	assert.Same(t, got, again)
	assert.Equal(t, uint64(1), env.v.signatureChecks.Load())
	assert.Equal(t, 0, env.srv.Requests("*"))
}

func TestEmulatorM2MTokenVerifies(t *testing.T) {
	env := newEmuEnv(t, true, nil, nil)
	clientID, tok := env.m2mToken(t, "read:users", "write:*")
	env.srv.ResetRequests()

	got, err := env.v.VerifyM2M(t.Context(), tok, []string{"read:users", "write:books"})
	require.NoError(t, err)
	assert.Equal(t, clientID, got.ClientID)
	assert.ElementsMatch(t, []string{"read:users", "write:*"}, got.Scopes)
	assert.True(t, got.Expiry.Equal(env.srv.Now().Add(time.Hour)))

	_, err = env.v.VerifyM2M(t.Context(), tok, []string{"delete:users"})
	require.ErrorIs(t, err, ErrInsufficientScope)
	_, err = env.v.VerifySession(t.Context(), tok)
	require.ErrorIs(t, err, ErrMalformed, "an M2M token is not a session")
	assert.Equal(t, 0, env.srv.Requests("*"))
}

func TestEmulatorForgedTokensRejectedLocally(t *testing.T) {
	env := newEmuEnv(t, true, nil, nil)
	genuine := env.sessionJWT(t)
	kid := kidOf(t, genuine)
	pub, err := env.cache.Key(t.Context(), kid)
	require.NoError(t, err)
	env.srv.ResetRequests()

	now := env.srv.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := sessionClaims(now)
		c["iss"] = "stytch.com/" + env.srv.ProjectID()
		c["aud"] = []string{env.srv.ProjectID()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	attacker := testKey{kid: kid, priv: rsaKey(t, 1)} // the emulator's kid, someone else's key
	// Re-sign nothing: swap the genuine token's payload and keep its
	// signature, which is what an attacker holding a real JWT can do.
	swap := func(mod func(map[string]any)) string {
		parts := strings.Split(genuine, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		require.NoError(t, err)
		var c map[string]any
		require.NoError(t, json.Unmarshal(payload, &c))
		mod(c)
		payload, err = json.Marshal(c)
		require.NoError(t, err)
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
	}
	noKID := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(nil))
	noKIDToken, err := noKID.SignedString(attacker.priv)
	require.NoError(t, err)

	tests := []struct {
		name   string
		token  string
		reason error
	}{
		{"wrong key under the emulator's kid", sign(t, attacker, claims(nil)), ErrBadSignature},
		{"alg none", algNone(t, kid, claims(nil)), ErrBadSignature},
		{"HS256 signed with the emulator's public key", hs256WithKey(t, kid, pub, claims(nil)), ErrBadSignature},
		{"wrong aud (payload swapped)", swap(func(c map[string]any) { c["aud"] = []string{"project-test-other"} }), ErrBadSignature},
		{"wrong iss (payload swapped)", swap(func(c map[string]any) { c["iss"] = "stytch.com/project-test-other" }), ErrBadSignature},
		{"missing exp (payload swapped)", swap(func(c map[string]any) { delete(c, "exp") }), ErrBadSignature},
		{"missing iat (payload swapped)", swap(func(c map[string]any) { delete(c, "iat") }), ErrBadSignature},
		{"missing iat (attacker-signed)", sign(t, attacker, claims(func(c jwt.MapClaims) { delete(c, "iat") })), ErrBadSignature},
		{"wrong aud (attacker-signed)", sign(t, attacker, claims(func(c jwt.MapClaims) { c["aud"] = "project-test-other" })), ErrBadSignature},
		{"missing exp (attacker-signed)", sign(t, attacker, claims(func(c jwt.MapClaims) { delete(c, "exp") })), ErrBadSignature},
		{"missing kid", noKIDToken, ErrMalformed},
		{"garbage", "garbage", ErrMalformed},
		{"truncated genuine token", genuine[:len(genuine)/2], ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.v.VerifySession(t.Context(), tt.token)
			require.ErrorIs(t, err, tt.reason)
			assert.False(t, Refreshable(err))
		})
	}
	assert.Equal(t, 0, env.srv.Requests("*"), "no request of any kind reached Stytch")
}

func TestEmulatorKeyRotation(t *testing.T) {
	env := newEmuEnv(t, true, nil, nil)
	oldTok := env.sessionJWT(t)
	newKID, err := env.srv.RotateKeys()
	require.NoError(t, err)
	newTok := env.sessionJWT(t)
	require.Equal(t, newKID, kidOf(t, newTok))
	env.srv.ResetRequests()

	_, err = env.v.VerifySession(t.Context(), newTok)
	require.NoError(t, err)
	assert.Equal(t, 1, env.srv.Requests(jwksRoute), "exactly one refetch for the new kid")
	_, err = env.v.VerifySession(t.Context(), oldTok)
	require.NoError(t, err, "the old key is still served during the overlap")
	assert.Equal(t, 1, env.srv.Requests(jwksRoute))
	assert.Equal(t, 2, env.cache.KeyCount())

	// End of the overlap: once the cache refreshes, tokens signed with the
	// retired key no longer verify, even those already cached.
	env.srv.RetireOldKeys()
	require.NoError(t, env.cache.Refresh(t.Context()))
	_, err = env.v.VerifySession(t.Context(), oldTok)
	require.ErrorIs(t, err, ErrUnknownKey)
	_, err = env.v.VerifySession(t.Context(), newTok)
	require.NoError(t, err)
}

func TestEmulatorUnknownKIDStorm(t *testing.T) {
	env := newEmuEnv(t, true, nil, nil)
	env.srv.ResetRequests()
	now := env.srv.Now()
	c := sessionClaims(now)
	c["iss"], c["aud"] = "stytch.com/"+env.srv.ProjectID(), env.srv.ProjectID()

	const callers = 200
	toks := make([]string, callers)
	for i := range toks {
		toks[i] = sign(t, testKey{kid: fmt.Sprintf("random-kid-%d", i), priv: rsaKey(t, 2)}, c)
	}
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			_, errs[i] = env.v.VerifySession(t.Context(), toks[i])
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.ErrorIs(t, err, ErrUnknownKey)
		assert.False(t, Refreshable(err))
	}
	assert.Equal(t, 1, env.srv.Requests(jwksRoute), "one JWKS request for the whole storm")
	assert.Equal(t, 1, env.srv.Requests("*"))

	// The next window allows exactly one more.
	env.srv.Advance(5 * time.Minute)
	for i := range callers {
		wg.Go(func() {
			_, errs[i] = env.v.VerifySession(t.Context(), toks[i])
		})
	}
	wg.Wait()
	assert.Equal(t, 2, env.srv.Requests(jwksRoute))
}

func TestEmulatorStartupWhileStytchIsDown(t *testing.T) {
	t.Run("JWKS failing with 503", func(t *testing.T) {
		env := newEmuEnv(t, false, nil, func(srv *stytchemu.Server) {
			_, err := srv.AddFault(stytchemu.Fault{Pattern: jwksRoute, Status: http.StatusServiceUnavailable})
			require.NoError(t, err)
		})
		require.Error(t, <-env.attempts)
		require.Error(t, <-env.attempts, "the initial load is retried")
		assert.False(t, env.cache.Ready())
		_, err := env.v.VerifySession(t.Context(), "a.b.c")
		require.ErrorIs(t, err, ErrMalformed, "junk is still rejected without keys")

		env.srv.ClearFaults() // Stytch is back
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		require.NoError(t, env.cache.WaitReady(ctx))
		_, err = env.v.VerifySession(t.Context(), env.sessionJWT(t))
		require.NoError(t, err)
	})
	t.Run("address refusing connections", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		attempts := make(chan error, 100)
		cache, err := NewJWKSCache(JWKSCacheConfig{
			Fetch:    httpFetcher(&http.Client{Transport: tr}, "http://"+addr+"/v1/b2b/sessions/jwks/project-test-x", attempts),
			RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond,
		})
		require.NoError(t, err, "construction does not fail while Stytch is unreachable")
		require.Error(t, <-attempts)
		require.Error(t, <-attempts)
		assert.False(t, cache.Ready())
		v, err := NewVerifier(VerifierConfig{ProjectID: "project-test-x", Keys: cache})
		require.NoError(t, err)
		tok := sign(t, testKey{kid: "kid-1", priv: rsaKey(t, 0)}, sessionClaims(time.Now()))
		_, err = v.VerifySession(t.Context(), tok)
		require.ErrorIs(t, err, ErrKeysNotLoaded)
		assert.False(t, Refreshable(err))
		require.NoError(t, cache.Close())
	})
}

func TestEmulatorFailedRefreshKeepsServing(t *testing.T) {
	env := newEmuEnv(t, true, nil, nil)
	tok := env.sessionJWT(t)
	for _, fault := range []stytchemu.Fault{
		{Pattern: jwksRoute, Status: http.StatusInternalServerError},
		{Pattern: jwksRoute, Status: http.StatusBadGateway, Body: "<html>bad gateway</html>"},
		{Pattern: jwksRoute, Reset: true},
	} {
		id, err := env.srv.AddFault(fault)
		require.NoError(t, err)
		require.Error(t, env.cache.Refresh(t.Context()))
		env.srv.RemoveFault(id)
		assert.True(t, env.cache.Ready())
		assert.Equal(t, 1, env.cache.KeyCount())
	}
	env.v.cache.Purge() // force a full verification against the kept keys
	_, err := env.v.VerifySession(t.Context(), tok)
	require.NoError(t, err)
}

func TestEmulatorFetchTimeout(t *testing.T) {
	env := newEmuEnv(t, true, nil, nil)
	_, err := env.srv.AddFault(stytchemu.Fault{Pattern: jwksRoute, Latency: time.Hour})
	require.NoError(t, err)
	cache, err := NewJWKSCache(JWKSCacheConfig{
		Fetch:        httpFetcher(env.hc, env.srv.URL+"/v1/b2b/sessions/jwks/"+env.srv.ProjectID(), nil),
		FetchTimeout: 20 * time.Millisecond,
		RetryMin:     time.Hour, // one attempt from the background loop
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, cache.Close()) }()
	err = cache.Refresh(t.Context())
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestEmulatorExpiryAndMaxAge(t *testing.T) {
	env := newEmuEnv(t, true, func(c *VerifierConfig) { c.MaxTokenAge = 2 * time.Minute }, nil)
	tok := env.sessionJWT(t)
	_, err := env.v.VerifySession(t.Context(), tok)
	require.NoError(t, err)
	env.srv.ResetRequests()

	env.srv.Advance(2*time.Minute + time.Second)
	_, err = env.v.VerifySession(t.Context(), tok)
	require.ErrorIs(t, err, ErrTooOld)
	assert.True(t, Refreshable(err))

	env.srv.Advance(4 * time.Minute) // past exp (5 min) + leeway (30 s)
	_, err = env.v.VerifySession(t.Context(), tok)
	require.ErrorIs(t, err, ErrExpired)
	assert.True(t, Refreshable(err))
	assert.Equal(t, 0, env.srv.Requests("*"), "the verifier itself never calls Stytch")

	// Refreshable means what it says: Stytch re-issues a JWT for the live session.
	var out struct {
		SessionJWT string `json:"session_jwt"`
	}
	env.call(t, "/v1/b2b/sessions/authenticate", map[string]any{"session_jwt": tok}, true, &out)
	_, err = env.v.VerifySession(t.Context(), out.SessionJWT)
	require.NoError(t, err)
}
