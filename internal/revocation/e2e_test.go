package revocation_test

// End-to-end: two authsvc replicas (the production app through apptest) on one emulator and one
// real redis-server. The emulator's clock never moves, so a replica's cached "not revoked" answer
// never expires: only the message from the revoking replica can make the other one refuse.

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

const upstreamSessionCheck = "POST /v1/b2b/sessions/authenticate"

// cluster is two replicas, A and B, sharing an emulator and Redis, with an organization.
type cluster struct {
	emu  *stytchemu.Server
	a, b *apptest.Env
	org  stytchemu.Organization
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	srv := redistest.Start(t)
	emu := testkit.Emulator(t, stytchemu.WithSandbox())
	// A generous Redis budget: these tests are about propagation, and a Redis write that misses
	// the default 150 ms on a loaded machine is retried in the background (the declared
	// exception), which "at once" cannot wait for.
	env := apptest.WithEnv(map[string]string{"AUTHSVC_REDIS_URL": srv.URL(), "AUTHSVC_REDIS_TIMEOUT": "2s"})
	c := &cluster{emu: emu, a: apptest.Start(t, apptest.WithEmulator(emu), env), b: apptest.Start(t, apptest.WithEmulator(emu), env)}
	var err error
	c.org, err = emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Revocation Org"})
	require.NoError(t, err)
	require.NoError(t, c.b.App.WaitRevocations(t.Context()))
	return c
}

// session starts a session for a new member and has B verify its JWT locally once, so that B
// caches "not revoked" for it.
func (c *cluster) session(ctx context.Context, t *testing.T, name string) stytchemu.Session {
	t.Helper()
	sess := testkit.MemberSession(t, c.emu, c.org.ID, stytchemu.MemberParams{Email: name + "@example.com"})
	res, err := c.authB(ctx, t, sess)
	require.NoError(t, err)
	require.Equal(t, b2bv1.SessionVerifier_SESSION_VERIFIER_LOCAL, res.GetVerifiedBy())
	return sess
}

func (c *cluster) authB(ctx context.Context, t *testing.T, sess stytchemu.Session) (*b2bv1.SessionsServiceAuthenticateResponse, error) {
	t.Helper()
	return b2bv1.NewSessionsServiceClient(c.b.Conn).Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
		Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: sess.JWT},
	})
}

// A session revoked through replica A is refused by replica B on the next call, with no wait,
// locally (Stytch is not asked): over gRPC, and over REST.
func TestRevokedOnOneReplicaRefusedByAnotherAtOnce(t *testing.T) {
	c := startCluster(t)
	ctx := t.Context()

	t.Run("grpc", func(t *testing.T) {
		sess := c.session(ctx, t, "grpc")
		_, err := b2bv1.NewSessionsServiceClient(c.a.Conn).Revoke(ctx, &b2bv1.SessionsServiceRevokeRequest{
			Target: &b2bv1.SessionsServiceRevokeRequest_SessionJwt{SessionJwt: sess.JWT},
		})
		require.NoError(t, err)
		c.emu.ResetRequests()
		_, err = c.authB(ctx, t, sess)
		require.Error(t, err)
		assert.Contains(t, []codes.Code{codes.Unauthenticated, codes.NotFound}, status.Code(err), "%v", err)
		assert.Zero(t, c.emu.Requests(upstreamSessionCheck), "refused locally, without asking Stytch")
	})

	t.Run("rest", func(t *testing.T) {
		sess := c.session(t.Context(), t, "rest")
		origin := func(env *apptest.Env) http.Header { return http.Header{"Origin": {env.BaseURL}} }
		r := c.a.RESTWithHeaders(t, http.MethodPost, "/v1/b2b/sessions/revoke", map[string]any{"session_jwt": sess.JWT}, origin(c.a))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		c.emu.ResetRequests()
		r = c.b.RESTWithHeaders(t, http.MethodPost, "/v1/b2b/sessions/authenticate", map[string]any{"session_jwt": sess.JWT}, origin(c.b))
		assert.Contains(t, []int{http.StatusUnauthorized, http.StatusNotFound}, r.Status, "B's answer to the revoked JWT") // the body would echo the JWT
		assert.Zero(t, c.emu.Requests(upstreamSessionCheck), "refused locally, without asking Stytch")
	})
}

// A member deleted through replica A: B refuses the member's session JWT on the next call.
func TestMemberDeletedOnOneReplicaRefusedByAnotherAtOnce(t *testing.T) {
	c := startCluster(t)
	ctx := t.Context()
	sess := c.session(ctx, t, "deleted")
	admin, err := c.emu.CreateM2MClient("deleter", []string{"write:members"})
	require.NoError(t, err)
	tok, err := m2mv1.NewM2MServiceClient(c.a.Conn).IssueToken(ctx, &m2mv1.IssueTokenRequest{ClientId: admin.ClientID, ClientSecret: admin.ClientSecret})
	require.NoError(t, err)

	_, err = b2bv1.NewMembersServiceClient(c.a.Conn).Delete(
		metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok.GetAccessToken()),
		&b2bv1.MembersServiceDeleteRequest{OrganizationId: c.org.ID, MemberId: sess.MemberID})
	require.NoError(t, err)
	c.emu.ResetRequests()
	_, err = c.authB(ctx, t, sess)
	require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	assert.Zero(t, c.emu.Requests(upstreamSessionCheck), "refused locally, without asking Stytch")
}
