package devconsole_test

// Browser tests of the console's B2B flows beyond magic links: password (reset email, then
// sign-in), SSO through the emulator's stand-in IdP, and MFA with an authenticator app. Each ends
// at the session inspector, so a flow that breaks anywhere fails here.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/browsertest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// openSignin opens the sign-in page and waits for its script to fill in the organizations.
func openSignin(t *testing.T, p *browsertest.Page, origin string) {
	t.Helper()
	p.Open(origin + "/dev/signin.html")
	require.Equal(t, stytchemu.SandboxOrganizationID,
		browsertest.Eval[string](p, `new Promise((ok) => { const f = () => { const v = document.getElementById("b2b-sso-org").value; v ? ok(v) : setTimeout(f, 20); }; f(); })`))
}

// waitLocation waits until the page's address starts with prefix, across the navigations of a
// redirect flow (whose pages come and go while it polls).
func waitLocation(t *testing.T, p *browsertest.Page, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Context(), browsertest.ActionTimeout)
	defer cancel()
	var href string
	for {
		if at, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`)); err == nil {
			href = at
			if strings.HasPrefix(at, prefix) {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("browser: waiting for the address %s… (it is %s)", prefix, strings.SplitN(href, "?", 2)[0])
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// factorTypes lists the types of the session's authentication factors the inspector shows.
func factorTypes(t *testing.T, got map[string]any) []string {
	t.Helper()
	factors, _ := got["authentication_factors"].([]any)
	var out []string
	for _, f := range factors {
		m, _ := f.(map[string]any)
		typ, _ := m["type"].(string)
		out = append(out, typ)
	}
	return out
}

// assertLandedFromIdP follows a sign-in that an identity provider sends back to the console's
// landing page: the page redeems the token with the start's PKCE verifier into a sandbox member's
// session (cookies set, the token dropped from the address), and the inspector shows that member's
// session with the one factor factor.
func assertLandedFromIdP(t *testing.T, p *browsertest.Page, origin, factor string) {
	t.Helper()
	waitLocation(t, p, origin+"/dev/authenticate.html")
	p.WaitText("#au-status", "signed in")
	assert.True(t, browsertest.Eval[bool](p, `location.search === ""`), "the single-use token is dropped from the address")
	assert.True(t, browsertest.Eval[bool](p, `sessionStorage.getItem("authsvc-console:redirect") === null`), "the start's PKCE verifier is spent")
	landed := jsonText(t, p, "#au-result")
	member, _ := landed["member_id"].(string)
	require.True(t, strings.HasPrefix(member, "member-test-"), "the landing names the member: %v", landed)
	assert.Equal(t, stytchemu.SandboxOrganizationID, landed["organization_id"])
	assertConsoleSessionCookies(t, p, origin)

	p.ClickNavigate("#au-session")
	got := inspectB2B(t, p, origin)
	claims, _ := got["claims"].(map[string]any)
	require.NotNil(t, claims, "the inspector decodes the session JWT's claims")
	assert.Equal(t, member, claims["sub"])
	assert.Equal(t, []string{factor}, factorTypes(t, got), "the session's factor is the sign-in's")
}

// TestConsoleB2BSSOLogin: a demo SAML connection to the stand-in IdP, made from the sign-in page;
// Start leads the browser to the IdP's login form; its assertion comes back to the console's
// landing page, which redeems the SSO token (with the PKCE verifier of the start) into a session;
// the inspector shows the new member's session with the SSO factor.
func TestConsoleB2BSSOLogin(t *testing.T) {
	env, origin := startConsole(t)
	p := browsertest.NewPage(t)
	openSignin(t, p, origin)

	p.Click("#b2b-sso-demo")
	p.WaitText("#b2b-sso-result", "SSO_CONNECTION_STATUS_ACTIVE")
	conn := browsertest.Eval[string](p, `document.getElementById("b2b-sso-conn").value`)
	require.True(t, strings.HasPrefix(conn, "saml-connection-"), "the demo connection fills the connection input: %q", conn)
	p.Click("#b2b-sso-list")
	p.WaitText("#b2b-sso-result", conn)

	p.Click("#b2b-sso-start")
	waitLocation(t, p, env.Emu.URL+"/")
	p.WaitText("h1", "stand-in identity provider")
	p.Type(`input[name="email"]`, "sam@example.com")
	p.Type(`input[name="name"]`, "Sam Sso")
	p.Click(`button[type="submit"]`)
	assertLandedFromIdP(t, p, origin, "AUTHENTICATION_FACTOR_TYPE_SSO")
}

// TestConsoleB2BPasswordLogin: a member (made by an email code) asks for a reset email; its link in
// the outbox opens the console's landing page, which sets the password and signs in; after logout
// the password signs in from the sign-in page, and the inspector shows the password factor.
func TestConsoleB2BPasswordLogin(t *testing.T) {
	_, origin := startConsole(t)
	p := browsertest.NewPage(t)
	const email, password = "pat@example.com", "tangerine Orbit 42 velvet"
	openSignin(t, p, origin)
	p.Type("#b2b-otp-email", email)
	p.Click("#b2b-otp-send") // makes pat a (pending) member of the sandbox organization
	p.WaitText("#b2b-otp-result", "outbox")
	member, _ := jsonText(t, p, "#b2b-otp-result")["member_id"].(string)
	require.True(t, strings.HasPrefix(member, "member-test-"), "the send names the member")

	p.Type("#b2b-pw-email", email)
	p.Click("#b2b-pw-reset")
	p.WaitText("#b2b-pw-result", "open the outbox")
	p.Open(origin + "/dev/outbox.html")
	p.WaitText("#ob-list li:first-child", "reset_password")
	p.ClickNavigate("#ob-list li:first-child a.ob-link")
	p.WaitText("#au-status", "new password")
	assert.True(t, browsertest.Eval[bool](p, `location.search === ""`), "the single-use token is dropped from the address")
	p.Type("#au-reset-password", password)
	p.Click("#au-reset-submit")
	p.WaitText("#au-status", "signed in")
	assert.Equal(t, member, jsonText(t, p, "#au-result")["member_id"])

	p.ClickNavigate("#au-session")
	p.Click("#ss-b2b-logout")
	p.WaitText("#ss-result", "{")
	assert.NotContains(t, p.Text("#ss-result"), "HTTP ", "logout succeeds")

	openSignin(t, p, origin)
	p.Type("#b2b-pw-email", email)
	p.Type("#b2b-pw-password", "not the password")
	p.Click("#b2b-pw-login")
	p.WaitText("#b2b-pw-result", "HTTP 401")
	p.Type("#b2b-pw-password", password)
	p.Click("#b2b-pw-login")
	p.WaitText("#b2b-pw-result", "member_session")
	assert.Equal(t, member, jsonText(t, p, "#b2b-pw-result")["member_id"])

	got := inspectB2B(t, p, origin)
	claims, _ := got["claims"].(map[string]any)
	require.NotNil(t, claims)
	assert.Equal(t, member, claims["sub"])
	assert.Equal(t, []string{"AUTHENTICATION_FACTOR_TYPE_PASSWORD"}, factorTypes(t, got), "the session's factor is the password")
	assertConsoleSessionCookies(t, p, origin)
}

// TestConsoleB2BMFAWithTOTP: an organization that requires MFA, made from the sign-in page; an
// email-code login to it answers an intermediate session, which the MFA section shows; enrolling
// an authenticator app shows its QR code and secret; the code the test computes from the secret
// finishes the login into a session with both factors.
func TestConsoleB2BMFAWithTOTP(t *testing.T) {
	env, origin := startConsole(t)
	p := browsertest.NewPage(t)
	const email = "mia@example.com"
	openSignin(t, p, origin)
	p.Click("#b2b-org-create")
	p.WaitText("#b2b-org-result", "MFA_POLICY_REQUIRED_FOR_ALL")
	org, _ := jsonText(t, p, "#b2b-org-result")["organization_id"].(string)
	require.True(t, strings.HasPrefix(org, "organization-test-"), "the new organization: %q", org)
	assert.Equal(t, org, browsertest.Eval[string](p, `document.getElementById("b2b-otp-org").value`), "the forms take the new organization")

	p.Type("#b2b-otp-email", email)
	p.Click("#b2b-otp-send")
	p.WaitText("#b2b-otp-result", "outbox")
	var code string
	for _, m := range env.Emu.Outbox() {
		if m.To == email && m.Code != "" {
			code = m.Code
		}
	}
	require.NotEmpty(t, code, "the emailed code")
	p.Type("#b2b-otp-code", code)
	p.Click("#b2b-otp-verify")
	p.WaitText("#b2b-otp-result", "MFA required")
	login := jsonText(t, p, "#b2b-otp-result")
	assert.Equal(t, false, login["member_authenticated"])
	member, _ := login["member_id"].(string)
	require.NotEmpty(t, member)
	assert.Nil(t, p.Cookie(origin+"/", "stytch_session"), "no session before the second factor")
	p.WaitText("#b2b-mfa-pending", member)
	assert.NotContains(t, p.Text("#b2b-mfa-pending"), "intermediate_session_token", "the page shows the pending login, not its token")

	p.Click("#b2b-totp-create")
	p.WaitText("#b2b-mfa-result", "recovery_codes")
	secret := p.TrimmedText("#b2b-totp-secret")
	require.NotEmpty(t, secret, "the secret is shown beside the QR code")
	assert.True(t, browsertest.Eval[bool](p, `(() => { const i = document.getElementById("b2b-totp-qr"); return !i.hidden && i.src.startsWith("data:image/png;base64,"); })()`),
		"the QR code is shown")
	totpCode, err := totp.GenerateCode(secret, env.Emu.Now())
	require.NoError(t, err)
	p.Type("#b2b-totp-code", totpCode)
	p.Click("#b2b-totp-verify")
	p.WaitText("#b2b-mfa-result", `"signed_in": true`)
	p.WaitText("#b2b-mfa-pending", "no MFA login pending")

	got := inspectB2B(t, p, origin)
	claims, _ := got["claims"].(map[string]any)
	require.NotNil(t, claims)
	assert.Equal(t, member, claims["sub"])
	assert.ElementsMatch(t, []string{"AUTHENTICATION_FACTOR_TYPE_EMAIL_OTP", "AUTHENTICATION_FACTOR_TYPE_TOTP"}, factorTypes(t, got),
		"the session holds the email code and the authenticator app")
	assertConsoleSessionCookies(t, p, origin)
}

// TestConsoleB2BOAuthLogin: Log in from the B2B OAuth section leads the browser to the emulator's
// stand-in consent page; Allow comes back to the console's landing page, which redeems the OAuth
// token (with the PKCE verifier of the start) into a session of the sandbox member; the inspector
// shows the OAuth factor. Discovery from the same section lists the address's organizations.
func TestConsoleB2BOAuthLogin(t *testing.T) {
	env, origin := startConsole(t)
	p := browsertest.NewPage(t)
	openSignin(t, p, origin)
	assert.Equal(t, stytchemu.SandboxOrganizationID, browsertest.Eval[string](p, `document.getElementById("b2b-oauth-org").value`))

	p.Click("#b2b-oauth-start")
	waitLocation(t, p, env.Emu.URL+"/")
	p.WaitText("h1", "Sign in with Google")
	p.Type(`input[name="email"]`, stytchemu.SandboxEmail)
	p.Click(`button[name="allow"]`)
	assertLandedFromIdP(t, p, origin, "AUTHENTICATION_FACTOR_TYPE_OAUTH")

	openSignin(t, p, origin)
	p.Click("#b2b-oauth-discovery")
	waitLocation(t, p, env.Emu.URL+"/")
	p.Type(`input[name="email"]`, stytchemu.SandboxEmail)
	p.Click(`button[name="allow"]`)
	waitLocation(t, p, origin+"/dev/authenticate.html")
	p.WaitText("#au-result", "discovered_organizations")
	found := jsonText(t, p, "#au-result")
	assert.Equal(t, stytchemu.SandboxEmail, found["email_address"])
	orgs, _ := found["discovered_organizations"].([]any)
	var ids []any
	for _, o := range orgs {
		m, _ := o.(map[string]any)
		ids = append(ids, m["organization_id"])
	}
	assert.Contains(t, ids, stytchemu.SandboxOrganizationID, "discovery lists the sandbox organization")
	assert.NotContains(t, p.Text("#au-result"), "intermediate_session_token", "the page does not show the intermediate session")
}
