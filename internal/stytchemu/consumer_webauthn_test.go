package stytchemu_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit/webauthnkey"
)

// The default redirect URL (http://localhost:3000/...) makes http://localhost:3000 a project
// origin for domain localhost.
const (
	waDomain = "localhost"
	waOrigin = "http://localhost:3000"
)

func newKey(t *testing.T, alg webauthnkey.Alg, opts webauthnkey.Options) *webauthnkey.Authenticator {
	t.Helper()
	k, err := webauthnkey.New(alg, opts)
	require.NoError(t, err)
	return k
}

// waRegister runs register start and register for userID with key, answering at origin, and
// returns the register response.
func (w *cworld) waRegister(t *testing.T, userID string, key *webauthnkey.Authenticator, origin string, start map[string]any) response {
	t.Helper()
	body := map[string]any{"user_id": userID, "domain": waDomain, "use_base64_url_encoding": true}
	for k, v := range start {
		body[k] = v
	}
	r := w.h.do(post("/v1/webauthn/register/start", body))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	requireDeclared(t, r, "api_webauthn_v1_RegisterStartResponse")
	cred, err := key.Register(r.str("public_key_credential_creation_options"), origin)
	require.NoError(t, err)
	return w.h.do(post("/v1/webauthn/register", map[string]any{"user_id": userID, "public_key_credential": cred, "session_duration_minutes": 30}))
}

// waAssertion runs authenticate start (for userID, or a passkey login when empty) and returns
// the signed assertion.
func (w *cworld) waAssertion(t *testing.T, userID string, key *webauthnkey.Authenticator, origin string) string {
	t.Helper()
	r := w.h.do(post("/v1/webauthn/authenticate/start", map[string]any{"user_id": userID, "domain": waDomain, "use_base64_url_encoding": true}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	requireDeclared(t, r, "api_webauthn_v1_AuthenticateStartResponse")
	a, err := key.Assert(r.str("public_key_credential_request_options"), origin)
	require.NoError(t, err)
	return a
}

func waAuthenticate(assertion string) call {
	return post("/v1/webauthn/authenticate", map[string]any{"public_key_credential": assertion, "session_duration_minutes": 30})
}

func TestConsumerWebAuthnRegisterAndAuthenticate(t *testing.T) {
	for _, tc := range []struct {
		name string
		alg  webauthnkey.Alg
		opts webauthnkey.Options
	}{
		{"ES256 none attestation", webauthnkey.ES256, webauthnkey.Options{Format: webauthnkey.FormatNone, Attachment: "platform"}},
		{"ES256 packed self attestation", webauthnkey.ES256, webauthnkey.Options{Format: webauthnkey.FormatPacked}},
		{"RS256 packed self attestation", webauthnkey.RS256, webauthnkey.Options{Format: webauthnkey.FormatPacked, Attachment: "cross-platform"}},
		{"RS256 none attestation", webauthnkey.RS256, webauthnkey.Options{Format: webauthnkey.FormatNone}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newConsumerWorld(t)
			key := newKey(t, tc.alg, tc.opts)
			r := w.waRegister(t, w.bob.ID, key, waOrigin, map[string]any{"user_agent": "test-agent/1", "authenticator_type": "cross-platform"})
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			requireDeclared(t, r, "api_webauthn_v1_RegisterResponse")
			regID := r.str("webauthn_registration_id")
			require.NotEmpty(t, regID)
			regs, _ := r.obj("user")["webauthn_registrations"].([]any)
			require.Len(t, regs, 1)
			assert.Equal(t, map[string]any{
				"webauthn_registration_id": regID, "domain": waDomain, "user_agent": "test-agent/1",
				"verified": true, "authenticator_type": "cross-platform", "name": "",
			}, regs[0])
			factors, _ := r.obj("session")["authentication_factors"].([]any)
			require.Len(t, factors, 1)
			f, _ := factors[0].(map[string]any)
			assert.Equal(t, "webauthn", f["type"])
			assert.Equal(t, "webauthn_registration", f["delivery_method"])
			assert.Equal(t, map[string]any{"webauthn_registration_id": regID, "domain": waDomain, "user_agent": "test-agent/1"}, f["webauthn_factor"])

			a := w.waAssertion(t, w.bob.ID, key, waOrigin)
			r = w.h.do(waAuthenticate(a))
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			requireDeclared(t, r, "api_webauthn_v1_AuthenticateResponse")
			assert.Equal(t, w.bob.ID, r.str("user_id"))
			assert.Equal(t, regID, r.str("webauthn_registration_id"))
			assert.NotEmpty(t, r.str("session_jwt"))

			// The same assertion again: its challenge was used.
			r = w.h.do(waAuthenticate(a))
			assert.Equal(t, http.StatusUnauthorized, r.status, "%s", r.raw)
			assert.Equal(t, "unable_to_auth_webauthn_registration", r.str("error_type"))
		})
	}
}

func TestConsumerWebAuthnRefusals(t *testing.T) {
	t.Run("wrong origin at registration", func(t *testing.T) {
		w := newConsumerWorld(t)
		r := w.waRegister(t, w.bob.ID, newKey(t, webauthnkey.ES256, webauthnkey.Options{}), "https://evil.example", nil)
		assert.Equal(t, http.StatusUnauthorized, r.status, "%s", r.raw)
		assert.Empty(t, w.getUser(t, w.bob.ID).body["webauthn_registrations"])
	})
	t.Run("wrong origin at login", func(t *testing.T) {
		w := newConsumerWorld(t)
		key := newKey(t, webauthnkey.ES256, webauthnkey.Options{})
		require.Equal(t, http.StatusOK, w.waRegister(t, w.bob.ID, key, waOrigin, nil).status)
		r := w.h.do(waAuthenticate(w.waAssertion(t, w.bob.ID, key, "http://localhost:4000")))
		assert.Equal(t, http.StatusUnauthorized, r.status, "%s", r.raw)
		assert.Equal(t, "unable_to_auth_webauthn_registration", r.str("error_type"))
	})
	t.Run("sign counter that does not increase", func(t *testing.T) {
		w := newConsumerWorld(t)
		key := newKey(t, webauthnkey.RS256, webauthnkey.Options{})
		require.Equal(t, http.StatusOK, w.waRegister(t, w.bob.ID, key, waOrigin, nil).status)
		require.Equal(t, http.StatusOK, w.h.do(waAuthenticate(w.waAssertion(t, w.bob.ID, key, waOrigin))).status)
		key.SetSignCount(0) // the next signature carries 1 again, as a cloned key would
		r := w.h.do(waAuthenticate(w.waAssertion(t, w.bob.ID, key, waOrigin)))
		assert.Equal(t, http.StatusUnauthorized, r.status, "%s", r.raw)
		key.SetSignCount(10)
		assert.Equal(t, http.StatusOK, w.h.do(waAuthenticate(w.waAssertion(t, w.bob.ID, key, waOrigin))).status, "a higher counter is accepted")
	})
	t.Run("another user's key", func(t *testing.T) {
		w := newConsumerWorld(t)
		key := newKey(t, webauthnkey.ES256, webauthnkey.Options{})
		require.Equal(t, http.StatusOK, w.waRegister(t, w.bob.ID, key, waOrigin, nil).status)
		other := newKey(t, webauthnkey.ES256, webauthnkey.Options{})
		require.Equal(t, http.StatusOK, w.waRegister(t, w.alice.ID, other, waOrigin, nil).status)
		// A login started for bob answered by alice's key.
		r := w.h.do(post("/v1/webauthn/authenticate/start", map[string]any{"user_id": w.bob.ID, "domain": waDomain}))
		require.Equal(t, http.StatusOK, r.status)
		var opts map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.str("public_key_credential_request_options")), &opts))
		delete(opts, "allowCredentials")
		raw, err := json.Marshal(opts)
		require.NoError(t, err)
		a, err := other.Assert(string(raw), waOrigin)
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, w.h.do(waAuthenticate(a)).status)
	})
	t.Run("malformed credential", func(t *testing.T) {
		w := newConsumerWorld(t)
		r := w.h.do(waAuthenticate(`{"id":"x"}`))
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, "invalid_public_key_credential", r.str("error_type"))
	})
	t.Run("deleted registration", func(t *testing.T) {
		w := newConsumerWorld(t)
		key := newKey(t, webauthnkey.ES256, webauthnkey.Options{})
		reg := w.waRegister(t, w.bob.ID, key, waOrigin, nil)
		require.Equal(t, http.StatusOK, reg.status)
		a := w.waAssertion(t, w.bob.ID, key, waOrigin)
		d := w.h.do(call{method: http.MethodDelete, path: "/v1/users/webauthn_registrations/" + reg.str("webauthn_registration_id")})
		require.Equal(t, http.StatusOK, d.status, "%s", d.raw)
		assert.Equal(t, http.StatusUnauthorized, w.h.do(waAuthenticate(a)).status)
		r := w.h.do(post("/v1/webauthn/authenticate/start", map[string]any{"user_id": w.bob.ID, "domain": waDomain}))
		assert.Equal(t, http.StatusNotFound, r.status)
		assert.Equal(t, "webauthn_registration_not_found", r.str("error_type"))
	})
	t.Run("expired challenge", func(t *testing.T) {
		w := newConsumerWorld(t)
		key := newKey(t, webauthnkey.ES256, webauthnkey.Options{})
		require.Equal(t, http.StatusOK, w.waRegister(t, w.bob.ID, key, waOrigin, nil).status)
		a := w.waAssertion(t, w.bob.ID, key, waOrigin)
		w.h.emu.Advance(6 * time.Minute)
		assert.Equal(t, http.StatusUnauthorized, w.h.do(waAuthenticate(a)).status)
	})
}

func TestConsumerWebAuthnPasskey(t *testing.T) {
	w := newConsumerWorld(t)
	key := newKey(t, webauthnkey.ES256, webauthnkey.Options{Attachment: "platform"})
	r := w.h.do(post("/v1/webauthn/register/start", map[string]any{
		"user_id": w.alice.ID, "domain": waDomain, "return_passkey_credential_options": true, "authenticator_type": "platform",
	}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	var opts struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AuthenticatorSelection map[string]any `json:"authenticatorSelection"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.str("public_key_credential_creation_options")), &opts))
	assert.Equal(t, "required", opts.AuthenticatorSelection["residentKey"])
	assert.Equal(t, "preferred", opts.AuthenticatorSelection["userVerification"])
	assert.Equal(t, "platform", opts.AuthenticatorSelection["authenticatorAttachment"])
	handle, err := base64.StdEncoding.DecodeString(opts.User.ID)
	require.NoError(t, err, "without use_base64_url_encoding the user handle is standard base64")
	assert.Equal(t, w.alice.ID, string(handle))

	cred, err := key.Register(r.str("public_key_credential_creation_options"), waOrigin)
	require.NoError(t, err)
	reg := w.h.do(post("/v1/webauthn/register", map[string]any{"user_id": w.alice.ID, "public_key_credential": cred}))
	require.Equal(t, http.StatusOK, reg.status, "%s", reg.raw)
	assert.Empty(t, reg.str("session_token"), "no session without session_duration_minutes")

	// A passkey login names no user: the authenticator's user handle does.
	r = w.h.do(post("/v1/webauthn/authenticate/start", map[string]any{"domain": waDomain, "return_passkey_credential_options": true}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Empty(t, r.str("user_id"))
	assert.NotContains(t, r.str("public_key_credential_request_options"), "allowCredentials")
	a, err := key.Assert(r.str("public_key_credential_request_options"), waOrigin)
	require.NoError(t, err)
	r = w.h.do(waAuthenticate(a))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, w.alice.ID, r.str("user_id"))
	assert.Equal(t, reg.str("webauthn_registration_id"), r.str("webauthn_registration_id"))
}

func TestConsumerWebAuthnUpdateAndListCredentials(t *testing.T) {
	w := newConsumerWorld(t)
	key := newKey(t, webauthnkey.ES256, webauthnkey.Options{})
	reg := w.waRegister(t, w.bob.ID, key, waOrigin, nil)
	require.Equal(t, http.StatusOK, reg.status)
	id := reg.str("webauthn_registration_id")

	r := w.h.do(call{method: http.MethodPut, path: "/v1/webauthn/" + id, body: map[string]any{"name": "Work laptop"}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	requireDeclared(t, r, "api_webauthn_v1_UpdateResponse")
	assert.Equal(t, "Work laptop", r.obj("webauthn_registration")["name"])
	regs, _ := w.getUser(t, w.bob.ID).body["webauthn_registrations"].([]any)
	require.Len(t, regs, 1)
	assert.Equal(t, "Work laptop", regs[0].(map[string]any)["name"], "the rename shows on the user")

	r = w.h.do(call{method: http.MethodPut, path: "/v1/webauthn/webauthn-registration-test-nope", body: map[string]any{"name": "x"}})
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "webauthn_registration_not_found", r.str("error_type"))

	r = w.h.do(get("/v1/webauthn/credentials/" + w.bob.ID + "/" + waDomain))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	requireDeclared(t, r, "api_webauthn_v1_ListCredentialsResponse")
	creds, _ := r.body["credentials"].([]any)
	require.Len(t, creds, 1)
	c, _ := creds[0].(map[string]any)
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(key.CredentialID()), c["credential_id"])
	assert.Equal(t, id, c["webauthn_registration_id"])
	assert.Equal(t, "public-key", c["type"])
	assert.NotEmpty(t, c["public_key"])

	r = w.h.do(get("/v1/webauthn/credentials/" + w.bob.ID + "/example.com"))
	require.Equal(t, http.StatusOK, r.status)
	assert.Empty(t, r.body["credentials"], "another domain's list is empty")
}

func TestConsumerWebAuthnStartValidation(t *testing.T) {
	runConsumerCases(t, []cCase{
		{"unknown user", func(_ *testing.T, _ *cworld) call {
			return post("/v1/webauthn/register/start", map[string]any{"user_id": "user-test-nope", "domain": waDomain})
		}, 404, "user_not_found", nil},
		{"domain with a scheme", func(_ *testing.T, w *cworld) call {
			return post("/v1/webauthn/register/start", map[string]any{"user_id": w.bob.ID, "domain": "https://example.com"})
		}, 400, "", nil},
		{"bad authenticator type", func(_ *testing.T, w *cworld) call {
			return post("/v1/webauthn/register/start", map[string]any{"user_id": w.bob.ID, "domain": waDomain, "authenticator_type": "phone"})
		}, 400, "", nil},
		{"external ID", func(_ *testing.T, _ *cworld) call {
			return post("/v1/webauthn/register/start", map[string]any{"user_id": "ext-alice", "domain": waDomain})
		}, 200, "", func(t *testing.T, w *cworld, r response) { assert.Equal(t, w.alice.ID, r.str("user_id")) }},
	})
}

// A login with a session in the request adds the factor to that session; a session of another
// user is refused.
func TestConsumerWebAuthnExtendsSession(t *testing.T) {
	w := newConsumerWorld(t)
	key := newKey(t, webauthnkey.ES256, webauthnkey.Options{})
	require.Equal(t, http.StatusOK, w.waRegister(t, w.alice.ID, key, waOrigin, nil).status)
	before := len(w.h.do(post("/v1/sessions/authenticate", map[string]any{"session_token": w.aliceSes.Token})).obj("session")["authentication_factors"].([]any))

	r := w.h.do(post("/v1/webauthn/authenticate", map[string]any{
		"public_key_credential": w.waAssertion(t, w.alice.ID, key, waOrigin), "session_token": w.aliceSes.Token,
	}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, w.aliceSes.Token, r.str("session_token"), "the same session")
	factors, _ := r.obj("session")["authentication_factors"].([]any)
	require.Len(t, factors, before+1)
	assert.Equal(t, "webauthn", factors[len(factors)-1].(map[string]any)["type"])

	bobSes, err := w.h.emu.CreateUserSession(w.bob.ID, time.Hour)
	require.NoError(t, err)
	r = w.h.do(post("/v1/webauthn/authenticate", map[string]any{
		"public_key_credential": w.waAssertion(t, w.alice.ID, key, waOrigin), "session_token": bobSes.Token,
	}))
	assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.raw)
}

// WithAuthorizedOrigins adds an origin (dev mode: its console's) for the domains it belongs to, and
// only those: without it the same ceremony is refused.
func TestConsumerWebAuthnAuthorizedOrigins(t *testing.T) {
	const console = "http://localhost:8080"
	key := newKey(t, webauthnkey.ES256, webauthnkey.Options{})
	plain := newConsumerWorld(t)
	r := plain.waRegister(t, plain.bob.ID, key, console, nil)
	assert.Equal(t, http.StatusUnauthorized, r.status, "%s", r.raw)

	w := newConsumerWorld(t, stytchemu.WithAuthorizedOrigins(console, "http://other.example:8080"))
	r = w.waRegister(t, w.bob.ID, key, console, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	r = w.h.do(waAuthenticate(w.waAssertion(t, w.bob.ID, key, console)))
	assert.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	// An authorized origin of another domain does not count for localhost.
	r = w.h.do(waAuthenticate(w.waAssertion(t, w.bob.ID, key, "http://other.example:8080")))
	assert.Equal(t, http.StatusUnauthorized, r.status, "%s", r.raw)
}
