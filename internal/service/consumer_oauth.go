package service

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// OAuth implements consumerv1.OAuthServiceServer on a consumer project's client.
type OAuth struct {
	consumerv1.UnimplementedOAuthServiceServer
	base
	stytch      *stytchclient.Client
	publicToken string
	redirects   RedirectPolicy
}

var _ consumerv1.OAuthServiceServer = (*OAuth)(nil)

// NewConsumerOAuth returns the OAuthService; stytch is the consumer project's client, publicToken
// its public token (STYTCH_CONSUMER_PUBLIC_TOKEN; empty refuses StartURL) and redirects the
// allowlist of the redirect URLs.
func NewConsumerOAuth(stytch *stytchclient.Client, publicToken string, redirects RedirectPolicy, log *slog.Logger) *OAuth {
	return &OAuth{base: newBase(log), stytch: stytch, publicToken: publicToken, redirects: redirects}
}

// identityProviders are Stytch's names of the providers, as in its start paths ("google") and
// delivery methods ("oauth_google").
var identityProviders = newEnumNames(map[consumerv1.IdentityProvider]string{
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_AMAZON:     "amazon",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_APPLE:      "apple",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_BITBUCKET:  "bitbucket",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_COINBASE:   "coinbase",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_DISCORD:    "discord",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_FACEBOOK:   "facebook",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_FIGMA:      "figma",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_GITHUB:     "github",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_GITLAB:     "gitlab",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_GOOGLE:     "google",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_HUBSPOT:    "hubspot",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_INSTAGRAM:  "instagram",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_LINKEDIN:   "linkedin",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_MICROSOFT:  "microsoft",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_SALESFORCE: "salesforce",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_SHOPIFY:    "shopify",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_SLACK:      "slack",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_SNAPCHAT:   "snapchat",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_SPOTIFY:    "spotify",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_STEAM:      "steam",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_TIKTOK:     "tiktok",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_TWITCH:     "twitch",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_TWITTER:    "twitter",
	consumerv1.IdentityProvider_IDENTITY_PROVIDER_YAHOO:      "yahoo",
})

// failOAuthToken answers every rejected OAuth token alike (unknown, used, expired).
var failOAuthToken = &authFailure{
	reason: "unable_to_auth_oauth_token", message: "the OAuth token is invalid, expired or already used",
	types: []string{"oauth_token_not_found", "unable_to_auth_oauth_token"},
}

// StartURL builds Stytch's OAuth start URL.
func (s *OAuth) StartURL(_ context.Context, req *consumerv1.OAuthServiceStartURLRequest) (*consumerv1.OAuthServiceStartURLResponse, error) {
	if s.publicToken == "" {
		return nil, rpcerr.New(codes.FailedPrecondition, "public_token_not_configured",
			"OAuth start URLs need the consumer project's public token: set STYTCH_CONSUMER_PUBLIC_TOKEN")
	}
	login, err := s.redirects.Resolve("login_redirect_url", req.GetLoginRedirectUrl())
	if err != nil {
		return nil, err
	}
	signup, err := s.redirects.Resolve("signup_redirect_url", req.GetSignupRedirectUrl())
	if err != nil {
		return nil, err
	}
	u, err := s.stytch.ConsumerOAuthStartURL(stytchclient.ConsumerOAuthStartParams{
		Provider:          identityProviders.name(req.GetProvider()),
		PublicToken:       s.publicToken,
		LoginRedirectURL:  login,
		SignupRedirectURL: signup,
		CodeChallenge:     req.GetCodeChallenge(),
		OAuthAttachToken:  req.GetOauthAttachToken(),
		CustomScopes:      req.GetCustomScopes(),
		LoginHint:         req.GetLoginHint(),
	})
	if err != nil {
		// Validation admits defined providers only, each of which is one plain segment.
		return nil, rpcerr.New(codes.Internal, "internal", "the OAuth start URL could not be built").WithCause(err)
	}
	return &consumerv1.OAuthServiceStartURLResponse{Url: u}, nil
}

// Attach returns an attach token for the user the request names, else the caller's own.
func (s *OAuth) Attach(ctx context.Context, req *consumerv1.OAuthServiceAttachRequest) (*consumerv1.OAuthServiceAttachResponse, error) {
	p := stytchclient.ConsumerOAuthAttachParams{
		Provider: identityProviders.name(req.GetProvider()), UserID: req.GetUserId(),
		SessionToken: req.GetSessionToken(), SessionJWT: req.GetSessionJwt(),
	}
	switch {
	case p.UserID != "" && (p.SessionToken != "" || p.SessionJWT != ""):
		return nil, rpcerr.InvalidArgument("user_id", "too_many_user_identifiers", "name the user by user_id or by a session, not both")
	case p.UserID == "" && p.SessionToken == "" && p.SessionJWT == "":
		// The caller's own user session (access admitted it as the user or as a service).
		if userID, isUser := callerUser(access.From(ctx)); isUser && userID != "" {
			p.UserID = userID
		}
	}
	if p.UserID == "" && p.SessionToken == "" && p.SessionJWT == "" {
		return nil, rpcerr.InvalidArgument("user_id", "missing_user", "a user_id, session_token or session_jwt is required")
	}
	res, err := s.stytch.ConsumerOAuthAttach(ctx, p)
	if err != nil {
		return nil, s.toStatus(ctx, err, failSession)
	}
	return &consumerv1.OAuthServiceAttachResponse{OauthAttachToken: res.OAuthAttachToken}, nil
}

// Authenticate redeems the token of an OAuth flow.
func (s *OAuth) Authenticate(ctx context.Context, req *consumerv1.OAuthServiceAuthenticateRequest) (*consumerv1.OAuthServiceAuthenticateResponse, error) {
	res, err := s.stytch.ConsumerOAuthAuthenticate(ctx, stytchclient.ConsumerOAuthAuthenticateParams{
		Token:                  req.GetToken(),
		CodeVerifier:           req.GetCodeVerifier(),
		SessionToken:           req.GetSessionToken(),
		SessionJWT:             req.GetSessionJwt(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		var se *stytchclient.Error
		if errors.As(err, &se) && (se.ErrorType == "session_not_found" || se.ErrorType == "invalid_session_jwt") {
			return nil, s.toStatus(ctx, err, failSession)
		}
		return nil, s.toStatus(ctx, err, failOAuthToken)
	}
	cs := newConsumerSession(&stytchclient.ConsumerSessionResult{
		UserID: res.UserID, SessionToken: res.SessionToken, SessionJWT: res.SessionJWT, User: res.User, Session: res.UserSession,
	})
	pv := &consumerv1.OAuthProviderValues{
		AccessToken: res.ProviderValues.AccessToken, RefreshToken: res.ProviderValues.RefreshToken,
		IdToken: res.ProviderValues.IDToken, Scopes: res.ProviderValues.Scopes,
	}
	if !res.ProviderValues.ExpiresAt.IsZero() {
		pv.ExpiresAt = timestamppb.New(res.ProviderValues.ExpiresAt.Time)
	}
	return &consumerv1.OAuthServiceAuthenticateResponse{
		UserId: cs.userID, ProviderSubject: res.ProviderSubject, ProviderType: res.ProviderType, ProviderValues: pv,
		User: cs.user, ResetSessions: res.ResetSessions, OauthUserRegistrationId: res.OAuthUserRegistrationID,
		Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt,
	}, nil
}
