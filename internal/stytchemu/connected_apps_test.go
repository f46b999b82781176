package stytchemu_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const appRedirect = "https://app.test/callback"

// createApp creates a Connected App of the given type and returns the create response's connected_app.
func (w *world) createApp(t *testing.T, clientType string, extra map[string]any) map[string]any {
	t.Helper()
	body := map[string]any{
		"client_type": clientType, "client_name": "Reports " + clientType, "client_description": "reads reports",
		"redirect_urls": []string{appRedirect},
	}
	for k, v := range extra {
		body[k] = v
	}
	r := w.h.do(post("/v1/connected_apps/clients", body))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	return r.obj("connected_app")
}

// authorize asks for consent as the world's user (by session token) and returns the response.
func (w *world) authorize(clientID string, scopes []string, extra map[string]any) response {
	body := map[string]any{
		"client_id": clientID, "redirect_uri": appRedirect, "response_type": "code",
		"scopes": scopes, "session_token": w.userSes.Token, "consent_granted": true, "state": "st-1",
	}
	for k, v := range extra {
		body[k] = v
	}
	return w.h.do(post("/v1/b2b/idp/oauth/authorize", body))
}

func (w *world) token(form url.Values) response {
	return w.h.do(call{
		method: http.MethodPost, path: "/v1/public/" + w.h.emu.ProjectID() + "/oauth2/token",
		body: form.Encode(), ctype: "application/x-www-form-urlencoded", noAuth: true,
	})
}

func TestConnectedAppClients(t *testing.T) {
	w := newWorld(t)
	app := w.createApp(t, "first_party", map[string]any{"full_access_allowed": true, "access_token_expiry_minutes": 30})
	id, secret := app["client_id"].(string), app["client_secret"].(string)
	require.NotEmpty(t, secret)
	assert.Equal(t, secret[len(secret)-4:], app["client_secret_last_four"])
	assert.Equal(t, true, app["full_access_allowed"])
	assert.InDelta(t, 30, app["access_token_expiry_minutes"], 0)

	g := w.h.do(get("/v1/connected_apps/clients/" + id))
	require.Equal(t, http.StatusOK, g.status, "%s", g.raw)
	assert.NotContains(t, g.obj("connected_app"), "client_secret", "the secret is shown once")
	assert.Equal(t, []any{appRedirect}, g.obj("connected_app")["redirect_urls"])

	u := w.h.do(call{method: http.MethodPut, path: "/v1/connected_apps/clients/" + id, body: map[string]any{"client_name": "Renamed"}})
	require.Equal(t, http.StatusOK, u.status, "%s", u.raw)
	assert.Equal(t, "Renamed", u.obj("connected_app")["client_name"])

	pub := w.createApp(t, "third_party_public", nil)
	assert.Empty(t, pub["client_secret"], "a public client has no secret")
	bad := w.h.do(post("/v1/connected_apps/clients", map[string]any{"client_type": "third_party", "full_access_allowed": true}))
	assert.Equal(t, http.StatusBadRequest, bad.status, "full_access is for first-party apps only")
	bad = w.h.do(post("/v1/connected_apps/clients", map[string]any{"client_type": "fourth_party"}))
	assert.Equal(t, http.StatusBadRequest, bad.status)

	s := w.h.do(post("/v1/connected_apps/clients/search", map[string]any{"limit": 1}))
	require.Equal(t, http.StatusOK, s.status, "%s", s.raw)
	assert.Len(t, s.body["connected_apps"], 1)
	assert.InDelta(t, 2, s.obj("results_metadata")["total"], 0)

	// Rotation: start shows the next secret once; cancel drops it; rotate makes it current.
	st := w.h.do(post("/v1/connected_apps/clients/"+id+"/secrets/rotate/start", nil))
	require.Equal(t, http.StatusOK, st.status, "%s", st.raw)
	next := st.obj("connected_app")["next_client_secret"].(string)
	c := w.h.do(post("/v1/connected_apps/clients/"+id+"/secrets/rotate/cancel", nil))
	require.Equal(t, http.StatusOK, c.status, "%s", c.raw)
	assert.Empty(t, c.obj("connected_app")["next_client_secret_last_four"])
	assert.Equal(t, http.StatusBadRequest, w.h.do(post("/v1/connected_apps/clients/"+id+"/secrets/rotate", nil)).status, "nothing to rotate")
	st = w.h.do(post("/v1/connected_apps/clients/"+id+"/secrets/rotate/start", nil))
	next2 := st.obj("connected_app")["next_client_secret"].(string)
	assert.NotEqual(t, next, next2)
	rot := w.h.do(post("/v1/connected_apps/clients/"+id+"/secrets/rotate", nil))
	require.Equal(t, http.StatusOK, rot.status, "%s", rot.raw)
	assert.Equal(t, next2[len(next2)-4:], rot.obj("connected_app")["client_secret_last_four"])

	d := w.h.do(call{method: http.MethodDelete, path: "/v1/connected_apps/clients/" + id})
	require.Equal(t, http.StatusOK, d.status, "%s", d.raw)
	assert.Equal(t, id, d.str("client_id"))
	assert.Equal(t, http.StatusNotFound, w.h.do(get("/v1/connected_apps/clients/"+id)).status)
}

// TestConnectedAppCodeFlow: client create → authorize start → authorize →
// token (code + PKCE + secret) → the access token verifies against the
// project's JWKS → the org and member reads list the app → refresh (rotated)
// → revoke → refresh refused.
func TestConnectedAppCodeFlow(t *testing.T) {
	w := newWorld(t)
	app := w.createApp(t, "third_party", nil)
	id, secret := app["client_id"].(string), app["client_secret"].(string)
	scopes := []string{"openid", "email", "profile", "offline_access"}

	start := w.h.do(post("/v1/b2b/idp/oauth/authorize/start", map[string]any{
		"client_id": id, "redirect_uri": appRedirect, "response_type": "code",
		"scopes": append(scopes, "full_access"), "session_token": w.userSes.Token,
	}))
	require.Equal(t, http.StatusOK, start.status, "%s", start.raw)
	assert.Equal(t, w.user.ID, start.str("member_id"))
	assert.Equal(t, true, start.body["consent_required"], "a third-party app asks for consent")
	grantable := map[string]bool{}
	for _, r := range start.body["scope_results"].([]any) {
		m := r.(map[string]any)
		grantable[m["scope"].(string)] = m["is_grantable"].(bool)
	}
	assert.Equal(t, map[string]bool{"openid": true, "email": true, "profile": true, "offline_access": true, "full_access": false}, grantable)

	verifier, challenge := pkcePair()
	az := w.authorize(id, scopes, map[string]any{"code_challenge": challenge, "nonce": "n-1"})
	require.Equal(t, http.StatusOK, az.status, "%s", az.raw)
	code := az.str("authorization_code")
	require.NotEmpty(t, code)
	ru, err := url.Parse(az.str("redirect_uri"))
	require.NoError(t, err)
	assert.Equal(t, code, ru.Query().Get("code"))
	assert.Equal(t, "st-1", ru.Query().Get("state"))
	assert.True(t, strings.HasPrefix(az.str("redirect_uri"), appRedirect+"?"))

	form := url.Values{
		"grant_type": {"authorization_code"}, "client_id": {id}, "client_secret": {secret},
		"code": {code}, "redirect_uri": {appRedirect}, "code_verifier": {verifier},
	}
	tok := w.token(form)
	require.Equal(t, http.StatusOK, tok.status, "%s", tok.raw)
	assert.Equal(t, "openid email profile offline_access", tok.str("scope"))
	require.NotEmpty(t, tok.str("refresh_token"))
	require.NotEmpty(t, tok.str("id_token"))

	kf := w.h.jwksKeyfunc(t, "/v1/b2b/sessions/jwks/")
	claims, err := w.h.verify(kf, tok.str("access_token"))
	require.NoError(t, err)
	assert.Equal(t, w.user.ID, claims["sub"])
	assert.Equal(t, id, claims["client_id"])
	assert.Equal(t, "openid email profile offline_access", claims["scope"])
	assert.Equal(t, w.orgA.ID, claims["https://stytch.com/organization"].(map[string]any)["organization_id"])

	// The code is single use.
	again := w.token(form)
	assert.Equal(t, http.StatusBadRequest, again.status)
	assert.Equal(t, "invalid_grant", again.str("error"))

	// The reads list the app after the grant.
	org := w.h.do(get(w.orgPath(w.orgA.ID) + "/connected_apps"))
	require.Equal(t, http.StatusOK, org.status, "%s", org.raw)
	require.Len(t, org.body["connected_apps"], 1)
	assert.Equal(t, id, org.body["connected_apps"].([]any)[0].(map[string]any)["connected_app_id"])
	one := w.h.do(get(w.orgPath(w.orgA.ID) + "/connected_apps/" + id))
	require.Equal(t, http.StatusOK, one.status, "%s", one.raw)
	require.Len(t, one.body["active_members"], 1)
	assert.Equal(t, w.user.ID, one.body["active_members"].([]any)[0].(map[string]any)["member_id"])
	mem := w.h.do(get(w.orgPath(w.orgA.ID) + "/members/" + w.user.ID + "/connected_apps"))
	require.Equal(t, http.StatusOK, mem.status, "%s", mem.raw)
	require.Len(t, mem.body["connected_apps"], 1)
	assert.Equal(t, "openid email profile offline_access", mem.body["connected_apps"].([]any)[0].(map[string]any)["scopes_granted"])
	// With a member session header, Stytch's RBAC applies: an admin may read, a plain member may not.
	assert.Equal(t, http.StatusOK, w.h.do(asMember(get(w.orgPath(w.orgA.ID)+"/connected_apps"), w.adminSes)).status)
	assert.Equal(t, http.StatusForbidden, w.h.do(asMember(get(w.orgPath(w.orgA.ID)+"/connected_apps"), w.userSes)).status)
	other := w.h.do(get(w.orgPath(w.orgB.ID) + "/connected_apps"))
	assert.Empty(t, other.body["connected_apps"], "another organization has no grant")

	// Refresh rotates the refresh token.
	refresh := func(rt string) response {
		return w.token(url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "client_secret": {secret}, "refresh_token": {rt}})
	}
	r1 := refresh(tok.str("refresh_token"))
	require.Equal(t, http.StatusOK, r1.status, "%s", r1.raw)
	require.NotEqual(t, tok.str("refresh_token"), r1.str("refresh_token"))
	assert.Equal(t, "invalid_grant", refresh(tok.str("refresh_token")).str("error"), "a used refresh token is refused")

	// Revoke kills the grant and its refresh tokens.
	rv := w.h.do(post(w.orgPath(w.orgA.ID)+"/members/"+w.user.ID+"/connected_apps/"+id+"/revoke", nil))
	require.Equal(t, http.StatusOK, rv.status, "%s", rv.raw)
	r2 := refresh(r1.str("refresh_token"))
	assert.Equal(t, http.StatusBadRequest, r2.status)
	assert.Equal(t, "invalid_grant", r2.str("error"))
	mem = w.h.do(get(w.orgPath(w.orgA.ID) + "/members/" + w.user.ID + "/connected_apps"))
	assert.Empty(t, mem.body["connected_apps"])
}

func TestConnectedAppAuthorizeRefusals(t *testing.T) {
	w := newWorld(t)
	pub := w.createApp(t, "first_party_public", nil)
	pid := pub["client_id"].(string)
	conf := w.createApp(t, "third_party", nil)
	cid := conf["client_id"].(string)

	// A public client must use PKCE.
	r := w.authorize(pid, []string{"openid"}, nil)
	assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.raw)
	assert.Equal(t, "pkce_required", r.str("error_type"))

	// The redirect URI must be registered exactly.
	r = w.authorize(cid, []string{"openid"}, map[string]any{"redirect_uri": appRedirect + "/"})
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "invalid_redirect_uri", r.str("error_type"))
	r = w.h.do(post("/v1/b2b/idp/oauth/authorize/start", map[string]any{
		"client_id": cid, "redirect_uri": "https://evil.test/cb", "response_type": "code",
		"scopes": []string{"openid"}, "session_token": w.userSes.Token,
	}))
	assert.Equal(t, "invalid_redirect_uri", r.str("error_type"))

	// response_type code only; full_access not for a third-party app; unknown client; no session.
	assert.Equal(t, http.StatusBadRequest, w.authorize(cid, []string{"openid"}, map[string]any{"response_type": "token"}).status)
	assert.Equal(t, "invalid_scope", w.authorize(cid, []string{"full_access"}, nil).str("error_type"))
	assert.Equal(t, http.StatusNotFound, w.authorize("connected-app-test-nope", []string{"openid"}, nil).status)
	assert.Equal(t, http.StatusNotFound, w.authorize(cid, []string{"openid"}, map[string]any{"session_token": "nope"}).status)

	// Consent denied: the OAuth error comes back in the redirect, with no code.
	r = w.authorize(cid, []string{"openid"}, map[string]any{"consent_granted": false})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Empty(t, r.str("authorization_code"))
	ru, err := url.Parse(r.str("redirect_uri"))
	require.NoError(t, err)
	assert.Equal(t, "access_denied", ru.Query().Get("error"))
	assert.Equal(t, "st-1", ru.Query().Get("state"))

	// A public client with PKCE: no secret, but the verifier must match.
	verifier, challenge := pkcePair()
	az := w.authorize(pid, []string{"openid"}, map[string]any{"code_challenge": challenge, "session_token": "", "session_jwt": w.userSes.JWT})
	require.Equal(t, http.StatusOK, az.status, "%s", az.raw)
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {pid}, "code": {az.str("authorization_code")}, "redirect_uri": {appRedirect}, "code_verifier": {"wrong-verifier"}}
	assert.Equal(t, "invalid_grant", w.token(form).str("error"))
	az = w.authorize(pid, []string{"openid"}, map[string]any{"code_challenge": challenge})
	form.Set("code", az.str("authorization_code"))
	form.Set("code_verifier", verifier)
	tok := w.token(form)
	require.Equal(t, http.StatusOK, tok.status, "%s", tok.raw)
	assert.Empty(t, tok.str("refresh_token"), "no offline_access, no refresh token")

	// A confidential client must authenticate; the code is bound to its redirect URI.
	az = w.authorize(cid, []string{"openid"}, nil)
	form = url.Values{"grant_type": {"authorization_code"}, "client_id": {cid}, "client_secret": {"wrong"}, "code": {az.str("authorization_code")}, "redirect_uri": {appRedirect}}
	assert.Equal(t, "invalid_client", w.token(form).str("error"))
	form.Set("client_secret", conf["client_secret"].(string))
	form.Set("redirect_uri", "https://app.test/other")
	assert.Equal(t, "invalid_grant", w.token(form).str("error"))

	// An expired code is refused.
	az = w.authorize(cid, []string{"openid"}, nil)
	w.h.emu.Advance(6 * time.Minute)
	form.Set("code", az.str("authorization_code"))
	form.Set("redirect_uri", appRedirect)
	assert.Equal(t, "invalid_grant", w.token(form).str("error"))
}

func TestExchangeAccessToken(t *testing.T) {
	w := newWorld(t)
	full := w.createApp(t, "first_party", map[string]any{"full_access_allowed": true})
	plain := w.createApp(t, "first_party", nil)
	accessToken := func(app map[string]any, scopes []string) string {
		t.Helper()
		az := w.authorize(app["client_id"].(string), scopes, nil)
		require.Equal(t, http.StatusOK, az.status, "%s", az.raw)
		tok := w.token(url.Values{
			"grant_type": {"authorization_code"}, "client_id": {app["client_id"].(string)}, "client_secret": {app["client_secret"].(string)},
			"code": {az.str("authorization_code")}, "redirect_uri": {appRedirect},
		})
		require.Equal(t, http.StatusOK, tok.status, "%s", tok.raw)
		return tok.str("access_token")
	}
	exchange := func(at string) response {
		return w.h.do(post("/v1/b2b/sessions/exchange_access_token", map[string]any{"access_token": at, "session_duration_minutes": 30}))
	}

	r := exchange(accessToken(full, []string{"openid", "full_access"}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, w.user.ID, r.str("member_id"))
	require.NotEmpty(t, r.str("session_token"))
	assert.Equal(t, []string{"oauth/oauth_access_token_exchange"}, factorTypes(r))
	f := r.obj("member_session")["authentication_factors"].([]any)[0].(map[string]any)
	assert.Equal(t, full["client_id"], f["oauth_access_token_exchange_factor"].(map[string]any)["client_id"])
	auth := w.h.do(post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": r.str("session_token")}))
	assert.Equal(t, http.StatusOK, auth.status, "the session is a real one")

	noFull := exchange(accessToken(plain, []string{"openid"}))
	assert.Equal(t, http.StatusForbidden, noFull.status, "%s", noFull.raw)

	old := accessToken(full, []string{"full_access"})
	w.h.emu.Advance(6 * time.Minute)
	tooOld := exchange(old)
	assert.Equal(t, http.StatusUnauthorized, tooOld.status, "%s", tooOld.raw)
	assert.Equal(t, "access_token_too_old", tooOld.str("error_type"))

	assert.Equal(t, http.StatusNotFound, exchange(w.userSes.JWT).status, "a session JWT is no access token")
	assert.Equal(t, http.StatusNotFound, exchange("eyJ.not.atoken").status)
}

// TestConsumerConnectedAppFlow: the consumer twins — authorize start and
// authorize for a user, the code and refresh grants, the user's connected
// apps, exchange_access_token into a user session, revoke.
func TestConsumerConnectedAppFlow(t *testing.T) {
	w := newConsumerWorld(t)
	r := w.h.do(post("/v1/connected_apps/clients", map[string]any{
		"client_type": "first_party_public", "client_name": "CLI", "redirect_urls": []string{appRedirect},
		"full_access_allowed": true,
	}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	id := r.obj("connected_app")["client_id"].(string)
	scopes := []string{"openid", "email", "offline_access", "full_access"}

	start := w.h.do(post("/v1/idp/oauth/authorize/start", map[string]any{
		"client_id": id, "redirect_uri": appRedirect, "response_type": "code", "scopes": scopes, "session_jwt": w.aliceSes.JWT,
	}))
	require.Equal(t, http.StatusOK, start.status, "%s", start.raw)
	assert.Equal(t, w.alice.ID, start.str("user_id"))
	assert.Equal(t, true, start.body["consent_required"], "offline_access asks for consent")

	verifier, challenge := pkcePair()
	az := w.h.do(post("/v1/idp/oauth/authorize", map[string]any{
		"client_id": id, "redirect_uri": appRedirect, "response_type": "code", "scopes": scopes,
		"session_token": w.aliceSes.Token, "consent_granted": true, "code_challenge": challenge,
	}))
	require.Equal(t, http.StatusOK, az.status, "%s", az.raw)
	tok := w.h.do(call{
		method: http.MethodPost, path: "/v1/public/" + w.h.emu.ProjectID() + "/oauth2/token", noAuth: true,
		ctype: "application/x-www-form-urlencoded", body: url.Values{
			"grant_type": {"authorization_code"}, "client_id": {id}, "code": {az.str("authorization_code")},
			"redirect_uri": {appRedirect}, "code_verifier": {verifier},
		}.Encode(),
	})
	require.Equal(t, http.StatusOK, tok.status, "%s", tok.raw)
	claims, err := w.h.verify(w.h.jwksKeyfunc(t, "/v1/sessions/jwks/"), tok.str("access_token"))
	require.NoError(t, err)
	assert.Equal(t, w.alice.ID, claims["sub"])
	assert.NotContains(t, claims, "https://stytch.com/organization")

	apps := w.h.do(get("/v1/users/" + w.alice.ID + "/connected_apps"))
	require.Equal(t, http.StatusOK, apps.status, "%s", apps.raw)
	require.Len(t, apps.body["connected_apps"], 1)

	ex := w.h.do(post("/v1/sessions/exchange_access_token", map[string]any{"access_token": tok.str("access_token")}))
	require.Equal(t, http.StatusOK, ex.status, "%s", ex.raw)
	assert.Equal(t, w.alice.ID, ex.str("user_id"))
	require.NotEmpty(t, ex.str("session_token"))

	rv := w.h.do(post("/v1/users/"+w.alice.ID+"/connected_apps/"+id+"/revoke", nil))
	require.Equal(t, http.StatusOK, rv.status, "%s", rv.raw)
	ref := w.h.do(call{
		method: http.MethodPost, path: "/v1/public/" + w.h.emu.ProjectID() + "/oauth2/token", noAuth: true,
		ctype: "application/x-www-form-urlencoded", body: url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {tok.str("refresh_token")}}.Encode(),
	})
	assert.Equal(t, "invalid_grant", ref.str("error"))
	assert.Equal(t, http.StatusNotFound, w.h.do(post("/v1/sessions/exchange_access_token", map[string]any{"access_token": tok.str("access_token")})).status, "revoked")
}
