package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

// ConnectedAppRedirect is the redirect URL of the Connected Apps ConnectedAppAccessToken creates.
const ConnectedAppRedirect = "https://connected-app.test/callback"

// ConnectedAppAccessToken plays a first-party Connected App of emu's B2B project against the
// emulator over real HTTP: it creates the app (full_access_allowed when fullAccess), has the member
// of sessionToken authorize it for scopes (full_access added when fullAccess), and redeems the
// authorization code at the token endpoint. It returns the access token. Nothing is taken from the
// emulator's state.
func ConnectedAppAccessToken(t testing.TB, emu *stytchemu.Server, sessionToken string, fullAccess bool, scopes ...string) string {
	t.Helper()
	if fullAccess {
		scopes = append(scopes, "full_access")
	}
	app := emuJSON(t, emu, "/v1/connected_apps/clients", map[string]any{
		"client_type": "first_party", "client_name": "Connected app", "redirect_urls": []string{ConnectedAppRedirect},
		"full_access_allowed": fullAccess,
	})
	ca, _ := app["connected_app"].(map[string]any)
	id, _ := ca["client_id"].(string)
	secret, _ := ca["client_secret"].(string)
	require.NotEmpty(t, id, "connected app: %v", app)
	az := emuJSON(t, emu, "/v1/b2b/idp/oauth/authorize", map[string]any{
		"client_id": id, "redirect_uri": ConnectedAppRedirect, "response_type": "code",
		"scopes": scopes, "session_token": sessionToken, "consent_granted": true,
	})
	code, _ := az["authorization_code"].(string)
	require.NotEmpty(t, code, "authorize: %v", az)
	form := url.Values{
		"grant_type": {"authorization_code"}, "client_id": {id}, "client_secret": {secret},
		"code": {code}, "redirect_uri": {ConnectedAppRedirect},
	}
	tok := emuDo(t, emu, "/v1/public/"+emu.ProjectID()+"/oauth2/token", "application/x-www-form-urlencoded",
		strings.NewReader(form.Encode()), false)
	at, _ := tok["access_token"].(string)
	require.NotEmpty(t, at, "token: %v", tok)
	return at
}

// emuJSON POSTs body as JSON to the emulator with the project's credentials and decodes a 200.
func emuJSON(t testing.TB, emu *stytchemu.Server, path string, body any) map[string]any {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	return emuDo(t, emu, path, "application/json", bytes.NewReader(b), true)
}

func emuDo(t testing.TB, emu *stytchemu.Server, path, ctype string, body io.Reader, basicAuth bool) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, emu.URL+path, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", ctype)
	if basicAuth {
		req.SetBasicAuth(emu.ProjectID(), emu.Secret())
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { require.NoError(t, res.Body.Close()) }()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "POST %s: %s", path, raw)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), "POST %s: %s", path, raw)
	return out
}
