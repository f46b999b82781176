package service

import (
	"context"
	"log/slog"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// MagicLinks implements b2bv1.MagicLinksServiceServer.
type MagicLinks struct {
	b2bv1.UnimplementedMagicLinksServiceServer
	base
	stytch    *stytchclient.Client
	redirects RedirectPolicy
}

var _ b2bv1.MagicLinksServiceServer = (*MagicLinks)(nil)

// NewMagicLinks returns the MagicLinksService; redirects decides the links' redirect URLs.
func NewMagicLinks(stytch *stytchclient.Client, redirects RedirectPolicy, log *slog.Logger) *MagicLinks {
	return &MagicLinks{base: newBase(log), stytch: stytch, redirects: redirects}
}

// LoginOrSignup emails a login or sign-up link.
func (s *MagicLinks) LoginOrSignup(ctx context.Context, req *b2bv1.MagicLinksServiceLoginOrSignupRequest) (*b2bv1.MagicLinksServiceLoginOrSignupResponse, error) {
	login, err := s.redirects.Resolve("login_redirect_url", req.GetLoginRedirectUrl())
	if err != nil {
		return nil, err
	}
	signup, err := s.redirects.Resolve("signup_redirect_url", req.GetSignupRedirectUrl())
	if err != nil {
		return nil, err
	}
	res, err := s.stytch.MagicLinkLoginOrSignup(ctx, stytchclient.MagicLinkLoginOrSignupParams{
		OrganizationID:          req.GetOrganizationId(),
		EmailAddress:            req.GetEmailAddress(),
		LoginRedirectURL:        login,
		SignupRedirectURL:       signup,
		PKCECodeChallenge:       req.GetPkceCodeChallenge(),
		LoginTemplateID:         req.GetLoginTemplateId(),
		SignupTemplateID:        req.GetSignupTemplateId(),
		Locale:                  locales.name(req.GetLocale()),
		LoginExpirationMinutes:  req.GetLoginExpirationMinutes(),
		SignupExpirationMinutes: req.GetSignupExpirationMinutes(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.MagicLinksServiceLoginOrSignupResponse{
		MemberId:      res.MemberID,
		MemberCreated: res.MemberCreated,
		Member:        toMember(&res.Member),
		Organization:  toOrganization(&res.Organization),
	}, nil
}

// Invite invites a member by email, acting as the calling member when there is one.
func (s *MagicLinks) Invite(ctx context.Context, req *b2bv1.MagicLinksServiceInviteRequest) (*b2bv1.MagicLinksServiceInviteResponse, error) {
	redirect, err := s.redirects.Resolve("invite_redirect_url", req.GetInviteRedirectUrl())
	if err != nil {
		return nil, err
	}
	res, err := s.stytch.MagicLinkInvite(ctx, stytchclient.MagicLinkInviteParams{
		OrganizationID:          req.GetOrganizationId(),
		EmailAddress:            req.GetEmailAddress(),
		InviteRedirectURL:       redirect,
		InvitedByMemberID:       req.GetInvitedByMemberId(),
		Name:                    req.GetName(),
		TrustedMetadata:         fromStruct(req.GetTrustedMetadata()),
		UntrustedMetadata:       fromStruct(req.GetUntrustedMetadata()),
		InviteTemplateID:        req.GetInviteTemplateId(),
		Locale:                  locales.name(req.GetLocale()),
		Roles:                   req.GetRoles(),
		InviteExpirationMinutes: req.GetInviteExpirationMinutes(),
		ActingMember:            access.From(ctx).Acting(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.MagicLinksServiceInviteResponse{
		MemberId:     res.MemberID,
		Member:       toMember(&res.Member),
		Organization: toOrganization(&res.Organization),
	}, nil
}

// DiscoverySend emails a discovery link. The answer is empty whether or not the address belongs to
// anyone.
func (s *MagicLinks) DiscoverySend(ctx context.Context, req *b2bv1.MagicLinksServiceDiscoverySendRequest) (*b2bv1.MagicLinksServiceDiscoverySendResponse, error) {
	redirect, err := s.redirects.Resolve("discovery_redirect_url", req.GetDiscoveryRedirectUrl())
	if err != nil {
		return nil, err
	}
	_, err = s.stytch.MagicLinkDiscoverySend(ctx, stytchclient.MagicLinkDiscoverySendParams{
		EmailAddress:               req.GetEmailAddress(),
		DiscoveryRedirectURL:       redirect,
		PKCECodeChallenge:          req.GetPkceCodeChallenge(),
		LoginTemplateID:            req.GetLoginTemplateId(),
		Locale:                     locales.name(req.GetLocale()),
		DiscoveryExpirationMinutes: req.GetDiscoveryExpirationMinutes(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.MagicLinksServiceDiscoverySendResponse{}, nil
}

// Authenticate redeems a magic-link token. Every rejection of the token (unknown, used, expired,
// or for an unknown member) is the same UNAUTHENTICATED answer.
func (s *MagicLinks) Authenticate(ctx context.Context, req *b2bv1.MagicLinksServiceAuthenticateRequest) (*b2bv1.MagicLinksServiceAuthenticateResponse, error) {
	res, err := s.stytch.MagicLinkAuthenticate(ctx, stytchclient.MagicLinkAuthenticateParams{
		MagicLinksToken:          req.GetMagicLinksToken(),
		PKCECodeVerifier:         req.GetPkceCodeVerifier(),
		SessionToken:             req.GetSessionToken(),
		SessionJWT:               req.GetSessionJwt(),
		IntermediateSessionToken: req.GetIntermediateSessionToken(),
		SessionDurationMinutes:   req.GetSessionDurationMinutes(),
		SessionCustomClaims:      fromStruct(req.GetSessionCustomClaims()),
		Locale:                   locales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failMagicLink)
	}
	out := newAuthResponse[b2bv1.MagicLinksServiceAuthenticateResponse](res)
	out.OrganizationId, out.MethodId = res.OrganizationID, res.MethodID
	return out, nil
}

// DiscoveryAuthenticate redeems a discovery magic-link token.
func (s *MagicLinks) DiscoveryAuthenticate(ctx context.Context, req *b2bv1.MagicLinksServiceDiscoveryAuthenticateRequest) (*b2bv1.MagicLinksServiceDiscoveryAuthenticateResponse, error) {
	res, err := s.stytch.MagicLinkDiscoveryAuthenticate(ctx, stytchclient.MagicLinkDiscoveryAuthenticateParams{
		DiscoveryMagicLinksToken: req.GetDiscoveryMagicLinksToken(),
		PKCECodeVerifier:         req.GetPkceCodeVerifier(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failMagicLink)
	}
	return &b2bv1.MagicLinksServiceDiscoveryAuthenticateResponse{
		IntermediateSessionToken: res.IntermediateSessionToken,
		EmailAddress:             res.EmailAddress,
		DiscoveredOrganizations:  toDiscovered(res.DiscoveredOrganizations),
	}, nil
}
