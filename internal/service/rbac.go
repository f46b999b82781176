package service

import (
	"context"
	"log/slog"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// RBAC implements b2bv1.RBACServiceServer from the policy cache the session
// checker decides authorization checks with.
type RBAC struct {
	b2bv1.UnimplementedRBACServiceServer
	base
	policies *stytchclient.PolicyCache
}

var _ b2bv1.RBACServiceServer = (*RBAC)(nil)

// NewRBAC returns the RBACService serving policies.
func NewRBAC(policies *stytchclient.PolicyCache, log *slog.Logger) *RBAC {
	return &RBAC{base: newBase(log), policies: policies}
}

// GetPolicy returns the cached project policy, and an organization's custom roles when asked.
func (s *RBAC) GetPolicy(ctx context.Context, req *b2bv1.RBACServiceGetPolicyRequest) (*b2bv1.RBACServiceGetPolicyResponse, error) {
	p, err := s.policies.Policy(ctx)
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &b2bv1.RBACServiceGetPolicyResponse{Policy: toRBACPolicy(p.Document())}
	if org := req.GetOrganizationId(); org != "" {
		roles, err := s.policies.OrgRoles(ctx, org)
		if err != nil {
			return nil, s.toStatus(ctx, err, nil)
		}
		out.OrganizationRoles = toRBACRoles(roles)
	}
	return out, nil
}

func toRBACPolicy(d rbac.Document) *b2bv1.RBACPolicy {
	out := &b2bv1.RBACPolicy{Roles: toRBACRoles(d.Roles)}
	for _, r := range d.Resources {
		out.Resources = append(out.Resources, &b2bv1.RBACResource{ResourceId: r.ResourceID, Description: r.Description, Actions: r.Actions})
	}
	for _, sc := range d.Scopes {
		out.Scopes = append(out.Scopes, &b2bv1.RBACScope{Scope: sc.Scope, Description: sc.Description, Permissions: toRBACPermissions(sc.Permissions)})
	}
	return out
}

func toRBACRoles(in []rbac.Role) []*b2bv1.RBACRole {
	out := make([]*b2bv1.RBACRole, 0, len(in))
	for _, r := range in {
		out = append(out, &b2bv1.RBACRole{RoleId: r.RoleID, Description: r.Description, Permissions: toRBACPermissions(r.Permissions)})
	}
	return out
}

func toRBACPermissions(in []rbac.Permission) []*b2bv1.RBACPermission {
	out := make([]*b2bv1.RBACPermission, 0, len(in))
	for _, p := range in {
		out = append(out, &b2bv1.RBACPermission{ResourceId: p.ResourceID, Actions: p.Actions})
	}
	return out
}
