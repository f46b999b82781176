package service

import (
	"context"
	"log/slog"

	"google.golang.org/grpc/codes"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// OTPs implements b2bv1.OTPsServiceServer.
type OTPs struct {
	b2bv1.UnimplementedOTPsServiceServer
	base
	stytch   *stytchclient.Client
	sessions *session.Checker
}

var _ b2bv1.OTPsServiceServer = (*OTPs)(nil)

// NewOTPs returns the OTPsService; sessions checks the session JWT an MFA send names before anyone
// is texted.
func NewOTPs(stytch *stytchclient.Client, sessions *session.Checker, log *slog.Logger) *OTPs {
	return &OTPs{base: newBase(log), stytch: stytch, sessions: sessions}
}

// EmailLoginOrSignup emails a login or sign-up code.
func (s *OTPs) EmailLoginOrSignup(ctx context.Context, req *b2bv1.OTPsServiceEmailLoginOrSignupRequest) (*b2bv1.OTPsServiceEmailLoginOrSignupResponse, error) {
	res, err := s.stytch.OTPEmailLoginOrSignup(ctx, stytchclient.OTPEmailLoginOrSignupParams{
		OrganizationID:          req.GetOrganizationId(),
		EmailAddress:            req.GetEmailAddress(),
		LoginTemplateID:         req.GetLoginTemplateId(),
		SignupTemplateID:        req.GetSignupTemplateId(),
		Locale:                  locales.name(req.GetLocale()),
		LoginExpirationMinutes:  req.GetLoginExpirationMinutes(),
		SignupExpirationMinutes: req.GetSignupExpirationMinutes(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.OTPsServiceEmailLoginOrSignupResponse{
		MemberId:      res.MemberID,
		MemberCreated: res.MemberCreated,
		Member:        toMember(&res.Member),
		Organization:  toOrganization(&res.Organization),
	}, nil
}

// EmailAuthenticate checks an email code. An unknown member, a missing code and a wrong code give
// the same UNAUTHENTICATED answer.
func (s *OTPs) EmailAuthenticate(ctx context.Context, req *b2bv1.OTPsServiceEmailAuthenticateRequest) (*b2bv1.OTPsServiceEmailAuthenticateResponse, error) {
	res, err := s.stytch.OTPEmailAuthenticate(ctx, stytchclient.OTPEmailAuthenticateParams{
		OrganizationID:           req.GetOrganizationId(),
		EmailAddress:             req.GetEmailAddress(),
		Code:                     req.GetCode(),
		SessionToken:             req.GetSessionToken(),
		SessionJWT:               req.GetSessionJwt(),
		IntermediateSessionToken: req.GetIntermediateSessionToken(),
		SessionDurationMinutes:   req.GetSessionDurationMinutes(),
		SessionCustomClaims:      fromStruct(req.GetSessionCustomClaims()),
		Locale:                   locales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failOTP)
	}
	out := newAuthResponse[b2bv1.OTPsServiceEmailAuthenticateResponse](res)
	out.OrganizationId, out.MethodId = res.OrganizationID, res.MethodID
	return out, nil
}

// EmailDiscoverySend emails a discovery code; the answer says nothing about the address.
func (s *OTPs) EmailDiscoverySend(ctx context.Context, req *b2bv1.OTPsServiceEmailDiscoverySendRequest) (*b2bv1.OTPsServiceEmailDiscoverySendResponse, error) {
	_, err := s.stytch.OTPEmailDiscoverySend(ctx, stytchclient.OTPEmailDiscoverySendParams{
		EmailAddress:               req.GetEmailAddress(),
		LoginTemplateID:            req.GetLoginTemplateId(),
		Locale:                     locales.name(req.GetLocale()),
		DiscoveryExpirationMinutes: req.GetDiscoveryExpirationMinutes(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.OTPsServiceEmailDiscoverySendResponse{}, nil
}

// EmailDiscoveryAuthenticate checks a discovery code.
func (s *OTPs) EmailDiscoveryAuthenticate(ctx context.Context, req *b2bv1.OTPsServiceEmailDiscoveryAuthenticateRequest) (*b2bv1.OTPsServiceEmailDiscoveryAuthenticateResponse, error) {
	res, err := s.stytch.OTPEmailDiscoveryAuthenticate(ctx, stytchclient.OTPEmailDiscoveryAuthenticateParams{
		EmailAddress: req.GetEmailAddress(),
		Code:         req.GetCode(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failOTP)
	}
	return &b2bv1.OTPsServiceEmailDiscoveryAuthenticateResponse{
		IntermediateSessionToken: res.IntermediateSessionToken,
		EmailAddress:             res.EmailAddress,
		DiscoveredOrganizations:  toDiscovered(res.DiscoveredOrganizations),
	}, nil
}

// SmsSend texts an MFA code. The request must carry the intermediate session or session being
// completed (protovalidate enforces the oneof); an unknown member and an invalid intermediate
// session give the same UNAUTHENTICATED answer, so member IDs cannot be probed.
func (s *OTPs) SmsSend(ctx context.Context, req *b2bv1.OTPsServiceSmsSendRequest) (*b2bv1.OTPsServiceSmsSendResponse, error) {
	if req.GetIntermediateSessionToken() == "" && req.GetSessionToken() == "" && req.GetSessionJwt() == "" {
		// protovalidate rejects this before the handler; checked again because sending without a
		// credential would let anyone text any member.
		return nil, rpcerr.InvalidArgument("credential", "missing_credential",
			"one of intermediate_session_token, session_token or session_jwt is required")
	}
	if jwt := req.GetSessionJwt(); jwt != "" {
		// A session JWT can be checked here for free: refuse a junk one, or one of another member,
		// without texting anyone.
		c, err := s.sessions.Verifier().VerifySession(ctx, jwt)
		switch {
		case err != nil && !verify.Refreshable(err):
			return nil, s.toStatus(ctx, err, failSession)
		case err == nil && (c.MemberID != req.GetMemberId() || c.OrganizationID != req.GetOrganizationId()):
			return nil, rpcerr.New(codes.PermissionDenied, "session_member_mismatch", "the session belongs to another member")
		}
	}
	res, err := s.stytch.OTPSMSSend(ctx, stytchclient.OTPSMSSendParams{
		OrganizationID:           req.GetOrganizationId(),
		MemberID:                 req.GetMemberId(),
		MFAPhoneNumber:           req.GetMfaPhoneNumber(),
		Locale:                   locales.name(req.GetLocale()),
		IntermediateSessionToken: req.GetIntermediateSessionToken(),
		SessionToken:             req.GetSessionToken(),
		SessionJWT:               req.GetSessionJwt(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failIST)
	}
	return &b2bv1.OTPsServiceSmsSendResponse{
		MemberId:     res.MemberID,
		Member:       toMember(&res.Member),
		Organization: toOrganization(&res.Organization),
	}, nil
}

// SmsAuthenticate checks an MFA code and completes the session.
func (s *OTPs) SmsAuthenticate(ctx context.Context, req *b2bv1.OTPsServiceSmsAuthenticateRequest) (*b2bv1.OTPsServiceSmsAuthenticateResponse, error) {
	res, err := s.stytch.OTPSMSAuthenticate(ctx, stytchclient.OTPSMSAuthenticateParams{
		OrganizationID:           req.GetOrganizationId(),
		MemberID:                 req.GetMemberId(),
		Code:                     req.GetCode(),
		IntermediateSessionToken: req.GetIntermediateSessionToken(),
		SessionToken:             req.GetSessionToken(),
		SessionJWT:               req.GetSessionJwt(),
		SessionDurationMinutes:   req.GetSessionDurationMinutes(),
		SessionCustomClaims:      fromStruct(req.GetSessionCustomClaims()),
		SetMFAEnrollment:         mfaEnrollments.name(req.GetSetMfaEnrollment()),
		SetDefaultMFA:            req.GetSetDefaultMfa(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failOTP)
	}
	return &b2bv1.OTPsServiceSmsAuthenticateResponse{
		MemberId:      res.MemberID,
		MemberSession: toMemberSession(res.MemberSession),
		SessionToken:  res.SessionToken,
		SessionJwt:    res.SessionJWT,
		Member:        toMember(&res.Member),
		Organization:  toOrganization(&res.Organization),
	}, nil
}
