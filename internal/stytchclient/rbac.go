package stytchclient

import (
	"context"

	"github.com/authsvc/authsvc/internal/rbac"
)

// RBACPolicyResult is the answer of GET /v1/b2b/rbac/policy.
type RBACPolicyResult struct {
	Envelope
	Policy rbac.Document `json:"policy"`
}

// RBACPolicy fetches the project's RBAC policy. Read-only: retried on
// transport failures and 5xx. Use a [PolicyCache] rather than calling it per
// check.
func (c *Client) RBACPolicy(ctx context.Context) (*RBACPolicyResult, error) {
	var out RBACPolicyResult
	err := c.do(ctx, call{endpoint: "GET /v1/b2b/rbac/policy"}, &out)
	return ptrOrNil(&out, err)
}

// RBACOrgPolicyResult is the answer of GET
// /v1/b2b/rbac/organizations/{organization_id}: the organization's custom
// roles, which supplement the project's policy for its members.
type RBACOrgPolicyResult struct {
	Envelope
	OrgPolicy struct {
		Roles []rbac.Role `json:"roles"`
	} `json:"org_policy"`
}

// RBACOrgPolicy fetches an organization's custom roles (by ID, slug or
// external ID). Read-only: retried on transport failures and 5xx.
func (c *Client) RBACOrgPolicy(ctx context.Context, organizationID string) (*RBACOrgPolicyResult, error) {
	var out RBACOrgPolicyResult
	err := c.do(ctx, call{
		endpoint: "GET /v1/b2b/rbac/organizations/{organization_id}",
		params:   []string{organizationID},
	}, &out)
	return ptrOrNil(&out, err)
}
