package stytchclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Metadata is a free-form JSON object (trusted/untrusted metadata, custom
// claims). In request structs a nil Metadata is omitted and an empty,
// non-nil one is sent as {} (fields are tagged omitzero).
type Metadata = map[string]any

// Timestamp is an RFC 3339 time as Stytch sends it. It decodes "", null and
// a missing field to the zero time instead of failing the whole response
// (encoding/json's time.Time rejects ""), and encodes the zero time as null.
type Timestamp struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) || bytes.Equal(b, []byte(`""`)) {
		t.Time = time.Time{}
		return nil
	}
	s, ok := plainString(b)
	if !ok {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("timestamp: %w", err)
		}
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	t.Time = v
	return nil
}

// plainString returns the text of a JSON string literal that has no escapes and only printable
// ASCII, which is what encoding/json would decode it to; other literals (escapes, UTF-8, not a
// string) are left to encoding/json. Every timestamp Stytch sends is such a literal, and decoding
// it here spares a second scan and a reflection-driven decode per timestamp.
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	for _, c := range b[1 : len(b)-1] {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(b[1 : len(b)-1]), true
}

// MarshalJSON implements json.Marshaler.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// Member is a B2B organization member.
type Member struct {
	OrganizationID         string              `json:"organization_id"`
	MemberID               string              `json:"member_id"`
	EmailAddress           string              `json:"email_address"`
	Status                 string              `json:"status"` // pending, invited, active, deleted
	Name                   string              `json:"name"`
	SSORegistrations       []SSORegistration   `json:"sso_registrations"`
	IsBreakglass           bool                `json:"is_breakglass"`
	MemberPasswordID       string              `json:"member_password_id"`
	OAuthRegistrations     []OAuthRegistration `json:"oauth_registrations"`
	EmailAddressVerified   bool                `json:"email_address_verified"`
	MFAPhoneNumberVerified bool                `json:"mfa_phone_number_verified"`
	IsAdmin                bool                `json:"is_admin"`
	TOTPRegistrationID     string              `json:"totp_registration_id"`
	RetiredEmailAddresses  []RetiredEmail      `json:"retired_email_addresses"`
	IsLocked               bool                `json:"is_locked"`
	MFAEnrolled            bool                `json:"mfa_enrolled"`
	MFAPhoneNumber         string              `json:"mfa_phone_number"`
	DefaultMFAMethod       string              `json:"default_mfa_method"`
	Roles                  []MemberRole        `json:"roles"`
	TrustedMetadata        Metadata            `json:"trusted_metadata,omitempty"`
	UntrustedMetadata      Metadata            `json:"untrusted_metadata,omitempty"`
	CreatedAt              Timestamp           `json:"created_at"`
	UpdatedAt              Timestamp           `json:"updated_at"`
	SCIMRegistration       *SCIMRegistration   `json:"scim_registration,omitempty"`
	ExternalID             string              `json:"external_id,omitempty"`
	LockCreatedAt          Timestamp           `json:"lock_created_at"`
	LockExpiresAt          Timestamp           `json:"lock_expires_at"`
}

// SSORegistration links a member to an SSO connection.
type SSORegistration struct {
	ConnectionID   string   `json:"connection_id"`
	ExternalID     string   `json:"external_id"`
	RegistrationID string   `json:"registration_id"`
	SSOAttributes  Metadata `json:"sso_attributes,omitempty"`
}

// OAuthRegistration links a member to an OAuth identity.
type OAuthRegistration struct {
	ProviderType              string `json:"provider_type"`
	ProviderSubject           string `json:"provider_subject"`
	MemberOAuthRegistrationID string `json:"member_oauth_registration_id"`
	ProfilePictureURL         string `json:"profile_picture_url,omitempty"`
	Locale                    string `json:"locale,omitempty"`
}

// SCIMRegistration links a member to a SCIM connection. SCIMAttributes is
// kept raw: it is a large SCIM schema authsvc does not interpret.
type SCIMRegistration struct {
	ConnectionID   string          `json:"connection_id"`
	RegistrationID string          `json:"registration_id"`
	ExternalID     string          `json:"external_id,omitempty"`
	SCIMAttributes json.RawMessage `json:"scim_attributes,omitempty"`
}

// RetiredEmail is a former email address of a member.
type RetiredEmail struct {
	EmailID      string `json:"email_id"`
	EmailAddress string `json:"email_address"`
}

// MemberRole is a role held by a member and why.
type MemberRole struct {
	RoleID  string             `json:"role_id"`
	Sources []MemberRoleSource `json:"sources"`
}

// MemberRoleSource says how a role was assigned (direct_assignment, email_assignment, ...).
type MemberRoleSource struct {
	Type    string   `json:"type"`
	Details Metadata `json:"details,omitempty"`
}

// Organization is a B2B organization.
type Organization struct {
	OrganizationID                       string                        `json:"organization_id"`
	OrganizationName                     string                        `json:"organization_name"`
	OrganizationLogoURL                  string                        `json:"organization_logo_url"`
	OrganizationSlug                     string                        `json:"organization_slug"`
	SSOJITProvisioning                   string                        `json:"sso_jit_provisioning"`
	SSOJITProvisioningAllowedConnections []string                      `json:"sso_jit_provisioning_allowed_connections"`
	SSOActiveConnections                 []ActiveSSOConnection         `json:"sso_active_connections"`
	EmailAllowedDomains                  []string                      `json:"email_allowed_domains"`
	EmailJITProvisioning                 string                        `json:"email_jit_provisioning"`
	EmailInvites                         string                        `json:"email_invites"`
	AuthMethods                          string                        `json:"auth_methods"`
	AllowedAuthMethods                   []string                      `json:"allowed_auth_methods"`
	MFAPolicy                            string                        `json:"mfa_policy"`
	RBACEmailImplicitRoleAssignments     []EmailImplicitRoleAssignment `json:"rbac_email_implicit_role_assignments"`
	MFAMethods                           string                        `json:"mfa_methods"`
	AllowedMFAMethods                    []string                      `json:"allowed_mfa_methods"`
	OAuthTenantJITProvisioning           string                        `json:"oauth_tenant_jit_provisioning"`
	ClaimedEmailDomains                  []string                      `json:"claimed_email_domains"`
	FirstPartyConnectedAppsAllowedType   string                        `json:"first_party_connected_apps_allowed_type"`
	AllowedFirstPartyConnectedApps       []string                      `json:"allowed_first_party_connected_apps"`
	ThirdPartyConnectedAppsAllowedType   string                        `json:"third_party_connected_apps_allowed_type"`
	AllowedThirdPartyConnectedApps       []string                      `json:"allowed_third_party_connected_apps"`
	CustomRoles                          []CustomRole                  `json:"custom_roles"`
	TrustedMetadata                      Metadata                      `json:"trusted_metadata,omitempty"`
	CreatedAt                            Timestamp                     `json:"created_at"`
	UpdatedAt                            Timestamp                     `json:"updated_at"`
	OrganizationExternalID               string                        `json:"organization_external_id,omitempty"`
	SSODefaultConnectionID               string                        `json:"sso_default_connection_id,omitempty"`
	SCIMActiveConnection                 *ActiveSCIMConnection         `json:"scim_active_connection,omitempty"`
	AllowedOAuthTenants                  Metadata                      `json:"allowed_oauth_tenants,omitempty"`
}

// ActiveSSOConnection is an SSO connection of an organization.
type ActiveSSOConnection struct {
	ConnectionID     string `json:"connection_id"`
	DisplayName      string `json:"display_name"`
	IdentityProvider string `json:"identity_provider"`
}

// ActiveSCIMConnection is the SCIM connection of an organization.
type ActiveSCIMConnection struct {
	ConnectionID         string    `json:"connection_id"`
	DisplayName          string    `json:"display_name"`
	BearerTokenLastFour  string    `json:"bearer_token_last_four"`
	BearerTokenExpiresAt Timestamp `json:"bearer_token_expires_at"`
}

// EmailImplicitRoleAssignment grants RoleID to members whose email is in Domain.
type EmailImplicitRoleAssignment struct {
	Domain string `json:"domain"`
	RoleID string `json:"role_id"`
}

// CustomRole is an organization-defined RBAC role.
type CustomRole struct {
	RoleID      string                 `json:"role_id"`
	Description string                 `json:"description"`
	Permissions []CustomRolePermission `json:"permissions"`
}

// CustomRolePermission lists actions on a resource.
type CustomRolePermission struct {
	ResourceID string   `json:"resource_id"`
	Actions    []string `json:"actions"`
}

// MemberSessionInfo is Stytch's B2B member session object
// (api_b2b_session_v1_MemberSession). Named ...Info to leave MemberSession
// for the acting-member credentials.
type MemberSessionInfo struct {
	MemberSessionID       string                 `json:"member_session_id"`
	MemberID              string                 `json:"member_id"`
	StartedAt             Timestamp              `json:"started_at"`
	LastAccessedAt        Timestamp              `json:"last_accessed_at"`
	ExpiresAt             Timestamp              `json:"expires_at"`
	AuthenticationFactors []AuthenticationFactor `json:"authentication_factors"`
	OrganizationID        string                 `json:"organization_id"`
	Roles                 []string               `json:"roles"`
	OrganizationSlug      string                 `json:"organization_slug"`
	CustomClaims          Metadata               `json:"custom_claims,omitempty"`
}

// AuthenticationFactor is one factor of a session. Exactly one of the
// *Factor fields is normally set, matching Type and DeliveryMethod; only the
// factors a B2B project can produce are modelled.
type AuthenticationFactor struct {
	Type                           string                          `json:"type"`
	DeliveryMethod                 string                          `json:"delivery_method"`
	LastAuthenticatedAt            Timestamp                       `json:"last_authenticated_at"`
	CreatedAt                      Timestamp                       `json:"created_at"`
	UpdatedAt                      Timestamp                       `json:"updated_at"`
	EmailFactor                    *EmailFactor                    `json:"email_factor,omitempty"`
	PhoneNumberFactor              *PhoneNumberFactor              `json:"phone_number_factor,omitempty"`
	AuthenticatorAppFactor         *AuthenticatorAppFactor         `json:"authenticator_app_factor,omitempty"`
	RecoveryCodeFactor             *RecoveryCodeFactor             `json:"recovery_code_factor,omitempty"`
	SAMLSSOFactor                  *SSOFactor                      `json:"saml_sso_factor,omitempty"`
	OIDCSSOFactor                  *SSOFactor                      `json:"oidc_sso_factor,omitempty"`
	GoogleOAuthFactor              *OAuthFactor                    `json:"google_oauth_factor,omitempty"`
	MicrosoftOAuthFactor           *OAuthFactor                    `json:"microsoft_oauth_factor,omitempty"`
	GithubOAuthFactor              *OAuthFactor                    `json:"github_oauth_factor,omitempty"`
	SlackOAuthFactor               *OAuthFactor                    `json:"slack_oauth_factor,omitempty"`
	HubspotOAuthFactor             *OAuthFactor                    `json:"hubspot_oauth_factor,omitempty"`
	ImpersonatedFactor             *ImpersonatedFactor             `json:"impersonated_factor,omitempty"`
	OAuthAccessTokenExchangeFactor *OAuthAccessTokenExchangeFactor `json:"oauth_access_token_exchange_factor,omitempty"`
	TrustedAuthTokenFactor         *TrustedAuthTokenFactor         `json:"trusted_auth_token_factor,omitempty"`
}

// EmailFactor is a magic link or email OTP factor.
type EmailFactor struct {
	EmailID      string `json:"email_id"`
	EmailAddress string `json:"email_address"`
}

// PhoneNumberFactor is an SMS OTP factor.
type PhoneNumberFactor struct {
	PhoneID     string `json:"phone_id"`
	PhoneNumber string `json:"phone_number"`
}

// AuthenticatorAppFactor is a TOTP factor.
type AuthenticatorAppFactor struct {
	TOTPID string `json:"totp_id"`
}

// RecoveryCodeFactor is a TOTP recovery code factor.
type RecoveryCodeFactor struct {
	TOTPRecoveryCodeID string `json:"totp_recovery_code_id"`
}

// SSOFactor is a SAML or OIDC factor.
type SSOFactor struct {
	ID         string `json:"id"`
	ProviderID string `json:"provider_id"`
	ExternalID string `json:"external_id"`
}

// OAuthFactor is an OAuth provider factor.
type OAuthFactor struct {
	ID              string `json:"id"`
	ProviderSubject string `json:"provider_subject"`
	EmailID         string `json:"email_id,omitempty"`
}

// ImpersonatedFactor records a dashboard impersonation.
type ImpersonatedFactor struct {
	ImpersonatorID           string `json:"impersonator_id"`
	ImpersonatorEmailAddress string `json:"impersonator_email_address"`
}

// OAuthAccessTokenExchangeFactor records a connected-app token exchange.
type OAuthAccessTokenExchangeFactor struct {
	ClientID string `json:"client_id"`
}

// TrustedAuthTokenFactor records a trusted auth token attestation.
type TrustedAuthTokenFactor struct {
	TokenID string `json:"token_id"`
}

// MFARequired tells how a member can finish MFA.
type MFARequired struct {
	MemberOptions          *MemberOptions `json:"member_options,omitempty"`
	SecondaryAuthInitiated string         `json:"secondary_auth_initiated,omitempty"`
}

// MemberOptions are the member's registered MFA methods.
type MemberOptions struct {
	MFAPhoneNumber     string `json:"mfa_phone_number"`
	TOTPRegistrationID string `json:"totp_registration_id"`
}

// PrimaryRequired lists primary auth methods the organization still requires.
type PrimaryRequired struct {
	AllowedAuthMethods []string `json:"allowed_auth_methods"`
}

// DeviceInfo is device fingerprint data (only with telemetry_id).
type DeviceInfo struct {
	VisitorID           string                  `json:"visitor_id"`
	VisitorIDDetails    *DeviceAttributeDetails `json:"visitor_id_details,omitempty"`
	IPAddress           string                  `json:"ip_address,omitempty"`
	IPAddressDetails    *DeviceAttributeDetails `json:"ip_address_details,omitempty"`
	IPGeoCity           string                  `json:"ip_geo_city,omitempty"`
	IPGeoRegion         string                  `json:"ip_geo_region,omitempty"`
	IPGeoCountry        string                  `json:"ip_geo_country,omitempty"`
	IPGeoCountryDetails *DeviceAttributeDetails `json:"ip_geo_country_details,omitempty"`
}

// DeviceAttributeDetails says whether a device attribute is new.
type DeviceAttributeDetails struct {
	IsNew       bool      `json:"is_new"`
	FirstSeenAt Timestamp `json:"first_seen_at"`
	LastSeenAt  Timestamp `json:"last_seen_at"`
}

// DiscoveredOrganization is an organization a discovered email may enter.
type DiscoveredOrganization struct {
	MemberAuthenticated bool             `json:"member_authenticated"`
	Organization        *Organization    `json:"organization,omitempty"`
	Membership          *Membership      `json:"membership,omitempty"`
	PrimaryRequired     *PrimaryRequired `json:"primary_required,omitempty"`
	MFARequired         *MFARequired     `json:"mfa_required,omitempty"`
}

// Membership is how a discovered email relates to an organization.
type Membership struct {
	Type    string   `json:"type"` // active_member, pending_member, invited_member, eligible_to_join_by_email_domain, eligible_to_join_by_oauth_tenant
	Details Metadata `json:"details,omitempty"`
	Member  *Member  `json:"member,omitempty"`
}

// AuthorizationCheck asks sessions/authenticate to check an RBAC permission.
type AuthorizationCheck struct {
	OrganizationID string `json:"organization_id"`
	ResourceID     string `json:"resource_id"`
	Action         string `json:"action"`
}

// AuthorizationVerdict is the answer to an AuthorizationCheck.
type AuthorizationVerdict struct {
	Authorized    bool     `json:"authorized"`
	GrantingRoles []string `json:"granting_roles"`
}

// JWK is one key of the project's JWKS.
type JWK struct {
	KTY     string   `json:"kty"`
	Use     string   `json:"use"`
	KeyOps  []string `json:"key_ops"`
	Alg     string   `json:"alg"`
	KID     string   `json:"kid"`
	X5C     []string `json:"x5c"`
	X5TS256 string   `json:"x5tS256"`
	N       string   `json:"n"`
	E       string   `json:"e"`
}

// SearchQuery filters a search. Operands are free-form filter objects, e.g.
// {"filter_name": "member_emails", "filter_value": ["a@example.com"]}.
type SearchQuery struct {
	Operator string           `json:"operator"` // "AND" ("OR" is deprecated for members/orgs)
	Operands []map[string]any `json:"operands"`
}

// ResultsMetadata is a search page's metadata. NextCursor is empty on the last page.
type ResultsMetadata struct {
	Total      int    `json:"total"`
	NextCursor string `json:"next_cursor,omitempty"`
}
