package access

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
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	accessv1 "github.com/authsvc/authsvc/gen/go/authsvc/access/v1"
	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// stubPolicies serves one policy (or one error) and counts the calls.
type stubPolicies struct {
	p     *rbac.Policy
	err   error
	calls atomic.Int32
}

func (s *stubPolicies) For(context.Context, string, []string) (*rbac.Policy, error) {
	s.calls.Add(1)
	return s.p, s.err
}

// errorReason returns the code and the ErrorInfo reason (authsvc's domain) of a refusal.
func errorReason(t *testing.T, err error) (codes.Code, string) {
	t.Helper()
	require.Error(t, err)
	st := status.Convert(err)
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			assert.Equal(t, "authsvc", ei.GetDomain())
			return st.Code(), ei.GetReason()
		}
	}
	t.Fatalf("no ErrorInfo: %v", err)
	return 0, ""
}

// permHarness is a harness whose interceptor enforces, on the test service, M0: member sessions
// holding invoices/write in the organizations of org_ids; M1: the same with stytch.member/create.
func permHarness(t *testing.T, pols *stubPolicies) (*harness, *protoregistry.Files) {
	t.Helper()
	h := newHarness(t)
	files := testFiles(t, []*accessv1.AccessRule{
		{MemberSession: true, MemberOrganizationField: "org_ids", Permission: &accessv1.Permission{ResourceId: "invoices", Action: "write"}},
		{MemberSession: true, MemberOrganizationField: "org_ids", Permission: &accessv1.Permission{ResourceId: rbac.ResourceMember, Action: "create"}, ServiceScopes: []string{"write:members"}},
	})
	cfg := Config{Checker: h.checker, Files: files}
	if pols != nil {
		cfg.Policies = pols
	}
	acc, err := New(cfg)
	require.NoError(t, err)
	h.acc = acc
	return h, files
}

// orgReq is the test service's request naming orgs in org_ids.
func orgReq(t *testing.T, files *protoregistry.Files, orgs ...string) *dynamicpb.Message {
	t.Helper()
	d, err := files.FindDescriptorByName("authsvc.test.v1.Req")
	require.NoError(t, err)
	md, ok := d.(protoreflect.MessageDescriptor)
	require.True(t, ok)
	msg := dynamicpb.NewMessage(md)
	l := msg.Mutable(md.Fields().ByName("org_ids")).List()
	for _, o := range orgs {
		l.Append(protoreflect.ValueOfString(o))
	}
	return msg
}

const (
	permInvoices = "/authsvc.test.v1.Svc/M0"
	permMembers  = "/authsvc.test.v1.Svc/M1"
)

// A permission rule admits a member whose roles grant the permission in their own organization:
// stytch_admin on stytch.member, a custom role (billing_admin) and a wildcard (finance) on a custom
// resource, an implicit role as an explicit one (the session's roles hold both); it refuses a
// member whose roles do not grant it (session_authorization_error) and a member of another
// organization (session_authorization_tenancy_error, decided before any policy is fetched).
func TestPermissionRule(t *testing.T) {
	pols := &stubPolicies{p: rbac.Example()}
	h, files := permHarness(t, pols)
	other, err := h.emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Other", Slug: "other-perm"})
	require.NoError(t, err)

	admin := h.member(t, sandboxOrg, "admin@stytch.com", "stytch_admin")
	plain := h.member(t, sandboxOrg, "plain@stytch.com")
	biller := h.member(t, sandboxOrg, "biller@stytch.com", "billing_admin")
	finance := h.member(t, sandboxOrg, "finance@stytch.com", "finance")
	foreignAdmin := h.member(t, other.ID, "admin@other.test", "stytch_admin")
	bearer := func(s stytchemu.Session) []string { return []string{"authorization", "Bearer " + s.JWT} }

	t.Run("allowed", func(t *testing.T) {
		for name, tc := range map[string]struct {
			s      stytchemu.Session
			method string
		}{
			"stytch_admin on stytch.member": {admin, permMembers},
			"custom role":                   {biller, permInvoices},
			"wildcard action":               {finance, permInvoices},
		} {
			c := h.call(t, tc.method, orgReq(t, files, sandboxOrg), bearer(tc.s)...)
			require.NoError(t, c.err, name)
			assert.True(t, c.reached, name)
			assert.Equal(t, KindMember, c.principal.Kind, name)
			assert.Equal(t, tc.s.JWT, c.acting.JWT, "%s: the session is still forwarded to Stytch", name)
		}
	})

	t.Run("denied", func(t *testing.T) {
		for name, tc := range map[string]struct {
			s      stytchemu.Session
			method string
		}{
			"stytch_member on stytch.member": {plain, permMembers},
			"stytch_admin on invoices":       {admin, permInvoices},
			"billing_admin on stytch.member": {biller, permMembers},
		} {
			c := h.call(t, tc.method, orgReq(t, files, sandboxOrg), bearer(tc.s)...)
			assert.False(t, c.reached, name)
			code, reason := errorReason(t, c.err)
			assert.Equal(t, codes.PermissionDenied, code, name)
			assert.Equal(t, rbac.ReasonDenied, reason, name)
			assert.Equal(t, rbac.ReasonDenied, c.field("access.reason"), name)
		}
	})

	t.Run("another organization", func(t *testing.T) {
		before := pols.calls.Load()
		for name, req := range map[string]*dynamicpb.Message{
			"the admin's own org in a request for another": orgReq(t, files, sandboxOrg),
			"both organizations":                           orgReq(t, files, other.ID, sandboxOrg),
			"none named":                                   orgReq(t, files),
		} {
			c := h.call(t, permMembers, req, bearer(foreignAdmin)...)
			assert.False(t, c.reached, name)
			code, reason := errorReason(t, c.err)
			assert.Equal(t, codes.PermissionDenied, code, name)
			assert.Equal(t, rbac.ReasonTenancy, reason, name)
		}
		assert.Equal(t, before, pols.calls.Load(), "tenancy is decided without the policy")
		// Its own organization: admitted.
		require.NoError(t, h.call(t, permMembers, orgReq(t, files, other.ID), bearer(foreignAdmin)...).err)
	})

	t.Run("services keep their scopes", func(t *testing.T) {
		tok, _ := h.m2m(t, "write:members")
		require.NoError(t, h.call(t, permMembers, orgReq(t, files, other.ID), "authorization", "Bearer "+tok).err)
		requireRefused(t, h.call(t, permInvoices, orgReq(t, files, sandboxOrg), "authorization", "Bearer "+tok), codes.PermissionDenied)
	})
}

// Without a policy a permission rule admits no member (fail closed): UNAVAILABLE with a retry
// hint when the policy cannot be fetched, PERMISSION_DENIED when no B2B policy is configured.
func TestPermissionRuleFailsClosed(t *testing.T) {
	t.Run("policy unavailable", func(t *testing.T) {
		h, files := permHarness(t, &stubPolicies{err: errors.New("stytch: RBAC policy: 503")})
		admin := h.member(t, sandboxOrg, "admin@stytch.com", "stytch_admin")
		c := h.call(t, permMembers, orgReq(t, files, sandboxOrg), "authorization", "Bearer "+admin.JWT)
		assert.False(t, c.reached)
		code, reason := errorReason(t, c.err)
		assert.Equal(t, codes.Unavailable, code)
		assert.Equal(t, ReasonPolicyUnavailable, reason)
	})
	t.Run("no policy configured", func(t *testing.T) {
		h, files := permHarness(t, nil)
		admin := h.member(t, sandboxOrg, "admin@stytch.com", "stytch_admin")
		c := h.call(t, permMembers, orgReq(t, files, sandboxOrg), "authorization", "Bearer "+admin.JWT)
		requireRefused(t, c, codes.PermissionDenied)
		assert.Equal(t, "no_rbac_policy", c.field("access.reason"))
	})
}

// A permission rule must keep tenants apart and be complete: startup refuses one without
// member_organization_field, without member_session, or with half a permission.
func TestInvalidPermissionRulesStopStartup(t *testing.T) {
	h := newHarness(t)
	perm := &accessv1.Permission{ResourceId: rbac.ResourceMember, Action: "create"}
	for name, r := range map[string]*accessv1.AccessRule{
		"no tenancy field":    {MemberSession: true, Permission: perm},
		"no member_session":   {MemberOrganizationField: "org_ids", Permission: perm, ServiceScopes: []string{"write:members"}},
		"no action":           {MemberSession: true, MemberOrganizationField: "org_ids", Permission: &accessv1.Permission{ResourceId: "invoices"}},
		"no resource":         {MemberSession: true, MemberOrganizationField: "org_ids", Permission: &accessv1.Permission{Action: "read"}},
		"tenancy on a stream": {MemberSession: true, MemberOrganizationField: "org_ids", Permission: perm},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(Config{Checker: h.checker, Policies: &stubPolicies{p: rbac.Example()}, Files: testFiles(t, []*accessv1.AccessRule{r}, name == "tenancy on a stream")})
			require.ErrorIs(t, err, ErrInvalidRule)
		})
	}
	_, err := New(Config{Checker: h.checker, Files: testFiles(t, []*accessv1.AccessRule{{MemberSession: true, MemberOrganizationField: "org_ids", Permission: perm}})})
	require.NoError(t, err, "the complete rule is valid")
}
