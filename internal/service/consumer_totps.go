package service

import (
	"context"
	"log/slog"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// TOTPs implements consumerv1.TOTPsServiceServer on a consumer project's client.
type TOTPs struct {
	consumerv1.UnimplementedTOTPsServiceServer
	base
	stytch *stytchclient.Client
}

var _ consumerv1.TOTPsServiceServer = (*TOTPs)(nil)

// NewTOTPs returns the TOTPsService; stytch is the consumer project's client.
func NewTOTPs(stytch *stytchclient.Client, log *slog.Logger) *TOTPs {
	return &TOTPs{base: newBase(log), stytch: stytch}
}

// failTOTP answers a wrong code, an unknown user and a user without a TOTP alike, so that the
// public Authenticate does not tell who has an authenticator app. A code of a step already used
// keeps its own answer: only a right code gets it.
var failTOTP = &authFailure{
	reason: "unable_to_authenticate_totp", message: "the TOTP code is incorrect",
	types: []string{"unable_to_authenticate_totp", "totp_not_found", "user_not_found"},
}

// failRecoveryCode answers a wrong or used recovery code, an unknown user and a user without a
// TOTP alike.
var failRecoveryCode = &authFailure{
	reason: "unable_to_authenticate_recovery_code", message: "the recovery code is incorrect or already used",
	types: []string{"unable_to_authenticate_recovery_code", "totp_not_found", "user_not_found"},
}

// Create starts a TOTP registration.
func (s *TOTPs) Create(ctx context.Context, req *consumerv1.TOTPsServiceCreateRequest) (*consumerv1.TOTPsServiceCreateResponse, error) {
	res, err := s.stytch.ConsumerTOTPCreate(ctx, stytchclient.ConsumerTOTPCreateParams{
		UserID: req.GetUserId(), ExpirationMinutes: req.GetExpirationMinutes(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.TOTPsServiceCreateResponse{
		TotpId: res.TOTPID, Secret: res.Secret, QrCode: res.QRCode, RecoveryCodes: res.RecoveryCodes,
		UserId: res.UserID, User: toUser(&res.User),
	}, nil
}

// Authenticate checks a code from the user's authenticator app.
func (s *TOTPs) Authenticate(ctx context.Context, req *consumerv1.TOTPsServiceAuthenticateRequest) (*consumerv1.TOTPsServiceAuthenticateResponse, error) {
	res, err := s.stytch.ConsumerTOTPAuthenticate(ctx, stytchclient.ConsumerTOTPAuthenticateParams{
		UserID:                 req.GetUserId(),
		TOTPCode:               req.GetTotpCode(),
		SessionToken:           req.GetSessionToken(),
		SessionJWT:             req.GetSessionJwt(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failTOTP)
	}
	cs := newConsumerSession(&res.ConsumerSessionResult)
	return &consumerv1.TOTPsServiceAuthenticateResponse{
		UserId: cs.userID, TotpId: res.TOTPID, Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user,
	}, nil
}

// RecoveryCodes lists a user's unused recovery codes.
func (s *TOTPs) RecoveryCodes(ctx context.Context, req *consumerv1.TOTPsServiceRecoveryCodesRequest) (*consumerv1.TOTPsServiceRecoveryCodesResponse, error) {
	res, err := s.stytch.ConsumerTOTPRecoveryCodes(ctx, req.GetUserId())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &consumerv1.TOTPsServiceRecoveryCodesResponse{UserId: res.UserID}
	for _, t := range res.TOTPs {
		out.Totps = append(out.Totps, &consumerv1.TOTPRecoveryCodes{TotpId: t.TOTPID, Verified: t.Verified, RecoveryCodes: t.RecoveryCodes})
	}
	return out, nil
}

// Recover authenticates a recovery code.
func (s *TOTPs) Recover(ctx context.Context, req *consumerv1.TOTPsServiceRecoverRequest) (*consumerv1.TOTPsServiceRecoverResponse, error) {
	res, err := s.stytch.ConsumerTOTPRecover(ctx, stytchclient.ConsumerTOTPRecoverParams{
		UserID:                 req.GetUserId(),
		RecoveryCode:           req.GetRecoveryCode(),
		SessionToken:           req.GetSessionToken(),
		SessionJWT:             req.GetSessionJwt(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failRecoveryCode)
	}
	cs := newConsumerSession(&res.ConsumerSessionResult)
	return &consumerv1.TOTPsServiceRecoverResponse{
		UserId: cs.userID, TotpId: res.TOTPID, Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user,
	}, nil
}
