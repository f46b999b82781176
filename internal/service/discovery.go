package service

import (
	"context"
	"log/slog"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// Discovery implements b2bv1.DiscoveryServiceServer.
type Discovery struct {
	b2bv1.UnimplementedDiscoveryServiceServer
	base
	stytch *stytchclient.Client
}

var _ b2bv1.DiscoveryServiceServer = (*Discovery)(nil)

// NewDiscovery returns the DiscoveryService.
func NewDiscovery(stytch *stytchclient.Client, log *slog.Logger) *Discovery {
	return &Discovery{base: newBase(log), stytch: stytch}
}

// failDiscovery collapses a rejected IST or session: both say "your proof is not valid".
var failDiscovery = &authFailure{
	message: "the intermediate session or session is invalid or expired",
	types:   []string{"intermediate_session_not_found", "session_not_found", "invalid_session_jwt"},
}

// ListOrganizations lists the organizations the holder of an IST or session can enter.
func (s *Discovery) ListOrganizations(ctx context.Context, req *b2bv1.DiscoveryServiceListOrganizationsRequest) (*b2bv1.DiscoveryServiceListOrganizationsResponse, error) {
	p := stytchclient.DiscoveryListOrganizationsParams{
		IntermediateSessionToken: req.GetIntermediateSessionToken(),
		SessionToken:             req.GetSessionToken(),
		SessionJWT:               req.GetSessionJwt(),
	}
	if p.IntermediateSessionToken == "" && p.SessionToken == "" && p.SessionJWT == "" {
		p.SessionToken, p.SessionJWT = access.From(ctx).OwnSession()
	}
	if p.IntermediateSessionToken == "" && p.SessionToken == "" && p.SessionJWT == "" {
		return nil, rpcerr.InvalidArgument("intermediate_session_token", "missing_credential",
			"one of intermediate_session_token, session_token or session_jwt is required")
	}
	res, err := s.stytch.DiscoveryListOrganizations(ctx, p)
	if err != nil {
		return nil, s.toStatus(ctx, err, failDiscovery)
	}
	return &b2bv1.DiscoveryServiceListOrganizationsResponse{
		EmailAddress:            res.EmailAddress,
		DiscoveredOrganizations: toDiscovered(res.DiscoveredOrganizations),
		OrganizationIdHint:      res.OrganizationIDHint,
	}, nil
}

// CreateOrganization creates an organization with the IST's holder as its first admin and logs
// them in.
func (s *Discovery) CreateOrganization(ctx context.Context, req *b2bv1.DiscoveryServiceCreateOrganizationRequest) (*b2bv1.DiscoveryServiceCreateOrganizationResponse, error) {
	p := stytchclient.DiscoveryCreateOrganizationParams{
		IntermediateSessionToken:   req.GetIntermediateSessionToken(),
		SessionDurationMinutes:     req.GetSessionDurationMinutes(),
		SessionCustomClaims:        fromStruct(req.GetSessionCustomClaims()),
		OrganizationName:           req.GetOrganizationName(),
		OrganizationSlug:           req.GetOrganizationSlug(),
		OrganizationExternalID:     req.GetOrganizationExternalId(),
		OrganizationLogoURL:        req.GetOrganizationLogoUrl(),
		TrustedMetadata:            fromStruct(req.GetTrustedMetadata()),
		SSOJITProvisioning:         orgSettings.name(req.GetSsoJitProvisioning()),
		EmailAllowedDomains:        req.GetEmailAllowedDomains(),
		EmailJITProvisioning:       orgSettings.name(req.GetEmailJitProvisioning()),
		EmailInvites:               orgSettings.name(req.GetEmailInvites()),
		AuthMethods:                orgSettings.name(req.GetAuthMethods()),
		AllowedAuthMethods:         req.GetAllowedAuthMethods(),
		MFAPolicy:                  mfaPolicies.name(req.GetMfaPolicy()),
		MFAMethods:                 orgSettings.name(req.GetMfaMethods()),
		OAuthTenantJITProvisioning: orgSettings.name(req.GetOauthTenantJitProvisioning()),
		AllowedOAuthTenants:        fromStruct(req.GetAllowedOauthTenants()),
	}
	for _, a := range req.GetRbacEmailImplicitRoleAssignments() {
		p.RBACEmailImplicitRoleAssignments = append(p.RBACEmailImplicitRoleAssignments, stytchclient.EmailImplicitRoleAssignment{Domain: a.GetDomain(), RoleID: a.GetRoleId()})
	}
	for _, m := range req.GetAllowedMfaMethods() {
		if name := mfaMethods.name(m); name != "" {
			p.AllowedMFAMethods = append(p.AllowedMFAMethods, name)
		}
	}
	res, err := s.stytch.DiscoveryCreateOrganization(ctx, p)
	if err != nil {
		return nil, s.toStatus(ctx, err, failIST)
	}
	return newAuthResponse[b2bv1.DiscoveryServiceCreateOrganizationResponse](res), nil
}

// ExchangeIntermediateSession exchanges an IST for a session in one organization.
func (s *Discovery) ExchangeIntermediateSession(ctx context.Context, req *b2bv1.DiscoveryServiceExchangeIntermediateSessionRequest) (*b2bv1.DiscoveryServiceExchangeIntermediateSessionResponse, error) {
	res, err := s.stytch.DiscoveryExchangeIntermediateSession(ctx, stytchclient.DiscoveryExchangeIntermediateSessionParams{
		IntermediateSessionToken: req.GetIntermediateSessionToken(),
		OrganizationID:           req.GetOrganizationId(),
		SessionDurationMinutes:   req.GetSessionDurationMinutes(),
		SessionCustomClaims:      fromStruct(req.GetSessionCustomClaims()),
		Locale:                   locales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failDiscovery)
	}
	return newAuthResponse[b2bv1.DiscoveryServiceExchangeIntermediateSessionResponse](res), nil
}
