package devconsole_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/gen"
	_ "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1" // the RPCs of the access table
	_ "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	_ "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/devconsole"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// Every /v1/ call of the console is an operation of the gateway's OpenAPI document, with its
// method. (The /dev/ calls are checked against a running dev-mode server in internal/app.)
func TestConsoleCallsAreGatewayRoutes(t *testing.T) {
	calls := devconsole.Calls(devconsole.Source)
	var v1, dev int
	for _, c := range calls {
		switch {
		case strings.HasPrefix(c.Path, "/v1/"):
			v1++
		case strings.HasPrefix(c.Path, "/dev/"):
			dev++
		default:
			t.Errorf("call %s is neither an API nor a dev route", c)
		}
	}
	// Every flow of the console: at least the 37 API routes it is written against, and the 3 dev routes.
	assert.GreaterOrEqual(t, v1, 37, "%v", calls)
	assert.Equal(t, 3, dev, "%v", calls)
	missing, err := devconsole.NotInOpenAPI(calls, gen.OpenAPI)
	require.NoError(t, err)
	assert.Empty(t, missing, "the console calls routes the gateway does not have")
}

// The check above can fail: a call to a path, or with a method, the document does not have is
// reported, and a real one is not.
func TestNotInOpenAPIReportsUnknownRoutes(t *testing.T) {
	src := []byte(`
		await api.POST("/v1/b2b/sessions/authenticate", { body: {} });
		await api.POST("/v1/b2b/sessions/authenticat", { body: {} });
		await api.GET("/v1/sessions/authenticate");
		await admin.PUT("/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/url", {});
		await devFetch("POST", "/dev/m2m/clients", "", {});
		await fetch("/dev/access.md");`)
	calls := devconsole.Calls(src)
	assert.Equal(t, []devconsole.Call{
		{"POST", "/v1/b2b/sessions/authenticate"},
		{"POST", "/v1/b2b/sessions/authenticat"},
		{"GET", "/v1/sessions/authenticate"},
		{"PUT", "/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/url"},
		{"POST", "/dev/m2m/clients"},
		{"GET", "/dev/access.md"},
	}, calls)
	missing, err := devconsole.NotInOpenAPI(calls, gen.OpenAPI)
	require.NoError(t, err)
	assert.Equal(t, []devconsole.Call{{"POST", "/v1/b2b/sessions/authenticat"}, {"GET", "/v1/sessions/authenticate"}}, missing)
}

// The committed bundle names every route the source calls: a source edited without `make
// generate` shows here before `make checkgenerate` (which compares the whole bundle).
func TestBundleHasEveryCall(t *testing.T) {
	bundle, err := os.ReadFile("static/console.js")
	require.NoError(t, err)
	for _, c := range devconsole.Calls(devconsole.Source) {
		if !strings.Contains(string(bundle), `"`+c.Path+`"`) { // not assert.Contains: it would print the whole bundle
			t.Errorf("static/console.js lacks %s: run make generate", c)
		}
	}
}

// Every element the script looks up by ID is on a page, so a renamed ID fails here rather than in
// a browser; and the browser tests can rely on the IDs each page lists in its header comment.
func TestScriptElementIDsExist(t *testing.T) {
	var pages strings.Builder
	for _, p := range devconsole.Pages() {
		b, err := os.ReadFile("static/" + strings.TrimPrefix(p, "/dev/"))
		require.NoError(t, err)
		pages.Write(b)
		head, _, _ := strings.Cut(string(b), "-->")
		for _, m := range regexp.MustCompile(`\bid="([^"]+)"`).FindAllStringSubmatch(string(b), -1) {
			assert.Contains(t, head, m[1], "%s: id %q is not listed in the header comment", p, m[1])
		}
	}
	lookup := regexp.MustCompile(`\b(?:el(?:<\w+>)?|value|show)\("([a-z0-9-]+)"|\bon\("([a-z0-9-]+)", "([a-z0-9-]+)"`)
	n := 0
	for _, m := range lookup.FindAllStringSubmatch(string(devconsole.Source), -1) {
		for _, id := range m[1:] {
			if id != "" {
				n++
				assert.Contains(t, pages.String(), `id="`+id+`"`, "the script uses #%s, which no page has", id)
			}
		}
	}
	assert.Greater(t, n, 50)
}

// The sign-in page's default organization is dev mode's sandbox organization, and the demo SSO
// connection reads the stand-in IdP's metadata where the emulator serves it.
func TestSandboxOrganization(t *testing.T) {
	assert.Contains(t, string(devconsole.Source), `"`+stytchemu.SandboxOrganizationID+`"`)
	assert.Contains(t, string(devconsole.Source), `"`+stytchemu.IdPSAMLMetadataPath+`"`)
}

// Each route answers with its content type and the console's CSP; the index is at /dev/.
func TestRoutesServeContentTypes(t *testing.T) {
	routes, err := devconsole.Routes()
	require.NoError(t, err)
	mux := http.NewServeMux()
	for p, h := range routes {
		mux.Handle(p, h)
	}
	want := map[string]string{
		"/dev/":            "text/html; charset=utf-8",
		"/dev/console.js":  "text/javascript; charset=utf-8",
		"/dev/console.css": "text/css; charset=utf-8",
		"/dev/access.md":   "text/markdown; charset=utf-8",
	}
	for _, p := range devconsole.Pages() {
		want[p] = "text/html; charset=utf-8"
	}
	assert.Len(t, devconsole.Pages(), 7)
	for path, ct := range want {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		assert.Equal(t, http.StatusOK, rec.Code, path)
		assert.Equal(t, ct, rec.Header().Get("Content-Type"), path)
		assert.Equal(t, devconsole.CSP, rec.Header().Get("Content-Security-Policy"), path)
		assert.NotEmpty(t, rec.Body.Bytes(), path)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/dev/access.md", nil))
	assert.Contains(t, rec.Body.String(), "| LoginOrSignup | `POST /v1/b2b/magic_links/email/login_or_signup` |")
}
