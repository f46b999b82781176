package service

import (
	"context"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// B2BOAuth implements b2bv1.OAuthServiceServer: OAuth sign-ins of members (a login into one
// organization, or discovery) and the provider tokens Stytch keeps for them.
type B2BOAuth struct {
	b2bv1.UnimplementedOAuthServiceServer
	base
	stytch      *stytchclient.Client
	publicToken string
	redirects   RedirectPolicy
}

var _ b2bv1.OAuthServiceServer = (*B2BOAuth)(nil)

// NewB2BOAuth returns the B2B OAuthService; stytch is the B2B project's client, publicToken its
// public token (STYTCH_PUBLIC_TOKEN; empty refuses StartURL) and redirects the allowlist of the
// redirect URLs.
func NewB2BOAuth(stytch *stytchclient.Client, publicToken string, redirects RedirectPolicy, log *slog.Logger) *B2BOAuth {
	return &B2BOAuth{base: newBase(log), stytch: stytch, publicToken: publicToken, redirects: redirects}
}

// b2bIdentityProviders are Stytch's names of the B2B OAuth providers, as in its start paths
// ("google") and delivery methods ("oauth_google").
var b2bIdentityProviders = newEnumNames(map[b2bv1.IdentityProvider]string{
	b2bv1.IdentityProvider_IDENTITY_PROVIDER_GOOGLE:    "google",
	b2bv1.IdentityProvider_IDENTITY_PROVIDER_MICROSOFT: "microsoft",
	b2bv1.IdentityProvider_IDENTITY_PROVIDER_HUBSPOT:   "hubspot",
	b2bv1.IdentityProvider_IDENTITY_PROVIDER_SLACK:     "slack",
	b2bv1.IdentityProvider_IDENTITY_PROVIDER_GITHUB:    "github",
})

// StartURL builds Stytch's B2B OAuth start URL: a login into the organization the request names,
// or a discovery flow.
func (s *B2BOAuth) StartURL(_ context.Context, req *b2bv1.OAuthServiceStartURLRequest) (*b2bv1.OAuthServiceStartURLResponse, error) {
	p := stytchclient.B2BOAuthStartParams{
		Provider: b2bIdentityProviders.name(req.GetProvider()), PublicToken: s.publicToken, Discovery: req.GetDiscovery(),
		PKCECodeChallenge: req.GetPkceCodeChallenge(), CustomScopes: req.GetCustomScopes(),
		ProviderPrompt: req.GetProviderPrompt(), LoginHint: req.GetLoginHint(),
	}
	if err := checkOAuthStartShape(req); err != nil {
		return nil, err
	}
	if s.publicToken == "" {
		return nil, rpcerr.New(codes.FailedPrecondition, "public_token_not_configured",
			"OAuth start URLs need the B2B project's public token: set STYTCH_PUBLIC_TOKEN")
	}
	var err error
	if p.Discovery {
		if p.DiscoveryRedirectURL, err = s.redirects.Resolve("discovery_redirect_url", req.GetDiscoveryRedirectUrl()); err != nil {
			return nil, err
		}
	} else {
		p.OrganizationID, p.OrganizationSlug = req.GetOrganizationId(), req.GetOrganizationSlug()
		if p.LoginRedirectURL, err = s.redirects.Resolve("login_redirect_url", req.GetLoginRedirectUrl()); err != nil {
			return nil, err
		}
		if p.SignupRedirectURL, err = s.redirects.Resolve("signup_redirect_url", req.GetSignupRedirectUrl()); err != nil {
			return nil, err
		}
	}
	u, err := s.stytch.B2BOAuthStartURL(p)
	if err != nil {
		// Validation admits defined providers only, each of which is one plain segment.
		return nil, rpcerr.New(codes.Internal, "internal", "the OAuth start URL could not be built").WithCause(err)
	}
	return &b2bv1.OAuthServiceStartURLResponse{Url: u}, nil
}

// checkOAuthStartShape refuses a start request that mixes a login's fields with a discovery's,
// naming the first field that does not belong.
func checkOAuthStartShape(req *b2bv1.OAuthServiceStartURLRequest) error {
	if req.GetDiscovery() {
		for _, f := range []struct{ name, value string }{
			{"organization_id", req.GetOrganizationId()},
			{"organization_slug", req.GetOrganizationSlug()},
			{"login_redirect_url", req.GetLoginRedirectUrl()},
			{"signup_redirect_url", req.GetSignupRedirectUrl()},
		} {
			if f.value != "" {
				return rpcerr.InvalidArgument(f.name, "not_for_discovery", f.name+" is for a login into one organization, not for discovery")
			}
		}
		return nil
	}
	if req.GetDiscoveryRedirectUrl() != "" {
		return rpcerr.InvalidArgument("discovery_redirect_url", "only_for_discovery", "discovery_redirect_url is only for discovery")
	}
	if (req.GetOrganizationId() == "") == (req.GetOrganizationSlug() == "") {
		return rpcerr.InvalidArgument("organization_id", "organization_required",
			"exactly one of organization_id and organization_slug is required (or set discovery)")
	}
	return nil
}

// Authenticate redeems the token of an OAuth login. Every rejection of the token (unknown, used,
// expired) is the same UNAUTHENTICATED answer.
func (s *B2BOAuth) Authenticate(ctx context.Context, req *b2bv1.OAuthServiceAuthenticateRequest) (*b2bv1.OAuthServiceAuthenticateResponse, error) {
	res, err := s.stytch.B2BOAuthAuthenticate(ctx, stytchclient.B2BOAuthAuthenticateParams{
		OAuthToken:               req.GetOauthToken(),
		PKCECodeVerifier:         req.GetPkceCodeVerifier(),
		SessionToken:             req.GetSessionToken(),
		SessionJWT:               req.GetSessionJwt(),
		IntermediateSessionToken: req.GetIntermediateSessionToken(),
		SessionDurationMinutes:   req.GetSessionDurationMinutes(),
		SessionCustomClaims:      fromStruct(req.GetSessionCustomClaims()),
		Locale:                   locales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, loginFailure(err, failOAuthToken))
	}
	out := newAuthResponse[b2bv1.OAuthServiceAuthenticateResponse](&res.B2BAuthenticateResult)
	out.OrganizationId = res.OrganizationID
	out.ProviderSubject, out.ProviderType = res.ProviderSubject, res.ProviderType
	pv := &b2bv1.OAuthProviderValues{
		AccessToken: res.ProviderValues.AccessToken, RefreshToken: res.ProviderValues.RefreshToken,
		IdToken: res.ProviderValues.IDToken, Scopes: res.ProviderValues.Scopes,
	}
	if !res.ProviderValues.ExpiresAt.IsZero() {
		pv.ExpiresAt = timestamppb.New(res.ProviderValues.ExpiresAt.Time)
	}
	out.ProviderValues = pv
	return out, nil
}

// DiscoveryAuthenticate redeems the token of a discovery OAuth flow.
func (s *B2BOAuth) DiscoveryAuthenticate(ctx context.Context, req *b2bv1.OAuthServiceDiscoveryAuthenticateRequest) (*b2bv1.OAuthServiceDiscoveryAuthenticateResponse, error) {
	res, err := s.stytch.B2BOAuthDiscoveryAuthenticate(ctx, stytchclient.B2BOAuthDiscoveryAuthenticateParams{
		DiscoveryOAuthToken: req.GetDiscoveryOauthToken(),
		PKCECodeVerifier:    req.GetPkceCodeVerifier(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failOAuthToken)
	}
	return &b2bv1.OAuthServiceDiscoveryAuthenticateResponse{
		IntermediateSessionToken: res.IntermediateSessionToken,
		EmailAddress:             res.EmailAddress,
		DiscoveredOrganizations:  toDiscovered(res.DiscoveredOrganizations),
		ProviderType:             res.ProviderType,
		ProviderTenantId:         res.ProviderTenantID,
		ProviderTenantIds:        res.ProviderTenantIDs,
		FullName:                 res.FullName,
	}, nil
}

// GetProviderTokens reads the member's tokens at the provider.
func (s *B2BOAuth) GetProviderTokens(ctx context.Context, req *b2bv1.OAuthServiceGetProviderTokensRequest) (*b2bv1.OAuthServiceGetProviderTokensResponse, error) {
	res, err := s.stytch.MemberOAuthProviderTokens(ctx, req.GetOrganizationId(), req.GetMemberId(),
		b2bIdentityProviders.name(req.GetProvider()), req.GetIncludeRefreshToken())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &b2bv1.OAuthServiceGetProviderTokensResponse{
		ProviderType: res.ProviderType, ProviderSubject: res.ProviderSubject, AccessToken: res.AccessToken,
		AccessTokenExpiresIn: res.AccessTokenExpiresIn, RefreshToken: res.RefreshToken, IdToken: res.IDToken, Scopes: res.Scopes,
		Registrations: make([]*b2bv1.OAuthProviderRegistration, 0, len(res.Registrations)),
	}
	for _, r := range res.Registrations {
		out.Registrations = append(out.Registrations, &b2bv1.OAuthProviderRegistration{
			ProviderSubject: r.ProviderSubject, ProviderTenantId: r.ProviderTenantID, ProviderTenantIds: r.ProviderTenantIDs,
			AccessToken: r.AccessToken, AccessTokenExpiresIn: r.AccessTokenExpiresIn, RefreshToken: r.RefreshToken,
			Scopes: r.Scopes, BotAccessToken: r.BotAccessToken, BotScopes: r.BotScopes,
		})
	}
	return out, nil
}
