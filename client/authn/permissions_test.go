package authn_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/authsvc/authsvc/client"
	"github.com/authsvc/authsvc/client/authn"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

const (
	mGetPolicy       = "/authsvc.b2b.v1.RBACService/GetPolicy"
	sessionAuthRoute = "POST /v1/b2b/sessions/authenticate"
)

// permFixture is authsvc in front of a project whose policy has billing_admin (invoices: read,
// write), and an Authenticator whose service credentials hold read:rbac.
type permFixture struct {
	env         *apptest.Env
	calls       *calls
	auth        *authn.Authenticator
	org, other  stytchemu.Organization
	biller, joe stytchemu.Session // billing_admin; a plain stytch_member
}

func newPermFixture(t *testing.T) *permFixture {
	t.Helper()
	emu := testkit.Emulator(t, stytchemu.WithRBACPolicy(rbac.Example()))
	env := apptest.Start(t, apptest.WithEmulator(emu))
	mc, err := emu.CreateM2MClient("invoices-service", []string{"read:rbac"})
	require.NoError(t, err)
	cs := &calls{n: map[string]int{}}
	c, err := client.New(t.Context(), env.App.GRPCAddr(), client.WithInsecure(), client.WithClock(emu.Now),
		client.WithM2MCredentials(mc.ClientID, mc.ClientSecret), client.WithDialOptions(grpc.WithStatsHandler(cs)))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	a, err := authn.New(t.Context(), c, authn.WithProjectID(emu.ProjectID()), authn.WithClock(emu.Now))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, a.Close()) })
	require.NoError(t, a.WaitReady(t.Context()))
	f := &permFixture{env: env, calls: cs, auth: a}
	f.org, err = emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Acme", Slug: "acme-perm"})
	require.NoError(t, err)
	f.other, err = emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Other", Slug: "other-perm"})
	require.NoError(t, err)
	f.biller = testkit.MemberSession(t, emu, f.org.ID, stytchemu.MemberParams{Email: "biller@acme.test", Roles: []string{"billing_admin"}})
	f.joe = testkit.MemberSession(t, emu, f.org.ID, stytchemu.MemberParams{Email: "joe@acme.test"})
	return f
}

func reasonOf(t *testing.T, err error) string {
	t.Helper()
	var e *authn.Error
	require.ErrorAs(t, err, &e)
	return e.Reason()
}

// TestRequirePermission is issue 17's first "done when" through client/authn: over HTTP and gRPC a
// route protected by RequirePermission("invoices", "write") admits a billing_admin member and
// refuses one without the permission (403 session_authorization_error); another organization is
// refused as a tenancy error. The policy is fetched from authsvc once; no session check reaches
// authsvc or Stytch.
func TestRequirePermission(t *testing.T) {
	f := newPermFixture(t)
	before := f.calls.snapshot()
	stytchBefore := f.env.StytchCalls(sessionAuthRoute)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			write := tr.serve(t, f.auth, []authn.Rule{authn.RequirePermission("invoices", "write")})
			void := tr.serve(t, f.auth, []authn.Rule{authn.RequirePermission("invoices", "void")})
			r := write(f.biller.JWT, false)
			require.Equal(t, codes.OK, r.code)
			assert.Equal(t, f.biller.MemberID, r.principal.MemberID)
			assert.Equal(t, codes.PermissionDenied, write(f.joe.JWT, false).code, "stytch_member holds no invoices permission")
			assert.Equal(t, codes.PermissionDenied, void(f.biller.JWT, false).code, "billing_admin may not void")
			assert.Equal(t, codes.Unauthenticated, write("", false).code)
		})
	}
	// The reasons, and the tenancy check of a handler that names the organization.
	p, err := f.auth.Authenticate(t.Context(), f.biller.JWT)
	require.NoError(t, err)
	require.NoError(t, authn.Authorize(p, authn.RequirePermission("invoices", "read")))
	assert.Equal(t, authn.ReasonPermissionDenied, reasonOf(t, authn.Authorize(p, authn.RequirePermission("invoices", "void"))))
	require.NoError(t, p.CheckPermission(t.Context(), f.org.ID, "invoices", "write"))
	err = p.CheckPermission(t.Context(), f.other.ID, "invoices", "write")
	require.ErrorIs(t, err, authn.ErrPermissionDenied)
	assert.Equal(t, authn.ReasonOtherOrganization, reasonOf(t, err))
	assert.Equal(t, http.StatusForbidden, mustAuthnError(t, err).HTTPStatus())
	assert.Equal(t, authn.ReasonPermissionDenied, reasonOf(t, p.CheckPermission(t.Context(), f.org.ID, "invoices", "void")))
	// Rules of several kinds: a service is not a member.
	svc := &authn.Principal{Kind: authn.KindService, Scopes: []string{"read:rbac"}}
	require.ErrorIs(t, authn.Authorize(svc, authn.RequirePermission("invoices", "read")), authn.ErrPermissionDenied)
	require.NoError(t, authn.Authorize(svc, authn.RequirePermission("invoices", "read"), authn.Services("read:rbac")))

	// The policy fetch, with the service token the client issues itself for it.
	assert.Equal(t, map[string]int{mGetPolicy: 1, "/authsvc.m2m.v1.M2MService/IssueToken": 1}, f.calls.since(before),
		"only the one policy fetch may reach authsvc")
	assert.Equal(t, stytchBefore, f.env.StytchCalls(sessionAuthRoute), "a permission check reached Stytch")
}

// TestRequirePermissionOrganizationRole: a role defined only in the member's organization (an
// organization's custom roles) is unknown to the cached project policy; the Authenticator fetches
// the organization's roles from authsvc and decides with them.
func TestRequirePermissionOrganizationRole(t *testing.T) {
	f := newPermFixture(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, f.env.Emu.URL+"/v1/b2b/rbac/organizations/"+f.org.ID,
		strings.NewReader(`{"org_policy":{"roles":[{"role_id":"acme_auditor","description":"","permissions":[{"resource_id":"invoices","actions":["read"]}]}]}}`))
	require.NoError(t, err)
	req.SetBasicAuth(f.env.Emu.ProjectID(), f.env.Emu.Secret())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	auditor := testkit.MemberSession(t, f.env.Emu, f.org.ID, stytchemu.MemberParams{Email: "aud@acme.test", Roles: []string{"acme_auditor"}})

	p, err := f.auth.Authenticate(t.Context(), auditor.JWT)
	require.NoError(t, err)
	require.NoError(t, authn.Authorize(p, authn.RequirePermission("invoices", "read")))
	assert.Equal(t, authn.ReasonPermissionDenied, reasonOf(t, authn.Authorize(p, authn.RequirePermission("invoices", "write"))))
	// The project's policy, then the organization's roles (a GetPolicy with organization_id); cached after.
	assert.Equal(t, 2, f.calls.snapshot()[mGetPolicy])
}

func mustAuthnError(t *testing.T, err error) *authn.Error {
	t.Helper()
	var e *authn.Error
	require.ErrorAs(t, err, &e)
	return e
}
