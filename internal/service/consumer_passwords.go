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
	h := hashConfigs(req)
	p.MD5Config, p.SHA1Config, p.SHA512Config = h.md5, h.sha1, h.sha512
	p.Argon2Config, p.ScryptConfig, p.PBKDF2Config = h.argon2, h.scrypt, h.pbkdf2
	res, err := s.stytch.ConsumerPasswordMigrate(ctx, p)
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.PasswordsServiceMigrateResponse{UserId: res.UserID, EmailId: res.EmailID, UserCreated: res.UserCreated, User: toUser(&res.User)}, nil
}

// EmailResetStart emails a reset link. Like a login, it does not tell who has an account: an
// unknown address is answered as a known one (OK, nothing sent), and neither answer names the
// user (see unknownAddress).
func (s *Passwords) EmailResetStart(ctx context.Context, req *consumerv1.PasswordsServiceEmailResetStartRequest) (*consumerv1.PasswordsServiceEmailResetStartResponse, error) {
	reset, err := s.redirects.Resolve("reset_password_redirect_url", req.GetResetPasswordRedirectUrl())
	if err != nil {
		return nil, err
	}
	login, err := s.redirects.Resolve("login_redirect_url", req.GetLoginRedirectUrl())
	if err != nil {
		return nil, err
	}
	_, err = s.stytch.ConsumerPasswordEmailResetStart(ctx, stytchclient.ConsumerPasswordEmailResetStartParams{
		Email:                          req.GetEmail(),
		ResetPasswordRedirectURL:       reset,
		ResetPasswordExpirationMinutes: req.GetResetPasswordExpirationMinutes(),
		ResetPasswordTemplateID:        req.GetResetPasswordTemplateId(),
		LoginRedirectURL:               login,
		CodeChallenge:                  req.GetCodeChallenge(),
		Locale:                         consumerLocales.name(req.GetLocale()),
	})
	if err != nil && !unknownAddress(err) {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &consumerv1.PasswordsServiceEmailResetStartResponse{}, nil
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

// hashConfigSource is a migrate request (consumer or B2B): both carry the same hash parameters.
type hashConfigSource interface {
	GetMd_5Config() *consumerv1.SaltConfig
	GetSha_1Config() *consumerv1.SaltConfig
	GetSha_512Config() *consumerv1.SaltConfig
	GetArgon_2Config() *consumerv1.Argon2Config
	GetScryptConfig() *consumerv1.ScryptConfig
	GetPbkdf_2Config() *consumerv1.Pbkdf2Config
}

// hashParams is a migrate request's hash parameters in Stytch's form; at most one is set.
type hashParams struct {
	md5, sha1, sha512 *stytchclient.PasswordSaltConfig
	argon2            *stytchclient.PasswordArgon2Config
	scrypt            *stytchclient.PasswordScryptConfig
	pbkdf2            *stytchclient.PasswordPBKDF2Config
}

func hashConfigs(req hashConfigSource) hashParams {
	var h hashParams
	salt := func(c *consumerv1.SaltConfig) *stytchclient.PasswordSaltConfig {
		if c == nil {
			return nil
		}
		return &stytchclient.PasswordSaltConfig{PrependSalt: c.GetPrependSalt(), AppendSalt: c.GetAppendSalt()}
	}
	h.md5, h.sha1, h.sha512 = salt(req.GetMd_5Config()), salt(req.GetSha_1Config()), salt(req.GetSha_512Config())
	if a := req.GetArgon_2Config(); a != nil {
		h.argon2 = &stytchclient.PasswordArgon2Config{
			Salt: a.GetSalt(), IterationAmount: a.GetIterationAmount(), Memory: a.GetMemory(), Threads: a.GetThreads(), KeyLength: a.GetKeyLength(),
		}
	}
	if sc := req.GetScryptConfig(); sc != nil {
		h.scrypt = &stytchclient.PasswordScryptConfig{
			Salt: sc.GetSalt(), NParameter: sc.GetNParameter(), RParameter: sc.GetRParameter(), PParameter: sc.GetPParameter(), KeyLength: sc.GetKeyLength(),
		}
	}
	if pb := req.GetPbkdf_2Config(); pb != nil {
		alg := "sha256"
		if pb.GetAlgorithm() == consumerv1.Pbkdf2Algorithm_PBKDF2_ALGORITHM_SHA512 {
			alg = "sha512"
		}
		h.pbkdf2 = &stytchclient.PasswordPBKDF2Config{Salt: pb.GetSalt(), IterationAmount: pb.GetIterationAmount(), KeyLength: pb.GetKeyLength(), Algorithm: alg}
	}
	return h
}
