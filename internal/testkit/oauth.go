package testkit

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// OAuthConsent plays the browser of an OAuth flow against the emulator: it follows startURL's
// redirects to the stand-in provider's consent page (which must be the emulator's HTML form),
// submits the form's fields with email and Allow, and returns the URL the emulator then sends the
// browser back to (the application's redirect URL, with stytch_token_type=oauth and the token).
// Every hop is real HTTP; nothing is taken from the emulator's state.
func OAuthConsent(t testing.TB, startURL, email string) *url.URL {
	t.Helper()
	return OAuthConsentAs(t, startURL, "oauth", url.Values{"email": {email}})
}

// OAuthConsentAs is OAuthConsent with the consent form's account fields (email, and optionally
// subject, name, tenant) and the expected stytch_token_type ("oauth", or "discovery_oauth" for a
// B2B discovery flow).
func OAuthConsentAs(t testing.TB, startURL, tokenType string, account url.Values) *url.URL {
	t.Helper()
	start, err := url.Parse(startURL)
	require.NoError(t, err)
	// Follow redirects on the emulator's host only: the last hop leaves for the application.
	c := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != start.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	get := func(u string) (*http.Response, string) {
		res, err := c.Get(u) //nolint:noctx // test helper
		require.NoError(t, err)
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		return res, string(b)
	}
	res, page := get(startURL) //nolint:bodyclose // closed in get
	require.Equal(t, http.StatusOK, res.StatusCode, "the consent page: %s", page)
	require.Contains(t, page, `name="allow" value="true">Allow</button>`, "not the consent form")
	require.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "text/html"))
	consent := *res.Request.URL
	q := consent.Query()
	for k, vs := range account {
		q[k] = vs
	}
	q.Set("allow", "true")
	consent.RawQuery = q.Encode()
	res, body := get(consent.String()) //nolint:bodyclose // closed in get
	require.Equal(t, http.StatusFound, res.StatusCode, "the grant: %s", body)
	back, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, tokenType, back.Query().Get("stytch_token_type"))
	require.NotEmpty(t, back.Query().Get("token"))
	return back
}
