package stytchclient_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// TestB2BOAuthEndpoints runs B2B OAuth login and discovery through the client: the start URLs it
// builds, the emulator's consent page over real HTTP, the authenticate calls and the provider
// token read.
func TestB2BOAuthEndpoints(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	c := h.client
	const redirect = "https://app.example.test/authenticate"
	verifier, challenge := pkce("a-b2b-oauth-verifier-of-enough-length-0123456789")
	org, err := h.emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Oak", Slug: "oak"})
	require.NoError(t, err)
	mfaOrg, err := h.emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Vault", Slug: "vault", MFAPolicy: "REQUIRED_FOR_ALL"})
	require.NoError(t, err)
	m, err := h.emu.CreateMember(org.ID, stytchemu.MemberParams{Email: "ola@oak.test"})
	require.NoError(t, err)
	mfaM, err := h.emu.CreateMember(mfaOrg.ID, stytchemu.MemberParams{Email: "ola@oak.test"})
	require.NoError(t, err)

	t.Run("B2BOAuthStartURL", func(t *testing.T) {
		raw, err := c.B2BOAuthStartURL(sc.B2BOAuthStartParams{
			Provider: "slack", PublicToken: "pt", OrganizationID: org.ID, LoginRedirectURL: redirect,
			PKCECodeChallenge: challenge, CustomScopes: []string{"a", "b"},
		})
		require.NoError(t, err)
		u, err := url.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, h.emu.URL+"/v1/b2b/public/oauth/slack/start", u.Scheme+"://"+u.Host+u.Path)
		assert.Equal(t, url.Values{
			"public_token": {"pt"}, "organization_id": {org.ID}, "login_redirect_url": {redirect},
			"pkce_code_challenge": {challenge}, "custom_scopes": {"a b"},
		}, u.Query())
		raw, err = c.B2BOAuthStartURL(sc.B2BOAuthStartParams{Provider: "github", PublicToken: "pt", Discovery: true, DiscoveryRedirectURL: redirect, OrganizationID: "ignored"})
		require.NoError(t, err)
		u, err = url.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, "/v1/b2b/public/oauth/github/discovery/start", u.Path)
		assert.Equal(t, url.Values{"public_token": {"pt"}, "discovery_redirect_url": {redirect}}, u.Query())
		_, err = c.B2BOAuthStartURL(sc.B2BOAuthStartParams{Provider: "google"})
		require.ErrorIs(t, err, sc.ErrNoPublicToken)
	})

	start := func(t *testing.T, p sc.B2BOAuthStartParams) string {
		t.Helper()
		p.PublicToken, p.LoginRedirectURL, p.SignupRedirectURL, p.DiscoveryRedirectURL = h.emu.PublicToken(), redirect, redirect, redirect
		u, err := c.B2BOAuthStartURL(p)
		require.NoError(t, err)
		return u
	}

	t.Run("B2BOAuthAuthenticate", func(t *testing.T) {
		back := testkit.OAuthConsentAs(t, start(t, sc.B2BOAuthStartParams{Provider: "google", OrganizationID: org.ID, PKCECodeChallenge: challenge}),
			"oauth", url.Values{"email": {m.Email}})
		tok := back.Query().Get("token")
		_, err := c.B2BOAuthAuthenticate(ctx, sc.B2BOAuthAuthenticateParams{OAuthToken: tok, PKCECodeVerifier: "wrong-" + verifier})
		requireStytchError(t, err, http.StatusBadRequest, "pkce_mismatch", codes.InvalidArgument)
		res, err := c.B2BOAuthAuthenticate(ctx, sc.B2BOAuthAuthenticateParams{OAuthToken: tok, PKCECodeVerifier: verifier, SessionDurationMinutes: 60})
		require.NoError(t, err)
		assert.Equal(t, m.ID, res.MemberID)
		assert.True(t, res.MemberAuthenticated)
		assert.Equal(t, "Google", res.ProviderType)
		assert.NotEmpty(t, res.ProviderValues.AccessToken)
		assert.NotEmpty(t, res.SessionToken)
		_, err = c.B2BOAuthAuthenticate(ctx, sc.B2BOAuthAuthenticateParams{OAuthToken: tok, PKCECodeVerifier: verifier})
		requireStytchError(t, err, http.StatusUnauthorized, "unable_to_auth_oauth_token", codes.Unauthenticated)

		got, err := c.MemberOAuthProviderTokens(ctx, org.ID, m.ID, "google", true)
		require.NoError(t, err)
		assert.Equal(t, res.ProviderValues.AccessToken, got.AccessToken)
		assert.Equal(t, res.ProviderValues.RefreshToken, got.RefreshToken)
		assert.Equal(t, res.ProviderSubject, got.ProviderSubject)
		_, err = c.MemberOAuthProviderTokens(ctx, org.ID, m.ID, "amazon", false)
		require.ErrorIs(t, err, sc.ErrUnknownOAuthProvider)
		_, err = c.MemberOAuthProviderTokens(ctx, org.ID, m.ID, "slack", false)
		requireStytchError(t, err, http.StatusNotFound, "oauth_registration_not_found", codes.NotFound)
	})

	t.Run("B2BOAuthAuthenticateMFA", func(t *testing.T) {
		back := testkit.OAuthConsentAs(t, start(t, sc.B2BOAuthStartParams{Provider: "slack", OrganizationID: mfaOrg.ID}),
			"oauth", url.Values{"email": {mfaM.Email}, "tenant": {"T0OAK"}})
		res, err := c.B2BOAuthAuthenticate(ctx, sc.B2BOAuthAuthenticateParams{OAuthToken: back.Query().Get("token")})
		require.NoError(t, err)
		assert.False(t, res.MemberAuthenticated)
		assert.NotEmpty(t, res.IntermediateSessionToken)
		assert.Empty(t, res.SessionToken)
		got, err := c.MemberOAuthProviderTokens(ctx, mfaOrg.ID, mfaM.ID, "slack", true)
		require.NoError(t, err)
		require.Len(t, got.Registrations, 1)
		assert.Equal(t, "T0OAK", got.Registrations[0].ProviderTenantID)
		assert.NotEmpty(t, got.Registrations[0].BotAccessToken)
	})

	t.Run("B2BOAuthDiscoveryAuthenticate", func(t *testing.T) {
		back := testkit.OAuthConsentAs(t, start(t, sc.B2BOAuthStartParams{Provider: "github", Discovery: true, PKCECodeChallenge: challenge}),
			"discovery_oauth", url.Values{"email": {m.Email}, "tenant": {"oak-gh"}})
		tok := back.Query().Get("token")
		res, err := c.B2BOAuthDiscoveryAuthenticate(ctx, sc.B2BOAuthDiscoveryAuthenticateParams{DiscoveryOAuthToken: tok, PKCECodeVerifier: verifier})
		require.NoError(t, err)
		assert.Equal(t, m.Email, res.EmailAddress)
		assert.Equal(t, []string{"oak-gh"}, res.ProviderTenantIDs)
		assert.Len(t, res.DiscoveredOrganizations, 2)
		ex, err := c.DiscoveryExchangeIntermediateSession(ctx, sc.DiscoveryExchangeIntermediateSessionParams{IntermediateSessionToken: res.IntermediateSessionToken, OrganizationID: org.ID})
		require.NoError(t, err)
		assert.True(t, ex.MemberAuthenticated)
		_, err = c.B2BOAuthDiscoveryAuthenticate(ctx, sc.B2BOAuthDiscoveryAuthenticateParams{DiscoveryOAuthToken: tok, PKCECodeVerifier: verifier})
		requireStytchError(t, err, http.StatusUnauthorized, "unable_to_auth_oauth_token", codes.Unauthenticated)
	})
}
