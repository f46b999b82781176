package stytchemu_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const sessionsAuthPath = "/v1/b2b/sessions/authenticate"

const billingPolicy = `{
  "resources": [{"resource_id": "invoices", "description": "Invoices", "actions": ["read", "write", "void"]}],
  "roles": [{"role_id": "billing_admin", "description": "Manages billing", "permissions": [{"resource_id": "invoices", "actions": ["read", "write"]}]},
            {"role_id": "finance", "description": "Every invoice action", "permissions": [{"resource_id": "invoices", "actions": ["*"]}]}]
}`

func billingWorld(t *testing.T) *world {
	t.Helper()
	p, err := rbac.Parse([]byte(billingPolicy))
	require.NoError(t, err)
	return newWorld(t, stytchemu.WithRBACPolicy(p))
}

func check(org, resource, action string) map[string]any {
	return map[string]any{"organization_id": org, "resource_id": resource, "action": action}
}

func TestRBACPolicyServed(t *testing.T) {
	w := billingWorld(t)
	r := w.h.do(get("/v1/b2b/rbac/policy"))
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	pol := r.obj("policy")
	var roles []string
	for _, x := range pol["roles"].([]any) {
		roles = append(roles, x.(map[string]any)["role_id"].(string))
	}
	assert.Equal(t, []string{"stytch_admin", "stytch_member", "billing_admin", "finance"}, roles)
	var resources []string
	for _, x := range pol["resources"].([]any) {
		resources = append(resources, x.(map[string]any)["resource_id"].(string))
	}
	assert.Equal(t, []string{"stytch.organization", "stytch.member", "stytch.sso", "stytch.scim", "stytch.self", "invoices"}, resources)

	// Without a custom policy: Stytch's defaults only.
	d := newWorld(t).h.do(get("/v1/b2b/rbac/policy"))
	require.Equal(t, http.StatusOK, d.status)
	assert.Len(t, d.obj("policy")["roles"], 2)
}

func TestRBACAuthorizationCheck(t *testing.T) {
	w := billingWorld(t)
	biller, err := w.h.emu.CreateMember(w.orgA.ID, stytchemu.MemberParams{Email: "biller@acme.test", Roles: []string{"billing_admin"}})
	require.NoError(t, err)
	ses, err := w.h.emu.CreateSession(w.orgA.ID, biller.ID, time.Hour)
	require.NoError(t, err)

	// The role is in the session JWT's claims, as Stytch puts it.
	claims, err := w.h.verify(w.h.jwksKeyfunc(t, "/v1/b2b/sessions/jwks/"), ses.JWT)
	require.NoError(t, err)
	sc := claims["https://stytch.com/session"].(map[string]any)
	assert.ElementsMatch(t, []any{"stytch_member", "billing_admin"}, sc["roles"])

	r := w.h.do(post(sessionsAuthPath, map[string]any{"session_jwt": ses.JWT, "authorization_check": check(w.orgA.ID, "invoices", "write")}))
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	assert.Equal(t, []any{"billing_admin"}, r.obj("verdict")["granting_roles"])

	r = w.h.do(post(sessionsAuthPath, map[string]any{"session_jwt": ses.JWT, "authorization_check": check(w.orgA.ID, "invoices", "void")}))
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, "session_authorization_error", r.str("error_type"))

	r = w.h.do(post(sessionsAuthPath, map[string]any{"session_jwt": ses.JWT, "authorization_check": check(w.orgB.ID, "invoices", "read")}))
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, "session_authorization_tenancy_error", r.str("error_type"))

	// stytch_admin holds no permission on a custom resource unless the policy grants it.
	r = w.h.do(post(sessionsAuthPath, map[string]any{"session_token": w.adminSes.Token, "authorization_check": check(w.orgA.ID, "invoices", "read")}))
	assert.Equal(t, "session_authorization_error", r.str("error_type"))
}

func TestRBACImplicitRoleByEmailDomain(t *testing.T) {
	w := billingWorld(t)
	r := w.h.do(call{method: http.MethodPut, path: "/v1/b2b/organizations/" + w.orgA.ID, body: map[string]any{
		"rbac_email_implicit_role_assignments": []map[string]any{{"domain": "acme.test", "role_id": "finance"}},
	}})
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	// user@acme.test holds finance by its email domain: a fresh JWT carries it.
	a := w.h.do(post(sessionsAuthPath, map[string]any{"session_token": w.userSes.Token, "authorization_check": check(w.orgA.ID, "invoices", "void")}))
	require.Equal(t, http.StatusOK, a.status, string(a.raw))
	assert.Equal(t, []any{"finance"}, a.obj("verdict")["granting_roles"])
	claims, err := w.h.verify(w.h.jwksKeyfunc(t, "/v1/b2b/sessions/jwks/"), a.str("session_jwt"))
	require.NoError(t, err)
	assert.Contains(t, claims["https://stytch.com/session"].(map[string]any)["roles"], "finance")
}

func TestRBACOrganizationRoles(t *testing.T) {
	w := billingWorld(t)
	path := "/v1/b2b/rbac/organizations/" + w.orgA.ID
	r := w.h.do(get(path))
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	assert.Equal(t, []any{}, r.obj("org_policy")["roles"])

	role := map[string]any{"role_id": "acme_auditor", "description": "Reads invoices", "permissions": []map[string]any{{"resource_id": "invoices", "actions": []string{"read"}}}}
	r = w.h.do(call{method: http.MethodPut, path: path, body: map[string]any{"org_policy": map[string]any{"roles": []any{role}}}})
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	assert.Len(t, r.obj("org_policy")["roles"], 1)
	assert.Len(t, w.h.do(get("/v1/b2b/organizations/" + w.orgA.ID)).obj("organization")["custom_roles"], 1)

	m, err := w.h.emu.CreateMember(w.orgA.ID, stytchemu.MemberParams{Email: "aud@acme.test", Roles: []string{"acme_auditor"}})
	require.NoError(t, err)
	ses, err := w.h.emu.CreateSession(w.orgA.ID, m.ID, time.Hour)
	require.NoError(t, err)
	a := w.h.do(post(sessionsAuthPath, map[string]any{"session_token": ses.Token, "authorization_check": check(w.orgA.ID, "invoices", "read")}))
	require.Equal(t, http.StatusOK, a.status, string(a.raw))
	assert.Equal(t, []any{"acme_auditor"}, a.obj("verdict")["granting_roles"])

	for name, bad := range map[string]map[string]any{
		"project role id":   {"role_id": "billing_admin", "description": "", "permissions": []any{}},
		"reserved prefix":   {"role_id": "stytch_x", "description": "", "permissions": []any{}},
		"unknown resource":  {"role_id": "x", "description": "", "permissions": []map[string]any{{"resource_id": "nope", "actions": []string{"read"}}}},
		"undeclared action": {"role_id": "x", "description": "", "permissions": []map[string]any{{"resource_id": "invoices", "actions": []string{"print"}}}},
	} {
		r := w.h.do(call{method: http.MethodPut, path: path, body: map[string]any{"org_policy": map[string]any{"roles": []any{bad}}}})
		assert.Equal(t, http.StatusBadRequest, r.status, name)
	}
	assert.Equal(t, http.StatusNotFound, w.h.do(get("/v1/b2b/rbac/organizations/organization-test-nope")).status)
}
