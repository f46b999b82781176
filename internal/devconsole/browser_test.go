package devconsole_test

// Browser tests of the console: a real headless Chromium (internal/browsertest) drives the pages
// against authsvc in dev mode (internal/apptest), opened at http://localhost:<REST port> as a
// developer opens them (internal/app serves the console on the REST port; passkeys need a host
// name, not an IP address). One browser serves the package (TestMain).

import (
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/browsertest"
	"github.com/authsvc/authsvc/internal/gateway"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }

// startConsole runs dev-mode authsvc and returns it with the console's origin, http://localhost:port.
func startConsole(t *testing.T) (*apptest.Env, string) {
	t.Helper()
	env := apptest.Start(t)
	_, port, err := net.SplitHostPort(env.App.HTTPAddr())
	require.NoError(t, err)
	return env, "http://localhost:" + port
}

// jsonText decodes the JSON a console <pre> shows.
func jsonText(t *testing.T, p *browsertest.Page, sel string) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(p.Text(sel)), &v), "%s shows JSON", sel)
	return v
}

// consoleMagicLinkLogin signs in to the sandbox organization by emailed link, the way a developer
// does in the console: send the link from the sign-in page, open the outbox, click the link, land on
// the authenticate page signed in. It returns the member's ID.
func consoleMagicLinkLogin(t *testing.T, p *browsertest.Page, origin, email string) string {
	t.Helper()
	p.Open(origin + "/dev/signin.html")
	// The script fills in the sandbox organization once it runs.
	require.Equal(t, stytchemu.SandboxOrganizationID,
		browsertest.Eval[string](p, `new Promise((ok) => { const f = () => { const v = document.getElementById("b2b-ml-org").value; v ? ok(v) : setTimeout(f, 20); }; f(); })`))
	p.Type("#b2b-ml-email", email)
	p.Click("#b2b-ml-send")
	p.WaitText("#b2b-ml-result", "open the outbox")
	sent := jsonText(t, p, "#b2b-ml-result")
	member, _ := sent["member_id"].(string)
	require.True(t, strings.HasPrefix(member, "member-test-"), "the send names the member: %v", sent["member_id"])

	p.Open(origin + "/dev/outbox.html")
	p.WaitText("#ob-list", email)
	p.WaitText("#ob-list li:first-child", "b2b")
	p.ClickNavigate("#ob-list li:first-child a.ob-link")
	p.WaitText("#au-status", "signed in")
	// Compared as bools, so that a failure does not print the token.
	assert.True(t, browsertest.Eval[bool](p, `location.pathname === "/dev/authenticate.html" && location.search === ""`),
		"the single-use token is dropped from the address")
	landed := jsonText(t, p, "#au-result")
	assert.Equal(t, member, landed["member_id"])
	assert.Equal(t, stytchemu.SandboxOrganizationID, landed["organization_id"])
	return member
}

// inspectB2B asks the session inspector about the console's B2B session and returns what it shows.
func inspectB2B(t *testing.T, p *browsertest.Page, origin string) map[string]any {
	t.Helper()
	if !strings.HasPrefix(browsertest.Eval[string](p, `location.href`), origin+"/dev/session.html") {
		p.Open(origin + "/dev/session.html")
	}
	p.Click("#ss-b2b-check")
	p.WaitText("#ss-result", `"project": "b2b"`)
	return jsonText(t, p, "#ss-result")
}

// assertConsoleSessionCookies checks the console's B2B session cookies: both set, HttpOnly,
// SameSite=Lax, Path=/, not Secure (apptest turns AUTHSVC_INSECURE_COOKIES on, as plain-HTTP local
// development does), and invisible to the page's scripts.
func assertConsoleSessionCookies(t *testing.T, p *browsertest.Page, origin string) {
	t.Helper()
	for _, name := range []string{gateway.SessionTokenCookie, gateway.SessionJWTCookie} {
		c := p.Cookie(origin+"/", name)
		if !assert.NotNil(t, c, "cookie %s", name) {
			continue
		}
		assert.NotEmpty(t, c.Value, "cookie %s", name)
		assert.True(t, c.HTTPOnly, "cookie %s must be HttpOnly", name)
		assert.Equal(t, network.CookieSameSiteLax, c.SameSite, "cookie %s SameSite", name)
		assert.False(t, c.Secure, "cookie %s Secure (AUTHSVC_INSECURE_COOKIES=true)", name)
		assert.Equal(t, "/", c.Path, "cookie %s Path", name)
	}
	// A bool, so that a failure does not print the cookies' values.
	visible := strings.Contains(browsertest.Eval[string](p, `document.cookie`), gateway.SessionTokenCookie)
	assert.False(t, visible, "page scripts must not see the session cookies")
}

// TestConsoleB2BMagicLinkLogin: B2B login by magic link through the console's pages; the session
// inspector shows the member and how the session was verified; the cookies' attributes; the session
// survives a reload; logout clears the cookies and the inspector then finds no session.
func TestConsoleB2BMagicLinkLogin(t *testing.T) {
	_, origin := startConsole(t)
	p := browsertest.NewPage(t)
	member := consoleMagicLinkLogin(t, p, origin, "ada@example.com")
	assertConsoleSessionCookies(t, p, origin)

	p.ClickNavigate("#au-session") // the authenticate page's link to the inspector
	got := inspectB2B(t, p, origin)
	assert.Equal(t, "b2b", got["project"])
	assert.Contains(t, []any{"SESSION_VERIFIER_LOCAL", "SESSION_VERIFIER_REMOTE"}, got["verified_by"], "verified_by: %v", got["verified_by"])
	claims, _ := got["claims"].(map[string]any)
	require.NotNil(t, claims, "the inspector decodes the session JWT's claims")
	assert.Equal(t, member, claims["sub"])
	assert.NotEmpty(t, got["expires_at"])
	factors, _ := got["authentication_factors"].([]any)
	assert.NotEmpty(t, factors, "the session's factors")
	assert.Contains(t, p.Text("#ss-result"), `"magic_link"`, "the factor is the magic link")

	p.Reload()
	again := inspectB2B(t, p, origin)
	againClaims, _ := again["claims"].(map[string]any)
	require.NotNil(t, againClaims, "the session survives a reload")
	assert.Equal(t, member, againClaims["sub"])
	assertConsoleSessionCookies(t, p, origin)

	p.Click("#ss-b2b-logout")
	p.WaitText("#ss-result", "{") // the revoke's answer
	assert.NotContains(t, p.Text("#ss-result"), "HTTP ", "logout succeeds")
	for _, name := range []string{gateway.SessionTokenCookie, gateway.SessionJWTCookie} {
		gone := p.Cookie(origin+"/", name) == nil // a bool, not assert.Nil: that would print the value
		assert.True(t, gone, "cookie %s must be cleared", name)
	}
	p.Reload()
	p.Click("#ss-b2b-check")
	p.WaitText("#ss-result", "missing_credential") // no cookie left to send
}
