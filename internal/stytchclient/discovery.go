package stytchclient

import "context"

// DiscoveryListOrganizationsParams for POST /v1/b2b/discovery/organizations.
// Set one of IntermediateSessionToken, SessionToken, SessionJWT.
type DiscoveryListOrganizationsParams struct {
	IntermediateSessionToken string `json:"intermediate_session_token,omitempty"`
	SessionToken             string `json:"session_token,omitempty"`
	SessionJWT               string `json:"session_jwt,omitempty"`
}

// DiscoveryListOrganizationsResult lists the organizations an email can enter.
type DiscoveryListOrganizationsResult struct {
	Envelope
	EmailAddress            string                   `json:"email_address"`
	DiscoveredOrganizations []DiscoveredOrganization `json:"discovered_organizations"`
	OrganizationIDHint      string                   `json:"organization_id_hint,omitempty"`
}

// DiscoveryListOrganizations lists discovered organizations. It is a POST
// that changes nothing, so it is retried like a GET.
func (c *Client) DiscoveryListOrganizations(ctx context.Context, p DiscoveryListOrganizationsParams) (*DiscoveryListOrganizationsResult, error) {
	var out DiscoveryListOrganizationsResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/discovery/organizations",
		body:     p,
		readOnly: true,
	}, &out)
	return ptrOrNil(&out, err)
}

// DiscoveryCreateOrganizationParams for POST /v1/b2b/discovery/organizations/create.
type DiscoveryCreateOrganizationParams struct {
	IntermediateSessionToken           string                        `json:"intermediate_session_token"`
	SessionDurationMinutes             int32                         `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims                Metadata                      `json:"session_custom_claims,omitzero"`
	OrganizationName                   string                        `json:"organization_name,omitempty"`
	OrganizationSlug                   string                        `json:"organization_slug,omitempty"`
	OrganizationExternalID             string                        `json:"organization_external_id,omitempty"`
	OrganizationLogoURL                string                        `json:"organization_logo_url,omitempty"`
	TrustedMetadata                    Metadata                      `json:"trusted_metadata,omitzero"`
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
	FirstPartyConnectedAppsAllowedType string                        `json:"first_party_connected_apps_allowed_type,omitempty"`
	AllowedFirstPartyConnectedApps     []string                      `json:"allowed_first_party_connected_apps,omitzero"`
	ThirdPartyConnectedAppsAllowedType string                        `json:"third_party_connected_apps_allowed_type,omitempty"`
	AllowedThirdPartyConnectedApps     []string                      `json:"allowed_third_party_connected_apps,omitzero"`
	TelemetryID                        string                        `json:"telemetry_id,omitempty"`
}

// DiscoveryCreateOrganization creates an organization from an intermediate
// session and logs the member into it. Never retried once written.
func (c *Client) DiscoveryCreateOrganization(ctx context.Context, p DiscoveryCreateOrganizationParams) (*B2BAuthenticateResult, error) {
	var out B2BAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/discovery/organizations/create",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// DiscoveryExchangeIntermediateSessionParams for POST /v1/b2b/discovery/intermediate_sessions/exchange.
type DiscoveryExchangeIntermediateSessionParams struct {
	IntermediateSessionToken string   `json:"intermediate_session_token"`
	OrganizationID           string   `json:"organization_id"`
	SessionDurationMinutes   int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims      Metadata `json:"session_custom_claims,omitzero"`
	Locale                   string   `json:"locale,omitempty"`
	TelemetryID              string   `json:"telemetry_id,omitempty"`
}

// DiscoveryExchangeIntermediateSession turns an intermediate session into a
// member session in OrganizationID. Never retried once written (it consumes
// the intermediate session token).
func (c *Client) DiscoveryExchangeIntermediateSession(ctx context.Context, p DiscoveryExchangeIntermediateSessionParams) (*B2BAuthenticateResult, error) {
	var out B2BAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/discovery/intermediate_sessions/exchange",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}
