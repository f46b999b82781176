package devconsole_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/browsertest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// ScreenshotsEnv names the variable that turns TestScreenshots on: the directory it writes the
// console's screenshots to (`make screenshots` sets it to docs/screenshots). Unset, the test skips,
// so `make test` takes none.
const screenshotsEnv = "AUTHSVC_SCREENSHOTS"

// Screenshot size, in CSS pixels at one device pixel each.
const shotWidth, shotHeight = 1000, 700

// maskJS replaces what changes from run to run in the page's text with fixed placeholders: random
// IDs (member-test-<uuid>, M2M client IDs, session IDs; the sandbox's fixed ones stay) by the same
// prefix and a zero UUID, timestamps (whose fraction varies in length) by one fixed time, and the
// JWT's numeric times by one number; and it drops the focus (a blinking caret). It returns how many
// text nodes it changed.
const maskJS = `(() => {
  const keep = new Set(KEEP);
  const uuid = /\b([a-z0-9]+(?:-[a-z0-9]+)*-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;
  const iso = /\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g;
  const epoch = /("(?:iat|exp|nbf|auth_time)": )\d+/g;
  let n = 0;
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    const before = node.nodeValue;
    const after = before
      .replace(uuid, (m, prefix) => keep.has(m) ? m : (prefix ?? "") + "00000000-0000-0000-0000-000000000000")
      .replace(iso, "2026-01-01T00:00:00Z")
      .replace(epoch, (m, key) => key + "1767225600");
    if (after !== before) { node.nodeValue = after; n++; }
  }
  document.activeElement?.blur();
  return n;
})()`

// settleJS waits two animation frames, so that what the page just changed is painted.
const settleJS = `new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))`

// TestScreenshots writes PNGs of the console's main pages, in a state worth showing, to the
// directory $AUTHSVC_SCREENSHOTS (`make screenshots`; README "Dev console"): the sign-in page after
// a link was sent, the outbox with that message, the session inspector signed in, the M2M page
// with a client and a minted token, and the access table. Each is a fixed-size viewport with the
// varying IDs and times masked (maskJS), so a re-run rewrites a PNG only when the page changed.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		t.Skipf("set %s to a directory to write the console's screenshots (make screenshots)", screenshotsEnv)
	}
	require.NoError(t, os.MkdirAll(dir, 0o750))
	_, origin := startConsole(t)
	p := browsertest.NewPage(t)
	p.SetViewport(shotWidth, shotHeight)
	// The sandbox's IDs are the same in every run: they stay.
	keep, err := json.Marshal([]string{stytchemu.SandboxOrganizationID, stytchemu.SandboxMemberID, stytchemu.SandboxUserID})
	require.NoError(t, err)
	mask := strings.Replace(maskJS, "KEEP", string(keep), 1)
	shot := func(name string, wantMasked bool) {
		t.Helper()
		masked := browsertest.Eval[int](p, mask)
		if wantMasked {
			assert.Positive(t, masked, "%s: something to mask was expected", name)
		}
		browsertest.Eval[bool](p, settleJS)
		p.ScreenshotViewport(filepath.Join(dir, name))
	}

	// Sign-in, with the answer of a link sent; then the outbox with that message.
	p.Open(origin + "/dev/signin.html")
	p.Type("#b2b-ml-email", "ada@example.com")
	p.Click("#b2b-ml-send")
	p.WaitText("#b2b-ml-result", "open the outbox")
	shot("signin.png", true)

	p.Open(origin + "/dev/outbox.html")
	p.WaitText("#ob-list", "ada@example.com")
	shot("outbox.png", true)

	// The link signs in; the inspector shows the session.
	p.ClickNavigate("#ob-list li:first-child a.ob-link")
	p.WaitText("#au-status", "signed in")
	p.ClickNavigate("#au-session")
	p.Click("#ss-b2b-check")
	p.WaitText("#ss-result", `"verified_by"`)
	shot("session.png", true)

	// M2M: a client created and a token minted with its scopes.
	p.Open(origin + "/dev/m2m.html")
	p.Click("#m2m-create")
	p.WaitText("#m2m-client", "m2m-client-")
	p.Click("#m2m-mint")
	p.WaitText("#m2m-token-scopes", "read:users")
	shot("m2m.png", true)

	p.Open(origin + "/dev/access.html")
	p.WaitText("#ac-tables", "SessionsService")
	shot("access.png", false)
}
