package service

import (
	"context"
	"log/slog"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// ConsumerMagicLinks implements consumerv1.MagicLinksServiceServer on a consumer project's client.
type ConsumerMagicLinks struct {
	consumerv1.UnimplementedMagicLinksServiceServer
	base
	stytch    *stytchclient.Client
	redirects RedirectPolicy
}

var _ consumerv1.MagicLinksServiceServer = (*ConsumerMagicLinks)(nil)

// NewConsumerMagicLinks returns the consumer MagicLinksService; stytch is the consumer project's
// client and redirects decides the links' URLs (the same allowlist as the B2B links).
func NewConsumerMagicLinks(stytch *stytchclient.Client, redirects RedirectPolicy, log *slog.Logger) *ConsumerMagicLinks {
	return &ConsumerMagicLinks{base: newBase(log), stytch: stytch, redirects: redirects}
}

// attachSession is the session a send attaches its new address or number to: the one the request
// names, else the caller's own verified user session, else none (a login).
func attachSession(ctx context.Context, token, jwt string) (string, string) {
	if token != "" || jwt != "" {
		return token, jwt
	}
	if p := access.From(ctx); p.Kind == access.KindUser {
		return p.OwnSession()
	}
	return "", ""
}

// resolveLinks resolves a send's login and sign-up URLs against the allowlist.
func (s *ConsumerMagicLinks) resolveLinks(login, signup string) (string, string, error) {
	l, err := s.redirects.Resolve("login_magic_link_url", login)
	if err != nil {
		return "", "", err
	}
	u, err := s.redirects.Resolve("signup_magic_link_url", signup)
	if err != nil {
		return "", "", err
	}
	return l, u, nil
}

// Send emails a login link to an existing user, or adds the address to the session's user.
func (s *ConsumerMagicLinks) Send(ctx context.Context, req *consumerv1.MagicLinksServiceSendRequest) (*consumerv1.MagicLinksServiceSendResponse, error) {
	login, signup, err := s.resolveLinks(req.GetLoginMagicLinkUrl(), req.GetSignupMagicLinkUrl())
	if err != nil {
		return nil, err
	}
	token, jwt := attachSession(ctx, req.GetSessionToken(), req.GetSessionJwt())
	res, err := s.stytch.ConsumerMagicLinkSend(ctx, stytchclient.ConsumerMagicLinkSendParams{
		Email:                   req.GetEmail(),
		LoginMagicLinkURL:       login,
		SignupMagicLinkURL:      signup,
		LoginExpirationMinutes:  req.GetLoginExpirationMinutes(),
		SignupExpirationMinutes: req.GetSignupExpirationMinutes(),
		LoginTemplateID:         req.GetLoginTemplateId(),
		SignupTemplateID:        req.GetSignupTemplateId(),
		CodeChallenge:           req.GetCodeChallenge(),
		Locale:                  consumerLocales.name(req.GetLocale()),
		SessionToken:            token,
		SessionJWT:              jwt,
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.MagicLinksServiceSendResponse{UserId: res.UserID, EmailId: res.EmailID}, nil
}

// LoginOrCreate emails a login link, or a sign-up link creating the user.
func (s *ConsumerMagicLinks) LoginOrCreate(ctx context.Context, req *consumerv1.MagicLinksServiceLoginOrCreateRequest) (*consumerv1.MagicLinksServiceLoginOrCreateResponse, error) {
	login, signup, err := s.resolveLinks(req.GetLoginMagicLinkUrl(), req.GetSignupMagicLinkUrl())
	if err != nil {
		return nil, err
	}
	res, err := s.stytch.ConsumerMagicLinkLoginOrCreate(ctx, stytchclient.ConsumerMagicLinkLoginOrCreateParams{
		Email:                   req.GetEmail(),
		LoginMagicLinkURL:       login,
		SignupMagicLinkURL:      signup,
		LoginExpirationMinutes:  req.GetLoginExpirationMinutes(),
		SignupExpirationMinutes: req.GetSignupExpirationMinutes(),
		LoginTemplateID:         req.GetLoginTemplateId(),
		SignupTemplateID:        req.GetSignupTemplateId(),
		CreateUserAsPending:     req.GetCreateUserAsPending(),
		CodeChallenge:           req.GetCodeChallenge(),
		Locale:                  consumerLocales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.MagicLinksServiceLoginOrCreateResponse{UserId: res.UserID, EmailId: res.EmailID, UserCreated: res.UserCreated}, nil
}

// Invite creates a pending user and emails an invite link.
func (s *ConsumerMagicLinks) Invite(ctx context.Context, req *consumerv1.MagicLinksServiceInviteRequest) (*consumerv1.MagicLinksServiceInviteResponse, error) {
	invite, err := s.redirects.Resolve("invite_magic_link_url", req.GetInviteMagicLinkUrl())
	if err != nil {
		return nil, err
	}
	res, err := s.stytch.ConsumerMagicLinkInvite(ctx, stytchclient.ConsumerMagicLinkInviteParams{
		Email:                   req.GetEmail(),
		Name:                    fromName(req.GetName()),
		InviteMagicLinkURL:      invite,
		InviteExpirationMinutes: req.GetInviteExpirationMinutes(),
		InviteTemplateID:        req.GetInviteTemplateId(),
		Locale:                  consumerLocales.name(req.GetLocale()),
		TrustedMetadata:         fromStruct(req.GetTrustedMetadata()),
		UntrustedMetadata:       fromStruct(req.GetUntrustedMetadata()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.MagicLinksServiceInviteResponse{UserId: res.UserID, EmailId: res.EmailID}, nil
}

// RevokeInvite revokes the pending invite of an address.
func (s *ConsumerMagicLinks) RevokeInvite(ctx context.Context, req *consumerv1.MagicLinksServiceRevokeInviteRequest) (*consumerv1.MagicLinksServiceRevokeInviteResponse, error) {
	if _, err := s.stytch.ConsumerMagicLinkRevokeInvite(ctx, stytchclient.ConsumerMagicLinkRevokeInviteParams{Email: req.GetEmail()}); err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.MagicLinksServiceRevokeInviteResponse{}, nil
}

// Authenticate redeems a magic-link token. Every rejection of the token (unknown, used, expired)
// is the same UNAUTHENTICATED answer.
func (s *ConsumerMagicLinks) Authenticate(ctx context.Context, req *consumerv1.MagicLinksServiceAuthenticateRequest) (*consumerv1.MagicLinksServiceAuthenticateResponse, error) {
	res, err := s.stytch.ConsumerMagicLinkAuthenticate(ctx, stytchclient.ConsumerMagicLinkAuthenticateParams{
		Token:                  req.GetToken(),
		CodeVerifier:           req.GetCodeVerifier(),
		SessionToken:           req.GetSessionToken(),
		SessionJWT:             req.GetSessionJwt(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failMagicLink)
	}
	cs := newConsumerSession(&res.ConsumerSessionResult)
	return &consumerv1.MagicLinksServiceAuthenticateResponse{
		UserId: cs.userID, MethodId: res.MethodID, ResetSessions: res.ResetSessions,
		Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user,
	}, nil
}

// Create makes an embeddable magic-link token for a user.
func (s *ConsumerMagicLinks) Create(ctx context.Context, req *consumerv1.MagicLinksServiceCreateRequest) (*consumerv1.MagicLinksServiceCreateResponse, error) {
	res, err := s.stytch.ConsumerMagicLinkCreate(ctx, stytchclient.ConsumerMagicLinkCreateParams{
		UserID:            req.GetUserId(),
		ExpirationMinutes: req.GetExpirationMinutes(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.MagicLinksServiceCreateResponse{UserId: res.UserID, Token: res.Token}, nil
}
