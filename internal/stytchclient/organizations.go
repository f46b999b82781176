package stytchclient

import "context"

// OrganizationResult carries one organization.
type OrganizationResult struct {
	Envelope
	Organization Organization `json:"organization"`
}

// OrganizationCreateParams for POST /v1/b2b/organizations.
type OrganizationCreateParams struct {
	OrganizationName                   string                        `json:"organization_name"`
	OrganizationSlug                   string                        `json:"organization_slug,omitempty"`
	OrganizationLogoURL                string                        `json:"organization_logo_url,omitempty"`
	TrustedMetadata                    Metadata                      `json:"trusted_metadata,omitzero"`
	OrganizationExternalID             string                        `json:"organization_external_id,omitempty"`
	SSOJITProvisioning                 string                        `json:"sso_jit_provisioning,omitempty"`
	EmailAllowedDomains                []string                      `json:"email_allowed_domains,omitzero"`
	EmailJITProvisioning               string                        `json:"email_jit_provisioning,omitempty"`
	EmailInvites                       string                        `json:"email_invites,omitempty"`
	AuthMethods                        string                        `json:"auth_methods,omitempty"`
	AllowedAuthMethods                 []string                      `json:"allowed_auth_methods,omitzero"`
	MFAPolicy                          string                        `json:"mfa_policy,omitempty"`
	RBACEmailImplicitRoleAssignments   []EmailImplicitRoleAssignment `json:"rbac_email_implicit_role_assignments,omitzero"`
	MFAMethods                         string                        `json:"mfa_methods,omitempty"`
	AllowedMFAMethods                  []string                      `json:"allowed_mfa_methods,omitzero"`
	OAuthTenantJITProvisioning         string                        `json:"oauth_tenant_jit_provisioning,omitempty"`
	AllowedOAuthTenants                Metadata                      `json:"allowed_oauth_tenants,omitzero"`
	ClaimedEmailDomains                []string                      `json:"claimed_email_domains,omitzero"`
	FirstPartyConnectedAppsAllowedType string                        `json:"first_party_connected_apps_allowed_type,omitempty"`
	AllowedFirstPartyConnectedApps     []string                      `json:"allowed_first_party_connected_apps,omitzero"`
	ThirdPartyConnectedAppsAllowedType string                        `json:"third_party_connected_apps_allowed_type,omitempty"`
	AllowedThirdPartyConnectedApps     []string                      `json:"allowed_third_party_connected_apps,omitzero"`
}

// OrganizationCreate creates an organization. Never retried once written.
func (c *Client) OrganizationCreate(ctx context.Context, p OrganizationCreateParams) (*OrganizationResult, error) {
	var out OrganizationResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/organizations",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// OrganizationGet fetches an organization by ID, slug or external ID.
// Read-only: retried on transport failures and 5xx.
func (c *Client) OrganizationGet(ctx context.Context, organizationID string) (*OrganizationResult, error) {
	var out OrganizationResult
	err := c.do(ctx, call{
		endpoint: "GET /v1/b2b/organizations/{organization_id}",
		params:   []string{organizationID},
	}, &out)
	return ptrOrNil(&out, err)
}

// OrganizationUpdateParams for PUT /v1/b2b/organizations/{organization_id}.
//
// Every field is optional and only set fields are sent: a nil pointer,
// slice or map leaves the setting alone; a pointer to "" / an empty,
// non-nil slice / an empty map sends that empty value, which clears it.
type OrganizationUpdateParams struct {
	OrganizationID string `json:"-"`

	OrganizationName                     *string                       `json:"organization_name,omitempty"`
	OrganizationSlug                     *string                       `json:"organization_slug,omitempty"`
	OrganizationLogoURL                  *string                       `json:"organization_logo_url,omitempty"`
	TrustedMetadata                      Metadata                      `json:"trusted_metadata,omitzero"`
	OrganizationExternalID               *string                       `json:"organization_external_id,omitempty"`
	SSODefaultConnectionID               *string                       `json:"sso_default_connection_id,omitempty"`
	SSOJITProvisioning                   *string                       `json:"sso_jit_provisioning,omitempty"`
	SSOJITProvisioningAllowedConnections []string                      `json:"sso_jit_provisioning_allowed_connections,omitzero"`
	EmailAllowedDomains                  []string                      `json:"email_allowed_domains,omitzero"`
	EmailJITProvisioning                 *string                       `json:"email_jit_provisioning,omitempty"`
	EmailInvites                         *string                       `json:"email_invites,omitempty"`
	AuthMethods                          *string                       `json:"auth_methods,omitempty"`
	AllowedAuthMethods                   []string                      `json:"allowed_auth_methods,omitzero"`
	MFAPolicy                            *string                       `json:"mfa_policy,omitempty"`
	RBACEmailImplicitRoleAssignments     []EmailImplicitRoleAssignment `json:"rbac_email_implicit_role_assignments,omitzero"`
	MFAMethods                           *string                       `json:"mfa_methods,omitempty"`
	AllowedMFAMethods                    []string                      `json:"allowed_mfa_methods,omitzero"`
	OAuthTenantJITProvisioning           *string                       `json:"oauth_tenant_jit_provisioning,omitempty"`
	AllowedOAuthTenants                  Metadata                      `json:"allowed_oauth_tenants,omitzero"`
	ClaimedEmailDomains                  []string                      `json:"claimed_email_domains,omitzero"`
	FirstPartyConnectedAppsAllowedType   *string                       `json:"first_party_connected_apps_allowed_type,omitempty"`
	AllowedFirstPartyConnectedApps       []string                      `json:"allowed_first_party_connected_apps,omitzero"`
	ThirdPartyConnectedAppsAllowedType   *string                       `json:"third_party_connected_apps_allowed_type,omitempty"`
	AllowedThirdPartyConnectedApps       []string                      `json:"allowed_third_party_connected_apps,omitzero"`

	ActingMember MemberSession `json:"-"`
}

// OrganizationUpdate updates an organization. Not retried once written.
func (c *Client) OrganizationUpdate(ctx context.Context, p OrganizationUpdateParams) (*OrganizationResult, error) {
	var out OrganizationResult
	err := c.do(ctx, call{
		endpoint: "PUT /v1/b2b/organizations/{organization_id}",
		params:   []string{p.OrganizationID},
		body:     p,
		member:   p.ActingMember,
	}, &out)
	return ptrOrNil(&out, err)
}

// OrganizationDeleteResult is the response of organization delete.
type OrganizationDeleteResult struct {
	Envelope
	OrganizationID string `json:"organization_id"`
}

// OrganizationDelete deletes an organization and all its members. Not
// retried once written (a replay of a successful delete answers 404).
func (c *Client) OrganizationDelete(ctx context.Context, organizationID string, acting MemberSession) (*OrganizationDeleteResult, error) {
	var out OrganizationDeleteResult
	err := c.do(ctx, call{
		endpoint: "DELETE /v1/b2b/organizations/{organization_id}",
		params:   []string{organizationID},
		member:   acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// OrganizationDeleteExternalID removes an organization's external ID. Not
// retried once written.
func (c *Client) OrganizationDeleteExternalID(ctx context.Context, organizationID string, acting MemberSession) (*OrganizationResult, error) {
	var out OrganizationResult
	err := c.do(ctx, call{
		endpoint: "DELETE /v1/b2b/organizations/{organization_id}/external_id",
		params:   []string{organizationID},
		member:   acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// SearchParams is the body of the organization and M2M client searches.
type SearchParams struct {
	Cursor string       `json:"cursor,omitempty"`
	Limit  int32        `json:"limit,omitempty"`
	Query  *SearchQuery `json:"query,omitempty"`
}

// OrganizationSearchResult is a page of organizations.
type OrganizationSearchResult struct {
	Envelope
	Organizations   []Organization  `json:"organizations"`
	ResultsMetadata ResultsMetadata `json:"results_metadata"`
}

// OrganizationSearch searches organizations (Stytch: 100/min, not for login
// flows). A POST that changes nothing, so it is retried like a GET.
func (c *Client) OrganizationSearch(ctx context.Context, p SearchParams) (*OrganizationSearchResult, error) {
	var out OrganizationSearchResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/organizations/search",
		body:     p,
		readOnly: true,
	}, &out)
	return ptrOrNil(&out, err)
}

// OrganizationMetricsResult is the response of organization metrics.
type OrganizationMetricsResult struct {
	Envelope
	MemberCount int `json:"member_count"`
}

// OrganizationMetrics returns an organization's usage figures. Read-only:
// retried on transport failures and 5xx.
func (c *Client) OrganizationMetrics(ctx context.Context, organizationID string) (*OrganizationMetricsResult, error) {
	var out OrganizationMetricsResult
	err := c.do(ctx, call{
		endpoint: "GET /v1/b2b/organizations/{organization_id}/metrics",
		params:   []string{organizationID},
	}, &out)
	return ptrOrNil(&out, err)
}
