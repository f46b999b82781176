package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/service"
)

func TestRedirectPolicy(t *testing.T) {
	p, err := service.NewRedirectPolicy([]string{"https://app.example.com/auth/callback", "http://localhost:3000/authenticate?tenant=a&flow=b"})
	require.NoError(t, err)
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"omitted: the default", "", "https://app.example.com/auth/callback", true},
		{"exact", "https://app.example.com/auth/callback", "https://app.example.com/auth/callback", true},
		{"scheme and host case, default port", "HTTPS://App.Example.COM:443/auth/callback", "https://app.example.com/auth/callback", true},
		{"query in another order", "http://localhost:3000/authenticate?flow=b&tenant=a", "http://localhost:3000/authenticate?tenant=a&flow=b", true},
		{"other host", "https://evil.example.com/auth/callback", "", false},
		{"suffix host", "https://app.example.com.evil.io/auth/callback", "", false},
		{"other port", "https://app.example.com:8443/auth/callback", "", false},
		{"other scheme", "http://app.example.com/auth/callback", "", false},
		{"path case", "https://app.example.com/Auth/callback", "", false},
		{"trailing slash", "https://app.example.com/auth/callback/", "", false},
		{"dot segments", "https://app.example.com/auth/x/../callback", "", false},
		{"added query", "https://app.example.com/auth/callback?next=//evil.example.com", "", false},
		{"missing query", "http://localhost:3000/authenticate", "", false},
		{"changed query value", "http://localhost:3000/authenticate?tenant=b&flow=b", "", false},
		{"fragment", "https://app.example.com/auth/callback#x", "", false},
		{"user info", "https://user@app.example.com/auth/callback", "", false},
		{"not a URL", "javascript:alert(1)", "", false},
		{"relative", "/auth/callback", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.Resolve("login_redirect_url", tc.in)
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			st, ok := status.FromError(err)
			require.True(t, ok)
			assert.Equal(t, codes.InvalidArgument, st.Code())
			assert.Contains(t, st.Message(), "login_redirect_url")
			assert.NotContains(t, st.Message(), "evil", "caller input is not echoed")
		})
	}
}

func TestRedirectPolicyWithoutAllowlist(t *testing.T) {
	var p service.RedirectPolicy
	got, err := p.Resolve("invite_redirect_url", "")
	require.NoError(t, err)
	assert.Empty(t, got, "Stytch's project default applies")
	_, err = p.Resolve("invite_redirect_url", "https://app.example.com/")
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
}

func TestNewRedirectPolicyRefusesBadEntries(t *testing.T) {
	for _, bad := range []string{"ftp://x.example.com/", "https://x.example.com/#frag", "https://u:p@x.example.com/", "/relative"} {
		_, err := service.NewRedirectPolicy([]string{bad})
		assert.Error(t, err, bad)
	}
}

// A late entry (dev mode's console page) is allowed once set, never the default, and shared by
// the copies handed out before it was set.
func TestRedirectPolicyLateEntry(t *testing.T) {
	const console = "http://localhost:8080/dev/authenticate.html"
	for name, allowed := range map[string][]string{"no allowlist": nil, "allowlist": {"https://app.example.com/auth/callback"}} {
		t.Run(name, func(t *testing.T) {
			p, err := service.NewRedirectPolicy(allowed)
			require.NoError(t, err)
			p, set := p.WithLateEntries()
			handedOut := p
			_, err = handedOut.Resolve("login_redirect_url", console)
			assert.Equal(t, codes.InvalidArgument, status.Code(err), "not allowed before it is set")
			require.NoError(t, set(console))
			got, err := handedOut.Resolve("login_redirect_url", "http://LOCALHOST:8080/dev/authenticate.html")
			require.NoError(t, err)
			assert.Equal(t, console, got)
			def, err := handedOut.Resolve("login_redirect_url", "")
			require.NoError(t, err)
			assert.Equal(t, p.Default(), def, "the late entry is never the default")
			assert.NotEqual(t, console, def)
			_, err = handedOut.Resolve("login_redirect_url", "http://localhost:8081/dev/authenticate.html")
			assert.Equal(t, codes.InvalidArgument, status.Code(err), "another port is another URL")
			assert.Error(t, set("/relative"))
		})
	}
}
