package service

import (
	"context"
	"log/slog"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// ConsumerOTPs implements consumerv1.OTPsServiceServer on a consumer project's client.
type ConsumerOTPs struct {
	consumerv1.UnimplementedOTPsServiceServer
	base
	stytch *stytchclient.Client
}

var _ consumerv1.OTPsServiceServer = (*ConsumerOTPs)(nil)

// NewConsumerOTPs returns the consumer OTPsService; stytch is the consumer project's client.
func NewConsumerOTPs(stytch *stytchclient.Client, log *slog.Logger) *ConsumerOTPs {
	return &ConsumerOTPs{base: newBase(log), stytch: stytch}
}

// phoneSendRequest is what the SMS and WhatsApp send requests share.
type phoneSendRequest interface {
	GetPhoneNumber() string
	GetExpirationMinutes() int32
	GetLocale() consumerv1.Locale
	GetSessionToken() string
	GetSessionJwt() string
}

// phoneLoginRequest is what the SMS and WhatsApp login_or_create requests share.
type phoneLoginRequest interface {
	GetPhoneNumber() string
	GetExpirationMinutes() int32
	GetCreateUserAsPending() bool
	GetLocale() consumerv1.Locale
}

type phoneSender func(context.Context, stytchclient.ConsumerOTPPhoneSendParams) (*stytchclient.ConsumerPhoneSendResult, error)

type phoneLoginSender func(context.Context, stytchclient.ConsumerOTPPhoneLoginOrCreateParams) (*stytchclient.ConsumerPhoneLoginOrCreateResult, error)

func (s *ConsumerOTPs) phoneSend(ctx context.Context, send phoneSender, req phoneSendRequest) (*stytchclient.ConsumerPhoneSendResult, error) {
	token, jwt := attachSession(ctx, req.GetSessionToken(), req.GetSessionJwt())
	res, err := send(ctx, stytchclient.ConsumerOTPPhoneSendParams{
		PhoneNumber:       req.GetPhoneNumber(),
		ExpirationMinutes: req.GetExpirationMinutes(),
		Locale:            consumerLocales.name(req.GetLocale()),
		SessionToken:      token,
		SessionJWT:        jwt,
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return res, nil
}

func (s *ConsumerOTPs) phoneLogin(ctx context.Context, send phoneLoginSender, req phoneLoginRequest) (*stytchclient.ConsumerPhoneLoginOrCreateResult, error) {
	res, err := send(ctx, stytchclient.ConsumerOTPPhoneLoginOrCreateParams{
		PhoneNumber:         req.GetPhoneNumber(),
		ExpirationMinutes:   req.GetExpirationMinutes(),
		CreateUserAsPending: req.GetCreateUserAsPending(),
		Locale:              consumerLocales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return res, nil
}

// SmsSend texts a code to a user's number (or to the number being added to the session's user).
func (s *ConsumerOTPs) SmsSend(ctx context.Context, req *consumerv1.OTPsServiceSmsSendRequest) (*consumerv1.OTPsServiceSmsSendResponse, error) {
	res, err := s.phoneSend(ctx, s.stytch.ConsumerOTPSMSSend, req)
	if err != nil {
		return nil, err
	}
	return &consumerv1.OTPsServiceSmsSendResponse{UserId: res.UserID, PhoneId: res.PhoneID}, nil
}

// SmsLoginOrCreate texts a code, creating the user when the number is new.
func (s *ConsumerOTPs) SmsLoginOrCreate(ctx context.Context, req *consumerv1.OTPsServiceSmsLoginOrCreateRequest) (*consumerv1.OTPsServiceSmsLoginOrCreateResponse, error) {
	res, err := s.phoneLogin(ctx, s.stytch.ConsumerOTPSMSLoginOrCreate, req)
	if err != nil {
		return nil, err
	}
	return &consumerv1.OTPsServiceSmsLoginOrCreateResponse{UserId: res.UserID, PhoneId: res.PhoneID, UserCreated: res.UserCreated}, nil
}

// WhatsAppSend sends a code by WhatsApp.
func (s *ConsumerOTPs) WhatsAppSend(ctx context.Context, req *consumerv1.OTPsServiceWhatsAppSendRequest) (*consumerv1.OTPsServiceWhatsAppSendResponse, error) {
	res, err := s.phoneSend(ctx, s.stytch.ConsumerOTPWhatsAppSend, req)
	if err != nil {
		return nil, err
	}
	return &consumerv1.OTPsServiceWhatsAppSendResponse{UserId: res.UserID, PhoneId: res.PhoneID}, nil
}

// WhatsAppLoginOrCreate sends a code by WhatsApp, creating the user when the number is new.
func (s *ConsumerOTPs) WhatsAppLoginOrCreate(ctx context.Context, req *consumerv1.OTPsServiceWhatsAppLoginOrCreateRequest) (*consumerv1.OTPsServiceWhatsAppLoginOrCreateResponse, error) {
	res, err := s.phoneLogin(ctx, s.stytch.ConsumerOTPWhatsAppLoginOrCreate, req)
	if err != nil {
		return nil, err
	}
	return &consumerv1.OTPsServiceWhatsAppLoginOrCreateResponse{UserId: res.UserID, PhoneId: res.PhoneID, UserCreated: res.UserCreated}, nil
}

// EmailSend emails a code to a user's address (or to the address being added to the session's
// user).
func (s *ConsumerOTPs) EmailSend(ctx context.Context, req *consumerv1.OTPsServiceEmailSendRequest) (*consumerv1.OTPsServiceEmailSendResponse, error) {
	token, jwt := attachSession(ctx, req.GetSessionToken(), req.GetSessionJwt())
	res, err := s.stytch.ConsumerOTPEmailSend(ctx, stytchclient.ConsumerOTPEmailSendParams{
		Email:             req.GetEmail(),
		ExpirationMinutes: req.GetExpirationMinutes(),
		LoginTemplateID:   req.GetLoginTemplateId(),
		SignupTemplateID:  req.GetSignupTemplateId(),
		Locale:            consumerLocales.name(req.GetLocale()),
		SessionToken:      token,
		SessionJWT:        jwt,
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.OTPsServiceEmailSendResponse{UserId: res.UserID, EmailId: res.EmailID}, nil
}

// EmailLoginOrCreate emails a code, creating the user when the address is new.
func (s *ConsumerOTPs) EmailLoginOrCreate(ctx context.Context, req *consumerv1.OTPsServiceEmailLoginOrCreateRequest) (*consumerv1.OTPsServiceEmailLoginOrCreateResponse, error) {
	res, err := s.stytch.ConsumerOTPEmailLoginOrCreate(ctx, stytchclient.ConsumerOTPEmailLoginOrCreateParams{
		Email:               req.GetEmail(),
		ExpirationMinutes:   req.GetExpirationMinutes(),
		CreateUserAsPending: req.GetCreateUserAsPending(),
		LoginTemplateID:     req.GetLoginTemplateId(),
		SignupTemplateID:    req.GetSignupTemplateId(),
		Locale:              consumerLocales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.OTPsServiceEmailLoginOrCreateResponse{UserId: res.UserID, EmailId: res.EmailID, UserCreated: res.UserCreated}, nil
}

// Authenticate checks a code. An unknown method, a missing code and a wrong code give the same
// UNAUTHENTICATED answer.
func (s *ConsumerOTPs) Authenticate(ctx context.Context, req *consumerv1.OTPsServiceAuthenticateRequest) (*consumerv1.OTPsServiceAuthenticateResponse, error) {
	res, err := s.stytch.ConsumerOTPAuthenticate(ctx, stytchclient.ConsumerOTPAuthenticateParams{
		MethodID:               req.GetMethodId(),
		Code:                   req.GetCode(),
		SessionToken:           req.GetSessionToken(),
		SessionJWT:             req.GetSessionJwt(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failOTP)
	}
	cs := newConsumerSession(&res.ConsumerSessionResult)
	return &consumerv1.OTPsServiceAuthenticateResponse{
		UserId: cs.userID, MethodId: res.MethodID, ResetSessions: res.ResetSessions,
		Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user,
	}, nil
}
