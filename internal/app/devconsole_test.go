package app_test

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/devconsole"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// consolePaths are every path of the dev console (pages, script, style, access table).
func consolePaths() []string {
	return append([]string{"/dev/", "/dev/console.js", "/dev/console.css", "/dev/access.md"}, devconsole.Pages()...)
}

// Dev mode serves the console on the REST port, with its content types and strict CSP (the API's
// own CSP, which allows nothing, replaced), and the dev routes the console calls exist there.
func TestDevConsoleServedInDevMode(t *testing.T) {
	env := apptest.Start(t)
	for _, p := range consolePaths() {
		r := env.REST(t, http.MethodGet, p, nil)
		require.Equal(t, http.StatusOK, r.Status, p)
		assert.Equal(t, devconsole.CSP, r.Header.Get("Content-Security-Policy"), p)
		assert.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"), p)
		assert.NotEmpty(t, r.Body, p)
		ct := r.Header.Get("Content-Type")
		switch {
		case strings.HasSuffix(p, "/") || strings.HasSuffix(p, ".html"):
			assert.Equal(t, "text/html; charset=utf-8", ct, p)
			assert.Contains(t, string(r.Body), `<script type="module" src="/dev/console.js"></script>`, p)
		case strings.HasSuffix(p, ".js"):
			assert.Equal(t, "text/javascript; charset=utf-8", ct, p)
		case strings.HasSuffix(p, ".css"):
			assert.Equal(t, "text/css; charset=utf-8", ct, p)
		default:
			assert.Equal(t, "text/markdown; charset=utf-8", ct, p)
		}
	}
	// An unknown console path is the gateway's 404, a write to a page 405.
	assert.Equal(t, http.StatusNotFound, env.REST(t, http.MethodGet, "/dev/nope.html", nil).Status)
	assert.Equal(t, http.StatusMethodNotAllowed, env.REST(t, http.MethodPost, "/dev/index.html", "{}").Status)

	// Each /dev/ route the console's script calls answers (the /v1/ ones are checked against the
	// OpenAPI document in internal/devconsole).
	n := 0
	for _, c := range devconsole.Calls(devconsole.Source) {
		if !strings.HasPrefix(c.Path, "/dev/") {
			continue
		}
		n++
		var body any
		if c.Method == http.MethodPost {
			body = map[string]any{"client_name": "console-test", "scopes": []string{"read:users"}}
		}
		r := env.REST(t, c.Method, c.Path, body)
		assert.Equal(t, http.StatusOK, r.Status, "%s: %s", c, r.Body)
	}
	assert.Equal(t, 3, n)
}

// With a Stytch project configured (not dev mode) nothing answers under /dev/: the console is
// mounted by the dev-mode wiring only.
func TestDevConsoleAbsentOutsideDevMode(t *testing.T) {
	emu, consumer := apptest.DevEmulator(t)
	env := apptest.Start(t, apptest.WithEmulator(emu), apptest.WithConsumerProject(consumer), apptest.WithEnv(map[string]string{
		"STYTCH_PROJECT_ID": emu.ProjectID(), "STYTCH_SECRET": emu.Secret(), "STYTCH_BASE_URL": emu.URL,
	}))
	require.False(t, env.Config.DevMode())
	for _, p := range append(consolePaths(), "/dev", "/dev/anything", "/dev/outbox", "/dev/a/b") {
		r := env.REST(t, http.MethodGet, p, nil)
		assert.Equal(t, http.StatusNotFound, r.Status, p)
		assert.NotContains(t, r.Header.Get("Content-Type"), "text/html", p)
	}
}

// Dev mode allows the console's landing page as a redirect URL (at localhost and at the bound
// address, on the REST port), so that the console's SSO and reset links come back to it; it is
// never the default, and outside dev mode it is refused like any URL off the allowlist.
func TestDevConsoleLandingIsARedirectURLInDevModeOnly(t *testing.T) {
	send := func(env *apptest.Env, redirect string) apptest.Response {
		return env.REST(t, http.MethodPost, "/v1/b2b/magic_links/email/login_or_signup", map[string]any{
			"organization_id": stytchemu.SandboxOrganizationID, "email_address": "lou@example.com", "login_redirect_url": redirect, "signup_redirect_url": redirect,
		})
	}
	env := apptest.Start(t)
	host, port, err := net.SplitHostPort(env.App.HTTPAddr())
	require.NoError(t, err)
	for _, h := range []string{"localhost", host} {
		landing := "http://" + net.JoinHostPort(h, port) + devconsole.LandingPath
		r := send(env, landing)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", landing, r.Body)
		out := env.Emu.Outbox()
		require.NotEmpty(t, out)
		assert.True(t, strings.HasPrefix(out[len(out)-1].URL, landing+"?"), "the link leads to the console: %s", out[len(out)-1].URL)
	}
	assert.Equal(t, http.StatusBadRequest, send(env, "http://localhost:1"+devconsole.LandingPath).Status, "another port")
	assert.Equal(t, http.StatusBadRequest, send(env, "http://localhost:"+port+"/dev/outbox.html").Status, "another page")
	r := send(env, "")
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	out := env.Emu.Outbox()
	assert.True(t, strings.HasPrefix(out[len(out)-1].URL, apptest.DefaultRedirectURL+"?"), "the default stays the allowlist's first entry")

	emu, consumer := apptest.DevEmulator(t)
	prod := apptest.Start(t, apptest.WithEmulator(emu), apptest.WithConsumerProject(consumer), apptest.WithEnv(map[string]string{
		"STYTCH_PROJECT_ID": emu.ProjectID(), "STYTCH_SECRET": emu.Secret(), "STYTCH_BASE_URL": emu.URL,
	}))
	_, prodPort, err := net.SplitHostPort(prod.App.HTTPAddr())
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, send(prod, "http://localhost:"+prodPort+devconsole.LandingPath).Status, "not outside dev mode")
}
