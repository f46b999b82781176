package stytchclient_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// TestConsumerOAuthEndpoints runs OAuth flows through the client and a consumer-project
// emulator: the start URL the client builds, the emulator's consent page over real HTTP, then
// attach and authenticate.
func TestConsumerOAuthEndpoints(t *testing.T) {
	h := newConsumerHarness(t)
	ctx := t.Context()
	c := h.client
	verifier, challenge := pkce("an-oauth-verifier-of-enough-length-0123456789")
	const redirect = "https://app.example.test/authenticate"

	start := func(t *testing.T, p sc.ConsumerOAuthStartParams) string {
		t.Helper()
		p.PublicToken, p.LoginRedirectURL, p.SignupRedirectURL = h.emu.PublicToken(), redirect, redirect
		u, err := c.ConsumerOAuthStartURL(p)
		require.NoError(t, err)
		return u
	}

	t.Run("ConsumerOAuthStartURL", func(t *testing.T) {
		raw := start(t, sc.ConsumerOAuthStartParams{Provider: "google", CodeChallenge: challenge, CustomScopes: []string{"a", "b"}, LoginHint: "x@example.test"})
		u, err := url.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, h.emu.URL+"/v1/public/oauth/google/start", u.Scheme+"://"+u.Host+u.Path)
		assert.Equal(t, url.Values{
			"public_token": {h.emu.PublicToken()}, "login_redirect_url": {redirect}, "signup_redirect_url": {redirect},
			"code_challenge": {challenge}, "custom_scopes": {"a b"}, "login_hint": {"x@example.test"},
		}, u.Query())

		_, err = c.ConsumerOAuthStartURL(sc.ConsumerOAuthStartParams{Provider: "google"})
		require.ErrorIs(t, err, sc.ErrNoPublicToken)
		_, err = c.ConsumerOAuthStartURL(sc.ConsumerOAuthStartParams{Provider: "..", PublicToken: "p"})
		var pe *sc.PathParamError
		require.ErrorAs(t, err, &pe)
	})

	var userID, regID string
	t.Run("ConsumerOAuthAuthenticate", func(t *testing.T) {
		back := testkit.OAuthConsent(t, start(t, sc.ConsumerOAuthStartParams{Provider: "google", CodeChallenge: challenge}), "gail@example.test")
		tok := back.Query().Get("token")

		_, err := c.ConsumerOAuthAuthenticate(ctx, sc.ConsumerOAuthAuthenticateParams{Token: tok, CodeVerifier: "wrong-" + verifier})
		requireStytchError(t, err, http.StatusBadRequest, "pkce_mismatch", codes.InvalidArgument)

		res, err := c.ConsumerOAuthAuthenticate(ctx, sc.ConsumerOAuthAuthenticateParams{Token: tok, CodeVerifier: verifier, SessionDurationMinutes: 60})
		require.NoError(t, err)
		userID, regID = res.UserID, res.OAuthUserRegistrationID
		assert.Equal(t, "Google", res.ProviderType)
		assert.NotEmpty(t, res.ProviderSubject)
		assert.NotEmpty(t, res.ProviderValues.AccessToken)
		assert.NotEmpty(t, res.ProviderValues.IDToken)
		assert.Contains(t, res.ProviderValues.Scopes, "email")
		assert.True(t, res.ProviderValues.ExpiresAt.After(testStart))
		require.Len(t, res.User.Providers, 1)
		assert.Equal(t, sc.UserOAuthProvider{
			ProviderType: "Google", ProviderSubject: res.ProviderSubject, OAuthUserRegistrationID: regID,
			ProfilePictureURL: res.User.Providers[0].ProfilePictureURL, Locale: "en",
		}, res.User.Providers[0])
		require.NotNil(t, res.UserSession)
		assert.NotEmpty(t, res.SessionToken)
		f := res.UserSession.AuthenticationFactors[0]
		assert.Equal(t, "oauth", f.Type)
		assert.Equal(t, "oauth_google", f.DeliveryMethod)
		require.NotNil(t, f.GoogleOAuthFactor)
		assert.Equal(t, regID, f.GoogleOAuthFactor.ID)

		_, err = c.ConsumerOAuthAuthenticate(ctx, sc.ConsumerOAuthAuthenticateParams{Token: tok, CodeVerifier: verifier})
		requireStytchError(t, err, http.StatusUnauthorized, "unable_to_auth_oauth_token", codes.Unauthenticated)
		_, err = c.ConsumerOAuthAuthenticate(ctx, sc.ConsumerOAuthAuthenticateParams{Token: "never-issued"})
		requireStytchError(t, err, http.StatusNotFound, "oauth_token_not_found", codes.NotFound)

		back = testkit.OAuthConsent(t, start(t, sc.ConsumerOAuthStartParams{Provider: "github"}), "other@example.test")
		h.emu.Advance(11 * time.Minute)
		_, err = c.ConsumerOAuthAuthenticate(ctx, sc.ConsumerOAuthAuthenticateParams{Token: back.Query().Get("token")})
		requireStytchError(t, err, http.StatusUnauthorized, "unable_to_auth_oauth_token", codes.Unauthenticated)
	})

	t.Run("ConsumerOAuthAttach", func(t *testing.T) {
		require.NotEmpty(t, userID)
		_, err := c.ConsumerOAuthAttach(ctx, sc.ConsumerOAuthAttachParams{Provider: "github"})
		requireStytchError(t, err, http.StatusBadRequest, "too_many_user_identifiers", codes.InvalidArgument)
		_, err = c.ConsumerOAuthAttach(ctx, sc.ConsumerOAuthAttachParams{Provider: "myspace", UserID: userID})
		requireStytchError(t, err, http.StatusBadRequest, "invalid_oauth_provider", codes.InvalidArgument)

		res, err := c.ConsumerOAuthAttach(ctx, sc.ConsumerOAuthAttachParams{Provider: "github", UserID: userID})
		require.NoError(t, err)
		require.NotEmpty(t, res.OAuthAttachToken)
		back := testkit.OAuthConsent(t, start(t, sc.ConsumerOAuthStartParams{Provider: "github", OAuthAttachToken: res.OAuthAttachToken}), "gail-gh@example.test")
		auth, err := c.ConsumerOAuthAuthenticate(ctx, sc.ConsumerOAuthAuthenticateParams{Token: back.Query().Get("token")})
		require.NoError(t, err)
		assert.Equal(t, userID, auth.UserID)
		assert.Len(t, auth.User.Providers, 2)

		// The registration is a user factor like any other: the user delete endpoint removes it.
		del, err := c.UserDeleteOAuthRegistration(ctx, regID)
		require.NoError(t, err)
		require.Len(t, del.User.Providers, 1)
		assert.Equal(t, "GitHub", del.User.Providers[0].ProviderType)
	})
}

// The emulator's provider list and the client agree: every provider starts a flow.
func TestConsumerOAuthEveryProviderStarts(t *testing.T) {
	h := newConsumerHarness(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range stytchemu.OAuthProviders() {
		u, err := h.client.ConsumerOAuthStartURL(sc.ConsumerOAuthStartParams{Provider: p, PublicToken: h.emu.PublicToken()})
		require.NoError(t, err)
		res, err := noFollow.Get(u) //nolint:noctx // test client
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		assert.Equal(t, http.StatusFound, res.StatusCode, p)
		assert.Contains(t, res.Header.Get("Location"), "/emulator/oauth/"+p+"/consent?", p)
	}
}
