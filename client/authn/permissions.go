package authn

import (
	"context"
	"errors"
	"time"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// The reasons a permission check refuses a member, Stytch's error types (as authsvc's
// Sessions.Authenticate answers an authorization_check).
const (
	// ReasonPermissionDenied: no role of the member's session grants the action on the resource.
	ReasonPermissionDenied = rbac.ReasonDenied
	// ReasonOtherOrganization: the check names another organization than the session's.
	ReasonOtherOrganization = rbac.ReasonTenancy
)

// policyWait bounds the first policy fetch when Authorize is called without a context.
const policyWait = 5 * time.Second

// newPolicyCache caches the RBAC policy authsvc's RBACService.GetPolicy serves (the service's
// credentials need the read:rbac scope), with Stytch's SDK rules: kept 5 minutes, fetched again
// when a member's session names a role it does not define, an organization's custom roles fetched
// when the project's policy lacks a role.
func newPolicyCache(svc b2bv1.RBACServiceClient, now func() time.Time) (*stytchclient.PolicyCache, error) {
	pc, err := stytchclient.NewPolicyCache(stytchclient.PolicyCacheConfig{
		Now: now,
		Source: stytchclient.PolicySource{
			Project: func(ctx context.Context) (rbac.Document, error) {
				res, err := svc.GetPolicy(ctx, &b2bv1.RBACServiceGetPolicyRequest{})
				if err != nil {
					return rbac.Document{}, err //nolint:wrapcheck // the cache wraps it
				}
				return fromRBACPolicy(res.GetPolicy()), nil
			},
			Org: func(ctx context.Context, org string) ([]rbac.Role, error) {
				res, err := svc.GetPolicy(ctx, &b2bv1.RBACServiceGetPolicyRequest{OrganizationId: org})
				if err != nil {
					return nil, err //nolint:wrapcheck // the cache wraps it
				}
				return fromRBACRoles(res.GetOrganizationRoles()), nil
			},
		},
	})
	if err != nil {
		return nil, err //nolint:wrapcheck // New wraps it
	}
	return pc, nil
}

// RequirePermission admits members whose session holds a role that grants action on resource in
// their own organization, by the project's RBAC policy (roles, resources, actions; an action "*"
// in a role grants every action), e.g.
//
//	mux.Handle("POST /invoices", a.Middleware(authn.RequirePermission("invoices", "write"))(h))
//
// It is decided in the service from the session JWT's roles and the policy, which the
// Authenticator fetches from authsvc's RBACService.GetPolicy (its credentials need the scope
// read:rbac) and caches, exactly as authsvc and Stytch decide Sessions.Authenticate's
// authorization_check. A member refused is PERMISSION_DENIED with the reason
// "session_authorization_error". When the caller names an organization (a path segment, a body
// field), check it with [Principal.CheckPermission] in the handler. Users and services hold no
// member roles: the rule admits neither.
func RequirePermission(resource, action string) Rule {
	return Rule{kind: KindMember, permission: &permissionNeed{resource: resource, action: action}}
}

// permissionNeed is the permission a Rule requires.
type permissionNeed struct {
	resource, action string
}

// CheckPermission decides whether p, a member, may take action on resource in organizationID, as
// Stytch decides an authorization check: nil when a role of p's session grants it; an [*Error]
// matching [ErrPermissionDenied] with the reason [ReasonOtherOrganization] when organizationID is
// not p's organization, [ReasonPermissionDenied] when no role grants it (and for users and
// services); one matching [ErrUnavailable] when the policy could not be fetched.
func (p *Principal) CheckPermission(ctx context.Context, organizationID, resource, action string) error {
	if p == nil {
		return newError(ErrUnauthenticated, "no credentials", false)
	}
	if p.Kind != KindMember || p.policies == nil {
		return newError(ErrPermissionDenied, ReasonPermissionDenied, false)
	}
	if organizationID != p.OrganizationID {
		return newError(ErrPermissionDenied, ReasonOtherOrganization, false)
	}
	pol, err := p.policies.For(ctx, p.OrganizationID, p.Roles)
	if err != nil {
		return newError(ErrUnavailable, "rbac policy unavailable", true)
	}
	_, err = pol.Authorize(p.OrganizationID, p.Roles, rbac.Check{OrganizationID: organizationID, ResourceID: resource, Action: action})
	var re *rbac.Error
	if errors.As(err, &re) {
		return newError(ErrPermissionDenied, re.Reason, false)
	}
	return nil
}

// permitted applies r's permission, if any, to p (a member of r's kind).
func (r Rule) permitted(ctx context.Context, p *Principal) error {
	if r.permission == nil {
		return nil
	}
	return p.CheckPermission(ctx, p.OrganizationID, r.permission.resource, r.permission.action)
}

func fromRBACPolicy(p *b2bv1.RBACPolicy) rbac.Document {
	d := rbac.Document{Roles: fromRBACRoles(p.GetRoles())}
	for _, r := range p.GetResources() {
		d.Resources = append(d.Resources, rbac.Resource{ResourceID: r.GetResourceId(), Description: r.GetDescription(), Actions: r.GetActions()})
	}
	for _, s := range p.GetScopes() {
		d.Scopes = append(d.Scopes, rbac.Scope{Scope: s.GetScope(), Description: s.GetDescription(), Permissions: fromRBACPermissions(s.GetPermissions())})
	}
	return d
}

func fromRBACRoles(in []*b2bv1.RBACRole) []rbac.Role {
	out := make([]rbac.Role, 0, len(in))
	for _, r := range in {
		out = append(out, rbac.Role{RoleID: r.GetRoleId(), Description: r.GetDescription(), Permissions: fromRBACPermissions(r.GetPermissions())})
	}
	return out
}

func fromRBACPermissions(in []*b2bv1.RBACPermission) []rbac.Permission {
	out := make([]rbac.Permission, 0, len(in))
	for _, p := range in {
		out = append(out, rbac.Permission{ResourceID: p.GetResourceId(), Actions: p.GetActions()})
	}
	return out
}
