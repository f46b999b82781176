package deploy_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// echoUpstream is the protected service: it answers every request with the headers it received
// (JSON) and remembers how many requests reached it.
type echoUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	hits int
}

func startEchoUpstream(t *testing.T) *echoUpstream {
	t.Helper()
	u := &echoUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.hits++
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r.Header)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *echoUpstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits
}

// freeLoopbackAddr returns a loopback address with a port that was free a moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// replaceOnce replaces old by replacement in s and fails the test unless old occurs exactly once:
// a change to the shipped file that the test would silently stop exercising fails here.
func replaceOnce(t *testing.T, s, old, replacement string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(s, old), "deploy/nginx/authsvc-edge.conf: expected %q once", old)
	return strings.Replace(s, old, replacement, 1)
}

// startNginx runs the real nginx with deploy/nginx/authsvc-edge.conf, its three addresses
// replaced (authsvc's REST port, the upstream, nginx's own), from a prefix directory in
// t.TempDir, in the foreground, and returns nginx's base URL.
func startNginx(t *testing.T, bin, authsvcAddr, upstreamAddr string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("nginx", "authsvc-edge.conf"))
	require.NoError(t, err)
	listen := freeLoopbackAddr(t)
	conf := string(data)
	conf = replaceOnce(t, conf, "server 127.0.0.1:8080;", "server "+authsvcAddr+";")
	conf = replaceOnce(t, conf, "server 127.0.0.1:3000;", "server "+upstreamAddr+";")
	conf = replaceOnce(t, conf, "listen 127.0.0.1:8000;", "listen "+listen+";")

	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "tmp"), 0o700))
	site := filepath.Join(dir, "authsvc-edge.conf")
	require.NoError(t, os.WriteFile(site, []byte(conf), 0o600))
	main := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(main, []byte(nginxMainConf(dir, site)), 0o600))

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-p", dir, "-c", main, "-e", "stderr")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("nginx stderr:\n%s", stderr.String())
		}
	})
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", listen, 100*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}, 10*time.Second, 20*time.Millisecond, "nginx did not listen on %s", listen)
	return "http://" + listen
}

type proxied struct {
	status   int
	header   http.Header
	body     string
	upstream http.Header // the headers the service received; nil when the request did not reach it
}

// TestNginxEdge puts the real nginx, configured by deploy/nginx/authsvc-edge.conf, in front of a
// service that echoes its request headers, with a dev-mode authsvc applying deploy/edge/rules.yaml
// over auth_request: what the issue asks nginx to show, with an HTTP client as curl would.
func TestNginxEdge(t *testing.T) {
	bin := nginxBinary()
	if bin == "" {
		t.Skip("nginx not installed (scripts/test-deps.sh installs nginx-light)")
	}
	rulesFile, err := filepath.Abs(filepath.Join("edge", "rules.yaml"))
	require.NoError(t, err)
	env := apptest.Start(t, apptest.WithEnv(map[string]string{"AUTHSVC_EDGE_RULES": rulesFile}))
	upstream := startEchoUpstream(t)
	base := startNginx(t, bin, env.App.HTTPAddr(), strings.TrimPrefix(upstream.URL, "http://"))

	// A member signs in as a browser does, through authsvc's REST API (magic link from the
	// emulator's outbox): the jar then holds the real session cookies, which it also sends to
	// nginx (cookies are per host, not per port).
	org := stytchemu.SandboxOrganizationID
	email := "nginx.edge@example.com"
	member, err := env.Emu.CreateMember(org, stytchemu.MemberParams{Email: email})
	require.NoError(t, err)
	origin := http.Header{"Origin": {env.BaseURL}}
	r := env.RESTWithHeaders(t, http.MethodPost, "/v1/b2b/magic_links/email/login_or_signup",
		map[string]any{"organization_id": org, "email_address": email}, origin)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	msg, ok := env.Emu.LastMessage(email)
	require.True(t, ok)
	r = env.RESTWithHeaders(t, http.MethodPost, "/v1/b2b/magic_links/authenticate",
		map[string]any{"magic_links_token": msg.Token}, origin)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	browser := env.HTTP
	baseURL, err := url.Parse(base)
	require.NoError(t, err)
	require.NotEmpty(t, browser.Jar.Cookies(baseURL), "the login set no cookie")
	anonymous := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	client, err := env.Emu.CreateM2MClient("orders-reader", []string{"read:orders", "write:orders"})
	require.NoError(t, err)
	readToken := m2mAccessToken(t, env, client, "read:orders")
	writeToken := m2mAccessToken(t, env, client, "write:orders")

	get := func(t *testing.T, c *http.Client, path string, header http.Header) proxied {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
		require.NoError(t, err)
		for k, vs := range header {
			req.Header[k] = vs
		}
		before := upstream.count()
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		p := proxied{status: resp.StatusCode, header: resp.Header, body: string(body)}
		if upstream.count() > before {
			require.NoError(t, json.Unmarshal(body, &p.upstream), "the upstream's echo: %s", body)
		}
		return p
	}
	forged := http.Header{
		"X-Authsvc-Subject": {"member-test-forged"}, "X-Authsvc-Organization": {"organization-test-forged"},
		"X-Authsvc-Roles": {"stytch_admin"}, "X-Authsvc-Kind": {"member"},
	}

	t.Run("no cookie: 401, the service never asked", func(t *testing.T) {
		p := get(t, anonymous, "/app/dashboard", nil)
		assert.Equal(t, http.StatusUnauthorized, p.status, p.body)
		assert.Len(t, p.header.Values("WWW-Authenticate"), 1)
		assert.Contains(t, p.header.Get("WWW-Authenticate"), "Bearer")
		assert.Equal(t, "application/json", p.header.Get("Content-Type"))
		assert.Nil(t, p.upstream)
	})
	t.Run("forged identity headers without a session: still 401", func(t *testing.T) {
		p := get(t, anonymous, "/app/dashboard", forged)
		assert.Equal(t, http.StatusUnauthorized, p.status, p.body)
		assert.Nil(t, p.upstream)
	})
	t.Run("session cookie: 200 and the identity headers at the service", func(t *testing.T) {
		p := get(t, browser, "/app/dashboard", nil)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.NotNil(t, p.upstream)
		assert.Equal(t, member.ID, p.upstream.Get("X-Authsvc-Subject"))
		assert.Equal(t, org, p.upstream.Get("X-Authsvc-Organization"))
		assert.Equal(t, "member", p.upstream.Get("X-Authsvc-Kind"))
		assert.Equal(t, "app", p.upstream.Get("X-Authsvc-Rule"))
		assert.NotEmpty(t, p.upstream.Get("X-Authsvc-Session"))
		assert.Contains(t, p.upstream.Get("X-Authsvc-Roles"), "stytch_member")
	})
	t.Run("session cookie and forged headers: the service sees authsvc's, not the client's", func(t *testing.T) {
		p := get(t, browser, "/app/dashboard", forged)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.NotNil(t, p.upstream)
		assert.Equal(t, []string{member.ID}, p.upstream.Values("X-Authsvc-Subject"))
		assert.Equal(t, []string{org}, p.upstream.Values("X-Authsvc-Organization"))
		assert.NotContains(t, p.upstream.Get("X-Authsvc-Roles"), "stytch_admin")
	})
	t.Run("organization from the path: own organization 200, another 403", func(t *testing.T) {
		p := get(t, browser, "/orgs/"+org+"/reports", nil)
		require.Equal(t, http.StatusOK, p.status, p.body)
		assert.Equal(t, "org-pages", p.upstream.Get("X-Authsvc-Rule"))
		p = get(t, browser, "/orgs/organization-test-00000000-0000-4000-8000-000000000000/reports", nil)
		assert.Equal(t, http.StatusForbidden, p.status, p.body)
		assert.Nil(t, p.upstream)
	})
	t.Run("browser route without a session: redirect to the login page", func(t *testing.T) {
		p := get(t, anonymous, "/orgs/"+org+"/reports", http.Header{"Accept": {"text/html"}})
		require.Equal(t, http.StatusFound, p.status, p.body)
		loc, err := url.Parse(p.header.Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, "http://localhost:3000/login", loc.Scheme+"://"+loc.Host+loc.Path)
		assert.Equal(t, base+"/orgs/"+org+"/reports", loc.Query().Get("return_to"), "back to the page asked for, port included")
		assert.Nil(t, p.upstream)
	})
	t.Run("M2M route: the scope's token 200, another scope 403, none 401", func(t *testing.T) {
		p := get(t, anonymous, "/api/orders/42", http.Header{"Authorization": {"Bearer " + readToken}})
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.NotNil(t, p.upstream)
		assert.Equal(t, client.ClientID, p.upstream.Get("X-Authsvc-Subject"))
		assert.Equal(t, "m2m", p.upstream.Get("X-Authsvc-Kind"))
		assert.Contains(t, strings.Fields(p.upstream.Get("X-Authsvc-Scopes")), "read:orders")
		assert.Empty(t, p.upstream.Values("X-Authsvc-Organization"), "no organization for a service")

		p = get(t, anonymous, "/api/orders/42", http.Header{"Authorization": {"Bearer " + writeToken}})
		assert.Equal(t, http.StatusForbidden, p.status, p.body)
		assert.Nil(t, p.upstream)
		p = get(t, anonymous, "/api/orders/42", nil)
		assert.Equal(t, http.StatusUnauthorized, p.status, p.body)
	})
	t.Run("public route: 200 without credentials, forged headers removed", func(t *testing.T) {
		p := get(t, anonymous, "/public/index.html", forged)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.NotNil(t, p.upstream)
		assert.Empty(t, p.upstream.Values("X-Authsvc-Subject"))
		assert.Empty(t, p.upstream.Values("X-Authsvc-Organization"))
		assert.Empty(t, p.upstream.Values("X-Authsvc-Roles"))
		assert.Equal(t, "public", p.upstream.Get("X-Authsvc-Kind"))
	})
	t.Run("no rule matches: denied", func(t *testing.T) {
		p := get(t, browser, "/elsewhere", nil)
		assert.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, p.status, p.body)
		assert.Nil(t, p.upstream)
	})
	// The decisions above are on /metrics under the names the dashboard and alerts use
	// (knownMetrics), with the labels they group by.
	t.Run("metrics", func(t *testing.T) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+env.App.AdminAddr()+"/metrics", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		for _, want := range []string{
			`authsvc_edge_decisions_total{decision="allow",`,
			`reason="no_credentials"`,
			`rule="app"`,
			`authsvc_edge_decision_duration_seconds_bucket{`,
		} {
			assert.Contains(t, string(body), want)
		}
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, "authsvc_edge_") {
				name, _, _ := strings.Cut(line, "{")
				name, _, _ = strings.Cut(name, " ")
				assert.True(t, knownMetrics[name], "%s is not in knownMetrics", name)
			}
		}
	})
}

// m2mAccessToken asks the emulator's OAuth2 token endpoint, as a service asks Stytch, for an
// access token of c with one scope.
func m2mAccessToken(t *testing.T, env *apptest.Env, c stytchemu.M2MClient, scope string) string {
	t.Helper()
	form := url.Values{
		"grant_type": {"client_credentials"}, "client_id": {c.ClientID},
		"client_secret": {c.ClientSecret}, "scope": {scope},
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
		env.Emu.URL+"/v1/public/"+env.Emu.ProjectID()+"/oauth2/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, out.AccessToken)
	return out.AccessToken
}
