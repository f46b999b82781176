package main

// Browser tests: a real headless Chromium (internal/browsertest) drives this SPA, served on its own
// loopback origin, against authsvc in dev mode (internal/apptest) on another, and, for the orders,
// examples/orders-service built and run as a process. The page and authsvc are both reached as
// "localhost" on different ports: one site (so the SameSite=Lax session cookies travel with the
// page's credentialed fetches) but different origins (so CORS and the CSRF check apply). A third
// origin on the same site plays the attacker's page.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/browsertest"
	"github.com/authsvc/authsvc/internal/gateway"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }

// stack is authsvc, the SPA and the attacker's page, each on its own loopback origin.
type stack struct {
	env      *apptest.Env
	consumer *stytchemu.Emulator
	spa      string // the SPA's origin, http://localhost:port (allowed by AUTHSVC_CORS_ORIGINS)
	api      string // authsvc's REST origin, http://localhost:port
	evil     string // another origin on the same site, not allowed
}

type stackOptions struct {
	orders bool              // run examples/orders-service behind /api/
	env    map[string]string // extra authsvc configuration
}

func startStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	spaLis, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	evilLis, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &stack{spa: localhostURL(spaLis.Addr()), evil: localhostURL(evilLis.Addr())}

	// The emulator's projects redirect to the SPA: the emailed login link lands on its
	// /authenticate, and the consumer project accepts passkey ceremonies from its origin.
	b2b, err := stytchemu.New(stytchemu.WithSandbox(), stytchemu.WithRedirectURL(s.spa+"/authenticate"))
	require.NoError(t, err)
	consumer, err := stytchemu.New(stytchemu.WithConsumer(), stytchemu.WithSandbox(), stytchemu.WithRedirectURL(s.spa+"/authenticate"))
	require.NoError(t, err)
	multi, err := stytchemu.NewMulti(b2b, consumer)
	require.NoError(t, err)
	emu, err := multi.Listen(context.Background(), "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, emu.Close()) })
	s.consumer = consumer

	vars := map[string]string{
		"AUTHSVC_CORS_ORIGINS":          s.spa,
		"AUTHSVC_ALLOWED_REDIRECT_URLS": s.spa + "/authenticate",
	}
	for k, v := range o.env {
		vars[k] = v
	}
	s.env = apptest.Start(t, apptest.WithEmulator(emu), apptest.WithConsumerProject(consumer), apptest.WithEnv(vars))
	_, port, err := net.SplitHostPort(s.env.App.HTTPAddr())
	require.NoError(t, err)
	s.api = "http://localhost:" + port

	orders := &url.URL{Scheme: "http", Host: "127.0.0.1:1"} // nothing listens: /api/ answers 502
	if o.orders {
		orders = startOrdersService(t, s.env)
	}
	h, err := Handler(Config{AuthsvcURL: s.api, OrganizationID: stytchemu.SandboxOrganizationID}, orders)
	require.NoError(t, err)
	serve(t, spaLis, h)
	serve(t, evilLis, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<!doctype html><title>another origin</title><p>not the SPA</p>")
	}))
	return s
}

func localhostURL(a net.Addr) string {
	_, port, _ := net.SplitHostPort(a.String())
	return "http://localhost:" + port
}

func serve(t *testing.T, lis net.Listener, h http.Handler) {
	t.Helper()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() { _ = srv.Close() })
}

var (
	ordersBinOnce sync.Once
	ordersBin     string
	ordersBinErr  error
)

// startOrdersService builds examples/orders-service once per test binary and runs it against the
// test's authsvc with its own M2M client, as another team would deploy it.
func startOrdersService(t *testing.T, env *apptest.Env) *url.URL {
	t.Helper()
	ordersBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "spa-orders-")
		if err != nil {
			ordersBinErr = err
			return
		}
		ordersBin = filepath.Join(dir, "orders-service")
		out, err := exec.Command("go", "build", "-o", ordersBin, "github.com/authsvc/authsvc/examples/orders-service").CombinedOutput()
		if err != nil {
			ordersBinErr = fmt.Errorf("go build orders-service: %w: %s", err, out)
		}
	})
	require.NoError(t, ordersBinErr)
	svc, err := env.Emu.CreateM2MClient("orders-service", []string{"read:members"})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, ordersBin)
	cmd.Env = append(os.Environ(),
		"AUTHSVC_TARGET="+env.App.GRPCAddr(), "AUTHSVC_INSECURE=true",
		"M2M_CLIENT_ID="+svc.ClientID, "M2M_CLIENT_SECRET="+svc.ClientSecret,
		"LISTEN_ADDR=127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	// It logs its address as JSON once it serves.
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "orders-service listening" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		return &url.URL{Scheme: "http", Host: a}
	case <-time.After(60 * time.Second):
		t.Fatal("orders-service did not start in 60s")
		return nil
	}
}

// lastMessage returns the newest outbox message to the address.
func lastMessage(t *testing.T, e *stytchemu.Emulator, to string) stytchemu.Message {
	t.Helper()
	msgs := e.Outbox()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == to {
			return msgs[i]
		}
	}
	t.Fatal("no message in the outbox for the address")
	return stytchemu.Message{}
}

// assertSessionCookies checks what authsvc promises about its session cookies (internal/gateway,
// README "Configuration"): both set, HttpOnly, SameSite=Lax, Secure unless configured off, and
// invisible to the page's scripts.
func assertSessionCookies(t *testing.T, p *browsertest.Page, api string, secure bool) {
	t.Helper()
	for _, name := range []string{gateway.SessionTokenCookie, gateway.SessionJWTCookie} {
		c := p.Cookie(api, name)
		if !assert.NotNil(t, c, "cookie %s", name) {
			continue
		}
		assert.NotEmpty(t, c.Value, "cookie %s", name)
		assert.True(t, c.HTTPOnly, "cookie %s must be HttpOnly", name)
		assert.Equal(t, network.CookieSameSiteLax, c.SameSite, "cookie %s SameSite", name)
		assert.Equal(t, secure, c.Secure, "cookie %s Secure", name)
		assert.Equal(t, "/", c.Path, "cookie %s Path", name)
	}
	// A bool, so that a failure does not print the cookies' values.
	visible := strings.Contains(browsertest.Eval[string](p, `document.cookie`), gateway.SessionTokenCookie)
	assert.False(t, visible, "page scripts must not see the session cookies")
}

func assertNoSessionCookies(t *testing.T, p *browsertest.Page, api string) {
	t.Helper()
	for _, name := range []string{gateway.SessionTokenCookie, gateway.SessionJWTCookie} {
		assert.Nil(t, p.Cookie(api, name), "cookie %s must be cleared", name)
	}
}

// signInB2B signs in by magic link through the page: ask for the link, open the emailed link.
func signInB2B(t *testing.T, s *stack, p *browsertest.Page, email string) (memberID string) {
	t.Helper()
	p.Open(s.spa + "/")
	p.WaitText("#session", "signed out")
	p.Type("#b2b-email", email)
	p.Click("#b2b-send")
	p.WaitText("#status", "Login link sent")
	msg := lastMessage(t, s.env.Emu.Emulator, email)
	require.True(t, strings.HasPrefix(msg.URL, s.spa+"/authenticate?"), "the emailed link lands on the SPA")
	require.NotEmpty(t, msg.MemberID)
	p.Open(msg.URL)
	p.WaitText("#status", "Signed in with the magic link")
	p.WaitText("#session", "member "+msg.MemberID)
	return msg.MemberID
}

// TestB2BMagicLinkLogin: login by emailed link, the cookies' attributes, the session across a
// reload, a call to the orders service with the session, and logout.
func TestB2BMagicLinkLogin(t *testing.T) {
	s := startStack(t, stackOptions{orders: true})
	p := browsertest.NewPage(t)
	member := signInB2B(t, s, p, "ada@example.com")
	assertSessionCookies(t, p, s.api, false)

	p.Reload()
	p.WaitText("#session", "member "+member)

	// browser → orders service (through the SPA's origin) with the session cookie, which the
	// service verifies with authsvc's keys.
	p.Type("#order-item", "blue widget")
	p.Click("#order-add")
	p.WaitText("#status", "Order placed: blue widget")
	p.Click("#order-list")
	p.WaitText("#orders", "blue widget")

	p.Click("#logout")
	p.WaitText("#session", "signed out")
	p.WaitText("#status", "Logged out")
	assertNoSessionCookies(t, p, s.api)
	p.Reload()
	p.WaitText("#session", "signed out")
	p.Click("#order-list")
	p.WaitText("#status", "Error:")
}

// TestSecureCookies: with AUTHSVC_INSECURE_COOKIES off the cookies carry Secure (Chromium keeps
// Secure cookies from http://localhost, which it treats as a secure context).
func TestSecureCookies(t *testing.T) {
	s := startStack(t, stackOptions{env: map[string]string{"AUTHSVC_INSECURE_COOKIES": "false"}})
	p := browsertest.NewPage(t)
	signInB2B(t, s, p, "sec@example.com")
	assertSessionCookies(t, p, s.api, true)
}

// crossOriginJS runs in a page: a credentialed call to authsvc, reported as "status N" or, when
// the browser refuses it (a failed CORS preflight), "blocked".
const crossOriginJS = `fetch(%q, {method: 'POST', credentials: 'include', headers: {'Content-Type': 'application/json'}, body: '{}'})
  .then((r) => 'status ' + r.status, () => 'blocked')`

// TestCSRFAndCORS: a page on another origin of the same site (the browser sends it the SameSite=Lax
// cookies) cannot use the session: its simple cross-origin write (no preflight) is refused by the
// CSRF check, and its JSON call fails the CORS preflight, while the SPA's own origin passes both.
func TestCSRFAndCORS(t *testing.T) {
	s := startStack(t, stackOptions{})
	p := browsertest.NewPage(t)
	member := signInB2B(t, s, p, "eve-target@example.com")
	authURL := s.api + "/v1/b2b/sessions/authenticate"

	// The allowed origin: the preflight passes and the cookie-authenticated call succeeds.
	assert.Equal(t, "status 200", browsertest.Eval[string](p, fmt.Sprintf(crossOriginJS, authURL)))

	p.Open(s.evil + "/")
	// CORS: the JSON call needs a preflight, which authsvc does not grant to this origin.
	assert.Equal(t, "blocked", browsertest.Eval[string](p, fmt.Sprintf(crossOriginJS, authURL)))
	// CSRF: a form-like POST needs no preflight and its answer is opaque to the page, so judge by
	// its effect: the logout it attempts must not happen. Watch the answer's status in the
	// DevTools network events.
	statuses := make(chan int64, 4)
	listen(p, s.api+"/v1/b2b/sessions/revoke", statuses)
	assert.Equal(t, "sent", browsertest.Eval[string](p, fmt.Sprintf(
		`fetch(%q, {method: 'POST', mode: 'no-cors', credentials: 'include', headers: {'Content-Type': 'text/plain'}, body: '{}'}).then(() => 'sent', (e) => 'error ' + e)`,
		s.api+"/v1/b2b/sessions/revoke")))
	select {
	case st := <-statuses:
		assert.Equal(t, int64(http.StatusForbidden), st, "the cross-origin cookie write must be refused")
	case <-time.After(10 * time.Second):
		t.Error("no answer seen to the cross-origin write")
	}

	p.Open(s.spa + "/")
	p.WaitText("#session", "member "+member)
	assertSessionCookies(t, p, s.api, false)
}

// listen reports the status of every answer to url the page receives.
func listen(p *browsertest.Page, url string, statuses chan<- int64) {
	browsertest.OnResponse(p, func(ev *network.EventResponseReceived) {
		if ev.Response != nil && ev.Response.URL == url {
			select {
			case statuses <- ev.Response.Status:
			default:
			}
		}
	})
}

// TestConsumerOTPAndPassword: a consumer signs in with an emailed code, logs out, signs up with a
// password, logs out and signs in with it again; each session sets the cookies as promised.
func TestConsumerOTPAndPassword(t *testing.T) {
	s := startStack(t, stackOptions{})
	p := browsertest.NewPage(t)
	p.Open(s.spa + "/")
	p.WaitText("#session", "signed out")

	p.Type("#otp-email", "grace@example.com")
	p.Click("#otp-send")
	p.WaitText("#status", "Code sent")
	otp := lastMessage(t, s.consumer, "grace@example.com")
	require.NotEmpty(t, otp.UserID)
	p.Type("#otp-code", otp.Code)
	p.Click("#otp-verify")
	p.WaitText("#session", "user "+otp.UserID)
	assertSessionCookies(t, p, s.api, false)
	p.Reload()
	p.WaitText("#session", "user "+otp.UserID)
	p.Click("#logout")
	p.WaitText("#session", "signed out")
	assertNoSessionCookies(t, p, s.api)

	const pw = "tangerine-Kayak-47-orbit" //nolint:gosec // a test password
	p.Type("#pw-email", "lin@example.com")
	p.Type("#pw-password", pw)
	p.Click("#pw-signup")
	p.WaitText("#session", "user user-")
	lin := p.TrimmedText("#session")
	assert.NotEqual(t, "user "+otp.UserID, lin, "a new account")
	p.Click("#logout")
	p.WaitText("#session", "signed out")
	p.Type("#pw-password", "wrong-"+pw)
	p.Click("#pw-login")
	p.WaitText("#status", "Error:")
	p.WaitText("#session", "signed out")
	p.Type("#pw-password", pw)
	p.Click("#pw-login")
	p.WaitText("#status", "Signed in with the password")
	p.WaitText("#session", lin)
	assertSessionCookies(t, p, s.api, false)
}

// TestPasskey: a signed-in consumer registers a passkey with Chromium's virtual authenticator,
// logs out, and signs in with the passkey alone.
func TestPasskey(t *testing.T) {
	s := startStack(t, stackOptions{})
	p := browsertest.NewPage(t)
	p.AddVirtualAuthenticator()
	p.Open(s.spa + "/")
	p.WaitText("#session", "signed out")
	p.Type("#pw-email", "mia@example.com")
	p.Type("#pw-password", "tangerine-Kayak-47-orbit")
	p.Click("#pw-signup")
	p.WaitText("#session", "user user-")
	mia := p.TrimmedText("#session")

	p.Click("#passkey-register")
	p.WaitText("#status", "Passkey added")
	p.Click("#logout")
	p.WaitText("#session", "signed out")

	p.Click("#passkey-login")
	p.WaitText("#status", "Signed in with the passkey")
	p.WaitText("#session", mia)
	assertSessionCookies(t, p, s.api, false)
}
