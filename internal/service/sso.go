package service

import (
	"context"
	"log/slog"

	"google.golang.org/grpc/codes"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// SSO implements b2bv1.SSOServiceServer: an organization's SSO connections and SSO sign-ins.
// Administration acts as the calling member when there is one (X-Stytch-Member-Session), so that
// Stytch's RBAC decides too. Secrets sent in (client secrets, private keys) never come back.
type SSO struct {
	b2bv1.UnimplementedSSOServiceServer
	base
	stytch      *stytchclient.Client
	publicToken string
	redirects   RedirectPolicy
}

var _ b2bv1.SSOServiceServer = (*SSO)(nil)

// NewSSO returns the SSOService; stytch is the B2B project's client, publicToken its public token
// (STYTCH_PUBLIC_TOKEN; empty refuses StartURL) and redirects the allowlist of redirect URLs.
func NewSSO(stytch *stytchclient.Client, publicToken string, redirects RedirectPolicy, log *slog.Logger) *SSO {
	return &SSO{base: newBase(log), stytch: stytch, publicToken: publicToken, redirects: redirects}
}

var ssoIdentityProviders = newEnumNames(map[b2bv1.SSOIdentityProvider]string{
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_CLASSLINK:        "classlink",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_CYBERARK:         "cyberark",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_DUO:              "duo",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_GENERIC:          "generic",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_GOOGLE_WORKSPACE: "google-workspace",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_JUMPCLOUD:        "jumpcloud",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_KEYCLOAK:         "keycloak",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_MINIORANGE:       "miniorange",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_MICROSOFT_ENTRA:  "microsoft-entra",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_OKTA:             "okta",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_ONELOGIN:         "onelogin",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_PINGFEDERATE:     "pingfederate",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_RIPPLING:         "rippling",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_SALESFORCE:       "salesforce",
	b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_SHIBBOLETH:       "shibboleth",
})

var ssoStatuses = newEnumNames(map[b2bv1.SSOConnectionStatus]string{
	b2bv1.SSOConnectionStatus_SSO_CONNECTION_STATUS_PENDING: "pending",
	b2bv1.SSOConnectionStatus_SSO_CONNECTION_STATUS_ACTIVE:  "active",
})

// failSSO answers every rejected SSO token alike: unknown, used, expired.
var failSSO = &authFailure{
	reason: "unable_to_auth_sso_token", message: "the SSO token is invalid, expired or already used",
	types: []string{"sso_token_not_found", "connection_not_found"},
}

func toCerts(in []stytchclient.X509Certificate) []*b2bv1.X509Certificate {
	out := make([]*b2bv1.X509Certificate, 0, len(in))
	for _, c := range in {
		out = append(out, &b2bv1.X509Certificate{
			CertificateId: c.CertificateID, Certificate: c.Certificate, Issuer: c.Issuer, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt,
		})
	}
	return out
}

func toConnRoles(in []stytchclient.SSORoleAssignment) []*b2bv1.SSOConnectionRoleAssignment {
	out := make([]*b2bv1.SSOConnectionRoleAssignment, 0, len(in))
	for _, r := range in {
		out = append(out, &b2bv1.SSOConnectionRoleAssignment{RoleId: r.RoleID})
	}
	return out
}

func toGroupRoles(in []stytchclient.SSOGroupRoleAssignment) []*b2bv1.SSOGroupRoleAssignment {
	out := make([]*b2bv1.SSOGroupRoleAssignment, 0, len(in))
	for _, r := range in {
		out = append(out, &b2bv1.SSOGroupRoleAssignment{RoleId: r.RoleID, Group: r.Group})
	}
	return out
}

func fromConnRoles(in []*b2bv1.SSOConnectionRoleAssignment) []stytchclient.SSORoleAssignment {
	out := []stytchclient.SSORoleAssignment{}
	for _, r := range in {
		out = append(out, stytchclient.SSORoleAssignment{RoleID: r.GetRoleId()})
	}
	return out
}

func fromGroupRoles(in []*b2bv1.SSOGroupRoleAssignment) []stytchclient.SSOGroupRoleAssignment {
	out := []stytchclient.SSOGroupRoleAssignment{}
	for _, r := range in {
		out = append(out, stytchclient.SSOGroupRoleAssignment{RoleID: r.GetRoleId(), Group: r.GetGroup()})
	}
	return out
}

func toSAMLConnection(c *stytchclient.SAMLConnection) *b2bv1.SAMLConnection {
	keys := make([]*b2bv1.EncryptionPrivateKey, 0, len(c.EncryptionPrivateKeys))
	for _, k := range c.EncryptionPrivateKeys {
		keys = append(keys, &b2bv1.EncryptionPrivateKey{PrivateKeyId: k.PrivateKeyID, CreatedAt: k.CreatedAt})
	}
	return &b2bv1.SAMLConnection{
		OrganizationId: c.OrganizationID, ConnectionId: c.ConnectionID, Status: ssoStatuses.value(c.Status),
		DisplayName: c.DisplayName, IdpEntityId: c.IdPEntityID, IdpSsoUrl: c.IdPSSOURL, AcsUrl: c.ACSURL,
		AudienceUri: c.AudienceURI, SigningCertificates: toCerts(c.SigningCertificates),
		VerificationCertificates: toCerts(c.VerificationCertificates), EncryptionPrivateKeys: keys,
		SamlConnectionImplicitRoleAssignments: toConnRoles(c.ConnectionRoles),
		SamlGroupImplicitRoleAssignments:      toGroupRoles(c.GroupRoles),
		AlternativeAudienceUri:                c.AlternativeAudienceURI, IdentityProvider: ssoIdentityProviders.value(c.IdentityProvider),
		NameidFormat: c.NameIDFormat, AlternativeAcsUrl: c.AlternativeACSURL,
		IdpInitiatedAuthDisabled: c.IdPInitiatedAuthDisabled, AllowGatewayCallback: c.AllowGatewayCallback,
		AttributeMapping: toStruct(c.AttributeMapping),
	}
}

func toOIDCConnection(c *stytchclient.OIDCConnection) *b2bv1.OIDCConnection {
	return &b2bv1.OIDCConnection{
		OrganizationId: c.OrganizationID, ConnectionId: c.ConnectionID, Status: ssoStatuses.value(c.Status),
		DisplayName: c.DisplayName, RedirectUrl: c.RedirectURL, ClientId: c.ClientID, Issuer: c.Issuer,
		AuthorizationUrl: c.AuthorizationURL, TokenUrl: c.TokenURL, UserinfoUrl: c.UserinfoURL, JwksUrl: c.JWKSURL,
		IdentityProvider: ssoIdentityProviders.value(c.IdentityProvider), CustomScopes: c.CustomScopes,
		AttributeMapping: toStruct(c.AttributeMapping), ClientSecretSet: c.ClientSecret != "",
	}
}

func toExternalConnection(c *stytchclient.ExternalConnection) *b2bv1.ExternalConnection {
	return &b2bv1.ExternalConnection{
		OrganizationId: c.OrganizationID, ConnectionId: c.ConnectionID, ExternalOrganizationId: c.ExternalOrganizationID,
		ExternalConnectionId: c.ExternalConnectionID, DisplayName: c.DisplayName, Status: ssoStatuses.value(c.Status),
		ExternalConnectionImplicitRoleAssignments: toConnRoles(c.ConnectionRoles),
		ExternalGroupImplicitRoleAssignments:      toGroupRoles(c.GroupRoles),
	}
}

func idpPtr(v b2bv1.SSOIdentityProvider) *string {
	if n := ssoIdentityProviders.name(v); n != "" {
		return &n
	}
	return nil
}

// GetConnections lists the organization's connections.
func (s *SSO) GetConnections(ctx context.Context, req *b2bv1.SSOServiceGetConnectionsRequest) (*b2bv1.SSOServiceGetConnectionsResponse, error) {
	res, err := s.stytch.SSOGetConnections(ctx, req.GetOrganizationId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &b2bv1.SSOServiceGetConnectionsResponse{}
	for i := range res.SAMLConnections {
		out.SamlConnections = append(out.SamlConnections, toSAMLConnection(&res.SAMLConnections[i]))
	}
	for i := range res.OIDCConnections {
		out.OidcConnections = append(out.OidcConnections, toOIDCConnection(&res.OIDCConnections[i]))
	}
	for i := range res.ExternalConnections {
		out.ExternalConnections = append(out.ExternalConnections, toExternalConnection(&res.ExternalConnections[i]))
	}
	return out, nil
}

// DeleteConnection deletes a connection.
func (s *SSO) DeleteConnection(ctx context.Context, req *b2bv1.SSOServiceDeleteConnectionRequest) (*b2bv1.SSOServiceDeleteConnectionResponse, error) {
	id, err := s.stytch.SSODeleteConnection(ctx, req.GetOrganizationId(), req.GetConnectionId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SSOServiceDeleteConnectionResponse{ConnectionId: id}, nil
}

// CreateSAMLConnection creates a pending SAML connection.
func (s *SSO) CreateSAMLConnection(ctx context.Context, req *b2bv1.SSOServiceCreateSAMLConnectionRequest) (*b2bv1.SSOServiceCreateSAMLConnectionResponse, error) {
	res, err := s.stytch.SSOSAMLCreate(ctx, req.GetOrganizationId(), stytchclient.SSOCreateParams{
		DisplayName: req.GetDisplayName(), IdentityProvider: ssoIdentityProviders.name(req.GetIdentityProvider()),
	}, access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SSOServiceCreateSAMLConnectionResponse{Connection: toSAMLConnection(&res.Connection)}, nil
}

// UpdateSAMLConnection changes the fields that are set.
func (s *SSO) UpdateSAMLConnection(ctx context.Context, req *b2bv1.SSOServiceUpdateSAMLConnectionRequest) (*b2bv1.SSOServiceUpdateSAMLConnectionResponse, error) {
	p := stytchclient.SSOSAMLUpdateParams{
		IdPEntityID: req.IdpEntityId, DisplayName: req.DisplayName, AttributeMapping: fromStruct(req.GetAttributeMapping()),
		X509Certificate: req.X509Certificate, IdPSSOURL: req.IdpSsoUrl, AlternativeAudienceURI: req.AlternativeAudienceUri,
		IdentityProvider: idpPtr(req.GetIdentityProvider()), SigningPrivateKey: req.SigningPrivateKey,
		NameIDFormat: req.NameidFormat, AlternativeACSURL: req.AlternativeAcsUrl,
		IdPInitiatedAuthDisabled: req.IdpInitiatedAuthDisabled, EncryptionPrivateKey: req.SamlEncryptionPrivateKey,
		AllowGatewayCallback: req.AllowGatewayCallback,
	}
	if w := req.GetSamlConnectionImplicitRoleAssignments(); w != nil {
		r := fromConnRoles(w.GetAssignments())
		p.ConnectionRoles = &r
	}
	if w := req.GetSamlGroupImplicitRoleAssignments(); w != nil {
		r := fromGroupRoles(w.GetAssignments())
		p.GroupRoles = &r
	}
	res, err := s.stytch.SSOSAMLUpdate(ctx, req.GetOrganizationId(), req.GetConnectionId(), p, access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SSOServiceUpdateSAMLConnectionResponse{Connection: toSAMLConnection(&res.Connection)}, nil
}

// UpdateSAMLConnectionByURL configures a SAML connection from the IdP's metadata.
func (s *SSO) UpdateSAMLConnectionByURL(ctx context.Context, req *b2bv1.SSOServiceUpdateSAMLConnectionByURLRequest) (*b2bv1.SSOServiceUpdateSAMLConnectionByURLResponse, error) {
	res, err := s.stytch.SSOSAMLUpdateByURL(ctx, req.GetOrganizationId(), req.GetConnectionId(), req.GetMetadataUrl(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SSOServiceUpdateSAMLConnectionByURLResponse{Connection: toSAMLConnection(&res.Connection)}, nil
}

// DeleteSAMLVerificationCertificate removes an IdP certificate.
func (s *SSO) DeleteSAMLVerificationCertificate(ctx context.Context, req *b2bv1.SSOServiceDeleteSAMLVerificationCertificateRequest) (*b2bv1.SSOServiceDeleteSAMLVerificationCertificateResponse, error) {
	id, err := s.stytch.SSOSAMLDeleteVerificationCertificate(ctx, req.GetOrganizationId(), req.GetConnectionId(), req.GetCertificateId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SSOServiceDeleteSAMLVerificationCertificateResponse{CertificateId: id}, nil
}

// DeleteSAMLEncryptionPrivateKey removes a decryption key.
func (s *SSO) DeleteSAMLEncryptionPrivateKey(ctx context.Context, req *b2bv1.SSOServiceDeleteSAMLEncryptionPrivateKeyRequest) (*b2bv1.SSOServiceDeleteSAMLEncryptionPrivateKeyResponse, error) {
	id, err := s.stytch.SSOSAMLDeleteEncryptionPrivateKey(ctx, req.GetOrganizationId(), req.GetConnectionId(), req.GetPrivateKeyId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SSOServiceDeleteSAMLEncryptionPrivateKeyResponse{PrivateKeyId: id}, nil
}

// CreateOIDCConnection creates a pending OIDC connection.
func (s *SSO) CreateOIDCConnection(ctx context.Context, req *b2bv1.SSOServiceCreateOIDCConnectionRequest) (*b2bv1.SSOServiceCreateOIDCConnectionResponse, error) {
	res, err := s.stytch.SSOOIDCCreate(ctx, req.GetOrganizationId(), stytchclient.SSOCreateParams{
		DisplayName: req.GetDisplayName(), IdentityProvider: ssoIdentityProviders.name(req.GetIdentityProvider()),
	}, access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SSOServiceCreateOIDCConnectionResponse{Connection: toOIDCConnection(&res.Connection)}, nil
}

// UpdateOIDCConnection changes the fields that are set.
func (s *SSO) UpdateOIDCConnection(ctx context.Context, req *b2bv1.SSOServiceUpdateOIDCConnectionRequest) (*b2bv1.SSOServiceUpdateOIDCConnectionResponse, error) {
	res, err := s.stytch.SSOOIDCUpdate(ctx, req.GetOrganizationId(), req.GetConnectionId(), stytchclient.SSOOIDCUpdateParams{
		DisplayName: req.DisplayName, ClientID: req.ClientId, ClientSecret: req.ClientSecret, Issuer: req.Issuer,
		AuthorizationURL: req.AuthorizationUrl, TokenURL: req.TokenUrl, UserinfoURL: req.UserinfoUrl, JWKSURL: req.JwksUrl,
		IdentityProvider: idpPtr(req.GetIdentityProvider()), CustomScopes: req.CustomScopes,
		AttributeMapping: fromStruct(req.GetAttributeMapping()),
	}, access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SSOServiceUpdateOIDCConnectionResponse{Connection: toOIDCConnection(&res.Connection), Warning: res.Warning}, nil
}

// CreateExternalConnection reuses another organization's connection.
func (s *SSO) CreateExternalConnection(ctx context.Context, req *b2bv1.SSOServiceCreateExternalConnectionRequest) (*b2bv1.SSOServiceCreateExternalConnectionResponse, error) {
	res, err := s.stytch.SSOExternalCreate(ctx, req.GetOrganizationId(), stytchclient.SSOExternalCreateParams{
		ExternalOrganizationID: req.GetExternalOrganizationId(), ExternalConnectionID: req.GetExternalConnectionId(),
		DisplayName: req.GetDisplayName(), ConnectionRoles: fromConnRoles(req.GetConnectionImplicitRoleAssignments()),
		GroupRoles: fromGroupRoles(req.GetGroupImplicitRoleAssignments()),
	}, access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SSOServiceCreateExternalConnectionResponse{Connection: toExternalConnection(&res.Connection)}, nil
}

// UpdateExternalConnection changes the fields that are set.
func (s *SSO) UpdateExternalConnection(ctx context.Context, req *b2bv1.SSOServiceUpdateExternalConnectionRequest) (*b2bv1.SSOServiceUpdateExternalConnectionResponse, error) {
	p := stytchclient.SSOExternalUpdateParams{DisplayName: req.DisplayName}
	if w := req.GetExternalConnectionImplicitRoleAssignments(); w != nil {
		r := fromConnRoles(w.GetAssignments())
		p.ConnectionRoles = &r
	}
	if w := req.GetExternalGroupImplicitRoleAssignments(); w != nil {
		r := fromGroupRoles(w.GetAssignments())
		p.GroupRoles = &r
	}
	res, err := s.stytch.SSOExternalUpdate(ctx, req.GetOrganizationId(), req.GetConnectionId(), p, access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SSOServiceUpdateExternalConnectionResponse{Connection: toExternalConnection(&res.Connection)}, nil
}

// StartURL builds Stytch's SSO start URL.
func (s *SSO) StartURL(_ context.Context, req *b2bv1.SSOServiceStartURLRequest) (*b2bv1.SSOServiceStartURLResponse, error) {
	if (req.GetConnectionId() == "") == (req.GetOrganizationId() == "") {
		return nil, rpcerr.New(codes.InvalidArgument, "invalid_argument",
			"connection_id: exactly one of connection_id and organization_id is required")
	}
	if s.publicToken == "" {
		return nil, rpcerr.New(codes.FailedPrecondition, "public_token_not_configured",
			"SSO start URLs need the B2B project's public token: set STYTCH_PUBLIC_TOKEN")
	}
	login, err := s.redirects.Resolve("login_redirect_url", req.GetLoginRedirectUrl())
	if err != nil {
		return nil, err
	}
	signup, err := s.redirects.Resolve("signup_redirect_url", req.GetSignupRedirectUrl())
	if err != nil {
		return nil, err
	}
	u, err := s.stytch.SSOStartURL(stytchclient.SSOStartParams{
		PublicToken: s.publicToken, ConnectionID: req.GetConnectionId(), OrganizationID: req.GetOrganizationId(),
		LoginRedirectURL: login, SignupRedirectURL: signup, PKCECodeChallenge: req.GetPkceCodeChallenge(),
	})
	if err != nil {
		return nil, rpcerr.New(codes.Internal, "internal", "the SSO start URL could not be built").WithCause(err)
	}
	return &b2bv1.SSOServiceStartURLResponse{Url: u}, nil
}

// Authenticate redeems an SSO token. Every rejection of the token (unknown, used, expired) is the
// same UNAUTHENTICATED answer.
func (s *SSO) Authenticate(ctx context.Context, req *b2bv1.SSOServiceAuthenticateRequest) (*b2bv1.SSOServiceAuthenticateResponse, error) {
	res, err := s.stytch.SSOAuthenticate(ctx, stytchclient.SSOAuthenticateParams{
		SSOToken:                 req.GetSsoToken(),
		PKCECodeVerifier:         req.GetPkceCodeVerifier(),
		SessionToken:             req.GetSessionToken(),
		SessionJWT:               req.GetSessionJwt(),
		IntermediateSessionToken: req.GetIntermediateSessionToken(),
		SessionDurationMinutes:   req.GetSessionDurationMinutes(),
		SessionCustomClaims:      fromStruct(req.GetSessionCustomClaims()),
		Locale:                   locales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failSSO)
	}
	out := newAuthResponse[b2bv1.SSOServiceAuthenticateResponse](res)
	out.OrganizationId = res.OrganizationID
	return out, nil
}
