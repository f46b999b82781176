package session_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// stubPolicies answers every request with one policy (or fails), counting the requests.
type stubPolicies struct {
	policy *rbac.Policy
	err    error
	asked  atomic.Int32
}

func (s *stubPolicies) For(context.Context, string, []string) (*rbac.Policy, error) {
	s.asked.Add(1)
	return s.policy, s.err
}

const authenticateRoute = "POST /v1/b2b/sessions/authenticate"

func reasonAndDomain(t *testing.T, err error) (codes.Code, string, string) {
	t.Helper()
	st, ok := status.FromError(err)
	require.True(t, ok, "%v", err)
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return st.Code(), ei.GetReason(), ei.GetDomain()
		}
	}
	return st.Code(), "", ""
}

// An authorization check on a valid session JWT is decided by the checker from the policy and the
// JWT's roles, with no call to Stytch, and refused exactly as Stytch refuses (code, reason, domain);
// the same checks sent to Stytch (opaque token) get the same answers.
func TestAuthorizationCheckOnJWTIsLocal(t *testing.T) {
	pol := &stubPolicies{policy: rbac.New(rbac.Defaults())}
	s := newSessionHarness(t, func(c *session.Config) { c.Policies = pol })
	ctx := t.Context()
	check := func(resource, action string) *stytchclient.AuthorizationCheck {
		return &stytchclient.AuthorizationCheck{OrganizationID: s.orgID, ResourceID: resource, Action: action}
	}

	res, err := s.auth.Check(ctx, session.Request{JWT: s.jwt, AuthorizationCheck: check(rbac.ResourceSelf, "update.info.name")})
	require.NoError(t, err)
	assert.Equal(t, session.PathLocal, res.Path)
	require.NotNil(t, res.Verdict)
	assert.Equal(t, &stytchclient.AuthorizationVerdict{Authorized: true, GrantingRoles: []string{rbac.RoleMember}}, res.Verdict)

	_, localDenied := s.auth.Check(ctx, session.Request{JWT: s.jwt, AuthorizationCheck: check(rbac.ResourceMember, "delete")})
	other := &stytchclient.AuthorizationCheck{OrganizationID: "organization-test-00000000-0000-4000-8000-000000000000", ResourceID: rbac.ResourceSelf, Action: "delete"}
	asked := pol.asked.Load()
	_, localTenancy := s.auth.Check(ctx, session.Request{JWT: s.jwt, AuthorizationCheck: other})
	assert.Equal(t, asked, pol.asked.Load(), "the tenancy check needs no policy")
	assert.Equal(t, 0, s.emu.Requests(authenticateRoute), "a check on a JWT reached Stytch")

	// Stytch's own answers to the same checks (an opaque token always goes to Stytch).
	res, err = s.auth.Check(ctx, session.Request{Token: s.token, AuthorizationCheck: check(rbac.ResourceSelf, "update.info.name")})
	require.NoError(t, err)
	assert.Equal(t, session.PathRemote, res.Path)
	assert.Equal(t, []string{rbac.RoleMember}, res.Stytch.Verdict.GrantingRoles)
	_, remoteDenied := s.auth.Check(ctx, session.Request{Token: s.token, AuthorizationCheck: check(rbac.ResourceMember, "delete")})
	_, remoteTenancy := s.auth.Check(ctx, session.Request{Token: s.token, AuthorizationCheck: other})
	assert.Equal(t, 3, s.emu.Requests(authenticateRoute))

	for _, pair := range []struct {
		local, remote error
		reason        string
	}{{localDenied, remoteDenied, rbac.ReasonDenied}, {localTenancy, remoteTenancy, rbac.ReasonTenancy}} {
		lc, lr, ld := reasonAndDomain(t, pair.local)
		rc, rr, rd := reasonAndDomain(t, pair.remote)
		assert.Equal(t, codes.PermissionDenied, lc)
		assert.Equal(t, pair.reason, lr)
		assert.Equal(t, stytchclient.DomainStytch, ld)
		assert.Equal(t, []any{lc, lr, ld}, []any{rc, rr, rd}, "the local answer differs from Stytch's")
		assert.Equal(t, status.Convert(pair.remote).Message(), status.Convert(pair.local).Message())
	}
}

// With no policy to be had (authsvc cannot reach Stytch's policy endpoint), the check goes to
// Stytch rather than failing; with no Policies at all, every check does.
func TestAuthorizationCheckWithoutPolicyAsksStytch(t *testing.T) {
	for name, cfg := range map[string]func(*session.Config){
		"policy unavailable": func(c *session.Config) { c.Policies = &stubPolicies{err: errors.New("stytch is down")} },
		"no policies":        func(*session.Config) {},
	} {
		t.Run(name, func(t *testing.T) {
			s := newSessionHarness(t, cfg)
			res, err := s.auth.Check(t.Context(), session.Request{JWT: s.jwt, AuthorizationCheck: &stytchclient.AuthorizationCheck{
				OrganizationID: s.orgID, ResourceID: rbac.ResourceSelf, Action: "delete",
			}})
			require.NoError(t, err)
			assert.Equal(t, session.PathRemote, res.Path)
			assert.Equal(t, "authorization_check", res.Reason)
			assert.Equal(t, []string{rbac.RoleMember}, res.Stytch.Verdict.GrantingRoles)
			assert.Equal(t, 1, s.emu.Requests(authenticateRoute))
		})
	}
}
