package app_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// assertOff checks that an API that is off answers UNIMPLEMENTED naming the setting, over gRPC and
// over REST (HTTP 501), before any access check: no credentials are needed to learn it is off.
func assertOff(t *testing.T, env *apptest.Env, method string, req, resp any, restPath, want string) {
	t.Helper()
	err := env.Conn.Invoke(t.Context(), method, req, resp)
	st := status.Convert(err)
	assert.Equal(t, codes.Unimplemented, st.Code(), "gRPC %s: %v", method, err)
	assert.Equal(t, want, st.Message())

	r := env.REST(t, http.MethodPost, restPath, `{}`)
	assert.Equal(t, http.StatusNotImplemented, r.Status, "REST %s: %s", restPath, r.Body)
	assertStatusBody(t, r, codes.Unimplemented)
	assert.Equal(t, want, r.JSON(t)["message"])
}

func TestB2BOnlyServesNoConsumerAPI(t *testing.T) {
	emu, consumer := apptest.DevEmulator(t)
	env := apptest.Start(t, apptest.WithEmulator(emu), apptest.WithConsumerProject(consumer), apptest.WithEnv(map[string]string{
		"STYTCH_PROJECT_ID": emu.ProjectID(), "STYTCH_SECRET": emu.Secret(), "STYTCH_BASE_URL": emu.URL,
	}))
	const want = "the consumer API is off: set STYTCH_CONSUMER_PROJECT_ID and STYTCH_CONSUMER_SECRET"
	assertOff(t, env, consumerv1.MagicLinksService_LoginOrCreate_FullMethodName,
		&consumerv1.MagicLinksServiceLoginOrCreateRequest{Email: "ada@example.com"}, &consumerv1.MagicLinksServiceLoginOrCreateResponse{},
		"/v1/magic_links/email/login_or_create", want)
	assertOff(t, env, consumerv1.UsersService_Get_FullMethodName,
		&consumerv1.UsersServiceGetRequest{UserId: stytchemu.SandboxUserID}, &consumerv1.UsersServiceGetResponse{},
		"/v1/users/"+stytchemu.SandboxUserID, want)
	assertOff(t, env, consumerv1.PasswordsService_Authenticate_FullMethodName,
		&consumerv1.PasswordsServiceAuthenticateRequest{}, &consumerv1.PasswordsServiceAuthenticateResponse{},
		"/v1/passwords/authenticate", want)

	// The B2B API works.
	r := env.REST(t, http.MethodPost, "/v1/b2b/magic_links/email/login_or_signup",
		map[string]any{"organization_id": stytchemu.SandboxOrganizationID, "email_address": stytchemu.SandboxEmail})
	assert.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	// Not dev mode: no outbox.
	assert.Equal(t, http.StatusNotFound, env.REST(t, http.MethodGet, "/dev/outbox", nil).Status)
}

func TestConsumerOnlyServesNoB2BAPI(t *testing.T) {
	emu, consumer := apptest.DevEmulator(t)
	env := apptest.Start(t, apptest.WithEmulator(emu), apptest.WithConsumerProject(consumer), apptest.WithEnv(map[string]string{
		"STYTCH_CONSUMER_PROJECT_ID": consumer.ProjectID(), "STYTCH_CONSUMER_SECRET": consumer.Secret(), "STYTCH_CONSUMER_BASE_URL": emu.URL,
	}))
	const want = "the B2B API is off: set STYTCH_PROJECT_ID and STYTCH_SECRET"
	assertOff(t, env, b2bv1.SessionsService_Authenticate_FullMethodName,
		&b2bv1.SessionsServiceAuthenticateRequest{}, &b2bv1.SessionsServiceAuthenticateResponse{},
		"/v1/b2b/sessions/authenticate", want)
	assertOff(t, env, b2bv1.MembersService_Search_FullMethodName,
		&b2bv1.MembersServiceSearchRequest{}, &b2bv1.MembersServiceSearchResponse{},
		"/v1/b2b/organizations/members/search", want)

	// The consumer API works.
	r := env.REST(t, http.MethodPost, "/v1/magic_links/email/login_or_create", map[string]any{"email": stytchemu.SandboxEmail})
	assert.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	// The M2M API is the consumer project's: a client of that project gets a token that authenticates
	// a service caller.
	c, err := consumer.CreateM2MClient("consumer-backend", []string{"read:users"})
	require.NoError(t, err)
	issued := &m2mv1.IssueTokenResponse{}
	require.NoError(t, env.Conn.Invoke(t.Context(), m2mv1.M2MService_IssueToken_FullMethodName,
		&m2mv1.IssueTokenRequest{ClientId: c.ClientID, ClientSecret: c.ClientSecret}, issued))
	get := env.RESTWithHeaders(t, http.MethodGet, "/v1/users/"+stytchemu.SandboxUserID, nil,
		http.Header{"Authorization": {"Bearer " + issued.GetAccessToken()}})
	assert.Equal(t, http.StatusOK, get.Status, "%s", get.Body)
}

// Dev mode serves both projects from the embedded emulator, and /dev/outbox shows both projects'
// deliveries.
func TestDevModeServesBothProjects(t *testing.T) {
	env := apptest.Start(t)
	require.NotNil(t, env.Consumer)
	r := env.REST(t, http.MethodPost, "/v1/b2b/magic_links/email/login_or_signup",
		map[string]any{"organization_id": stytchemu.SandboxOrganizationID, "email_address": "b2b-dev@example.com"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = env.REST(t, http.MethodPost, "/v1/otps/sms/login_or_create", map[string]any{"phone_number": "+15550001111"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	var box struct {
		Messages []struct {
			To, Project, Code, Token string
		} `json:"messages"`
	}
	out := env.REST(t, http.MethodGet, "/dev/outbox", nil)
	require.Equal(t, http.StatusOK, out.Status)
	require.NoError(t, json.Unmarshal(out.Body, &box))
	projects := map[string]string{}
	for _, m := range box.Messages {
		projects[m.To] = m.Project
	}
	assert.Equal(t, "b2b", projects["b2b-dev@example.com"])
	assert.Equal(t, "consumer", projects["+15550001111"])

	out = env.REST(t, http.MethodGet, "/dev/outbox?to=%2B15550001111", nil)
	require.NoError(t, json.Unmarshal(out.Body, &box))
	require.Len(t, box.Messages, 1)
	assert.Len(t, box.Messages[0].Code, 6)
}

// Each project's cookies have their own names when configured: a consumer login sets the consumer
// names, a consumer session check reads them, and a B2B login keeps Stytch's names.
func TestCookieNamesPerProject(t *testing.T) {
	env := apptest.Start(t, apptest.WithEnv(map[string]string{
		"AUTHSVC_CONSUMER_SESSION_COOKIE": "app_session", "AUTHSVC_CONSUMER_SESSION_JWT_COOKIE": "app_session_jwt",
	}))
	post := func(path string, body any) apptest.Response {
		return env.RESTWithHeaders(t, http.MethodPost, path, body, http.Header{"Origin": {env.BaseURL}})
	}
	r := post("/v1/magic_links/authenticate", map[string]any{"token": stytchemu.SandboxMagicLinkToken, "session_duration_minutes": 60})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	names := map[string]bool{}
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		names[c.Name] = true
	}
	assert.Equal(t, map[string]bool{"app_session": true, "app_session_jwt": true}, names)

	r = post("/v1/sessions/authenticate", map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, "the consumer cookies are the credential: %s", r.Body)
	assert.Equal(t, stytchemu.SandboxUserID, r.JSON(t)["session"].(map[string]any)["user_id"])
	r = post("/v1/b2b/sessions/authenticate", map[string]any{})
	assert.Equal(t, http.StatusBadRequest, r.Status, "the B2B API does not read the consumer cookies: %s", r.Body)

	r = post("/v1/b2b/magic_links/authenticate", map[string]any{"magic_links_token": stytchemu.SandboxMagicLinkToken, "session_duration_minutes": 60})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	names = map[string]bool{}
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		names[c.Name] = true
	}
	assert.Equal(t, map[string]bool{"stytch_session": true, "stytch_session_jwt": true}, names)
}
