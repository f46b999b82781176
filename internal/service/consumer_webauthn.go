package service

import (
	"context"
	"log/slog"
	"strings"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// WebAuthn implements consumerv1.WebAuthnServiceServer on a consumer project's client.
type WebAuthn struct {
	consumerv1.UnimplementedWebAuthnServiceServer
	base
	stytch *stytchclient.Client
}

var _ consumerv1.WebAuthnServiceServer = (*WebAuthn)(nil)

// NewWebAuthn returns the WebAuthnService; stytch is the consumer project's client.
func NewWebAuthn(stytch *stytchclient.Client, log *slog.Logger) *WebAuthn {
	return &WebAuthn{base: newBase(log), stytch: stytch}
}

// failWebAuthn answers every rejected assertion alike (a replay, a wrong origin, an unknown or
// deleted credential, a cloned authenticator), so that the answer says nothing about which
// credentials exist.
var failWebAuthn = &authFailure{
	reason: "unable_to_auth_webauthn_registration", message: "the passkey or security key could not be verified",
	types: []string{"unable_to_auth_webauthn_registration", "webauthn_registration_not_found", "user_not_found"},
}

var authenticatorTypes = map[consumerv1.AuthenticatorType]string{
	consumerv1.AuthenticatorType_AUTHENTICATOR_TYPE_PLATFORM:       "platform",
	consumerv1.AuthenticatorType_AUTHENTICATOR_TYPE_CROSS_PLATFORM: "cross-platform",
}

// ownUser is the user an RPC acts on: the one the request names (the access rule has already
// checked that a user session names only its own user), else the caller's own user.
func ownUser(ctx context.Context, requested string) (string, error) {
	if requested != "" {
		return requested, nil
	}
	if id, isUser := callerUser(access.From(ctx)); isUser && id != "" {
		return id, nil
	}
	return "", rpcerr.InvalidArgument("user_id", "missing_user", "user_id is required (or call with the user's own session)")
}

// RegisterStart begins a registration.
func (s *WebAuthn) RegisterStart(ctx context.Context, req *consumerv1.WebAuthnServiceRegisterStartRequest) (*consumerv1.WebAuthnServiceRegisterStartResponse, error) {
	userID, err := ownUser(ctx, req.GetUserId())
	if err != nil {
		return nil, err
	}
	res, err := s.stytch.WebAuthnRegisterStart(ctx, stytchclient.WebAuthnRegisterStartParams{
		UserID:                         userID,
		Domain:                         req.GetDomain(),
		UserAgent:                      req.GetUserAgent(),
		AuthenticatorType:              authenticatorTypes[req.GetAuthenticatorType()],
		ReturnPasskeyCredentialOptions: req.GetReturnPasskeyCredentialOptions(),
		OverrideID:                     req.GetOverrideId(),
		OverrideName:                   req.GetOverrideName(),
		OverrideDisplayName:            req.GetOverrideDisplayName(),
		UseBase64URLEncoding:           req.GetUseBase64UrlEncoding(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.WebAuthnServiceRegisterStartResponse{
		UserId: res.UserID, PublicKeyCredentialCreationOptions: res.PublicKeyCredentialCreationOptions,
	}, nil
}

// Register completes a registration.
func (s *WebAuthn) Register(ctx context.Context, req *consumerv1.WebAuthnServiceRegisterRequest) (*consumerv1.WebAuthnServiceRegisterResponse, error) {
	userID, err := ownUser(ctx, req.GetUserId())
	if err != nil {
		return nil, err
	}
	res, err := s.stytch.WebAuthnRegister(ctx, stytchclient.WebAuthnRegisterParams{
		UserID:                 userID,
		PublicKeyCredential:    req.GetPublicKeyCredential(),
		SessionToken:           req.GetSessionToken(),
		SessionJWT:             req.GetSessionJwt(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	cs := newConsumerSession(&res.ConsumerSessionResult)
	return &consumerv1.WebAuthnServiceRegisterResponse{
		UserId: cs.userID, WebauthnRegistrationId: res.WebAuthnRegistrationID,
		Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user,
	}, nil
}

// AuthenticateStart begins a login.
func (s *WebAuthn) AuthenticateStart(ctx context.Context, req *consumerv1.WebAuthnServiceAuthenticateStartRequest) (*consumerv1.WebAuthnServiceAuthenticateStartResponse, error) {
	res, err := s.stytch.WebAuthnAuthenticateStart(ctx, stytchclient.WebAuthnAuthenticateStartParams{
		Domain:                         req.GetDomain(),
		UserID:                         req.GetUserId(),
		ReturnPasskeyCredentialOptions: req.GetReturnPasskeyCredentialOptions(),
		UseBase64URLEncoding:           req.GetUseBase64UrlEncoding(),
	})
	if err != nil {
		// An unknown user and a user without a registration answer alike.
		return nil, s.toStatus(ctx, err, failWebAuthn)
	}
	return &consumerv1.WebAuthnServiceAuthenticateStartResponse{
		UserId: res.UserID, PublicKeyCredentialRequestOptions: res.PublicKeyCredentialRequestOptions,
	}, nil
}

// Authenticate completes a login.
func (s *WebAuthn) Authenticate(ctx context.Context, req *consumerv1.WebAuthnServiceAuthenticateRequest) (*consumerv1.WebAuthnServiceAuthenticateResponse, error) {
	res, err := s.stytch.WebAuthnAuthenticate(ctx, stytchclient.WebAuthnAuthenticateParams{
		PublicKeyCredential:    req.GetPublicKeyCredential(),
		SessionToken:           req.GetSessionToken(),
		SessionJWT:             req.GetSessionJwt(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failWebAuthn)
	}
	cs := newConsumerSession(&res.ConsumerSessionResult)
	return &consumerv1.WebAuthnServiceAuthenticateResponse{
		UserId: cs.userID, WebauthnRegistrationId: res.WebAuthnRegistrationID,
		Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user,
	}, nil
}

// Update renames a registration; a user may rename only their own.
func (s *WebAuthn) Update(ctx context.Context, req *consumerv1.WebAuthnServiceUpdateRequest) (*consumerv1.WebAuthnServiceUpdateResponse, error) {
	id := req.GetWebauthnRegistrationId()
	if userID, isUser := callerUser(access.From(ctx)); isUser {
		if err := s.ownsRegistration(ctx, userID, id); err != nil {
			return nil, err
		}
	}
	res, err := s.stytch.WebAuthnUpdate(ctx, id, req.GetName())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &consumerv1.WebAuthnServiceUpdateResponse{}
	if r := res.WebAuthnRegistration; r != nil {
		out.WebauthnRegistration = &consumerv1.WebAuthnRegistration{
			WebauthnRegistrationId: r.WebAuthnRegistrationID, Domain: r.Domain, UserAgent: r.UserAgent,
			Verified: r.Verified, AuthenticatorType: r.AuthenticatorType, Name: r.Name,
		}
	}
	return out, nil
}

// ownsRegistration refuses a user's call on a registration that is not theirs, or that does not
// exist (alike: the answer reveals nothing about other accounts).
func (s *WebAuthn) ownsRegistration(ctx context.Context, userID, id string) error {
	if userID == "" {
		return errNotYourFactor
	}
	u, err := s.stytch.UserGet(ctx, userID)
	if err != nil {
		return s.toStatus(ctx, err, nil)
	}
	for _, r := range u.WebAuthnRegistrations {
		if strings.EqualFold(r.WebAuthnRegistrationID, id) {
			return nil
		}
	}
	return errNotYourFactor
}

// ListCredentials lists a user's credentials for a domain.
func (s *WebAuthn) ListCredentials(ctx context.Context, req *consumerv1.WebAuthnServiceListCredentialsRequest) (*consumerv1.WebAuthnServiceListCredentialsResponse, error) {
	res, err := s.stytch.WebAuthnListCredentials(ctx, req.GetUserId(), req.GetDomain())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &consumerv1.WebAuthnServiceListCredentialsResponse{Credentials: make([]*consumerv1.WebAuthnCredential, 0, len(res.Credentials))}
	for _, c := range res.Credentials {
		out.Credentials = append(out.Credentials, &consumerv1.WebAuthnCredential{
			CredentialId: c.CredentialID, WebauthnRegistrationId: c.WebAuthnRegistrationID, Type: c.Type, PublicKey: c.PublicKey,
		})
	}
	return out, nil
}
