package stytchclient

import "context"

// Consumer passwords (/v1/passwords/...). Passwords, reset tokens and hashes travel only in
// request bodies, which the client never logs, records in spans or quotes in errors (request.go):
// an error names the endpoint template, status, error type and request ID only.

// ConsumerPasswordCreateParams for POST /v1/passwords: a new user with a password. Without
// SessionDurationMinutes no session is created.
type ConsumerPasswordCreateParams struct {
	Email                  string    `json:"email"`
	Password               string    `json:"password"`
	SessionDurationMinutes int32     `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata  `json:"session_custom_claims,omitzero"`
	TrustedMetadata        Metadata  `json:"trusted_metadata,omitzero"`
	UntrustedMetadata      Metadata  `json:"untrusted_metadata,omitzero"`
	Name                   *UserName `json:"name,omitempty"`
	TelemetryID            string    `json:"telemetry_id,omitempty"`
}

// ConsumerPasswordCreateResult is the new user, its email ID and, when one was asked for, the
// session.
type ConsumerPasswordCreateResult struct {
	ConsumerSessionResult
	EmailID string `json:"email_id"`
}

// ConsumerPasswordCreate creates a user with a password (400 duplicate_email when the address is
// taken, weak_password or breached_password when the password fails the project's policy). Never
// retried once written.
func (c *Client) ConsumerPasswordCreate(ctx context.Context, p ConsumerPasswordCreateParams) (*ConsumerPasswordCreateResult, error) {
	var out ConsumerPasswordCreateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/passwords",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerPasswordAuthenticateParams for POST /v1/passwords/authenticate. With SessionToken or
// SessionJWT (at most one) the factor joins that session; SessionDurationMinutes starts one.
type ConsumerPasswordAuthenticateParams struct {
	Email                  string   `json:"email"`
	Password               string   `json:"password"`
	SessionToken           string   `json:"session_token,omitempty"`
	SessionJWT             string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
	TelemetryID            string   `json:"telemetry_id,omitempty"`
}

// ConsumerPasswordAuthenticate checks a user's email and password. A wrong password is Stytch's
// 401 unauthorized_credentials, which this method reports as UNAUTHENTICATED (see
// Error.EndUserCredentials); an unknown address is 404 email_not_found; a password that must be
// reset first is reset_password. Never retried once written (a replay would count twice against
// Stytch's brute-force limits).
func (c *Client) ConsumerPasswordAuthenticate(ctx context.Context, p ConsumerPasswordAuthenticateParams) (*ConsumerSessionResult, error) {
	var out ConsumerSessionResult
	err := c.do(ctx, call{
		endpoint:           "POST /v1/passwords/authenticate",
		body:               p,
		endUserCredentials: true,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerPasswordStrengthCheckParams for POST /v1/passwords/strength_check. Email is optional:
// with it, a password containing the address is weaker.
type ConsumerPasswordStrengthCheckParams struct {
	Password string `json:"password"`
	Email    string `json:"email,omitempty"`
}

// PasswordFeedback tells the end user how to strengthen a password: Warning and Suggestions
// under zxcvbn, LUDSRequirements under LUDS.
type PasswordFeedback struct {
	Warning          string            `json:"warning"`
	Suggestions      []string          `json:"suggestions"`
	LUDSRequirements *LUDSRequirements `json:"luds_requirements,omitempty"`
}

// LUDSRequirements says which LUDS rules (lower case, upper case, digit, symbol, length) a
// password meets and what it lacks.
type LUDSRequirements struct {
	HasLowerCase      bool  `json:"has_lower_case"`
	HasUpperCase      bool  `json:"has_upper_case"`
	HasDigit          bool  `json:"has_digit"`
	HasSymbol         bool  `json:"has_symbol"`
	MissingComplexity int32 `json:"missing_complexity"`
	MissingCharacters int32 `json:"missing_characters"`
}

// ConsumerPasswordStrengthCheckResult is the verdict of the project's strength policy.
type ConsumerPasswordStrengthCheckResult struct {
	Envelope
	ValidPassword           bool              `json:"valid_password"`
	Score                   int32             `json:"score"` // zxcvbn, 0 to 4
	BreachedPassword        bool              `json:"breached_password"`
	StrengthPolicy          string            `json:"strength_policy"` // zxcvbn or luds
	BreachDetectionOnCreate bool              `json:"breach_detection_on_create"`
	Feedback                *PasswordFeedback `json:"feedback,omitempty"`
}

// ConsumerPasswordStrengthCheck scores a password against the project's policy; it stores
// nothing, so it is retried like a read.
func (c *Client) ConsumerPasswordStrengthCheck(ctx context.Context, p ConsumerPasswordStrengthCheckParams) (*ConsumerPasswordStrengthCheckResult, error) {
	var out ConsumerPasswordStrengthCheckResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/passwords/strength_check",
		body:     p,
		readOnly: true,
	}, &out)
	return ptrOrNil(&out, err)
}

// PasswordSaltConfig is md_5_config, sha_1_config or sha_512_config: the digest was taken over
// PrependSalt + password + AppendSalt.
type PasswordSaltConfig struct {
	PrependSalt string `json:"prepend_salt"`
	AppendSalt  string `json:"append_salt"`
}

// PasswordArgon2Config is argon_2_config, for an argon2 hash given as raw hex rather than an
// encoded "$argon2…" string.
type PasswordArgon2Config struct {
	Salt            string `json:"salt"`
	IterationAmount int32  `json:"iteration_amount"`
	Memory          int32  `json:"memory"` // KiB
	Threads         int32  `json:"threads"`
	KeyLength       int32  `json:"key_length"`
}

// PasswordScryptConfig is scrypt_config, for a scrypt hash that is not a PHC string. Salt is
// base64.
type PasswordScryptConfig struct {
	Salt       string `json:"salt"`
	NParameter int32  `json:"n_parameter"`
	RParameter int32  `json:"r_parameter"`
	PParameter int32  `json:"p_parameter"`
	KeyLength  int32  `json:"key_length"`
}

// PasswordPBKDF2Config is pbkdf_2_config (required for pbkdf_2). Salt is base64; Algorithm is
// sha256 (the default) or sha512.
type PasswordPBKDF2Config struct {
	Salt            string `json:"salt"`
	IterationAmount int32  `json:"iteration_amount"`
	KeyLength       int32  `json:"key_length"`
	Algorithm       string `json:"algorithm"`
}

// ConsumerPasswordMigrateParams for POST /v1/passwords/migrate. HashType is one of bcrypt, md_5,
// argon_2i, argon_2id, sha_1, sha_512, scrypt, phpass, pbkdf_2; the config of that type, where it
// needs one.
type ConsumerPasswordMigrateParams struct {
	Email                  string                `json:"email"`
	Hash                   string                `json:"hash"`
	HashType               string                `json:"hash_type"`
	MD5Config              *PasswordSaltConfig   `json:"md_5_config,omitempty"`
	SHA1Config             *PasswordSaltConfig   `json:"sha_1_config,omitempty"`
	SHA512Config           *PasswordSaltConfig   `json:"sha_512_config,omitempty"`
	Argon2Config           *PasswordArgon2Config `json:"argon_2_config,omitempty"`
	ScryptConfig           *PasswordScryptConfig `json:"scrypt_config,omitempty"`
	PBKDF2Config           *PasswordPBKDF2Config `json:"pbkdf_2_config,omitempty"`
	TrustedMetadata        Metadata              `json:"trusted_metadata,omitzero"`
	UntrustedMetadata      Metadata              `json:"untrusted_metadata,omitzero"`
	SetEmailVerified       bool                  `json:"set_email_verified,omitempty"`
	Name                   *UserName             `json:"name,omitempty"`
	PhoneNumber            string                `json:"phone_number,omitempty"`
	SetPhoneNumberVerified bool                  `json:"set_phone_number_verified,omitempty"`
	ExternalID             string                `json:"external_id,omitempty"`
	Roles                  []string              `json:"roles,omitempty"`
}

// ConsumerPasswordMigrateResult is the user the hash was stored on.
type ConsumerPasswordMigrateResult struct {
	Envelope
	UserID      string `json:"user_id"`
	EmailID     string `json:"email_id"`
	UserCreated bool   `json:"user_created"`
	User        User   `json:"user"`
}

// ConsumerPasswordMigrate imports a password hash from another system for the user with the email
// (created when there is none). Never retried once written.
func (c *Client) ConsumerPasswordMigrate(ctx context.Context, p ConsumerPasswordMigrateParams) (*ConsumerPasswordMigrateResult, error) {
	var out ConsumerPasswordMigrateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/passwords/migrate",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerPasswordEmailResetStartParams for POST /v1/passwords/email/reset/start.
type ConsumerPasswordEmailResetStartParams struct {
	Email                          string      `json:"email"`
	ResetPasswordRedirectURL       string      `json:"reset_password_redirect_url,omitempty"`
	ResetPasswordExpirationMinutes int32       `json:"reset_password_expiration_minutes,omitempty"`
	ResetPasswordTemplateID        string      `json:"reset_password_template_id,omitempty"`
	LoginRedirectURL               string      `json:"login_redirect_url,omitempty"`
	CodeChallenge                  string      `json:"code_challenge,omitempty"` // PKCE: base64url SHA-256 of the verifier
	Locale                         string      `json:"locale,omitempty"`
	Attributes                     *Attributes `json:"attributes,omitempty"`
}

// ConsumerPasswordEmailResetStart emails a password reset link to the user with the address (404
// email_not_found when there is none). Never retried once written (it sends an email).
func (c *Client) ConsumerPasswordEmailResetStart(ctx context.Context, p ConsumerPasswordEmailResetStartParams) (*ConsumerEmailSendResult, error) {
	var out ConsumerEmailSendResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/passwords/email/reset/start",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerPasswordEmailResetParams for POST /v1/passwords/email/reset: the token from the reset
// link and the new password.
type ConsumerPasswordEmailResetParams struct {
	Token                  string               `json:"token"`
	Password               string               `json:"password"`
	CodeVerifier           string               `json:"code_verifier,omitempty"` // PKCE
	SessionToken           string               `json:"session_token,omitempty"`
	SessionJWT             string               `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32                `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata             `json:"session_custom_claims,omitzero"`
	Attributes             *Attributes          `json:"attributes,omitempty"`
	Options                *AuthenticateOptions `json:"options,omitempty"`
	TelemetryID            string               `json:"telemetry_id,omitempty"`
}

// ConsumerPasswordEmailReset sets a new password with a reset token and authenticates the user;
// the user's other sessions end. Never retried once written: the first attempt spends the token.
func (c *Client) ConsumerPasswordEmailReset(ctx context.Context, p ConsumerPasswordEmailResetParams) (*ConsumerSessionResult, error) {
	var out ConsumerSessionResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/passwords/email/reset",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerPasswordExistingPasswordResetParams for POST /v1/passwords/existing_password/reset.
type ConsumerPasswordExistingPasswordResetParams struct {
	Email                  string   `json:"email"`
	ExistingPassword       string   `json:"existing_password"`
	NewPassword            string   `json:"new_password"`
	SessionToken           string   `json:"session_token,omitempty"`
	SessionJWT             string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
	TelemetryID            string   `json:"telemetry_id,omitempty"`
}

// ConsumerPasswordExistingPasswordReset replaces a password given the current one (a wrong one is
// UNAUTHENTICATED, as for ConsumerPasswordAuthenticate); the user's other sessions end. Never
// retried once written.
func (c *Client) ConsumerPasswordExistingPasswordReset(ctx context.Context, p ConsumerPasswordExistingPasswordResetParams) (*ConsumerSessionResult, error) {
	var out ConsumerSessionResult
	err := c.do(ctx, call{
		endpoint:           "POST /v1/passwords/existing_password/reset",
		body:               p,
		endUserCredentials: true,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerPasswordSessionResetParams for POST /v1/passwords/session/reset. Exactly one of
// SessionToken and SessionJWT names the user's session.
type ConsumerPasswordSessionResetParams struct {
	Password               string   `json:"password"`
	SessionToken           string   `json:"session_token,omitempty"`
	SessionJWT             string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
	TelemetryID            string   `json:"telemetry_id,omitempty"`
}

// ConsumerPasswordSessionReset sets a new password for the user of a live session whose email or
// password factor is at most 5 minutes old (else 400 session_too_old_to_reset_password); the
// user's other sessions end. Never retried once written.
func (c *Client) ConsumerPasswordSessionReset(ctx context.Context, p ConsumerPasswordSessionResetParams) (*ConsumerSessionResult, error) {
	var out ConsumerSessionResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/passwords/session/reset",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}
