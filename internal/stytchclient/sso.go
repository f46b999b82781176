package stytchclient

import (
	"context"
	"net/url"
)

// B2B SSO connections (/v1/b2b/sso...) and sign-ins. Client secrets and private keys travel only
// in bodies, which the client never logs, records in spans or quotes in errors (request.go).

// SSORoleAssignment gives every member who signs in through a connection a role.
type SSORoleAssignment struct {
	RoleID string `json:"role_id"`
}

// SSOGroupRoleAssignment gives a role to the members of an IdP group.
type SSOGroupRoleAssignment struct {
	RoleID string `json:"role_id"`
	Group  string `json:"group"`
}

// X509Certificate is a certificate of a SAML connection.
type X509Certificate struct {
	CertificateID string `json:"certificate_id"`
	Certificate   string `json:"certificate"`
	Issuer        string `json:"issuer"`
	CreatedAt     string `json:"created_at"`
	ExpiresAt     string `json:"expires_at"`
}

// EncryptionPrivateKey is a SAML decryption key; PrivateKey is never passed on by authsvc.
type EncryptionPrivateKey struct {
	PrivateKeyID string `json:"private_key_id"`
	CreatedAt    string `json:"created_at"`
}

// SAMLConnection is Stytch's SAML connection object.
type SAMLConnection struct {
	OrganizationID           string                   `json:"organization_id"`
	ConnectionID             string                   `json:"connection_id"`
	Status                   string                   `json:"status"`
	IdPEntityID              string                   `json:"idp_entity_id"`
	DisplayName              string                   `json:"display_name"`
	IdPSSOURL                string                   `json:"idp_sso_url"`
	ACSURL                   string                   `json:"acs_url"`
	AudienceURI              string                   `json:"audience_uri"`
	SigningCertificates      []X509Certificate        `json:"signing_certificates"`
	VerificationCertificates []X509Certificate        `json:"verification_certificates"`
	EncryptionPrivateKeys    []EncryptionPrivateKey   `json:"encryption_private_keys"`
	ConnectionRoles          []SSORoleAssignment      `json:"saml_connection_implicit_role_assignments"`
	GroupRoles               []SSOGroupRoleAssignment `json:"saml_group_implicit_role_assignments"`
	AlternativeAudienceURI   string                   `json:"alternative_audience_uri"`
	IdentityProvider         string                   `json:"identity_provider"`
	NameIDFormat             string                   `json:"nameid_format"`
	AlternativeACSURL        string                   `json:"alternative_acs_url"`
	IdPInitiatedAuthDisabled bool                     `json:"idp_initiated_auth_disabled"`
	AllowGatewayCallback     bool                     `json:"allow_gateway_callback"`
	AttributeMapping         Metadata                 `json:"attribute_mapping"`
}

// OIDCConnection is Stytch's OIDC connection object.
type OIDCConnection struct {
	OrganizationID   string   `json:"organization_id"`
	ConnectionID     string   `json:"connection_id"`
	Status           string   `json:"status"`
	DisplayName      string   `json:"display_name"`
	RedirectURL      string   `json:"redirect_url"`
	ClientID         string   `json:"client_id"`
	ClientSecret     string   `json:"client_secret"`
	Issuer           string   `json:"issuer"`
	AuthorizationURL string   `json:"authorization_url"`
	TokenURL         string   `json:"token_url"`
	UserinfoURL      string   `json:"userinfo_url"`
	JWKSURL          string   `json:"jwks_url"`
	IdentityProvider string   `json:"identity_provider"`
	CustomScopes     string   `json:"custom_scopes"`
	AttributeMapping Metadata `json:"attribute_mapping"`
}

// ExternalConnection is Stytch's external connection object.
type ExternalConnection struct {
	OrganizationID         string                   `json:"organization_id"`
	ConnectionID           string                   `json:"connection_id"`
	ExternalOrganizationID string                   `json:"external_organization_id"`
	ExternalConnectionID   string                   `json:"external_connection_id"`
	DisplayName            string                   `json:"display_name"`
	Status                 string                   `json:"status"`
	ConnectionRoles        []SSORoleAssignment      `json:"external_connection_implicit_role_assignments"`
	GroupRoles             []SSOGroupRoleAssignment `json:"external_group_implicit_role_assignments"`
}

// SSOConnectionsResult is GET /v1/b2b/sso/{organization_id}.
type SSOConnectionsResult struct {
	SAMLConnections     []SAMLConnection     `json:"saml_connections"`
	OIDCConnections     []OIDCConnection     `json:"oidc_connections"`
	ExternalConnections []ExternalConnection `json:"external_connections"`
}

// SAMLConnectionResult wraps a SAML connection.
type SAMLConnectionResult struct {
	Connection SAMLConnection `json:"connection"`
}

// OIDCConnectionResult wraps an OIDC connection.
type OIDCConnectionResult struct {
	Connection OIDCConnection `json:"connection"`
	Warning    string         `json:"warning"`
}

// ExternalConnectionResult wraps an external connection.
type ExternalConnectionResult struct {
	Connection ExternalConnection `json:"connection"`
}

// SSOGetConnections lists an organization's connections. Retried: a read.
func (c *Client) SSOGetConnections(ctx context.Context, orgID string, acting MemberSession) (*SSOConnectionsResult, error) {
	var out SSOConnectionsResult
	err := c.do(ctx, call{endpoint: "GET /v1/b2b/sso/{organization_id}", params: []string{orgID}, member: acting}, &out)
	return ptrOrNil(&out, err)
}

// SSODeleteConnection deletes a connection. Not retried once written.
func (c *Client) SSODeleteConnection(ctx context.Context, orgID, connID string, acting MemberSession) (string, error) {
	var out struct {
		ConnectionID string `json:"connection_id"`
	}
	err := c.do(ctx, call{endpoint: "DELETE /v1/b2b/sso/{organization_id}/connections/{connection_id}", params: []string{orgID, connID}, member: acting}, &out)
	return out.ConnectionID, err
}

// SSOCreateParams for creating a SAML or OIDC connection.
type SSOCreateParams struct {
	DisplayName      string `json:"display_name,omitempty"`
	IdentityProvider string `json:"identity_provider,omitempty"`
}

// SSOSAMLCreate creates a SAML connection. Never retried once written: each call makes one.
func (c *Client) SSOSAMLCreate(ctx context.Context, orgID string, p SSOCreateParams, acting MemberSession) (*SAMLConnectionResult, error) {
	var out SAMLConnectionResult
	err := c.do(ctx, call{endpoint: "POST /v1/b2b/sso/saml/{organization_id}", params: []string{orgID}, body: p, member: acting}, &out)
	return ptrOrNil(&out, err)
}

// SSOSAMLUpdateParams for PUT /v1/b2b/sso/saml/{organization_id}/connections/{connection_id}:
// nil fields are left unchanged.
type SSOSAMLUpdateParams struct {
	IdPEntityID              *string                   `json:"idp_entity_id,omitempty"`
	DisplayName              *string                   `json:"display_name,omitempty"`
	AttributeMapping         Metadata                  `json:"attribute_mapping,omitzero"`
	X509Certificate          *string                   `json:"x509_certificate,omitempty"`
	IdPSSOURL                *string                   `json:"idp_sso_url,omitempty"`
	ConnectionRoles          *[]SSORoleAssignment      `json:"saml_connection_implicit_role_assignments,omitempty"`
	GroupRoles               *[]SSOGroupRoleAssignment `json:"saml_group_implicit_role_assignments,omitempty"`
	AlternativeAudienceURI   *string                   `json:"alternative_audience_uri,omitempty"`
	IdentityProvider         *string                   `json:"identity_provider,omitempty"`
	SigningPrivateKey        *string                   `json:"signing_private_key,omitempty"`
	NameIDFormat             *string                   `json:"nameid_format,omitempty"`
	AlternativeACSURL        *string                   `json:"alternative_acs_url,omitempty"`
	IdPInitiatedAuthDisabled *bool                     `json:"idp_initiated_auth_disabled,omitempty"`
	EncryptionPrivateKey     *string                   `json:"saml_encryption_private_key,omitempty"`
	AllowGatewayCallback     *bool                     `json:"allow_gateway_callback,omitempty"`
}

// SSOSAMLUpdate changes a SAML connection.
func (c *Client) SSOSAMLUpdate(ctx context.Context, orgID, connID string, p SSOSAMLUpdateParams, acting MemberSession) (*SAMLConnectionResult, error) {
	var out SAMLConnectionResult
	err := c.do(ctx, call{
		endpoint: "PUT /v1/b2b/sso/saml/{organization_id}/connections/{connection_id}", params: []string{orgID, connID},
		body: p, member: acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// SSOSAMLUpdateByURL has Stytch read the IdP's metadata from metadataURL.
func (c *Client) SSOSAMLUpdateByURL(ctx context.Context, orgID, connID, metadataURL string, acting MemberSession) (*SAMLConnectionResult, error) {
	var out SAMLConnectionResult
	err := c.do(ctx, call{
		endpoint: "PUT /v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/url", params: []string{orgID, connID},
		body: map[string]string{"metadata_url": metadataURL}, member: acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// SSOSAMLDeleteVerificationCertificate removes an IdP certificate.
func (c *Client) SSOSAMLDeleteVerificationCertificate(ctx context.Context, orgID, connID, certID string, acting MemberSession) (string, error) {
	var out struct {
		CertificateID string `json:"certificate_id"`
	}
	err := c.do(ctx, call{
		endpoint: "DELETE /v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/verification_certificates/{certificate_id}",
		params:   []string{orgID, connID, certID}, member: acting,
	}, &out)
	return out.CertificateID, err
}

// SSOSAMLDeleteEncryptionPrivateKey removes a decryption key.
func (c *Client) SSOSAMLDeleteEncryptionPrivateKey(ctx context.Context, orgID, connID, keyID string, acting MemberSession) (string, error) {
	var out struct {
		PrivateKeyID string `json:"private_key_id"`
	}
	err := c.do(ctx, call{
		endpoint: "DELETE /v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/encryption_private_keys/{private_key_id}",
		params:   []string{orgID, connID, keyID}, member: acting,
	}, &out)
	return out.PrivateKeyID, err
}

// SSOOIDCCreate creates an OIDC connection. Never retried once written.
func (c *Client) SSOOIDCCreate(ctx context.Context, orgID string, p SSOCreateParams, acting MemberSession) (*OIDCConnectionResult, error) {
	var out OIDCConnectionResult
	err := c.do(ctx, call{endpoint: "POST /v1/b2b/sso/oidc/{organization_id}", params: []string{orgID}, body: p, member: acting}, &out)
	return ptrOrNil(&out, err)
}

// SSOOIDCUpdateParams for PUT /v1/b2b/sso/oidc/{organization_id}/connections/{connection_id}: nil
// fields are left unchanged.
type SSOOIDCUpdateParams struct {
	DisplayName      *string  `json:"display_name,omitempty"`
	ClientID         *string  `json:"client_id,omitempty"`
	ClientSecret     *string  `json:"client_secret,omitempty"`
	Issuer           *string  `json:"issuer,omitempty"`
	AuthorizationURL *string  `json:"authorization_url,omitempty"`
	TokenURL         *string  `json:"token_url,omitempty"`
	UserinfoURL      *string  `json:"userinfo_url,omitempty"`
	JWKSURL          *string  `json:"jwks_url,omitempty"`
	IdentityProvider *string  `json:"identity_provider,omitempty"`
	CustomScopes     *string  `json:"custom_scopes,omitempty"`
	AttributeMapping Metadata `json:"attribute_mapping,omitzero"`
}

// SSOOIDCUpdate changes an OIDC connection.
func (c *Client) SSOOIDCUpdate(ctx context.Context, orgID, connID string, p SSOOIDCUpdateParams, acting MemberSession) (*OIDCConnectionResult, error) {
	var out OIDCConnectionResult
	err := c.do(ctx, call{
		endpoint: "PUT /v1/b2b/sso/oidc/{organization_id}/connections/{connection_id}", params: []string{orgID, connID},
		body: p, member: acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// SSOExternalCreateParams for POST /v1/b2b/sso/external/{organization_id}.
type SSOExternalCreateParams struct {
	ExternalOrganizationID string                   `json:"external_organization_id"`
	ExternalConnectionID   string                   `json:"external_connection_id"`
	DisplayName            string                   `json:"display_name,omitempty"`
	ConnectionRoles        []SSORoleAssignment      `json:"connection_implicit_role_assignments,omitempty"`
	GroupRoles             []SSOGroupRoleAssignment `json:"group_implicit_role_assignments,omitempty"`
}

// SSOExternalCreate creates an external connection. Never retried once written.
func (c *Client) SSOExternalCreate(ctx context.Context, orgID string, p SSOExternalCreateParams, acting MemberSession) (*ExternalConnectionResult, error) {
	var out ExternalConnectionResult
	err := c.do(ctx, call{endpoint: "POST /v1/b2b/sso/external/{organization_id}", params: []string{orgID}, body: p, member: acting}, &out)
	return ptrOrNil(&out, err)
}

// SSOExternalUpdateParams: nil fields are left unchanged.
type SSOExternalUpdateParams struct {
	DisplayName     *string                   `json:"display_name,omitempty"`
	ConnectionRoles *[]SSORoleAssignment      `json:"external_connection_implicit_role_assignments,omitempty"`
	GroupRoles      *[]SSOGroupRoleAssignment `json:"external_group_implicit_role_assignments,omitempty"`
}

// SSOExternalUpdate changes an external connection.
func (c *Client) SSOExternalUpdate(ctx context.Context, orgID, connID string, p SSOExternalUpdateParams, acting MemberSession) (*ExternalConnectionResult, error) {
	var out ExternalConnectionResult
	err := c.do(ctx, call{
		endpoint: "PUT /v1/b2b/sso/external/{organization_id}/connections/{connection_id}", params: []string{orgID, connID},
		body: p, member: acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// SSOAuthenticateParams for POST /v1/b2b/sso/authenticate.
type SSOAuthenticateParams struct {
	SSOToken                 string   `json:"sso_token"`
	PKCECodeVerifier         string   `json:"pkce_code_verifier,omitempty"`
	SessionToken             string   `json:"session_token,omitempty"`
	SessionJWT               string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes   int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims      Metadata `json:"session_custom_claims,omitzero"`
	Locale                   string   `json:"locale,omitempty"`
	IntermediateSessionToken string   `json:"intermediate_session_token,omitempty"`
}

// SSOAuthenticate redeems an SSO token. Never retried once written: the first attempt consumes it.
func (c *Client) SSOAuthenticate(ctx context.Context, p SSOAuthenticateParams) (*B2BAuthenticateResult, error) {
	var out B2BAuthenticateResult
	err := c.do(ctx, call{endpoint: "POST /v1/b2b/sso/authenticate", body: p}, &out)
	return ptrOrNil(&out, err)
}

// SSOStartEndpoint is the template of Stytch's SSO start redirect.
const SSOStartEndpoint = "GET /v1/public/sso/start"

// SSOStartParams are the start URL's query parameters: ConnectionID, or OrganizationID for the
// organization's default connection.
type SSOStartParams struct {
	PublicToken, ConnectionID, OrganizationID string
	LoginRedirectURL, SignupRedirectURL       string
	PKCECodeChallenge                         string
}

// SSOStartURL builds the start URL; it calls nothing.
func (c *Client) SSOStartURL(p SSOStartParams) (string, error) {
	if p.PublicToken == "" {
		return "", ErrNoPublicToken
	}
	q := url.Values{"public_token": {p.PublicToken}}
	for k, v := range map[string]string{
		"connection_id": p.ConnectionID, "organization_id": p.OrganizationID, "login_redirect_url": p.LoginRedirectURL,
		"signup_redirect_url": p.SignupRedirectURL, "pkce_code_challenge": p.PKCECodeChallenge,
	} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return c.baseURL + "/v1/public/sso/start?" + q.Encode(), nil
}
