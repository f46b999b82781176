// Package browsertest drives a real headless Chromium from Go tests (through chromedp and the
// DevTools protocol): start the browser once per test package, open pages, click and type by CSS
// selector, read the browser's cookies (with their HttpOnly, Secure and SameSite attributes), run
// JavaScript, add a virtual WebAuthn authenticator, and take screenshots.
//
// Use it from a package's TestMain so that one browser serves every test of the package:
//
//	func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }
//
//	func TestLogin(t *testing.T) {
//		p := browsertest.NewPage(t) // its own cookie jar, closed when the test ends
//		p.Open("http://localhost:1234/")
//		p.Type("#email", "ada@example.com")
//		p.Click("#send")
//		p.WaitText("#status", "sent")
//	}
//
// Chromium is found on PATH (chromium, chromium-browser, google-chrome) or at $AUTHSVC_CHROMIUM.
// Without it the browser tests are skipped with a message, unless AUTHSVC_BROWSER_TESTS=require
// (CI sets it: .ci/run), which turns a missing or broken browser into a failure. A browser that is
// found but does not start always fails the tests.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// RequireEnv names the variable that, set to "require", makes a missing Chromium fail the tests.
const RequireEnv = "AUTHSVC_BROWSER_TESTS"

// PathEnv names the variable that points at a Chromium binary, overriding the PATH lookup.
const PathEnv = "AUTHSVC_CHROMIUM"

// ActionTimeout bounds each action of a Page (a navigation, a click, a wait).
var ActionTimeout = 20 * time.Second

// ErrNoChromium is returned by Launch when no Chromium binary is found.
var ErrNoChromium = errors.New("no Chromium binary found (install Debian's chromium: scripts/test-deps.sh, or set " + PathEnv + ")")

// Browser is a running headless Chromium.
type Browser struct {
	ctx         context.Context // the browser's chromedp context
	cancel      context.CancelFunc
	cancelAlloc context.CancelFunc
}

// FindChromium returns the path of the Chromium binary to run, or ErrNoChromium.
func FindChromium() (string, error) {
	if p := os.Getenv(PathEnv); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Flags returns the command-line flags the browser runs with: headless, no first-run UI, and
// --no-sandbox only when running as root (Chromium refuses to start as root with its sandbox on, and
// CI containers run as root).
func Flags(root bool) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.Headless,
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
	}
	if root {
		opts = append(opts, chromedp.NoSandbox)
	}
	return opts
}

// Launch starts headless Chromium. Close it when done.
func Launch() (*Browser, error) {
	path, err := FindChromium()
	if err != nil {
		return nil, err
	}
	opts := append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(path)}, Flags(os.Geteuid() == 0)...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &Browser{ctx: ctx, cancel: cancel, cancelAlloc: cancelAlloc}
	// The first Run starts the process; it must not run under a timeout (that would stop the browser).
	started := make(chan error, 1)
	go func() {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
		started <- err
	}()
	select {
	case err = <-started:
	case <-time.After(60 * time.Second):
		err = errors.New("timed out after 60s")
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("start Chromium (%s): %w", path, err)
	}
	return b, nil
}

// Close stops the browser.
func (b *Browser) Close() {
	b.cancel()
	b.cancelAlloc()
}

var (
	shared     *Browser
	sharedErr  error
	sharedOnce sync.Once
	sharedMu   sync.Mutex
	mainCalled bool
)

// Main runs the package's tests (m.Run) and then stops the shared browser, if a test started it.
// Call it from TestMain.
func Main(m *testing.M) int {
	sharedMu.Lock()
	mainCalled = true
	sharedMu.Unlock()
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	return code
}

// Shared returns the package's browser, started by the first test that asks. It skips the test when
// Chromium is missing and AUTHSVC_BROWSER_TESTS is not "require", and fails it otherwise.
func Shared(t testing.TB) *Browser {
	t.Helper()
	sharedMu.Lock()
	ok := mainCalled
	sharedMu.Unlock()
	if !ok {
		t.Fatal("browsertest: call browsertest.Main from the package's TestMain (it stops the shared browser)")
	}
	sharedOnce.Do(func() { shared, sharedErr = Launch() })
	switch {
	case sharedErr == nil:
		return shared
	case errors.Is(sharedErr, ErrNoChromium) && os.Getenv(RequireEnv) != "require":
		t.Skipf("browser test skipped: %v; set %s=require to make this a failure", sharedErr, RequireEnv)
	default:
		t.Fatalf("browsertest: %v", sharedErr)
	}
	return nil
}

// Page is one tab in its own browser context (its own cookies and storage), closed at the end of
// the test. Its methods fail the test on error.
type Page struct {
	t   testing.TB
	ctx context.Context
}

// NewPage opens a tab in a fresh browser context of the package's shared browser.
func NewPage(t testing.TB) *Page {
	t.Helper()
	b := Shared(t)
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// Open the tab now. The first Run on a context creates the tab and ties its life to that call's
	// context, so it must not run under a timeout.
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("browser: open a tab: %v", err)
	}
	return &Page{t: t, ctx: ctx}
}

// Context is the page's chromedp context, for actions this package does not wrap.
func (p *Page) Context() context.Context { return p.ctx }

func (p *Page) do(what string, a chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, a); err != nil {
		p.t.Fatalf("browser: %s: %v", what, err)
	}
}

// Open navigates to url and waits for the page to load.
func (p *Page) Open(url string) {
	p.t.Helper()
	p.do("open "+url, chromedp.Navigate(url))
}

// Reload reloads the page and waits for it to load.
func (p *Page) Reload() {
	p.t.Helper()
	p.do("reload", chromedp.Reload())
}

// Click clicks the first element that matches the CSS selector, once it is visible.
func (p *Page) Click(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// ClickNavigate clicks the first element that matches the CSS selector (a link, once it is visible)
// and waits until the page it leads to has loaded. It fails the test when the click loads no page,
// or the page answers with an HTTP error. (After a plain Click that navigates, a WaitText can run
// in the page being left.)
func (p *Page) ClickNavigate(sel string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("browser: click %s and wait for the page: %v", sel, err)
	}
	if res != nil && res.Status >= 400 {
		p.t.Fatalf("browser: click %s: the page answered HTTP %d", sel, res.Status)
	}
}

// Type clears the input that matches the CSS selector and types text into it.
func (p *Page) Type(sel, text string) {
	p.t.Helper()
	p.do("type into "+sel, chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS(sel)),
		// chromedp.Clear resets the value attribute only, not what was typed before.
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).value = ""`, sel))(ctx, tg)
			return err
		}),
		chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible),
	))
}

// Text returns the visible text of the first element that matches the CSS selector.
func (p *Page) Text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel), chromedp.NodeReady))
	if err != nil {
		p.t.Fatalf("browser: text of %s: %v", sel, err)
	}
	return s
}

// WaitText waits until the text of the element that matches the CSS selector contains want, and
// fails the test with the text it last saw when that does not happen in time.
func (p *Page) WaitText(sel, want string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js)); err != nil {
		p.t.Fatalf("browser: waiting for %q in %s (it says %q): %v", want, sel, p.Text(sel), err)
	}
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise) and decodes its value
// into T.
func Eval[T any](p *Page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("browser: eval: %v", err)
	}
	return v
}

// Cookies returns every cookie the browser would send to the URLs, with their attributes (HttpOnly
// cookies too, which page scripts cannot see).
func (p *Page) Cookies(urls ...string) []*network.Cookie {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: urls})
	if err != nil {
		p.t.Fatalf("browser: cookies: %v", err)
	}
	return res.Cookies
}

// Cookie returns the cookie named name that the browser would send to url, or nil.
func (p *Page) Cookie(url, name string) *network.Cookie {
	p.t.Helper()
	for _, c := range p.Cookies(url) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Screenshot writes a PNG of the whole page to path.
func (p *Page) Screenshot(path string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o600); err != nil {
		p.t.Fatalf("browser: screenshot: %v", err)
	}
}

// SetViewport fixes the page's viewport at width×height CSS pixels, one device pixel each (so that
// screenshots have the same size on every machine).
func (p *Page) SetViewport(width, height int64) {
	p.t.Helper()
	p.do("set the viewport", chromedp.EmulateViewport(width, height, chromedp.EmulateScale(1)))
}

// ScreenshotViewport writes a PNG of the viewport (what a window of SetViewport's size shows, not
// the whole page) to path.
func (p *Page) ScreenshotViewport(path string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o600); err != nil {
		p.t.Fatalf("browser: screenshot: %v", err)
	}
}

// AddVirtualAuthenticator gives the page a virtual platform authenticator (CTAP2, internal
// transport, resident keys, user verification that succeeds, presence simulated), so that
// navigator.credentials.create and get complete without a person.
func (p *Page) AddVirtualAuthenticator() {
	p.t.Helper()
	p.do("add a virtual authenticator", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                webauthn.Ctap2versionCtap21,
				Transport:                   webauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			},
		})
		return err
	}))
}

// TrimmedText is Text with surrounding white space removed.
func (p *Page) TrimmedText(sel string) string {
	p.t.Helper()
	return strings.TrimSpace(p.Text(sel))
}

// OnResponse calls f for every HTTP response the page receives (DevTools Network.responseReceived),
// until the test ends. f runs on chromedp's event goroutine and must not block.
func OnResponse(p *Page, f func(*network.EventResponseReceived)) {
	p.t.Helper()
	err := chromedp.Listen(p.ctx, func(ev any) {
		if e, ok := ev.(*network.EventResponseReceived); ok {
			f(e)
		}
	})
	if err != nil {
		p.t.Fatalf("browser: listen: %v", err)
	}
}
