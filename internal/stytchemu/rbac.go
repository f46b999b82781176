package stytchemu

import (
	"net/http"
	"slices"
	"strings"

	"github.com/authsvc/authsvc/internal/rbac"
)

// WithRBACPolicy sets the project's B2B RBAC policy (rbac.Defaults merged
// with a custom policy, e.g. from rbac.LoadFile). Unset: Stytch's defaults.
func WithRBACPolicy(p *rbac.Policy) Option { return func(c *config) { c.policy = p } }

// policyFor is the policy that decides for members of org: the project's,
// supplemented by the organization's custom roles.
func (e *Emulator) policyFor(org *organization) *rbac.Policy {
	if org == nil || len(org.CustomRoles) == 0 {
		return e.policy
	}
	return e.policy.WithRoles(org.CustomRoles)
}

// checkSession decides an authorization check for a member session with
// rbac's decision function, answering Stytch's 403s. It returns the granting
// roles.
func (e *Emulator) checkSession(ss *memberSession, c rbac.Check) ([]string, *apiError) {
	m := e.st.members[ss.memberID]
	if m == nil {
		return nil, sessionNotFound()
	}
	d, err := e.policyFor(e.st.orgs[ss.orgID]).Authorize(ss.orgID, e.st.roleIDs(m), c)
	if err != nil {
		var reason string
		if re, ok := err.(*rbac.Error); ok { //nolint:errorlint // Authorize returns *rbac.Error unwrapped
			reason = re.Reason
		}
		if reason == rbac.ReasonTenancy {
			return nil, newErr(http.StatusForbidden, errSessionAuthzTenancy, "The member session belongs to a different organization than the one in the request.")
		}
		return nil, newErr(http.StatusForbidden, errSessionAuthz, "The member session is not authorized to perform %s on %s.", c.Action, c.ResourceID)
	}
	return d.GrantingRoles, nil
}

// rbacPolicy serves GET /v1/b2b/rbac/policy.
func (e *Emulator) rbacPolicy(_ *request) (any, error) {
	return obj{"policy": e.policy.Document()}, nil
}

func (e *Emulator) rbacOrgPolicyGet(rq *request) (any, error) {
	o, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	return obj{"org_policy": obj{"roles": nonNilRoles(o.CustomRoles)}}, nil
}

// rbacOrgPolicySet replaces an organization's custom roles. Their
// permissions must name resources of the project's policy and actions those
// resources declare (or *); their IDs must not clash with the project's
// roles.
func (e *Emulator) rbacOrgPolicySet(rq *request) (any, error) {
	o, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	var in struct {
		OrgPolicy *struct {
			Roles []rbac.Role `json:"roles"`
		} `json:"org_policy"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.OrgPolicy == nil {
		return nil, badRequest("org_policy is required.")
	}
	resources := map[string][]string{}
	for _, r := range e.policy.Document().Resources {
		resources[r.ResourceID] = r.Actions
	}
	seen := map[string]bool{}
	for _, r := range in.OrgPolicy.Roles {
		if r.RoleID == "" || strings.HasPrefix(r.RoleID, "stytch") || e.policy.HasRole(r.RoleID) || seen[r.RoleID] {
			return nil, badRequest("Each organization role needs a unique role_id that the project policy does not define.")
		}
		seen[r.RoleID] = true
		for _, p := range r.Permissions {
			acts, ok := resources[p.ResourceID]
			if !ok {
				return nil, badRequest("An organization role names a resource the project policy does not define.")
			}
			for _, a := range p.Actions {
				if a != rbac.WildcardAction && !slices.Contains(acts, a) {
					return nil, badRequest("An organization role names an action its resource does not declare.")
				}
			}
		}
	}
	o.CustomRoles = rbac.New(rbac.Document{Roles: in.OrgPolicy.Roles}).Document().Roles
	o.UpdatedAt = rfc3339(rq.now)
	return obj{"org_policy": obj{"roles": nonNilRoles(o.CustomRoles)}}, nil
}

func nonNilRoles(r []rbac.Role) []rbac.Role {
	if r == nil {
		return []rbac.Role{}
	}
	return r
}
