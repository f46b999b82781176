package service

import (
	"context"
	"log/slog"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
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

// EmailResetStart emails a member a reset link; its URLs must be on the allowlist.
func (s *B2BPasswords) EmailResetStart(ctx context.Context, req *b2bv1.PasswordsServiceEmailResetStartRequest) (*b2bv1.PasswordsServiceEmailResetStartResponse, error) {
	reset, err := s.redirects.Resolve("reset_password_redirect_url", req.GetResetPasswordRedirectUrl())
	if err != nil {
		return nil, err
	}
	login, err := s.redirects.Resolve("login_redirect_url", req.GetLoginRedirectUrl())
	if err != nil {
		return nil, err
	}
	res, err := s.stytch.PasswordEmailResetStart(ctx, stytchclient.PasswordEmailResetStartParams{
		OrganizationID:                 req.GetOrganizationId(),
		EmailAddress:                   req.GetEmailAddress(),
		ResetPasswordRedirectURL:       reset,
		ResetPasswordExpirationMinutes: req.GetResetPasswordExpirationMinutes(),
		ResetPasswordTemplateID:        req.GetResetPasswordTemplateId(),
		LoginRedirectURL:               login,
		CodeChallenge:                  req.GetCodeChallenge(),
		Locale:                         locales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.PasswordsServiceEmailResetStartResponse{MemberId: res.MemberID, MemberEmailId: res.MemberEmailID}, nil
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
