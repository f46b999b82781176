package browsertest_test

import (
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/browsertest"
)

func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }

// TestPage exercises the harness on a small page: typing, clicking, text, script, cookies (an
// HttpOnly one included), a reload, and a screenshot.
func TestPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/next" {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, `<!doctype html><p id="where">next page</p>`)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "hidden", Value: "v1", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, `<!doctype html><input id="in"><button id="go" onclick="document.getElementById('out').textContent = 'hello ' + document.getElementById('in').value">go</button><p id="out"></p><a id="next" href="/next">next</a>`)
	}))
	t.Cleanup(srv.Close)

	p := browsertest.NewPage(t)
	p.Open(srv.URL)
	p.Type("#in", "world")
	p.Click("#go")
	p.WaitText("#out", "hello world")
	assert.Equal(t, "hello world", p.TrimmedText("#out"))
	assert.Equal(t, 2, browsertest.Eval[int](p, `1 + 1`))
	assert.Empty(t, browsertest.Eval[string](p, `document.cookie`), "HttpOnly cookies are hidden from scripts")
	c := p.Cookie(srv.URL, "hidden")
	require.NotNil(t, c)
	assert.True(t, c.HTTPOnly)
	p.Reload()
	assert.Empty(t, p.TrimmedText("#out"))

	shot := filepath.Join(t.TempDir(), "page.png")
	p.Screenshot(shot)
	b, err := os.ReadFile(shot)
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG", string(b[:4]))

	// A fixed viewport: the viewport's screenshot has its size, whatever the page's length.
	p.SetViewport(320, 200)
	assert.Equal(t, 320, browsertest.Eval[int](p, `window.innerWidth`))
	small := filepath.Join(t.TempDir(), "viewport.png")
	p.ScreenshotViewport(small)
	f, err := os.Open(small)
	require.NoError(t, err)
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	require.NoError(t, err)
	assert.Equal(t, [2]int{320, 200}, [2]int{cfg.Width, cfg.Height})

	// A link followed by ClickNavigate: the next page has loaded when it returns.
	p.ClickNavigate("#next")
	assert.Equal(t, "next page", p.TrimmedText("#where"))
	// A second page has its own cookie jar.
	q := browsertest.NewPage(t)
	assert.Nil(t, q.Cookie(srv.URL, "hidden"))
}
