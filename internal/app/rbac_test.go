package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

const (
	policyRoute      = "GET /v1/b2b/rbac/policy"
	sessionAuthRoute = "POST /v1/b2b/sessions/authenticate"
)

// billingEnv is authsvc in front of a project whose policy has the example's billing_admin
// (invoices: read, write), with a billing_admin member of one organization and another
// organization.
type billingEnv struct {
	env    *apptest.Env
	org    stytchemu.Organization
	other  stytchemu.Organization
	biller stytchemu.Session
}

func newBillingEnv(t *testing.T) *billingEnv {
	t.Helper()
	emu := testkit.Emulator(t, stytchemu.WithRBACPolicy(rbac.Example()))
	env := apptest.Start(t, apptest.WithEmulator(emu))
	org, err := emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Acme", Slug: "acme-billing"})
	require.NoError(t, err)
	other, err := emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Other", Slug: "other-billing"})
	require.NoError(t, err)
	return &billingEnv{env: env, org: org, other: other, biller: memberSession(t, env, org.ID, "biller@acme.test", "billing_admin")}
}

// stytchErrorReason is the ErrorInfo reason of a gRPC error in Stytch's domain.
func stytchErrorReason(t *testing.T, err error) string {
	t.Helper()
	st, ok := status.FromError(err)
	require.True(t, ok, "not a status: %v", err)
	require.Equal(t, codes.PermissionDenied, st.Code(), "status: %v", st)
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.GetDomain() == stytchclient.DomainStytch {
			return ei.GetReason()
		}
	}
	t.Fatalf("no ErrorInfo in Stytch's domain: %v", st)
	return ""
}

// restErrorReason is the ErrorInfo reason of a REST error body in Stytch's domain.
func restErrorReason(t *testing.T, r apptest.Response) string {
	t.Helper()
	require.Equal(t, http.StatusForbidden, r.Status, "body: %s", r.Body)
	var st struct {
		Details []struct {
			Type   string `json:"@type"`
			Reason string `json:"reason"`
			Domain string `json:"domain"`
		} `json:"details"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &st))
	for _, d := range st.Details {
		if strings.HasSuffix(d.Type, "google.rpc.ErrorInfo") && d.Domain == stytchclient.DomainStytch {
			return d.Reason
		}
	}
	t.Fatalf("no ErrorInfo in Stytch's domain: %s", r.Body)
	return ""
}

func authzCheck(org, resource, action string) *b2bv1.AuthorizationCheck {
	return &b2bv1.AuthorizationCheck{OrganizationId: org, ResourceId: resource, Action: action}
}

// TestAuthorizationCheckDecidedLocally is issue 17's first "done when": a member holding the
// custom role billing_admin (invoices: read, write) asks Sessions.Authenticate with an
// authorization check, over gRPC and REST. With the session JWT it is decided in authsvc: allowed
// with no call to Stytch's sessions/authenticate (the policy is fetched once and cached), denied
// 403 session_authorization_error, another organization 403 session_authorization_tenancy_error.
// With the opaque token Stytch (the emulator) decides, with the same answers.
func TestAuthorizationCheckDecidedLocally(t *testing.T) {
	b := newBillingEnv(t)
	env, ctx := b.env, t.Context()
	sessions := b2bv1.NewSessionsServiceClient(env.Conn)

	t.Run("gRPC", func(t *testing.T) {
		res, err := sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
			Credential:         &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: b.biller.JWT},
			AuthorizationCheck: authzCheck(b.org.ID, "invoices", "write"),
		})
		require.NoError(t, err)
		assert.Equal(t, b2bv1.SessionVerifier_SESSION_VERIFIER_LOCAL, res.GetVerifiedBy())
		assert.True(t, res.GetVerdict().GetAuthorized())
		assert.Equal(t, []string{"billing_admin"}, res.GetVerdict().GetGrantingRoles())

		_, err = sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
			Credential:         &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: b.biller.JWT},
			AuthorizationCheck: authzCheck(b.org.ID, "invoices", "void"),
		})
		assert.Equal(t, rbac.ReasonDenied, stytchErrorReason(t, err))

		_, err = sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
			Credential:         &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: b.biller.JWT},
			AuthorizationCheck: authzCheck(b.other.ID, "invoices", "read"),
		})
		assert.Equal(t, rbac.ReasonTenancy, stytchErrorReason(t, err))
	})

	t.Run("REST", func(t *testing.T) {
		body := func(org, action string) map[string]any {
			return map[string]any{"session_jwt": b.biller.JWT, "authorization_check": map[string]any{"organization_id": org, "resource_id": "invoices", "action": action}}
		}
		r := env.REST(t, http.MethodPost, "/v1/b2b/sessions/authenticate", body(b.org.ID, "read"))
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		m := r.JSON(t)
		assert.Equal(t, "SESSION_VERIFIER_LOCAL", m["verified_by"])
		assert.Equal(t, map[string]any{"authorized": true, "granting_roles": []any{"billing_admin"}}, m["verdict"])

		assert.Equal(t, rbac.ReasonDenied, restErrorReason(t, env.REST(t, http.MethodPost, "/v1/b2b/sessions/authenticate", body(b.org.ID, "void"))))
		assert.Equal(t, rbac.ReasonTenancy, restErrorReason(t, env.REST(t, http.MethodPost, "/v1/b2b/sessions/authenticate", body(b.other.ID, "read"))))
	})

	assert.Equal(t, 0, env.StytchCalls(sessionAuthRoute), "a check on a session JWT reached Stytch")
	assert.Equal(t, 1, env.StytchCalls(policyRoute), "the policy was not fetched exactly once")

	t.Run("opaque token: Stytch decides the same way", func(t *testing.T) {
		res, err := sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
			Credential:         &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: b.biller.Token},
			AuthorizationCheck: authzCheck(b.org.ID, "invoices", "write"),
		})
		require.NoError(t, err)
		assert.Equal(t, b2bv1.SessionVerifier_SESSION_VERIFIER_REMOTE, res.GetVerifiedBy())
		assert.Equal(t, []string{"billing_admin"}, res.GetVerdict().GetGrantingRoles())
		_, err = sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
			Credential:         &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: b.biller.Token},
			AuthorizationCheck: authzCheck(b.org.ID, "invoices", "void"),
		})
		assert.Equal(t, rbac.ReasonDenied, stytchErrorReason(t, err))
		_, err = sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
			Credential:         &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: b.biller.Token},
			AuthorizationCheck: authzCheck(b.other.ID, "invoices", "read"),
		})
		assert.Equal(t, rbac.ReasonTenancy, stytchErrorReason(t, err))
		assert.Equal(t, 3, env.StytchCalls(sessionAuthRoute))
	})
}

// TestAuthorizationCheckImplicitRole: a role granted by the member's email domain is in the
// session JWT's roles and decides locally like an explicit one.
func TestAuthorizationCheckImplicitRole(t *testing.T) {
	b := newBillingEnv(t)
	c := testkit.Client(t, b.env.Emu)
	_, err := c.OrganizationUpdate(t.Context(), stytchclient.OrganizationUpdateParams{
		OrganizationID:                   b.org.ID,
		RBACEmailImplicitRoleAssignments: []stytchclient.EmailImplicitRoleAssignment{{Domain: "finance.test", RoleID: "finance"}},
	})
	require.NoError(t, err)
	s := memberSession(t, b.env, b.org.ID, "cfo@finance.test")
	res, err := b2bv1.NewSessionsServiceClient(b.env.Conn).Authenticate(t.Context(), &b2bv1.SessionsServiceAuthenticateRequest{
		Credential:         &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: s.JWT},
		AuthorizationCheck: authzCheck(b.org.ID, "invoices", "void"),
	})
	require.NoError(t, err)
	assert.Equal(t, b2bv1.SessionVerifier_SESSION_VERIFIER_LOCAL, res.GetVerifiedBy())
	assert.Equal(t, []string{"finance"}, res.GetVerdict().GetGrantingRoles())
	assert.Equal(t, 0, b.env.StytchCalls(sessionAuthRoute))
}

// TestRBACGetPolicy: RBACService.GetPolicy serves the cached policy to a service with read:rbac,
// and an organization's custom roles when asked; a service without the scope is refused.
func TestRBACGetPolicy(t *testing.T) {
	b := newBillingEnv(t)
	env, ctx := b.env, t.Context()
	setOrgRoles(t, env.Emu, b.org.ID, `{"org_policy":{"roles":[{"role_id":"acme_auditor","description":"Reads invoices","permissions":[{"resource_id":"invoices","actions":["read"]}]}]}}`)
	client, err := env.Emu.CreateM2MClient("policy-reader", []string{"read:rbac"})
	require.NoError(t, err)
	tok := m2mToken(t, env, client, nil)
	rbacClient := b2bv1.NewRBACServiceClient(env.Conn)

	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	res, err := rbacClient.GetPolicy(authed, &b2bv1.RBACServiceGetPolicyRequest{OrganizationId: b.org.ID})
	require.NoError(t, err)
	var roles []string
	for _, r := range res.GetPolicy().GetRoles() {
		roles = append(roles, r.GetRoleId())
	}
	assert.Equal(t, []string{"stytch_admin", "stytch_member", "billing_admin", "finance"}, roles)
	require.Len(t, res.GetOrganizationRoles(), 1)
	assert.Equal(t, "acme_auditor", res.GetOrganizationRoles()[0].GetRoleId())
	assert.Equal(t, []string{"read"}, res.GetOrganizationRoles()[0].GetPermissions()[0].GetActions())

	r := env.RESTWithHeaders(t, http.MethodGet, "/v1/b2b/rbac/policy", nil, http.Header{"Authorization": {"Bearer " + tok}})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Contains(t, string(r.Body), `"billing_admin"`)
	assert.Equal(t, 1, env.StytchCalls(policyRoute), "GetPolicy was not served from the cache")
	assert.Equal(t, 1, env.StytchCalls("GET /v1/b2b/rbac/organizations/{organization_id}"), "the organization's roles were not cached")

	_, err = rbacClient.GetPolicy(ctx, &b2bv1.RBACServiceGetPolicyRequest{})
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	other, err := env.Emu.CreateM2MClient("no-scope", []string{"read:members"})
	require.NoError(t, err)
	_, err = rbacClient.GetPolicy(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+m2mToken(t, env, other, nil)), &b2bv1.RBACServiceGetPolicyRequest{})
	assert.Equal(t, codes.PermissionDenied, status.Code(err))
}

// setOrgRoles sets an organization's custom roles in the emulator, as an operator would in Stytch.
func setOrgRoles(t *testing.T, emu *stytchemu.Server, orgID, body string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, emu.URL+"/v1/b2b/rbac/organizations/"+orgID, strings.NewReader(body))
	require.NoError(t, err)
	req.SetBasicAuth(emu.ProjectID(), emu.Secret())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
