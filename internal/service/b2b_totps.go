package service

import (
	"context"
	"log/slog"
	"strings"

	"google.golang.org/grpc/codes"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// B2BTOTPs implements b2bv1.TOTPsServiceServer: a member's authenticator app as a second factor.
type B2BTOTPs struct {
	b2bv1.UnimplementedTOTPsServiceServer
	base
	stytch *stytchclient.Client
}

var _ b2bv1.TOTPsServiceServer = (*B2BTOTPs)(nil)

// NewB2BTOTPs returns the B2B TOTPsService; stytch is the B2B project's client.
func NewB2BTOTPs(stytch *stytchclient.Client, log *slog.Logger) *B2BTOTPs {
	return &B2BTOTPs{base: newBase(log), stytch: stytch}
}

// RecoveryCodes implements b2bv1.RecoveryCodesServiceServer: the recovery codes of a member's TOTP
// registration.
type RecoveryCodes struct {
	b2bv1.UnimplementedRecoveryCodesServiceServer
	base
	stytch *stytchclient.Client
}

var _ b2bv1.RecoveryCodesServiceServer = (*RecoveryCodes)(nil)

// NewRecoveryCodes returns the RecoveryCodesService; stytch is the B2B project's client.
func NewRecoveryCodes(stytch *stytchclient.Client, log *slog.Logger) *RecoveryCodes {
	return &RecoveryCodes{base: newBase(log), stytch: stytch}
}

// failMemberTOTP answers a wrong code, an unknown member and a member without a TOTP alike, so
// that the public Authenticate does not tell who has an authenticator app. A code of a step
// already used keeps its own answer: only a right code gets it.
var failMemberTOTP = &authFailure{
	reason: "unable_to_authenticate_totp", message: "the TOTP code is incorrect",
	types: []string{"unable_to_authenticate_totp", "totp_not_found", "member_not_found"},
}

// failMemberRecoveryCode answers a wrong or used recovery code, an unknown member and a member
// without a TOTP alike.
var failMemberRecoveryCode = &authFailure{
	reason: "unable_to_authenticate_recovery_code", message: "the recovery code is incorrect or already used",
	types: []string{"unable_to_authenticate_recovery_code", "totp_not_found", "member_not_found"},
}

// loginFailure is how a login that carries an intermediate session or a session beside its own
// credential (TOTP Authenticate and Recover, B2B OAuth Authenticate) reports a rejection: a
// rejected intermediate session or session as such (the login must start again), anything else as
// the credential's one answer (af).
func loginFailure(err error, af *authFailure) *authFailure {
	se, ok := stytchclient.AsError(err)
	switch {
	case !ok:
		return af
	case se.ErrorType == "intermediate_session_not_found":
		return failIST
	case failSession.applies(se):
		return failSession
	}
	return af
}

// ownMember refuses a member caller who names another member than themselves. The access rule
// admits any member session of the organization (member_organization_field); a member's factors
// are their own, so the member must be named by its member ID, in any letter case as Stytch
// compares IDs. Services and anonymous callers (admitted by a credential in the request, which
// Stytch checks against the member) pass.
func ownMember(p access.Principal, memberID string) error {
	if p.Kind != access.KindMember || strings.EqualFold(p.MemberID, memberID) {
		return nil
	}
	return rpcerr.New(codes.PermissionDenied, "session_member_mismatch",
		"a member session may act only on its own member; name it by its member ID")
}

// Create starts a TOTP registration. A member caller's own session goes to Stytch as the proof of
// the factors it holds, unless the request carries an intermediate session.
func (s *B2BTOTPs) Create(ctx context.Context, req *b2bv1.TOTPsServiceCreateRequest) (*b2bv1.TOTPsServiceCreateResponse, error) {
	caller := access.From(ctx)
	if err := ownMember(caller, req.GetMemberId()); err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	p := stytchclient.TOTPCreateParams{
		OrganizationID:           req.GetOrganizationId(),
		MemberID:                 req.GetMemberId(),
		ExpirationMinutes:        req.GetExpirationMinutes(),
		IntermediateSessionToken: req.GetIntermediateSessionToken(),
	}
	if p.IntermediateSessionToken == "" && caller.Kind == access.KindMember {
		p.SessionToken, p.SessionJWT = caller.OwnSession()
	}
	res, err := s.stytch.TOTPCreate(ctx, p)
	if err != nil {
		var af *authFailure
		if p.IntermediateSessionToken != "" {
			// An anonymous caller admitted by the intermediate session: an unknown member and a
			// session of another member answer alike.
			af = failIST
		}
		return nil, s.toStatus(ctx, err, af)
	}
	return &b2bv1.TOTPsServiceCreateResponse{
		MemberId:           res.MemberID,
		TotpRegistrationId: res.TOTPRegistrationID,
		Secret:             res.Secret,
		QrCode:             res.QRCode,
		RecoveryCodes:      res.RecoveryCodes,
		Member:             toMember(&res.Member),
		Organization:       toOrganization(&res.Organization),
	}, nil
}

// Authenticate checks a code from the member's authenticator app and completes the intermediate
// session or steps up the session.
func (s *B2BTOTPs) Authenticate(ctx context.Context, req *b2bv1.TOTPsServiceAuthenticateRequest) (*b2bv1.TOTPsServiceAuthenticateResponse, error) {
	if err := oneCredential(req.GetIntermediateSessionToken(), req.GetSessionToken(), req.GetSessionJwt()); err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	res, err := s.stytch.TOTPAuthenticate(ctx, stytchclient.TOTPAuthenticateParams{
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
		return nil, s.toStatus(ctx, err, loginFailure(err, failMemberTOTP))
	}
	return &b2bv1.TOTPsServiceAuthenticateResponse{
		MemberId:      res.MemberID,
		MemberSession: toMemberSession(res.MemberSession),
		SessionToken:  res.SessionToken,
		SessionJwt:    res.SessionJWT,
		Member:        toMember(&res.Member),
		Organization:  toOrganization(&res.Organization),
	}, nil
}

// Migrate imports a member's existing TOTP secret.
func (s *B2BTOTPs) Migrate(ctx context.Context, req *b2bv1.TOTPsServiceMigrateRequest) (*b2bv1.TOTPsServiceMigrateResponse, error) {
	res, err := s.stytch.TOTPMigrate(ctx, stytchclient.TOTPMigrateParams{
		OrganizationID: req.GetOrganizationId(),
		MemberID:       req.GetMemberId(),
		Secret:         req.GetSecret(),
		RecoveryCodes:  req.GetRecoveryCodes(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.TOTPsServiceMigrateResponse{
		MemberId:           res.MemberID,
		TotpRegistrationId: res.TOTPRegistrationID,
		RecoveryCodes:      res.RecoveryCodes,
		Member:             toMember(&res.Member),
		Organization:       toOrganization(&res.Organization),
	}, nil
}

// Get returns the member's unused recovery codes.
func (s *RecoveryCodes) Get(ctx context.Context, req *b2bv1.RecoveryCodesServiceGetRequest) (*b2bv1.RecoveryCodesServiceGetResponse, error) {
	if err := ownMember(access.From(ctx), req.GetMemberId()); err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	res, err := s.stytch.RecoveryCodesGet(ctx, req.GetOrganizationId(), req.GetMemberId())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.RecoveryCodesServiceGetResponse{
		MemberId:      res.MemberID,
		RecoveryCodes: res.RecoveryCodes,
		Member:        toMember(&res.Member),
		Organization:  toOrganization(&res.Organization),
	}, nil
}

// Rotate replaces the member's recovery codes.
func (s *RecoveryCodes) Rotate(ctx context.Context, req *b2bv1.RecoveryCodesServiceRotateRequest) (*b2bv1.RecoveryCodesServiceRotateResponse, error) {
	if err := ownMember(access.From(ctx), req.GetMemberId()); err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	res, err := s.stytch.RecoveryCodesRotate(ctx, req.GetOrganizationId(), req.GetMemberId())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.RecoveryCodesServiceRotateResponse{
		MemberId:      res.MemberID,
		RecoveryCodes: res.RecoveryCodes,
		Member:        toMember(&res.Member),
		Organization:  toOrganization(&res.Organization),
	}, nil
}

// Recover spends a recovery code in place of a TOTP code.
func (s *RecoveryCodes) Recover(ctx context.Context, req *b2bv1.RecoveryCodesServiceRecoverRequest) (*b2bv1.RecoveryCodesServiceRecoverResponse, error) {
	if err := oneCredential(req.GetIntermediateSessionToken(), req.GetSessionToken(), req.GetSessionJwt()); err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	res, err := s.stytch.RecoveryCodesRecover(ctx, stytchclient.RecoveryCodesRecoverParams{
		OrganizationID:           req.GetOrganizationId(),
		MemberID:                 req.GetMemberId(),
		RecoveryCode:             req.GetRecoveryCode(),
		IntermediateSessionToken: req.GetIntermediateSessionToken(),
		SessionToken:             req.GetSessionToken(),
		SessionJWT:               req.GetSessionJwt(),
		SessionDurationMinutes:   req.GetSessionDurationMinutes(),
		SessionCustomClaims:      fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, loginFailure(err, failMemberRecoveryCode))
	}
	return &b2bv1.RecoveryCodesServiceRecoverResponse{
		MemberId:               res.MemberID,
		MemberSession:          toMemberSession(res.MemberSession),
		SessionToken:           res.SessionToken,
		SessionJwt:             res.SessionJWT,
		Member:                 toMember(&res.Member),
		Organization:           toOrganization(&res.Organization),
		RecoveryCodesRemaining: res.RecoveryCodesRemaining,
	}, nil
}

// oneCredential checks again what protovalidate checks first (the credential oneof is required):
// a second factor completes an intermediate session or a session, and never starts a login on its
// own. The oneof keeps it to one.
func oneCredential(creds ...string) error {
	for _, c := range creds {
		if c != "" {
			return nil
		}
	}
	return rpcerr.InvalidArgument("credential", "missing_credential",
		"one of intermediate_session_token, session_token or session_jwt is required")
}
