package service

import (
	"context"
	"log/slog"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// Passwords implements consumerv1.PasswordsServiceServer on a consumer project's client.
type Passwords struct {
	consumerv1.UnimplementedPasswordsServiceServer
	base
	stytch    *stytchclient.Client
	redirects RedirectPolicy
}

var _ consumerv1.PasswordsServiceServer = (*Passwords)(nil)

// NewPasswords returns the PasswordsService; stytch is the consumer project's client and redirects
// decides the reset email's URLs (the same allowlist as the magic links).
func NewPasswords(stytch *stytchclient.Client, redirects RedirectPolicy, log *slog.Logger) *Passwords {
	return &Passwords{base: newBase(log), stytch: stytch, redirects: redirects}
}

// failPassword answers every rejected email and password pair alike (a wrong password, an unknown
// address), so that the answer does not tell whether an account exists.
var failPassword = &authFailure{
	reason: "unauthorized_credentials", message: "the email address or password is incorrect",
	types: []string{"unauthorized_credentials", "email_not_found", "user_not_found"},
}

// failResetToken answers every rejected reset token alike.
var failResetToken = &authFailure{reason: "unable_to_reset_password", message: "the reset link is invalid, expired or already used"}

var hashTypes = map[consumerv1.HashType]string{
	consumerv1.HashType_HASH_TYPE_BCRYPT:    "bcrypt",
	consumerv1.HashType_HASH_TYPE_MD_5:      "md_5",
	consumerv1.HashType_HASH_TYPE_ARGON_2I:  "argon_2i",
	consumerv1.HashType_HASH_TYPE_ARGON_2ID: "argon_2id",
	consumerv1.HashType_HASH_TYPE_SHA_1:     "sha_1",
	consumerv1.HashType_HASH_TYPE_SHA_512:   "sha_512",
	consumerv1.HashType_HASH_TYPE_SCRYPT:    "scrypt",
	consumerv1.HashType_HASH_TYPE_PHPASS:    "phpass",
	consumerv1.HashType_HASH_TYPE_PBKDF_2:   "pbkdf_2",
}

func sessionResult(r *stytchclient.ConsumerSessionResult) consumerSession {
	return newConsumerSession(r)
}

// Create signs a user up with a password.
func (s *Passwords) Create(ctx context.Context, req *consumerv1.PasswordsServiceCreateRequest) (*consumerv1.PasswordsServiceCreateResponse, error) {
	res, err := s.stytch.ConsumerPasswordCreate(ctx, stytchclient.ConsumerPasswordCreateParams{
		Email:                  req.GetEmail(),
		Password:               req.GetPassword(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
		UntrustedMetadata:      fromStruct(req.GetUntrustedMetadata()),
		Name:                   fromName(req.GetName()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	cs := sessionResult(&res.ConsumerSessionResult)
	return &consumerv1.PasswordsServiceCreateResponse{
		UserId: cs.userID, Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user, EmailId: res.EmailID,
	}, nil
}

// Authenticate checks an email address and password.
func (s *Passwords) Authenticate(ctx context.Context, req *consumerv1.PasswordsServiceAuthenticateRequest) (*consumerv1.PasswordsServiceAuthenticateResponse, error) {
	res, err := s.stytch.ConsumerPasswordAuthenticate(ctx, stytchclient.ConsumerPasswordAuthenticateParams{
		Email:                  req.GetEmail(),
		Password:               req.GetPassword(),
		SessionToken:           req.GetSessionToken(),
		SessionJWT:             req.GetSessionJwt(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failPassword)
	}
	cs := sessionResult(res)
	return &consumerv1.PasswordsServiceAuthenticateResponse{UserId: cs.userID, Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user}, nil
}

// StrengthCheck scores a password.
func (s *Passwords) StrengthCheck(ctx context.Context, req *consumerv1.PasswordsServiceStrengthCheckRequest) (*consumerv1.PasswordsServiceStrengthCheckResponse, error) {
	res, err := s.stytch.ConsumerPasswordStrengthCheck(ctx, stytchclient.ConsumerPasswordStrengthCheckParams{Password: req.GetPassword(), Email: req.GetEmail()})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &consumerv1.PasswordsServiceStrengthCheckResponse{
		ValidPassword: res.ValidPassword, Score: res.Score, BreachedPassword: res.BreachedPassword,
		StrengthPolicy: strengthPolicies[res.StrengthPolicy], BreachDetectionOnCreate: res.BreachDetectionOnCreate,
	}
	if f := res.Feedback; f != nil {
		out.Feedback = &consumerv1.PasswordFeedback{Warning: f.Warning, Suggestions: f.Suggestions}
		if l := f.LUDSRequirements; l != nil {
			out.Feedback.LudsRequirements = &consumerv1.LudsRequirements{
				HasLowerCase: l.HasLowerCase, HasUpperCase: l.HasUpperCase, HasDigit: l.HasDigit, HasSymbol: l.HasSymbol,
				MissingComplexity: l.MissingComplexity, MissingCharacters: l.MissingCharacters,
			}
		}
	}
	return out, nil
}

var strengthPolicies = map[string]consumerv1.StrengthPolicy{
	"zxcvbn": consumerv1.StrengthPolicy_STRENGTH_POLICY_ZXCVBN,
	"luds":   consumerv1.StrengthPolicy_STRENGTH_POLICY_LUDS,
}

// Migrate imports a password hash.
func (s *Passwords) Migrate(ctx context.Context, req *consumerv1.PasswordsServiceMigrateRequest) (*consumerv1.PasswordsServiceMigrateResponse, error) {
	p := stytchclient.ConsumerPasswordMigrateParams{
		Email:                  req.GetEmail(),
		Hash:                   req.GetHash(),
		HashType:               hashTypes[req.GetHashType()],
		TrustedMetadata:        fromStruct(req.GetTrustedMetadata()),
		UntrustedMetadata:      fromStruct(req.GetUntrustedMetadata()),
		SetEmailVerified:       req.GetSetEmailVerified(),
		Name:                   fromName(req.GetName()),
		PhoneNumber:            req.GetPhoneNumber(),
		SetPhoneNumberVerified: req.GetSetPhoneNumberVerified(),
		ExternalID:             req.GetExternalId(),
		Roles:                  req.GetRoles(),
	}
	salt := func(c *consumerv1.SaltConfig) *stytchclient.PasswordSaltConfig {
		return &stytchclient.PasswordSaltConfig{PrependSalt: c.GetPrependSalt(), AppendSalt: c.GetAppendSalt()}
	}
	switch c := req.GetConfig().(type) {
	case *consumerv1.PasswordsServiceMigrateRequest_Md_5Config:
		p.MD5Config = salt(c.Md_5Config)
	case *consumerv1.PasswordsServiceMigrateRequest_Sha_1Config:
		p.SHA1Config = salt(c.Sha_1Config)
	case *consumerv1.PasswordsServiceMigrateRequest_Sha_512Config:
		p.SHA512Config = salt(c.Sha_512Config)
	case *consumerv1.PasswordsServiceMigrateRequest_Argon_2Config:
		a := c.Argon_2Config
		p.Argon2Config = &stytchclient.PasswordArgon2Config{
			Salt: a.GetSalt(), IterationAmount: a.GetIterationAmount(), Memory: a.GetMemory(), Threads: a.GetThreads(), KeyLength: a.GetKeyLength(),
		}
	case *consumerv1.PasswordsServiceMigrateRequest_ScryptConfig:
		sc := c.ScryptConfig
		p.ScryptConfig = &stytchclient.PasswordScryptConfig{
			Salt: sc.GetSalt(), NParameter: sc.GetNParameter(), RParameter: sc.GetRParameter(), PParameter: sc.GetPParameter(), KeyLength: sc.GetKeyLength(),
		}
	case *consumerv1.PasswordsServiceMigrateRequest_Pbkdf_2Config:
		pb := c.Pbkdf_2Config
		alg := "sha256"
		if pb.GetAlgorithm() == consumerv1.Pbkdf2Algorithm_PBKDF2_ALGORITHM_SHA512 {
			alg = "sha512"
		}
		p.PBKDF2Config = &stytchclient.PasswordPBKDF2Config{Salt: pb.GetSalt(), IterationAmount: pb.GetIterationAmount(), KeyLength: pb.GetKeyLength(), Algorithm: alg}
	}
	res, err := s.stytch.ConsumerPasswordMigrate(ctx, p)
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.PasswordsServiceMigrateResponse{UserId: res.UserID, EmailId: res.EmailID, UserCreated: res.UserCreated, User: toUser(&res.User)}, nil
}

// EmailResetStart emails a reset link.
func (s *Passwords) EmailResetStart(ctx context.Context, req *consumerv1.PasswordsServiceEmailResetStartRequest) (*consumerv1.PasswordsServiceEmailResetStartResponse, error) {
	reset, err := s.redirects.Resolve("reset_password_redirect_url", req.GetResetPasswordRedirectUrl())
	if err != nil {
		return nil, err
	}
	login, err := s.redirects.Resolve("login_redirect_url", req.GetLoginRedirectUrl())
	if err != nil {
		return nil, err
	}
	res, err := s.stytch.ConsumerPasswordEmailResetStart(ctx, stytchclient.ConsumerPasswordEmailResetStartParams{
		Email:                          req.GetEmail(),
		ResetPasswordRedirectURL:       reset,
		ResetPasswordExpirationMinutes: req.GetResetPasswordExpirationMinutes(),
		ResetPasswordTemplateID:        req.GetResetPasswordTemplateId(),
		LoginRedirectURL:               login,
		CodeChallenge:                  req.GetCodeChallenge(),
		Locale:                         consumerLocales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.PasswordsServiceEmailResetStartResponse{UserId: res.UserID, EmailId: res.EmailID}, nil
}

// EmailReset sets a new password with a reset token.
func (s *Passwords) EmailReset(ctx context.Context, req *consumerv1.PasswordsServiceEmailResetRequest) (*consumerv1.PasswordsServiceEmailResetResponse, error) {
	res, err := s.stytch.ConsumerPasswordEmailReset(ctx, stytchclient.ConsumerPasswordEmailResetParams{
		Token:                  req.GetToken(),
		Password:               req.GetPassword(),
		CodeVerifier:           req.GetCodeVerifier(),
		SessionToken:           req.GetSessionToken(),
		SessionJWT:             req.GetSessionJwt(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failResetToken)
	}
	cs := sessionResult(res)
	return &consumerv1.PasswordsServiceEmailResetResponse{UserId: cs.userID, Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user}, nil
}

// ExistingPasswordReset changes a password given the existing one.
func (s *Passwords) ExistingPasswordReset(ctx context.Context, req *consumerv1.PasswordsServiceExistingPasswordResetRequest) (*consumerv1.PasswordsServiceExistingPasswordResetResponse, error) {
	res, err := s.stytch.ConsumerPasswordExistingPasswordReset(ctx, stytchclient.ConsumerPasswordExistingPasswordResetParams{
		Email:                  req.GetEmail(),
		ExistingPassword:       req.GetExistingPassword(),
		NewPassword:            req.GetNewPassword(),
		SessionToken:           req.GetSessionToken(),
		SessionJWT:             req.GetSessionJwt(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failPassword)
	}
	cs := sessionResult(res)
	return &consumerv1.PasswordsServiceExistingPasswordResetResponse{UserId: cs.userID, Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user}, nil
}

// SessionReset sets a new password for the user of a session: the one the request names, else the
// caller's own.
func (s *Passwords) SessionReset(ctx context.Context, req *consumerv1.PasswordsServiceSessionResetRequest) (*consumerv1.PasswordsServiceSessionResetResponse, error) {
	token, jwt := req.GetSessionToken(), req.GetSessionJwt()
	if token == "" && jwt == "" {
		token, jwt = access.From(ctx).OwnSession()
	}
	if token == "" && jwt == "" {
		return nil, rpcerr.InvalidArgument("session_token", "missing_credential", "a session_token or session_jwt is required")
	}
	res, err := s.stytch.ConsumerPasswordSessionReset(ctx, stytchclient.ConsumerPasswordSessionResetParams{
		Password:               req.GetPassword(),
		SessionToken:           token,
		SessionJWT:             jwt,
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failSession)
	}
	cs := sessionResult(res)
	return &consumerv1.PasswordsServiceSessionResetResponse{UserId: cs.userID, Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user}, nil
}
