package stytchemu_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

// b2bStartURL is a B2B OAuth start URL: a login into org, or (org "") discovery.
func (w *world) b2bStartURL(provider, org string, params url.Values) string {
	v := url.Values{"public_token": {w.h.emu.PublicToken()}}
	path := "/v1/b2b/public/oauth/" + provider + "/discovery/start?"
	if org != "" {
		v.Set("organization_id", org)
		v.Set("login_redirect_url", oauthLoginURL)
		v.Set("signup_redirect_url", oauthSignupURL)
		path = "/v1/b2b/public/oauth/" + provider + "/start?"
	} else {
		v.Set("discovery_redirect_url", oauthLoginURL)
	}
	for k, vs := range params {
		v[k] = vs
	}
	return w.h.url + path + v.Encode()
}

func TestB2BOAuthLogin(t *testing.T) {
	w := newWorld(t)
	h := w.h
	verifier, challenge := pkcePair()
	const authPath = "/v1/b2b/oauth/authenticate"

	// A member of orgA signs in with Google: the login redirect URL.
	back := h.consent(t, w.b2bStartURL("google", w.orgA.ID, url.Values{"pkce_code_challenge": {challenge}, "custom_scopes": {"calendar.readonly"}}),
		url.Values{"email": {w.user.Email}, "subject": {"google-sub-1"}}, "oauth")
	assert.Equal(t, oauthLoginURL, back.Scheme+"://"+back.Host+back.Path)
	tok := back.Query().Get("token")

	r := h.do(post(authPath, map[string]any{"oauth_token": tok, "pkce_code_verifier": verifier + "x"}))
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.raw)
	assert.Equal(t, "pkce_mismatch", r.str("error_type"))
	r = h.do(post("/v1/b2b/oauth/discovery/authenticate", map[string]any{"discovery_oauth_token": tok, "pkce_code_verifier": verifier}))
	require.Equal(t, http.StatusNotFound, r.status, "a login token is no discovery token: %s", r.raw)

	r = h.do(post(authPath, map[string]any{"oauth_token": tok, "pkce_code_verifier": verifier, "session_duration_minutes": 30}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, w.user.ID, r.str("member_id"))
	assert.Equal(t, true, r.body["member_authenticated"])
	assert.Equal(t, "Google", r.str("provider_type"))
	assert.Equal(t, "google-sub-1", r.str("provider_subject"))
	pv := r.obj("provider_values")
	assert.NotEmpty(t, pv["access_token"])
	assert.NotEmpty(t, pv["id_token"], "Google is an OpenID Connect provider")
	assert.Contains(t, pv["scopes"], "calendar.readonly")
	assert.NotEmpty(t, r.str("session_token"))
	f := r.obj("member_session")["authentication_factors"].([]any)[0].(map[string]any)
	assert.Equal(t, "oauth_google", f["delivery_method"])
	assert.Equal(t, "google-sub-1", f["google_oauth_factor"].(map[string]any)["provider_subject"])
	regs := r.obj("member")["oauth_registrations"].([]any)
	require.Len(t, regs, 1)
	assert.Equal(t, "google-sub-1", regs[0].(map[string]any)["provider_subject"])

	// Single use.
	r = h.do(post(authPath, map[string]any{"oauth_token": tok, "pkce_code_verifier": verifier}))
	require.Equal(t, http.StatusUnauthorized, r.status, "%s", r.raw)
	assert.Equal(t, "unable_to_auth_oauth_token", r.str("error_type"))
	r = h.do(post(authPath, map[string]any{"oauth_token": "nope"}))
	require.Equal(t, http.StatusNotFound, r.status, "%s", r.raw)

	// The provider's tokens are stored and served; the refresh token only on request.
	tokensPath := w.orgPath(w.orgA.ID) + "/members/" + w.user.ID + "/oauth_providers/google"
	r = h.do(get(tokensPath))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, pv["access_token"], r.body["access_token"])
	assert.Equal(t, pv["id_token"], r.body["id_token"])
	assert.Empty(t, r.body["refresh_token"])
	assert.Greater(t, r.body["access_token_expires_in"], float64(0))
	r = h.do(get(tokensPath + "?include_refresh_token=true"))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, pv["refresh_token"], r.body["refresh_token"])
	r = h.do(get(w.orgPath(w.orgA.ID) + "/members/" + w.user.ID + "/oauth_providers/microsoft"))
	require.Equal(t, http.StatusNotFound, r.status, "%s", r.raw)
	assert.Equal(t, "oauth_registration_not_found", r.str("error_type"))
	r = h.do(get(w.orgPath(w.orgA.ID) + "/members/" + w.admin.ID + "/oauth_providers/google"))
	require.Equal(t, http.StatusNotFound, r.status, "%s", r.raw)

	// Microsoft: the admin signs in; its latest tokens are served.
	back = h.consent(t, w.b2bStartURL("microsoft", w.orgA.ID, nil), url.Values{"email": {w.admin.Email}}, "oauth")
	r = h.do(post(authPath, map[string]any{"oauth_token": back.Query().Get("token")}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	r = h.do(get(w.orgPath(w.orgA.ID) + "/members/" + w.admin.ID + "/oauth_providers/microsoft"))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "Microsoft", r.str("provider_type"))
	assert.NotEmpty(t, r.str("id_token"))

	// An unknown address goes to sign-up and is refused without JIT provisioning.
	back = h.consent(t, w.b2bStartURL("microsoft", w.orgA.ID, nil), url.Values{"email": {"new@elsewhere.test"}}, "oauth")
	assert.Equal(t, oauthSignupURL, back.Scheme+"://"+back.Host+back.Path)
	r = h.do(post(authPath, map[string]any{"oauth_token": back.Query().Get("token")}))
	require.Equal(t, http.StatusForbidden, r.status, "%s", r.raw)

	// JIT by OAuth tenant: a Slack workspace the organization allows.
	r = h.do(call{method: http.MethodPut, path: w.orgPath(w.orgA.ID), body: map[string]any{
		"oauth_tenant_jit_provisioning": "RESTRICTED", "allowed_oauth_tenants": map[string]any{"slack": []string{"T0ACME"}},
	}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	back = h.consent(t, w.b2bStartURL("slack", w.orgA.ID, nil), url.Values{"email": {"pat@elsewhere.test"}, "tenant": {"T0OTHER"}}, "oauth")
	r = h.do(post(authPath, map[string]any{"oauth_token": back.Query().Get("token")}))
	require.Equal(t, http.StatusForbidden, r.status, "another workspace: %s", r.raw)
	back = h.consent(t, w.b2bStartURL("slack", w.orgA.ID, nil), url.Values{"email": {"pat@elsewhere.test"}, "tenant": {"T0ACME"}, "name": {"Pat"}}, "oauth")
	r = h.do(post(authPath, map[string]any{"oauth_token": back.Query().Get("token")}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "Pat", r.obj("member")["name"])
	r = h.do(get(w.orgPath(w.orgA.ID) + "/members/" + r.str("member_id") + "/oauth_providers/slack"))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	reg := r.body["registrations"].([]any)[0].(map[string]any)
	assert.Equal(t, "T0ACME", reg["provider_tenant_id"])
	assert.NotEmpty(t, reg["bot_access_token"])

	// Restricted auth methods without slack_oauth refuse Slack.
	r = h.do(call{method: http.MethodPut, path: w.orgPath(w.orgA.ID), body: map[string]any{
		"auth_methods": "RESTRICTED", "allowed_auth_methods": []string{"magic_link", "google_oauth"},
	}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	back = h.consent(t, w.b2bStartURL("slack", w.orgA.ID, nil), url.Values{"email": {"pat@elsewhere.test"}, "tenant": {"T0ACME"}}, "oauth")
	r = h.do(post(authPath, map[string]any{"oauth_token": back.Query().Get("token")}))
	require.Equal(t, http.StatusForbidden, r.status, "%s", r.raw)
	assert.Equal(t, "unauthorized_auth_method", r.str("error_type"))
}

func TestB2BOAuthMFARequired(t *testing.T) {
	w := newWorld(t)
	h := w.h
	back := h.consent(t, w.b2bStartURL("github", w.orgB.ID, nil), url.Values{"email": {w.mfaUser.Email}, "tenant": {"acme-gh"}}, "oauth")
	r := h.do(post("/v1/b2b/oauth/authenticate", map[string]any{"oauth_token": back.Query().Get("token")}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, false, r.body["member_authenticated"])
	assert.NotEmpty(t, r.str("intermediate_session_token"))
	assert.Empty(t, r.str("session_token"))
	assert.NotNil(t, r.obj("mfa_required"))
	assert.NotEmpty(t, r.obj("provider_values")["access_token"])
	r = h.do(get(w.orgPath(w.orgB.ID) + "/members/" + w.mfaUser.ID + "/oauth_providers/github"))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	reg := r.body["registrations"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{"acme-gh"}, reg["provider_tenant_ids"])
}

func TestB2BOAuthDiscovery(t *testing.T) {
	w := newWorld(t)
	h := w.h
	verifier, challenge := pkcePair()
	back := h.consent(t, w.b2bStartURL("hubspot", "", url.Values{"pkce_code_challenge": {challenge}}),
		url.Values{"email": {w.user.Email}, "tenant": {"4242"}}, "discovery_oauth")
	assert.Equal(t, oauthLoginURL, back.Scheme+"://"+back.Host+back.Path)
	tok := back.Query().Get("token")
	const path = "/v1/b2b/oauth/discovery/authenticate"
	r := h.do(post(path, map[string]any{"discovery_oauth_token": tok}))
	require.Equal(t, http.StatusBadRequest, r.status, "no verifier: %s", r.raw)
	r = h.do(post(path, map[string]any{"discovery_oauth_token": tok, "pkce_code_verifier": verifier}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, w.user.Email, r.str("email_address"))
	assert.Equal(t, "HubSpot", r.str("provider_type"))
	assert.Equal(t, "4242", r.str("provider_tenant_id"))
	assert.Equal(t, "user", r.str("full_name"))
	orgs := r.body["discovered_organizations"].([]any)
	require.Len(t, orgs, 2) // orgA and orgB both have user@acme.test
	ist := r.str("intermediate_session_token")
	r = h.do(post(path, map[string]any{"discovery_oauth_token": tok, "pkce_code_verifier": verifier}))
	require.Equal(t, http.StatusUnauthorized, r.status, "%s", r.raw)

	r = h.do(post("/v1/b2b/discovery/intermediate_sessions/exchange", map[string]any{"intermediate_session_token": ist, "organization_id": w.orgA.ID}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, true, r.body["member_authenticated"])
	f := r.obj("member_session")["authentication_factors"].([]any)[0].(map[string]any)
	assert.Equal(t, "oauth_hubspot", f["delivery_method"])

	r = h.do(get(w.orgPath(w.orgA.ID) + "/members/" + w.user.ID + "/oauth_providers/hubspot?include_refresh_token=true"))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	reg := r.body["registrations"].([]any)[0].(map[string]any)
	assert.Equal(t, "4242", reg["provider_tenant_id"])
	assert.True(t, strings.HasPrefix(reg["refresh_token"].(string), "refresh-token-test-"))
}

func TestB2BOAuthStartErrors(t *testing.T) {
	w := newWorld(t)
	c := w.h.browser()
	for name, u := range map[string]string{
		"unknown provider":  w.b2bStartURL("amazon", w.orgA.ID, nil),
		"bad public token":  w.b2bStartURL("google", w.orgA.ID, url.Values{"public_token": {"nope"}}),
		"unknown org":       w.b2bStartURL("google", "organization-test-nope", nil),
		"bad challenge":     w.b2bStartURL("google", "", url.Values{"pkce_code_challenge": {"short"}}),
		"bad discovery url": w.b2bStartURL("google", "", url.Values{"discovery_redirect_url": {"javascript:alert(1)"}}),
	} {
		res, body := w.h.get(t, c, u)
		assert.GreaterOrEqual(t, res.status, 400, "%s: %s", name, body)
	}
	res, _ := w.h.get(t, c, w.b2bStartURL("google", w.orgA.ID, nil))
	assert.Equal(t, http.StatusOK, res.status)
	res, _ = w.h.get(t, c, w.b2bStartURL("google", "", url.Values{"organization_slug": {"acme"}}))
	assert.Equal(t, http.StatusOK, res.status)
}

// Each B2B provider has its own token read in Stytch's document and a delivery method Stytch's
// session factors name.
func TestB2BOAuthProvidersAreStytchs(t *testing.T) {
	requireSpec(t)
	enum := specDoc.Components.Schemas["api_session_v1_AuthenticationFactor"].Value.Properties["delivery_method"].Value.Enum
	providers := stytchemu.B2BOAuthProviders()
	assert.Len(t, providers, 5)
	for _, p := range providers {
		assert.Contains(t, enum, "oauth_"+p)
		assert.NotNil(t, specDoc.Paths.Value("/v1/b2b/organizations/{organization_id}/members/{member_id}/oauth_providers/"+p), p)
		assert.Contains(t, stytchemu.OAuthProviders(), p)
	}
}
