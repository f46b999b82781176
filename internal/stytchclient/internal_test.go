package stytchclient

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
		wantURL string
	}{
		{name: "missing project ID", cfg: Config{Secret: "s"}, wantErr: "ProjectID"},
		{name: "missing secret", cfg: Config{ProjectID: "project-test-1"}, wantErr: "Secret"},
		{name: "project ID with a slash", cfg: Config{ProjectID: "project-test-1/..", Secret: "s"}, wantErr: "ProjectID contains a slash"},
		{name: "project ID a dot segment", cfg: Config{ProjectID: "..", Secret: "s"}, wantErr: "ProjectID is a dot segment"},
		{name: "live ID", cfg: Config{ProjectID: "project-live-1", Secret: "s"}, wantURL: LiveBaseURL},
		{name: "test ID", cfg: Config{ProjectID: "project-test-1", Secret: "s"}, wantURL: TestBaseURL},
		{name: "override wins", cfg: Config{ProjectID: "project-live-1", Secret: "s", BaseURL: "http://127.0.0.1:9/"}, wantURL: "http://127.0.0.1:9"},
		{name: "override with path prefix", cfg: Config{ProjectID: "p", Secret: "s", BaseURL: "https://proxy.internal/stytch"}, wantURL: "https://proxy.internal/stytch"},
		{name: "override not http", cfg: Config{ProjectID: "p", Secret: "s", BaseURL: "ftp://x"}, wantErr: "http or https"},
		{name: "override without host", cfg: Config{ProjectID: "p", Secret: "s", BaseURL: "https://"}, wantErr: "no host"},
		{name: "override with credentials", cfg: Config{ProjectID: "p", Secret: "s", BaseURL: "https://u:p@x"}, wantErr: "credentials"},
		{name: "override with query", cfg: Config{ProjectID: "p", Secret: "s", BaseURL: "https://x?a=1"}, wantErr: "query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantURL, c.BaseURL())
		})
	}
}

func TestDefaultHTTPClientHasTimeouts(t *testing.T) {
	c, err := New(Config{ProjectID: "project-test-1", Secret: "s"})
	require.NoError(t, err)
	assert.Equal(t, DefaultRequestTimeout, c.timeout)
	assert.Zero(t, c.http.Timeout, "the attempt's context carries the timeout (attempt)")
	tr := newDefaultTransport()
	assert.Equal(t, DefaultTLSHandshakeTimeout, tr.TLSHandshakeTimeout)
	assert.Equal(t, DefaultResponseHeaderTimeout, tr.ResponseHeaderTimeout)
}

func TestNewErrorShapes(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	type response struct {
		status int
		header http.Header
	}
	resp := func(code int, hdr map[string]string) response {
		h := http.Header{}
		for k, v := range hdr {
			h.Set(k, v)
		}
		return response{status: code, header: h}
	}
	tests := []struct {
		name string
		resp response
		body string
		want Error
	}{
		{
			name: "stytch JSON",
			resp: resp(404, nil),
			body: `{"status_code":404,"request_id":"req-1","error_type":"member_not_found","error_message":"Member a@b.c not found","error_url":"https://stytch.com/docs/api/errors/404","error_details":{"k":1}}`,
			want: Error{StatusCode: 404, RequestID: "req-1", ErrorType: "member_not_found", ErrorMessage: "Member a@b.c not found", ErrorURL: "https://stytch.com/docs/api/errors/404", Details: []byte(`{"k":1}`)},
		},
		{
			name: "oauth2 JSON",
			resp: resp(401, map[string]string{"X-Request-Id": "hdr-1"}),
			body: `{"error":"invalid_client","error_description":"Client authentication failed.","error_uri":"https://x"}`,
			want: Error{StatusCode: 401, RequestID: "hdr-1", ErrorType: "invalid_client", ErrorMessage: "Client authentication failed.", ErrorURL: "https://x"},
		},
		{
			name: "HTML from a proxy",
			resp: resp(502, map[string]string{"X-Request-Id": "edge-1"}),
			body: "<html>bad gateway</html>",
			want: Error{StatusCode: 502, RequestID: "edge-1"},
		},
		{
			name: "empty body with retry hint in seconds",
			resp: resp(429, map[string]string{"Retry-After": "3"}),
			want: Error{StatusCode: 429, RetryAfter: 3 * time.Second},
		},
		{
			name: "retry hint as a date",
			resp: resp(503, map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}),
			body: "{not json",
			want: Error{StatusCode: 503, RetryAfter: 90 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newError("GET /x", tt.resp.status, tt.resp.header, []byte(tt.body), now)
			tt.want.Endpoint = "GET /x"
			assert.Equal(t, tt.want, *got)
		})
	}
}

func TestErrorStringHasNoUserInput(t *testing.T) {
	e := &Error{Endpoint: "GET /v1/b2b/organizations/{organization_id}/member", StatusCode: 404, RequestID: "req-9", ErrorType: "member_not_found", ErrorMessage: "no member with email a@b.c"}
	assert.Equal(t, "stytch: GET /v1/b2b/organizations/{organization_id}/member: 404 member_not_found (request_id req-9)", e.Error())
	e = &Error{Endpoint: "GET /x", StatusCode: 502}
	assert.Equal(t, "stytch: GET /x: 502 Bad Gateway", e.Error())
}

func TestRedactedQueryKeepsNamesOnly(t *testing.T) {
	q := redactedQuery(url.Values{"email_address": {"a@b.c"}, "member_id": {"m-1"}})
	assert.Equal(t, "email_address=REDACTED&member_id=REDACTED", q)
}

func TestBackoffStaysWithinBounds(t *testing.T) {
	p := RetryPolicy{BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}.withDefaults()
	for n := 1; n <= 40; n++ {
		for range 50 {
			d := p.backoff(n)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.LessOrEqual(t, d, min(p.MaxDelay, p.BaseDelay<<min(n-1, 20)))
		}
	}
}

func TestTokenKey(t *testing.T) {
	base := M2MTokenParams{ClientID: "c", ClientSecret: "s", Scopes: []string{"b", "a", "a"}}
	same := M2MTokenParams{ClientID: "c", ClientSecret: "s", Scopes: []string{"a", "b"}}
	assert.Equal(t, tokenKey(base), tokenKey(same))
	assert.NotEqual(t, tokenKey(base), tokenKey(M2MTokenParams{ClientID: "c", ClientSecret: "t", Scopes: []string{"a", "b"}}))
	assert.NotEqual(t, tokenKey(base), tokenKey(M2MTokenParams{ClientID: "c", ClientSecret: "s", Scopes: []string{"a"}}))
	// Scopes are not mutated by normalisation.
	assert.Equal(t, []string{"b", "a", "a"}, base.Scopes)
	// Length prefixes: moving bytes between fields never yields the same key.
	assert.NotEqual(t, tokenKey(M2MTokenParams{ClientID: "a\x00b", ClientSecret: "c"}),
		tokenKey(M2MTokenParams{ClientID: "a", ClientSecret: "\x00bc"}))
	// A scope containing a space cannot collide with two scopes.
	assert.NotEqual(t, tokenKey(M2MTokenParams{ClientID: "c", ClientSecret: "s", Scopes: []string{"a b"}}),
		tokenKey(M2MTokenParams{ClientID: "c", ClientSecret: "s", Scopes: []string{"a", "b"}}))
}

func TestBuildPath(t *testing.T) {
	p, err := buildPath("DELETE /v1/b2b/organizations/{organization_id}/members/{member_id}", []string{"Org 1", "member-test-1"})
	require.NoError(t, err)
	assert.Equal(t, "/v1/b2b/organizations/Org%201/members/member-test-1", p)

	p, err = buildPath("POST /v1/b2b/sessions/authenticate", nil)
	require.NoError(t, err)
	assert.Equal(t, "/v1/b2b/sessions/authenticate", p)

	// A call whose parameters do not fit its template is a bug here, never a request.
	for _, params := range [][]string{nil, {"a", "b"}} {
		_, err = buildPath("GET /v1/m2m/clients/{client_id}", params)
		require.ErrorIs(t, err, errPlaceholders)
	}
	_, err = buildPath("GET /v1/m2m/clients", []string{"a"})
	require.ErrorIs(t, err, errPlaceholders)
}

func TestEndpointProject(t *testing.T) {
	for template, want := range map[string]ProjectType{
		"/v1/b2b/sessions/authenticate":        ProjectB2B,
		"/v1/b2b/sessions/jwks/{project_id}":   ProjectB2B,
		"/v1/users":                            ProjectConsumer,
		"/v1/users/{user_id}":                  ProjectConsumer,
		"/v1/magic_links":                      ProjectConsumer,
		"/v1/otps/authenticate":                ProjectConsumer,
		"/v1/sessions":                         ProjectConsumer,
		"/v1/sessions/authenticate":            ProjectConsumer,
		"/v1/passwords":                        ProjectConsumer,
		"/v1/passwords/email/reset/start":      ProjectConsumer,
		"/v1/sessions/jwks/{project_id}":       "", // both kinds may fetch it
		"/v1/m2m/clients":                      "",
		"/v1/public/{project_id}/oauth2/token": "",
		"/v1/usersearch":                       "", // a prefix match is a whole segment
	} {
		assert.Equal(t, want, endpointProject(template), template)
	}
}
