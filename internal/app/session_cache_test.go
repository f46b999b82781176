package app_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// AUTHSVC_SESSION_CACHE_SIZE reaches the session checker: with the default a JWT checked again is
// answered from the verified-token cache, with 0 its signature is verified every time, and with 1
// the second of two sessions pushes the first out.
func TestSessionCacheSizeSetting(t *testing.T) {
	org := stytchemu.SandboxOrganizationID
	check := func(t *testing.T, env *apptest.Env, jwts ...string) (local, cached float64) {
		t.Helper()
		sessions := b2bv1.NewSessionsServiceClient(env.Conn)
		for _, jwt := range jwts {
			_, err := sessions.Authenticate(t.Context(), &b2bv1.SessionsServiceAuthenticateRequest{
				Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: jwt},
			})
			require.NoError(t, err)
		}
		fams := scrapeAdmin(t, env)
		v := func(path string) float64 {
			return counterValue(fams, "authsvc_session_verifications_total", map[string]string{"kind": "session", "path": path, "outcome": "valid", "reason": "ok"})
		}
		return v("local"), v("cache")
	}

	for _, tc := range []struct {
		name          string
		size          string // "" leaves the default
		sessions      int
		order         []int // which session's JWT each check sends
		local, cached float64
	}{
		{"default", "", 1, []int{0, 0, 0}, 1, 2},
		{"off", "0", 1, []int{0, 0, 0}, 3, 0},
		{"one entry", "1", 2, []int{0, 0, 1, 0}, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []apptest.Option
			if tc.size != "" {
				opts = append(opts, apptest.WithEnv(map[string]string{"AUTHSVC_SESSION_CACHE_SIZE": tc.size}))
			}
			env := apptest.Start(t, opts...)
			var jwts []string
			for i := range tc.sessions {
				jwts = append(jwts, memberSession(t, env, org, []string{"cache-a@stytch.com", "cache-b@stytch.com"}[i], "stytch_member").JWT)
			}
			var send []string
			for _, i := range tc.order {
				send = append(send, jwts[i])
			}
			local, cached := check(t, env, send...)
			assert.InDelta(t, tc.local, local, 0, "verified against the key")
			assert.InDelta(t, tc.cached, cached, 0, "answered from the cache")
		})
	}
}
