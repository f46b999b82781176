package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/gateway"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// A cookie-authenticated logout from a foreign page is refused before the gateway; the same request
// from the app's own origin or an allowed one reaches the API.
func TestCookieRequestsThatChangeStateNeedAnAllowedOrigin(t *testing.T) {
	env := apptest.Start(t, apptest.WithEnv(map[string]string{"AUTHSVC_CORS_ORIGINS": "https://app.example.com"}))
	s := memberSession(t, env, stytchemu.SandboxOrganizationID, "csrf@stytch.com")
	cookie := (&http.Cookie{Name: gateway.SessionJWTCookie, Value: s.JWT}).String()
	tests := []struct {
		origin string
		want   func(int) bool
	}{
		{"https://evil.example.com", func(c int) bool { return c == http.StatusForbidden }},
		// A cross-site browser request announces itself with Sec-Fetch-Site even without Origin.
		{"sec-fetch-site:cross-site", func(c int) bool { return c == http.StatusForbidden }},
		// Neither header: not a browser (curl, a service); nothing for a malicious page to ride on.
		{"", func(c int) bool { return c != http.StatusForbidden && c != http.StatusUnauthorized }},
		{"https://app.example.com", func(c int) bool { return c != http.StatusForbidden && c != http.StatusUnauthorized }},
		{env.BaseURL, func(c int) bool { return c != http.StatusForbidden && c != http.StatusUnauthorized }},
	}
	for _, tt := range tests {
		t.Run("origin "+tt.origin, func(t *testing.T) {
			h := http.Header{"Cookie": {cookie}}
			switch {
			case strings.HasPrefix(tt.origin, "sec-fetch-site:"):
				h.Set("Sec-Fetch-Site", strings.TrimPrefix(tt.origin, "sec-fetch-site:"))
			case tt.origin != "":
				h.Set("Origin", tt.origin)
			}
			before := env.Emu.Requests("PUT /v1/b2b/organizations/{organization_id}/members/{member_id}")
			r := env.RESTWithHeaders(t, http.MethodPut, "/v1/b2b/organizations/"+s.OrganizationID+"/members/"+s.MemberID, `{"name":"x"}`, h)
			assert.True(t, tt.want(r.Status), "status %d: %s", r.Status, r.Body)
			if r.Status == http.StatusForbidden {
				assert.Contains(t, string(r.Body), "cross-site", "refused by the CSRF check, not by access")
				assert.Equal(t, before, env.Emu.Requests("PUT /v1/b2b/organizations/{organization_id}/members/{member_id}"), "a refused request reaches nothing")
				assert.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
			}
		})
	}
}
