package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// m2mToken asks the emulator's OAuth2 token endpoint (as a service would ask Stytch) for an access
// token of the client with the given scopes (nil: all of the client's scopes).
func m2mToken(t *testing.T, env *apptest.Env, c stytchemu.M2MClient, scopes []string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}
	if scopes != nil {
		form.Set("scope", strings.Join(scopes, " "))
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost,
		env.Emu.URL+"/v1/public/"+env.Emu.ProjectID()+"/oauth2/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "token endpoint: %s", body)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(body, &out))
	require.NotEmpty(t, out.AccessToken)
	return out.AccessToken
}

// memberSession creates a member of org with roles (every member also holds stytch_member) and a
// live session for it.
func memberSession(t *testing.T, env *apptest.Env, orgID, email string, roles ...string) stytchemu.Session {
	t.Helper()
	return testkit.MemberSession(t, env.Emu, orgID, stytchemu.MemberParams{Email: email, Roles: roles})
}
