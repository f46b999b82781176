package edge_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/edge"
	"github.com/authsvc/authsvc/internal/edge/rules"
	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// fakePolicies serves one policy (or one error) and counts the calls.
type fakePolicies struct {
	p     *rbac.Policy
	err   error
	calls int
}

func (f *fakePolicies) For(context.Context, string, []string) (*rbac.Policy, error) {
	f.calls++
	return f.p, f.err
}

const permRules = `rules:
  - name: invoices
    match: {path_pattern: "/orgs/{org}/invoices/**"}
    session: {kind: member, permission: {resource: invoices, action: write}, organization_from: {path_param: org}}
`

func permEngine(t *testing.T, members *fakeChecker, pols *fakePolicies) *edge.Engine {
	t.Helper()
	set, err := rules.Parse("rules.yaml", []byte(permRules))
	require.NoError(t, err)
	cfg := edge.Config{Rules: set, M2M: fakeM2M{}, Members: members}
	if pols != nil {
		cfg.Policies = pols
	}
	e, err := edge.NewEngine(cfg)
	require.NoError(t, err)
	return e
}

func memberWithRoles(org string, roles ...string) *session.Result {
	return &session.Result{Session: stytchclient.MemberSessionInfo{MemberID: "member-1", OrganizationID: org, MemberSessionID: "ms-1", Roles: roles}}
}

// A permission rule admits the member whose role grants the action (a custom role, a wildcard) in
// the organization of the path; a role without it is 403 missing_permission, another organization
// 403 wrong_organization without asking for the policy.
func TestPermissionRuleDecides(t *testing.T) {
	pols := &fakePolicies{p: rbac.Example()}
	checker := &fakeChecker{}
	e := permEngine(t, checker, pols)
	in := func(org string) edge.Input {
		return edge.Input{Method: "POST", Target: "/orgs/" + org + "/invoices/7", Authorization: []string{"Bearer " + someJWT}}
	}
	cases := []struct {
		name   string
		res    *session.Result
		org    string
		status int
		reason string
	}{
		{"custom role grants it", memberWithRoles("org-1", "stytch_member", "billing_admin"), "org-1", http.StatusOK, "session"},
		{"wildcard action", memberWithRoles("org-1", "finance"), "ORG-1", http.StatusOK, "session"},
		{"wrong role", memberWithRoles("org-1", "stytch_member", "stytch_admin"), "org-1", http.StatusForbidden, edge.ReasonMissingPermission},
		{"wrong organization", memberWithRoles("org-2", "billing_admin"), "org-1", http.StatusForbidden, "wrong_organization"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checker.res = c.res
			before := pols.calls
			d := e.Decide(t.Context(), in(c.org))
			assert.Equal(t, c.status, d.Status)
			assert.Equal(t, c.reason, d.Reason)
			assert.Equal(t, c.status == http.StatusOK, d.Allowed)
			if c.reason == "wrong_organization" {
				assert.Equal(t, before, pols.calls, "tenancy needs no policy")
			}
		})
	}
}

// No policy, no admission: 503 with a retry when it cannot be fetched, 403 when there is none.
func TestPermissionRuleFailsClosed(t *testing.T) {
	checker := &fakeChecker{res: memberWithRoles("org-1", "billing_admin")}
	in := edge.Input{Method: "POST", Target: "/orgs/org-1/invoices/7", Authorization: []string{"Bearer " + someJWT}}

	d := permEngine(t, checker, &fakePolicies{err: errors.New("stytch: RBAC policy: 503")}).Decide(t.Context(), in)
	assert.False(t, d.Allowed)
	assert.Equal(t, http.StatusServiceUnavailable, d.Status)
	assert.Equal(t, edge.ReasonPolicyUnavailable, d.Reason)
	assert.Equal(t, time.Second, d.RetryAfter)

	d = permEngine(t, checker, nil).Decide(t.Context(), in)
	assert.False(t, d.Allowed)
	assert.Equal(t, http.StatusForbidden, d.Status)
	assert.Equal(t, "no_rbac_policy", d.Reason)
}
