package app_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// Only this process's REST gateway may assert what it forwards from HTTP: the session cookies and
// the client's address. A REST client cannot smuggle them in as Grpc-Metadata-* headers, and a gRPC
// client (even one on loopback) cannot send them as metadata.

func TestClientCannotAssertCookieMetadata(t *testing.T) {
	env := apptest.Start(t)
	admin := memberSession(t, env, stytchemu.SandboxOrganizationID, "trust-admin@example.com", stytchemu.RoleAdmin)
	getPath := "/v1/b2b/organizations/" + stytchemu.SandboxOrganizationID + "/member?member_id=" + admin.MemberID

	t.Run("REST Grpc-Metadata header", func(t *testing.T) {
		for _, h := range []http.Header{
			{"Grpc-Metadata-Authsvc-Cookie-Session-Jwt": {admin.JWT}},
			{"Grpc-Metadata-Authsvc-Cookie-Session-Token": {admin.Token}},
			// A cross-site page could make a browser send such a header only with CORS, but the
			// cookie check (CSRF) looks at real cookies: the header must not count as one.
			{"Grpc-Metadata-Authsvc-Cookie-Session-Jwt": {admin.JWT}, "Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}},
		} {
			r := env.RESTWithHeaders(t, http.MethodGet, getPath, nil, h)
			assert.Equal(t, http.StatusUnauthorized, r.Status, "%v: %s", h, r.Body)
		}
		// The same session in a real cookie is the caller's credential.
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, env.BaseURL+getPath, nil)
		require.NoError(t, err)
		req.AddCookie(&http.Cookie{Name: "stytch_session_jwt", Value: admin.JWT})
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})

	t.Run("gRPC metadata", func(t *testing.T) {
		c := b2bv1.NewMembersServiceClient(env.Conn)
		req := &b2bv1.MembersServiceGetRequest{OrganizationId: stytchemu.SandboxOrganizationID, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: admin.MemberID}}
		for _, md := range []metadata.MD{
			metadata.Pairs("authsvc-cookie-session-jwt", admin.JWT),
			metadata.Pairs("authsvc-cookie-session-token", admin.Token),
			metadata.Pairs("authsvc-cookie-session-jwt", admin.JWT, "authsvc-gateway", "guessed"),
		} {
			_, err := c.Get(metadata.NewOutgoingContext(t.Context(), md), req)
			assert.Equal(t, codes.Unauthenticated, status.Code(err), "%v", md)
		}
		_, err := c.Get(metadata.NewOutgoingContext(t.Context(), metadata.Pairs("authorization", "Bearer "+admin.JWT)), req)
		require.NoError(t, err, "the same session as a bearer credential is admitted")
	})
}

// A gRPC caller on loopback is not the gateway: the x-forwarded-for it sends does not choose its
// rate-limit key. Every send below comes from one address, whatever it claims.
func TestLoopbackGRPCCallerCannotChooseItsClientIP(t *testing.T) {
	env := apptest.Start(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION_LIMITS": "send_ip=3/1h"}))
	c := b2bv1.NewMagicLinksServiceClient(env.Conn)
	send := func(i int) error {
		ctx := metadata.NewOutgoingContext(t.Context(), metadata.Pairs("x-forwarded-for", fmt.Sprintf("198.51.100.%d", i+1)))
		_, err := c.DiscoverySend(ctx, &b2bv1.MagicLinksServiceDiscoverySendRequest{EmailAddress: fmt.Sprintf("xff-%d@example.com", i)})
		return err
	}
	for i := range 3 {
		require.NoError(t, send(i), "send %d", i+1)
	}
	assert.Equal(t, codes.ResourceExhausted, status.Code(send(3)), "the fourth send from one address is refused, whatever x-forwarded-for says")
}
