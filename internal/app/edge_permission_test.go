package app_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/edge"
	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

const edgePermissionRules = `rules:
  - name: invoices
    match: {path_pattern: "/orgs/{org}/invoices/**"}
    session:
      kind: member
      permission: {resource: invoices, action: write}
      organization_from: {path_param: org}
  - name: people
    match: {path_prefix: /people}
    session:
      kind: member
      permission: {resource: stytch.member, action: create}
      organization_from: {header: x-org-id}
`

// Edge rules naming an RBAC permission, decided with the project's policy (the example's custom
// roles) by Envoy's Check (the official request protos over a real gRPC connection) and forward
// auth alike: allowed for a role granting it, 403 missing_permission for a role that does not, 403
// wrong_organization for a member of another organization.
func TestEdgePermissionRules(t *testing.T) {
	emu := testkit.Emulator(t, stytchemu.WithRBACPolicy(rbac.Example()))
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte(edgePermissionRules), 0o600))
	env := apptest.Start(t, apptest.WithEmulator(emu), apptest.WithEnv(map[string]string{"AUTHSVC_EDGE_RULES": path}))
	org, err := emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Acme", Slug: "acme-edge-perm"})
	require.NoError(t, err)
	other, err := emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Other", Slug: "other-edge-perm"})
	require.NoError(t, err)

	biller := memberSession(t, env, org.ID, "biller@acme.test", "billing_admin")
	finance := memberSession(t, env, org.ID, "finance@acme.test", "finance")
	admin := memberSession(t, env, org.ID, "admin@acme.test", "stytch_admin")
	plain := memberSession(t, env, org.ID, "plain@acme.test")
	foreignBiller := memberSession(t, env, other.ID, "biller@other.test", "billing_admin")
	foreignAdmin := memberSession(t, env, other.ID, "admin@other.test", "stytch_admin")

	invoices := "/orgs/" + org.ID + "/invoices/42"
	call := func(tok, p string) edgeCall {
		return edgeCall{method: http.MethodPost, host: "app.example", path: p, header: authz(tok)}
	}
	people := func(tok string) edgeCall {
		return edgeCall{method: http.MethodPost, host: "app.example", path: "/people/new", header: withHeader(authz(tok), "x-org-id", org.ID)}
	}
	runEdgeCases(t, env, []edgeCase{
		{
			name: "custom role grants invoices write", call: call(biller.JWT, invoices), status: http.StatusOK, rule: "invoices",
			upstream: map[string]string{"x-authsvc-subject": biller.MemberID, "x-authsvc-organization": org.ID},
		},
		{name: "wildcard role", call: call(finance.JWT, invoices), status: http.StatusOK, rule: "invoices"},
		{name: "stytch_admin lacks invoices write", call: call(admin.JWT, invoices), status: http.StatusForbidden, reason: edge.ReasonMissingPermission, rule: "invoices"},
		{name: "stytch_member lacks invoices write", call: call(plain.JWT, invoices), status: http.StatusForbidden, reason: edge.ReasonMissingPermission, rule: "invoices"},
		{name: "billing_admin of another organization", call: call(foreignBiller.JWT, invoices), status: http.StatusForbidden, reason: "wrong_organization", rule: "invoices"},
		{name: "stytch_admin creates members", call: people(admin.JWT), status: http.StatusOK, rule: "people"},
		{name: "stytch_member cannot create members", call: people(plain.JWT), status: http.StatusForbidden, reason: edge.ReasonMissingPermission, rule: "people"},
		{name: "admin of another organization (header)", call: people(foreignAdmin.JWT), status: http.StatusForbidden, reason: "wrong_organization", rule: "people"},
	})
}
