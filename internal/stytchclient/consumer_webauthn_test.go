package stytchclient_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit/webauthnkey"
)

// The emulator accepts the origin of its default redirect URL for domain localhost.
const (
	waDomain = "localhost"
	waOrigin = "http://localhost:3000"
)

// TestConsumerWebAuthnEndpoints walks every WebAuthn method through a consumer-project emulator
// over real HTTP, with a software authenticator signing for real. Steps depend on earlier ones.
func TestConsumerWebAuthnEndpoints(t *testing.T) {
	h := newConsumerHarness(t)
	ctx := t.Context()
	c := h.client
	u, err := h.emu.CreateUser(stytchemu.UserParams{Email: "ada@example.com"})
	require.NoError(t, err)
	key, err := webauthnkey.New(webauthnkey.ES256, webauthnkey.Options{Format: webauthnkey.FormatPacked})
	require.NoError(t, err)
	var regID string

	t.Run("WebAuthnRegisterStart and WebAuthnRegister", func(t *testing.T) {
		start, err := c.WebAuthnRegisterStart(ctx, sc.WebAuthnRegisterStartParams{
			UserID: u.ID, Domain: waDomain, UserAgent: "agent/1", AuthenticatorType: "cross-platform", UseBase64URLEncoding: true,
		})
		require.NoError(t, err)
		assert.Equal(t, u.ID, start.UserID)
		cred, err := key.Register(start.PublicKeyCredentialCreationOptions, waOrigin)
		require.NoError(t, err)
		res, err := c.WebAuthnRegister(ctx, sc.WebAuthnRegisterParams{UserID: u.ID, PublicKeyCredential: cred, SessionDurationMinutes: 30})
		require.NoError(t, err)
		regID = res.WebAuthnRegistrationID
		require.NotEmpty(t, regID)
		require.Len(t, res.User.WebAuthnRegistrations, 1)
		assert.Equal(t, sc.UserWebAuthnRegistration{
			WebAuthnRegistrationID: regID, Domain: waDomain, UserAgent: "agent/1", Verified: true, AuthenticatorType: "cross-platform",
		}, res.User.WebAuthnRegistrations[0])
		require.NotNil(t, res.Session)
		require.Len(t, res.Session.AuthenticationFactors, 1)
		f := res.Session.AuthenticationFactors[0]
		assert.Equal(t, "webauthn", f.Type)
		assert.Equal(t, "webauthn_registration", f.DeliveryMethod)
		require.NotNil(t, f.WebAuthnFactor)
		assert.Equal(t, regID, f.WebAuthnFactor.WebAuthnRegistrationID)

		_, err = c.WebAuthnRegister(ctx, sc.WebAuthnRegisterParams{UserID: u.ID, PublicKeyCredential: cred})
		requireStytchError(t, err, http.StatusUnauthorized, "unable_to_auth_webauthn_registration", codes.Unauthenticated)
	})

	t.Run("WebAuthnAuthenticateStart and WebAuthnAuthenticate", func(t *testing.T) {
		start, err := c.WebAuthnAuthenticateStart(ctx, sc.WebAuthnAuthenticateStartParams{Domain: waDomain, UserID: u.ID, UseBase64URLEncoding: true})
		require.NoError(t, err)
		a, err := key.Assert(start.PublicKeyCredentialRequestOptions, waOrigin)
		require.NoError(t, err)
		res, err := c.WebAuthnAuthenticate(ctx, sc.WebAuthnAuthenticateParams{PublicKeyCredential: a, SessionDurationMinutes: 30})
		require.NoError(t, err)
		assert.Equal(t, u.ID, res.UserID)
		assert.Equal(t, regID, res.WebAuthnRegistrationID)
		assert.NotEmpty(t, res.SessionJWT)

		_, err = c.WebAuthnAuthenticate(ctx, sc.WebAuthnAuthenticateParams{PublicKeyCredential: a})
		requireStytchError(t, err, http.StatusUnauthorized, "unable_to_auth_webauthn_registration", codes.Unauthenticated)
		_, err = c.WebAuthnAuthenticate(ctx, sc.WebAuthnAuthenticateParams{PublicKeyCredential: "{}"})
		requireStytchError(t, err, http.StatusBadRequest, "invalid_public_key_credential", codes.InvalidArgument)
	})

	t.Run("WebAuthnUpdate", func(t *testing.T) {
		res, err := c.WebAuthnUpdate(ctx, regID, "Yubikey")
		require.NoError(t, err)
		require.NotNil(t, res.WebAuthnRegistration)
		assert.Equal(t, "Yubikey", res.WebAuthnRegistration.Name)
		_, err = c.WebAuthnUpdate(ctx, "webauthn-registration-test-nope", "x")
		requireStytchError(t, err, http.StatusNotFound, "webauthn_registration_not_found", codes.NotFound)
	})

	t.Run("WebAuthnListCredentials", func(t *testing.T) {
		res, err := c.WebAuthnListCredentials(ctx, u.ID, waDomain)
		require.NoError(t, err)
		require.Len(t, res.Credentials, 1)
		assert.Equal(t, regID, res.Credentials[0].WebAuthnRegistrationID)
		assert.Equal(t, "public-key", res.Credentials[0].Type)
		assert.NotEmpty(t, res.Credentials[0].PublicKey)
	})
}

// The WebAuthn methods report Stytch's errors like every consumer method (a wrong secret is
// INTERNAL, and the message carries none of the inputs), and a path parameter that is not one
// segment never leaves the client.
func TestConsumerWebAuthnErrorsAndPaths(t *testing.T) {
	h := newConsumerHarness(t, func(c *sc.Config) { c.Secret = "secret-test-wrong" })
	c := h.client
	const secretish = "public-key-credential-body"
	calls := map[string]func(ctx context.Context) error{
		"WebAuthnRegisterStart": func(ctx context.Context) error {
			_, err := c.WebAuthnRegisterStart(ctx, sc.WebAuthnRegisterStartParams{UserID: "u", Domain: waDomain})
			return err
		},
		"WebAuthnRegister": func(ctx context.Context) error {
			_, err := c.WebAuthnRegister(ctx, sc.WebAuthnRegisterParams{UserID: "u", PublicKeyCredential: secretish})
			return err
		},
		"WebAuthnAuthenticateStart": func(ctx context.Context) error {
			_, err := c.WebAuthnAuthenticateStart(ctx, sc.WebAuthnAuthenticateStartParams{Domain: waDomain})
			return err
		},
		"WebAuthnAuthenticate": func(ctx context.Context) error {
			_, err := c.WebAuthnAuthenticate(ctx, sc.WebAuthnAuthenticateParams{PublicKeyCredential: secretish})
			return err
		},
		"WebAuthnUpdate": func(ctx context.Context) error { _, err := c.WebAuthnUpdate(ctx, "w", "n"); return err },
		"WebAuthnListCredentials": func(ctx context.Context) error {
			_, err := c.WebAuthnListCredentials(ctx, "u", waDomain)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call(t.Context())
			requireStytchError(t, err, http.StatusUnauthorized, "unauthorized_credentials", codes.Internal)
			assert.NotContains(t, err.Error(), secretish)
		})
	}
	assert.Equal(t, len(calls), h.emu.Requests("*"), "one request each")

	before := h.emu.Requests("*")
	_, err := c.WebAuthnUpdate(t.Context(), "a/b", "n")
	require.Error(t, err)
	_, err = c.WebAuthnListCredentials(t.Context(), "u", "../x")
	require.Error(t, err)
	_, err = c.WebAuthnListCredentials(t.Context(), "u/v", waDomain)
	require.Error(t, err)
	assert.Equal(t, before, h.emu.Requests("*"), "no request left the client")
}

// A B2B client refuses the WebAuthn methods before sending: they belong to consumer projects.
func TestConsumerWebAuthnIsConsumerOnly(t *testing.T) {
	h := newHarness(t)
	_, err := h.client.WebAuthnAuthenticateStart(t.Context(), sc.WebAuthnAuthenticateStartParams{Domain: waDomain})
	require.Error(t, err)
	assert.Zero(t, h.emu.Requests("*"))
}

// SetDetails reads a factor's detail objects from a session JWT's claim (kept by name by the
// verifier) and leaves type, method and times alone.
func TestUserAuthenticationFactorSetDetails(t *testing.T) {
	f := sc.UserAuthenticationFactor{AuthenticationFactor: sc.AuthenticationFactor{Type: "webauthn", DeliveryMethod: "webauthn_registration"}}
	require.NoError(t, f.SetDetails(map[string]any{
		"webauthn_factor": map[string]any{"webauthn_registration_id": "webauthn-registration-test-1", "domain": "example.com"},
		"unknown_factor":  map[string]any{"x": 1},
	}))
	assert.Equal(t, "webauthn", f.Type)
	assert.Equal(t, "webauthn_registration", f.DeliveryMethod)
	require.NotNil(t, f.WebAuthnFactor)
	assert.Equal(t, sc.WebAuthnFactor{WebAuthnRegistrationID: "webauthn-registration-test-1", Domain: "example.com"}, *f.WebAuthnFactor)

	require.Error(t, f.SetDetails(map[string]any{"webauthn_factor": "not an object"}))
	assert.NotNil(t, f.WebAuthnFactor, "a bad claim changes nothing")
}
