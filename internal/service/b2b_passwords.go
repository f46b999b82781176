package service

import (
	"context"
	"log/slog"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// B2BPasswords implements b2bv1.PasswordsServiceServer: members' passwords as a primary factor.
type B2BPasswords struct {
	b2bv1.UnimplementedPasswordsServiceServer
	base
	stytch    *stytchclient.Client
	redirects RedirectPolicy
}

var _ b2bv1.PasswordsServiceServer = (*B2BPasswords)(nil)

// NewB2BPasswords returns the B2B PasswordsService; stytch is the B2B project's client and
// redirects decides the reset email's URLs (the same allowlist as the magic links).
func NewB2BPasswords(stytch *stytchclient.Client, redirects RedirectPolicy, log *slog.Logger) *B2BPasswords {
	return &B2BPasswords{base: newBase(log), stytch: stytch, redirects: redirects}
}

// failMemberPassword answers every rejected email and password pair alike (a wrong password, an
// unknown address, a member without a password), so that the public Authenticate does not tell
// who is a member or who has a password.
var failMemberPassword = &authFailure{
	reason: "unauthorized_credentials", message: "the email address or password is incorrect",
	types: []string{"unauthorized_credentials", "email_not_found", "member_not_found"},
}

// Authenticate checks a member's email and password; the outcome is a session or, when more
// factors are due, an intermediate session token, built as every primary authentication's is.
func (s *B2BPasswords) Authenticate(ctx context.Context, req *b2bv1.PasswordsServiceAuthenticateRequest) (*b2bv1.PasswordsServiceAuthenticateResponse, error) {
	res, err := s.stytch.PasswordAuthenticate(ctx, stytchclient.PasswordAuthenticateParams{
		OrganizationID:           req.GetOrganizationId(),
		EmailAddress:             req.GetEmailAddress(),
		Password:                 req.GetPassword(),
		SessionToken:             req.GetSessionToken(),
		SessionJWT:               req.GetSessionJwt(),
		IntermediateSessionToken: req.GetIntermediateSessionToken(),
		SessionDurationMinutes:   req.GetSessionDurationMinutes(),
		SessionCustomClaims:      fromStruct(req.GetSessionCustomClaims()),
		Locale:                   locales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failMemberPassword)
	}
	out := newAuthResponse[b2bv1.PasswordsServiceAuthenticateResponse](res)
	out.OrganizationId = res.OrganizationID
	return out, nil
}

var b2bStrengthPolicies = map[string]b2bv1.PasswordStrengthPolicy{
	"zxcvbn": b2bv1.PasswordStrengthPolicy_PASSWORD_STRENGTH_POLICY_ZXCVBN,
	"luds":   b2bv1.PasswordStrengthPolicy_PASSWORD_STRENGTH_POLICY_LUDS,
}

// StrengthCheck scores a password.
func (s *B2BPasswords) StrengthCheck(ctx context.Context, req *b2bv1.PasswordsServiceStrengthCheckRequest) (*b2bv1.PasswordsServiceStrengthCheckResponse, error) {
	res, err := s.stytch.PasswordStrengthCheck(ctx, stytchclient.PasswordStrengthCheckParams{
		Password: req.GetPassword(), EmailAddress: req.GetEmailAddress(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &b2bv1.PasswordsServiceStrengthCheckResponse{
		ValidPassword: res.ValidPassword, Score: res.Score, BreachedPassword: res.BreachedPassword,
		StrengthPolicy: b2bStrengthPolicies[res.StrengthPolicy], BreachDetectionOnCreate: res.BreachDetectionOnCreate,
	}
	if f := res.ZxcvbnFeedback; f != nil {
		out.ZxcvbnFeedback = &b2bv1.PasswordZxcvbnFeedback{Warning: f.Warning, Suggestions: f.Suggestions}
	}
	if l := res.LUDSFeedback; l != nil {
		out.LudsFeedback = &b2bv1.PasswordLudsFeedback{
			HasLowerCase: l.HasLowerCase, HasUpperCase: l.HasUpperCase, HasDigit: l.HasDigit, HasSymbol: l.HasSymbol,
			MissingComplexity: l.MissingComplexity, MissingCharacters: l.MissingCharacters,
		}
	}
	return out, nil
}

// unknownAddress reports whether err is Stytch's answer to a reset start for an address with no
// account (member_not_found, email_not_found, user_not_found). The public reset starts answer it
// as a sent email, and name no member or user in either answer, as Authenticate answers an
// unknown address like a wrong password: otherwise the reset form tells anyone who has an
// account. The owner of the address is the only one who learns the difference (an email or
// none). An unknown organization is still NOT_FOUND: it names no person.
func unknownAddress(err error) bool {
	switch stytchclient.ErrorType(err) {
	case "member_not_found", "email_not_found", "user_not_found":
		return true
	}
	return false
}

// EmailResetStart emails a member a reset link; its URLs must be on the allowlist. An unknown
// address is answered as a known one (see unknownAddress).
func (s *B2BPasswords) EmailResetStart(ctx context.Context, req *b2bv1.PasswordsServiceEmailResetStartRequest) (*b2bv1.PasswordsServiceEmailResetStartResponse, error) {
	reset, err := s.redirects.Resolve("reset_password_redirect_url", req.GetResetPasswordRedirectUrl())
	if err != nil {
		return nil, err
	}
	login, err := s.redirects.Resolve("login_redirect_url", req.GetLoginRedirectUrl())
	if err != nil {
		return nil, err
	}
	_, err = s.stytch.PasswordEmailResetStart(ctx, stytchclient.PasswordEmailResetStartParams{
		OrganizationID:                 req.GetOrganizationId(),
		EmailAddress:                   req.GetEmailAddress(),
		ResetPasswordRedirectURL:       reset,
		ResetPasswordExpirationMinutes: req.GetResetPasswordExpirationMinutes(),
		ResetPasswordTemplateID:        req.GetResetPasswordTemplateId(),
		LoginRedirectURL:               login,
		CodeChallenge:                  req.GetCodeChallenge(),
		Locale:                         locales.name(req.GetLocale()),
	})
	if err != nil && !unknownAddress(err) {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.PasswordsServiceEmailResetStartResponse{}, nil
}

// EmailReset sets a new password with a reset token and logs the member in.
func (s *B2BPasswords) EmailReset(ctx context.Context, req *b2bv1.PasswordsServiceEmailResetRequest) (*b2bv1.PasswordsServiceEmailResetResponse, error) {
	res, err := s.stytch.PasswordEmailReset(ctx, stytchclient.PasswordEmailResetParams{
		PasswordResetToken:       req.GetPasswordResetToken(),
		Password:                 req.GetPassword(),
		CodeVerifier:             req.GetCodeVerifier(),
		SessionToken:             req.GetSessionToken(),
		SessionJWT:               req.GetSessionJwt(),
		IntermediateSessionToken: req.GetIntermediateSessionToken(),
		SessionDurationMinutes:   req.GetSessionDurationMinutes(),
		SessionCustomClaims:      fromStruct(req.GetSessionCustomClaims()),
		Locale:                   locales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failResetToken)
	}
	out := newAuthResponse[b2bv1.PasswordsServiceEmailResetResponse](&res.B2BAuthenticateResult)
	out.OrganizationId, out.MemberEmailId = res.OrganizationID, res.MemberEmailID
	return out, nil
}

// Migrate imports a member's password hash.
func (s *B2BPasswords) Migrate(ctx context.Context, req *b2bv1.PasswordsServiceMigrateRequest) (*b2bv1.PasswordsServiceMigrateResponse, error) {
	h := hashConfigs(req)
	res, err := s.stytch.PasswordMigrate(ctx, stytchclient.PasswordMigrateParams{
		OrganizationID: req.GetOrganizationId(), EmailAddress: req.GetEmailAddress(),
		Hash: req.GetHash(), HashType: hashTypes[req.GetHashType()],
		MD5Config: h.md5, SHA1Config: h.sha1, SHA512Config: h.sha512,
		Argon2Config: h.argon2, ScryptConfig: h.scrypt, PBKDF2Config: h.pbkdf2,
		Name: req.GetName(), TrustedMetadata: fromStruct(req.GetTrustedMetadata()),
		UntrustedMetadata: fromStruct(req.GetUntrustedMetadata()), Roles: req.GetRoles(),
		MFAPhoneNumber: req.GetMfaPhoneNumber(), SetPhoneNumberVerified: req.GetSetPhoneNumberVerified(),
		ExternalID: req.GetExternalId(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.PasswordsServiceMigrateResponse{
		MemberId: res.MemberID, MemberCreated: res.MemberCreated,
		Member: toMember(&res.Member), Organization: toOrganization(&res.Organization),
	}, nil
}

// ExistingPasswordReset sets a new password with the current one and logs the member in. Every
// rejected email and password pair is answered alike, as Authenticate's.
func (s *B2BPasswords) ExistingPasswordReset(ctx context.Context, req *b2bv1.PasswordsServiceExistingPasswordResetRequest) (*b2bv1.PasswordsServiceExistingPasswordResetResponse, error) {
	res, err := s.stytch.PasswordExistingReset(ctx, stytchclient.PasswordExistingResetParams{
		OrganizationID:         req.GetOrganizationId(),
		EmailAddress:           req.GetEmailAddress(),
		ExistingPassword:       req.GetExistingPassword(),
		NewPassword:            req.GetNewPassword(),
		SessionToken:           req.GetSessionToken(),
		SessionJWT:             req.GetSessionJwt(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
		Locale:                 locales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failMemberPassword)
	}
	out := newAuthResponse[b2bv1.PasswordsServiceExistingPasswordResetResponse](res)
	out.OrganizationId = res.Member.OrganizationID
	return out, nil
}

// SessionReset sets a new password for the member of a session: the one the request names, else
// the caller's own.
func (s *B2BPasswords) SessionReset(ctx context.Context, req *b2bv1.PasswordsServiceSessionResetRequest) (*b2bv1.PasswordsServiceSessionResetResponse, error) {
	token, jwt := req.GetSessionToken(), req.GetSessionJwt()
	if token == "" && jwt == "" {
		token, jwt = access.From(ctx).OwnSession()
	}
	if token == "" && jwt == "" {
		return nil, rpcerr.InvalidArgument("session_token", "missing_credential", "a session_token or session_jwt is required")
	}
	res, err := s.stytch.PasswordSessionReset(ctx, stytchclient.PasswordSessionResetParams{
		OrganizationID:         req.GetOrganizationId(),
		Password:               req.GetPassword(),
		SessionToken:           token,
		SessionJWT:             jwt,
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failSession)
	}
	a := newAuthResponse[b2bv1.PasswordsServiceExistingPasswordResetResponse](res)
	return &b2bv1.PasswordsServiceSessionResetResponse{
		MemberId: a.GetMemberId(), OrganizationId: res.Member.OrganizationID, MemberSession: a.GetMemberSession(),
		SessionToken: a.GetSessionToken(), SessionJwt: a.GetSessionJwt(), Member: a.GetMember(), Organization: a.GetOrganization(),
	}, nil
}

// RequireReset forces a member's password reset; the organization is always named, so that an
// administrator acts in the own organization only (Stytch would also accept an email alone and
// flag that address in every organization).
func (s *B2BPasswords) RequireReset(ctx context.Context, req *b2bv1.PasswordsServiceRequireResetRequest) (*b2bv1.PasswordsServiceRequireResetResponse, error) {
	res, err := s.stytch.PasswordRequireReset(ctx, stytchclient.PasswordRequireResetParams{
		OrganizationID: req.GetOrganizationId(), EmailAddress: req.GetEmailAddress(), MemberID: req.GetMemberId(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.PasswordsServiceRequireResetResponse{
		MemberId: res.MemberID, Member: toMember(&res.Member), Organization: toOrganization(&res.Organization),
	}, nil
}

// DiscoveryAuthenticate checks an email address's password for discovery; every refusal is
// answered alike, as Authenticate's.
func (s *B2BPasswords) DiscoveryAuthenticate(ctx context.Context, req *b2bv1.PasswordsServiceDiscoveryAuthenticateRequest) (*b2bv1.PasswordsServiceDiscoveryAuthenticateResponse, error) {
	res, err := s.stytch.PasswordDiscoveryAuthenticate(ctx, stytchclient.PasswordDiscoveryAuthenticateParams{
		EmailAddress: req.GetEmailAddress(), Password: req.GetPassword(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failMemberPassword)
	}
	return &b2bv1.PasswordsServiceDiscoveryAuthenticateResponse{
		IntermediateSessionToken: res.IntermediateSessionToken,
		EmailAddress:             res.EmailAddress,
		DiscoveredOrganizations:  toDiscovered(res.DiscoveredOrganizations),
	}, nil
}

// DiscoveryEmailResetStart emails a discovery reset link; an address with no member anywhere is
// answered like one that has (see EmailResetStart).
func (s *B2BPasswords) DiscoveryEmailResetStart(ctx context.Context, req *b2bv1.PasswordsServiceDiscoveryEmailResetStartRequest) (*b2bv1.PasswordsServiceDiscoveryEmailResetStartResponse, error) {
	reset, err := s.redirects.Resolve("reset_password_redirect_url", req.GetResetPasswordRedirectUrl())
	if err != nil {
		return nil, err
	}
	discovery, err := s.redirects.Resolve("discovery_redirect_url", req.GetDiscoveryRedirectUrl())
	if err != nil {
		return nil, err
	}
	_, err = s.stytch.PasswordDiscoveryResetStart(ctx, stytchclient.PasswordDiscoveryResetStartParams{
		EmailAddress:                   req.GetEmailAddress(),
		ResetPasswordRedirectURL:       reset,
		DiscoveryRedirectURL:           discovery,
		ResetPasswordTemplateID:        req.GetResetPasswordTemplateId(),
		ResetPasswordExpirationMinutes: req.GetResetPasswordExpirationMinutes(),
		PKCECodeChallenge:              req.GetPkceCodeChallenge(),
		Locale:                         locales.name(req.GetLocale()),
		VerifyEmailTemplateID:          req.GetVerifyEmailTemplateId(),
	})
	if err != nil && !unknownAddress(err) {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.PasswordsServiceDiscoveryEmailResetStartResponse{}, nil
}

// DiscoveryEmailReset spends a discovery reset token on a new password.
func (s *B2BPasswords) DiscoveryEmailReset(ctx context.Context, req *b2bv1.PasswordsServiceDiscoveryEmailResetRequest) (*b2bv1.PasswordsServiceDiscoveryEmailResetResponse, error) {
	res, err := s.stytch.PasswordDiscoveryReset(ctx, stytchclient.PasswordDiscoveryResetParams{
		PasswordResetToken: req.GetPasswordResetToken(), Password: req.GetPassword(), PKCECodeVerifier: req.GetPkceCodeVerifier(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failResetToken)
	}
	return &b2bv1.PasswordsServiceDiscoveryEmailResetResponse{
		IntermediateSessionToken: res.IntermediateSessionToken,
		EmailAddress:             res.EmailAddress,
		DiscoveredOrganizations:  toDiscovered(res.DiscoveredOrganizations),
	}, nil
}
