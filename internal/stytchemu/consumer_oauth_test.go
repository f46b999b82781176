package stytchemu_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

const (
	oauthLoginURL  = "https://app.example.test/login"
	oauthSignupURL = "https://app.example.test/signup"
)

// startURL is the start URL of provider with the project's public token and params.
func (h *harness) startURL(provider string, params url.Values) string {
	v := url.Values{"public_token": {h.emu.PublicToken()}, "login_redirect_url": {oauthLoginURL}, "signup_redirect_url": {oauthSignupURL}}
	for k, vs := range params {
		v[k] = vs
	}
	return h.url + "/v1/public/oauth/" + provider + "/start?" + v.Encode()
}

// browser follows redirects within the emulator, as a browser would, and stops at the first
// redirect that leaves it (the app's redirect URL), which it returns.
func (h *harness) browser() *http.Client {
	base, _ := url.Parse(h.url)
	return &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != base.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// page is what a browser got: the last response of a request and its redirects.
type page struct {
	status int
	header http.Header
	url    *url.URL // where the last response came from
}

func (h *harness) get(t *testing.T, c *http.Client, u string) (page, string) {
	t.Helper()
	res, err := c.Get(u) //nolint:noctx // test client
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return page{status: res.StatusCode, header: res.Header, url: res.Request.URL}, string(b)
}

// oauthGrant runs the browser's part of a flow: the start URL, the consent page, the grant for
// email; it returns the redirect URL Stytch sends the browser back to.
func (h *harness) oauthGrant(t *testing.T, provider, email string, params url.Values) *url.URL {
	t.Helper()
	return h.consent(t, h.startURL(provider, params), url.Values{"email": {email}}, "oauth")
}

// consent opens start, submits the consent form with account (email and any other field) and
// checks the redirect back carries a token of tokenType; it returns that redirect URL.
func (h *harness) consent(t *testing.T, start string, account url.Values, tokenType string) *url.URL {
	t.Helper()
	c := h.browser()
	res, html := h.get(t, c, start)
	require.Equal(t, http.StatusOK, res.status, html)
	assert.Contains(t, res.header.Get("Content-Type"), "text/html")
	assert.Contains(t, html, `<button type="submit" name="allow" value="true">Allow</button>`)
	// Submit the form as the browser would: its hidden fields, the account, Allow.
	form := res.url
	q := form.Query()
	for k, vs := range account {
		q[k] = vs
	}
	q.Set("allow", "true")
	form.RawQuery = q.Encode()
	res, body := h.get(t, c, form.String())
	require.Equal(t, http.StatusFound, res.status, body)
	back, err := url.Parse(res.header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, tokenType, back.Query().Get("stytch_token_type"))
	require.NotEmpty(t, back.Query().Get("token"))
	return back
}

func providersOf(u map[string]any) []map[string]any {
	var out []map[string]any
	for _, p := range u["providers"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return out
}

func TestOAuthRoundTrip(t *testing.T) {
	w := newConsumerWorld(t)
	h := w.h
	verifier, challenge := pkcePair()

	// A new identity signs up: the sign-up redirect URL, a new user.
	back := h.oauthGrant(t, "google", "olive@example.test", url.Values{"code_challenge": {challenge}, "custom_scopes": {"calendar.readonly"}})
	assert.Equal(t, oauthSignupURL, back.Scheme+"://"+back.Host+back.Path)
	tok := back.Query().Get("token")

	r := h.do(post("/v1/oauth/authenticate", map[string]any{"token": tok, "code_verifier": verifier + "x", "session_duration_minutes": 60}))
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.raw)
	assert.Equal(t, "pkce_mismatch", r.str("error_type"))

	r = h.do(post("/v1/oauth/authenticate", map[string]any{"token": tok, "code_verifier": verifier, "session_duration_minutes": 60}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "Google", r.str("provider_type"))
	subject := r.str("provider_subject")
	assert.NotEmpty(t, subject)
	regID := r.str("oauth_user_registration_id")
	assert.True(t, strings.HasPrefix(regID, "oauth-user-registration-test-"), regID)
	user := r.obj("user")
	provs := providersOf(user)
	require.Len(t, provs, 1)
	assert.Equal(t, map[string]any{
		"provider_type": "Google", "provider_subject": subject, "oauth_user_registration_id": regID,
		"profile_picture_url": provs[0]["profile_picture_url"], "locale": "en",
	}, provs[0])
	assert.Equal(t, "olive@example.test", emails(user)[0].(map[string]any)["email"])
	assert.Equal(t, true, emails(user)[0].(map[string]any)["verified"])

	sess := r.obj("user_session")
	require.NotNil(t, sess, "the session is Stytch's user_session")
	f := sess["authentication_factors"].([]any)[0].(map[string]any)
	assert.Equal(t, "oauth", f["type"])
	assert.Equal(t, "oauth_google", f["delivery_method"])
	assert.Equal(t, regID, f["google_oauth_factor"].(map[string]any)["id"])
	assert.Equal(t, subject, f["google_oauth_factor"].(map[string]any)["provider_subject"])
	assert.NotEmpty(t, r.str("session_token"))

	// The provider's tokens: Google is OpenID Connect, so a signed id_token about the subject.
	pv := r.obj("provider_values")
	assert.NotEmpty(t, pv["access_token"])
	assert.NotEmpty(t, pv["refresh_token"])
	assert.Equal(t, []any{"openid", "email", "profile", "calendar.readonly"}, pv["scopes"])
	idTok, err := jwt.Parse(pv["id_token"].(string), func(*jwt.Token) (any, error) { return &testKey.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return epoch }))
	require.NoError(t, err)
	sub, err := idTok.Claims.GetSubject()
	require.NoError(t, err)
	assert.Equal(t, subject, sub)

	// The token is single use.
	r = h.do(post("/v1/oauth/authenticate", map[string]any{"token": tok, "code_verifier": verifier}))
	require.Equal(t, http.StatusUnauthorized, r.status, "%s", r.raw)
	assert.Equal(t, "unable_to_auth_oauth_token", r.str("error_type"))
	r = h.do(post("/v1/oauth/authenticate", map[string]any{"token": "never-issued"}))
	require.Equal(t, http.StatusNotFound, r.status, "%s", r.raw)
	assert.Equal(t, "oauth_token_not_found", r.str("error_type"))

	// A second provider with the same (now verified) address logs the same user in and adds a
	// registration; GitHub is not OpenID Connect, so no id_token.
	back = h.oauthGrant(t, "github", "olive@example.test", nil)
	assert.Equal(t, oauthLoginURL, back.Scheme+"://"+back.Host+back.Path)
	r = h.do(post("/v1/oauth/authenticate", map[string]any{"token": back.Query().Get("token")}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, user["user_id"], r.str("user_id"))
	assert.Empty(t, r.obj("provider_values")["id_token"])
	assert.Nil(t, r.body["user_session"], "no session without session_duration_minutes")
	assert.Empty(t, r.str("session_token"))
	provs = providersOf(w.getUser(t, r.str("user_id")).body)
	require.Len(t, provs, 2)
	assert.Equal(t, "GitHub", provs[1]["provider_type"])

	// The same identity again is the same registration.
	back = h.oauthGrant(t, "google", "olive@example.test", nil)
	r = h.do(post("/v1/oauth/authenticate", map[string]any{"token": back.Query().Get("token")}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, regID, r.str("oauth_user_registration_id"))
	assert.Len(t, providersOf(r.obj("user")), 2)

	// Users' factor delete removes one registration.
	r = h.do(call{method: http.MethodDelete, path: "/v1/users/oauth/" + regID})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	provs = providersOf(r.obj("user"))
	require.Len(t, provs, 1)
	assert.Equal(t, "GitHub", provs[0]["provider_type"])
}

func TestOAuthTokenExpires(t *testing.T) {
	w := newConsumerWorld(t)
	back := w.h.oauthGrant(t, "discord", "dee@example.test", nil)
	w.h.emu.Advance(11 * time.Minute)
	r := w.h.do(post("/v1/oauth/authenticate", map[string]any{"token": back.Query().Get("token")}))
	require.Equal(t, http.StatusUnauthorized, r.status, "%s", r.raw)
	assert.Equal(t, "unable_to_auth_oauth_token", r.str("error_type"))
}

func TestOAuthAttach(t *testing.T) {
	w := newConsumerWorld(t)
	h := w.h

	// Attach by session: a provider account with an unrelated address lands on alice.
	r := h.do(post("/v1/oauth/attach", map[string]any{"provider": "github", "session_token": w.aliceSes.Token}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	attach := r.str("oauth_attach_token")
	require.NotEmpty(t, attach)

	// The attach token is for GitHub only.
	res, body := h.get(t, h.browser(), h.startURL("gitlab", url.Values{"oauth_attach_token": {attach}}))
	assert.Equal(t, http.StatusNotFound, res.status, body)

	back := h.oauthGrant(t, "github", "alice-gh@example.test", url.Values{"oauth_attach_token": {attach}})
	assert.Equal(t, oauthLoginURL, back.Scheme+"://"+back.Host+back.Path)
	r = h.do(post("/v1/oauth/authenticate", map[string]any{"token": back.Query().Get("token")}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, w.alice.ID, r.str("user_id"))
	assert.Len(t, providersOf(r.obj("user")), 1)

	// Single use.
	res, body = h.get(t, h.browser(), h.startURL("github", url.Values{"oauth_attach_token": {attach}}))
	assert.Equal(t, http.StatusNotFound, res.status, body)
	assert.Contains(t, body, "oauth_attach_token_not_found")

	// Exactly one way to name the user.
	r = h.do(post("/v1/oauth/attach", map[string]any{"provider": "github", "user_id": w.bob.ID, "session_token": w.aliceSes.Token}))
	assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.raw)
	r = h.do(post("/v1/oauth/attach", map[string]any{"provider": "myspace", "user_id": w.bob.ID}))
	assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.raw)
	assert.Equal(t, "invalid_oauth_provider", r.str("error_type"))
	r = h.do(post("/v1/oauth/attach", map[string]any{"provider": "github", "user_id": "user-test-00000000-0000-4000-8000-000000000000"}))
	assert.Equal(t, http.StatusNotFound, r.status, "%s", r.raw)
}

func TestOAuthAuthenticateWithSession(t *testing.T) {
	w := newConsumerWorld(t)
	h := w.h
	// A new identity redeemed with alice's session joins alice and her session.
	back := h.oauthGrant(t, "twitch", "streamer@example.test", nil)
	r := h.do(post("/v1/oauth/authenticate", map[string]any{"token": back.Query().Get("token"), "session_token": w.aliceSes.Token, "session_duration_minutes": 30}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, w.alice.ID, r.str("user_id"))
	sess := r.obj("user_session")
	assert.Equal(t, w.aliceSes.ID, sess["session_id"])
	var kinds []string
	for _, f := range sess["authentication_factors"].([]any) {
		kinds = append(kinds, f.(map[string]any)["delivery_method"].(string))
	}
	assert.Equal(t, []string{"email", "oauth_twitch"}, kinds)

	// The same identity with bob's session: it is alice's, so bob's session is ignored.
	back = h.oauthGrant(t, "twitch", "streamer@example.test", nil)
	bobSes, err := h.emu.CreateUserSession(w.bob.ID, time.Hour)
	require.NoError(t, err)
	r = h.do(post("/v1/oauth/authenticate", map[string]any{"token": back.Query().Get("token"), "session_token": bobSes.Token, "session_duration_minutes": 30}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, w.alice.ID, r.str("user_id"))
	assert.NotEqual(t, bobSes.ID, r.obj("user_session")["session_id"])

	// Both session arguments: refused before the token is spent.
	back = h.oauthGrant(t, "twitch", "streamer@example.test", nil)
	r = h.do(post("/v1/oauth/authenticate", map[string]any{"token": back.Query().Get("token"), "session_token": w.aliceSes.Token, "session_jwt": w.aliceSes.JWT}))
	assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.raw)
	r = h.do(post("/v1/oauth/authenticate", map[string]any{"token": back.Query().Get("token")}))
	assert.Equal(t, http.StatusOK, r.status, "%s", r.raw)
}

func TestOAuthStartRefusals(t *testing.T) {
	w := newConsumerWorld(t)
	h := w.h
	cases := []struct {
		name, provider string
		params         url.Values
		status         int
		errType        string
	}{
		{"wrong public token", "google", url.Values{"public_token": {"public-token-test-nope"}}, http.StatusUnauthorized, "invalid_public_token"},
		{"unknown provider", "myspace", nil, http.StatusBadRequest, "invalid_oauth_provider"},
		{"code challenge not S256", "google", url.Values{"code_challenge": {"plain-verifier"}}, http.StatusBadRequest, "invalid_code_challenge"},
		{"relative redirect URL", "google", url.Values{"login_redirect_url": {"/authenticate"}}, http.StatusBadRequest, "invalid_redirect_url"},
		{"unknown attach token", "google", url.Values{"oauth_attach_token": {"nope"}}, http.StatusNotFound, "oauth_attach_token_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := h.get(t, h.browser(), h.startURL(tc.provider, tc.params))
			assert.Equal(t, tc.status, res.status, body)
			assert.Contains(t, body, `"error_type":"`+tc.errType+`"`)
		})
	}
	t.Run("consent for an unknown flow", func(t *testing.T) {
		res, body := h.get(t, h.browser(), h.url+"/emulator/oauth/google/consent?state=nope&email=a@example.test&allow=true")
		assert.Equal(t, http.StatusNotFound, res.status, body)
	})
	t.Run("consent without a valid email", func(t *testing.T) {
		c := h.browser()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, _ := h.get(t, c, h.startURL("google", nil))
		require.Equal(t, http.StatusFound, res.status)
		consent, err := url.Parse(h.url + res.header.Get("Location"))
		require.NoError(t, err)
		q := consent.Query()
		q.Set("email", "not-an-address")
		q.Set("allow", "true")
		consent.RawQuery = q.Encode()
		res, body := h.get(t, c, consent.String())
		assert.Equal(t, http.StatusBadRequest, res.status, body)
	})
	t.Run("consent page escapes what it echoes", func(t *testing.T) {
		res, html := h.get(t, h.browser(), h.startURL("google", url.Values{"login_hint": {`"><script>x</script>`}}))
		require.Equal(t, http.StatusOK, res.status)
		assert.NotContains(t, html, "<script>")
	})
}

// In one Multi, the public token picks the consumer project (there is no Basic auth to tell).
func TestOAuthStartPicksProjectByPublicToken(t *testing.T) {
	b, c := newMultiHarness(t)
	client := c.browser()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, body := c.get(t, client, c.startURL("google", nil))
	require.Equal(t, http.StatusFound, res.status, body)
	assert.Contains(t, res.header.Get("Location"), "project_id="+c.emu.ProjectID())
	assert.Equal(t, 1, c.emu.Requests(stytchemu.OAuthStartTemplate))
	assert.Equal(t, 0, b.emu.Requests("*"))
	assert.NotEqual(t, b.emu.PublicToken(), c.emu.PublicToken())
}

func TestOAuthProvidersAreStytchs(t *testing.T) {
	requireSpec(t)
	// Each provider's delivery method (oauth_<provider>) is one Stytch's session factor names.
	sch := specDoc.Components.Schemas["api_session_v1_AuthenticationFactor"]
	require.NotNil(t, sch)
	enum := sch.Value.Properties["delivery_method"].Value.Enum
	providers := stytchemu.OAuthProviders()
	assert.Len(t, providers, 24)
	for _, p := range providers {
		assert.Contains(t, enum, "oauth_"+p)
	}
}

// The consent form's subject names the identity at the provider; the same subject is the same
// registration whatever the address.
func TestOAuthConsentSubject(t *testing.T) {
	w := newConsumerWorld(t)
	h := w.h
	grant := func(email, subject string) response {
		c := h.browser()
		res, html := h.get(t, c, h.startURL("slack", nil))
		require.Equal(t, http.StatusOK, res.status, html)
		consent := res.url
		q := consent.Query()
		q.Set("email", email)
		q.Set("subject", subject)
		q.Set("allow", "true")
		consent.RawQuery = q.Encode()
		res, body := h.get(t, c, consent.String())
		require.Equal(t, http.StatusFound, res.status, body)
		back, err := url.Parse(res.header.Get("Location"))
		require.NoError(t, err)
		r := h.do(post("/v1/oauth/authenticate", map[string]any{"token": back.Query().Get("token")}))
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		return r
	}
	first := grant("sam@example.test", "U 42/x")
	assert.Equal(t, "U 42/x", first.str("provider_subject"))
	assert.Contains(t, providersOf(first.obj("user"))[0]["profile_picture_url"], "U%2042%2Fx")
	again := grant("sam.new@example.test", "U 42/x")
	assert.Equal(t, first.str("user_id"), again.str("user_id"))
	assert.Equal(t, first.str("oauth_user_registration_id"), again.str("oauth_user_registration_id"))
}
