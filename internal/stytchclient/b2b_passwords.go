package stytchclient

import "context"

// B2B passwords (/v1/b2b/passwords/...). Passwords travel only in request bodies, which the
// client never logs, records in spans or quotes in errors (request.go).

// PasswordAuthenticateParams for POST /v1/b2b/passwords/authenticate. With SessionToken or
// SessionJWT (at most one) the factor joins that session; with IntermediateSessionToken the
// factors it holds count towards the login.
type PasswordAuthenticateParams struct {
	OrganizationID           string   `json:"organization_id"`
	EmailAddress             string   `json:"email_address"`
	Password                 string   `json:"password"`
	SessionToken             string   `json:"session_token,omitempty"`
	SessionJWT               string   `json:"session_jwt,omitempty"`
	IntermediateSessionToken string   `json:"intermediate_session_token,omitempty"`
	SessionDurationMinutes   int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims      Metadata `json:"session_custom_claims,omitzero"`
	Locale                   string   `json:"locale,omitempty"`
	TelemetryID              string   `json:"telemetry_id,omitempty"`
}

// PasswordAuthenticate checks a member's email and password: a session, or an intermediate
// session with mfa_required when the organization requires MFA. A wrong password is Stytch's 401
// unauthorized_credentials, reported as UNAUTHENTICATED (see Error.EndUserCredentials); a
// password that must be reset first is reset_password. Never retried once written (a replay
// would count twice against Stytch's brute-force limits).
func (c *Client) PasswordAuthenticate(ctx context.Context, p PasswordAuthenticateParams) (*B2BAuthenticateResult, error) {
	var out B2BAuthenticateResult
	err := c.do(ctx, call{
		endpoint:           "POST /v1/b2b/passwords/authenticate",
		body:               p,
		endUserCredentials: true,
	}, &out)
	return ptrOrNil(&out, err)
}

// PasswordStrengthCheckParams for POST /v1/b2b/passwords/strength_check. EmailAddress is
// optional: with it, a password built from the address scores lower.
type PasswordStrengthCheckParams struct {
	Password     string `json:"password"`
	EmailAddress string `json:"email_address,omitempty"`
}

// ZxcvbnFeedback is zxcvbn's advice on a password.
type ZxcvbnFeedback struct {
	Warning     string   `json:"warning"`
	Suggestions []string `json:"suggestions"`
}

// PasswordStrengthCheckResult is the verdict of the B2B project's strength policy; its feedback
// fields are B2B's (luds_feedback, zxcvbn_feedback), not the consumer's single feedback object.
type PasswordStrengthCheckResult struct {
	Envelope
	ValidPassword           bool              `json:"valid_password"`
	Score                   int32             `json:"score"` // zxcvbn, 0 to 4
	BreachedPassword        bool              `json:"breached_password"`
	StrengthPolicy          string            `json:"strength_policy"` // zxcvbn or luds
	BreachDetectionOnCreate bool              `json:"breach_detection_on_create"`
	LUDSFeedback            *LUDSRequirements `json:"luds_feedback,omitempty"`
	ZxcvbnFeedback          *ZxcvbnFeedback   `json:"zxcvbn_feedback,omitempty"`
}

// PasswordStrengthCheck scores a password against the project's policy; it stores nothing, so
// it is retried like a read.
func (c *Client) PasswordStrengthCheck(ctx context.Context, p PasswordStrengthCheckParams) (*PasswordStrengthCheckResult, error) {
	var out PasswordStrengthCheckResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/passwords/strength_check",
		body:     p,
		readOnly: true,
	}, &out)
	return ptrOrNil(&out, err)
}

// PasswordEmailResetStartParams for POST /v1/b2b/passwords/email/reset/start.
type PasswordEmailResetStartParams struct {
	OrganizationID                 string `json:"organization_id"`
	EmailAddress                   string `json:"email_address"`
	ResetPasswordRedirectURL       string `json:"reset_password_redirect_url,omitempty"`
	ResetPasswordExpirationMinutes int32  `json:"reset_password_expiration_minutes,omitempty"`
	ResetPasswordTemplateID        string `json:"reset_password_template_id,omitempty"`
	LoginRedirectURL               string `json:"login_redirect_url,omitempty"`
	CodeChallenge                  string `json:"code_challenge,omitempty"`
	Locale                         string `json:"locale,omitempty"`
}

// PasswordEmailResetStartResult names the member emailed.
type PasswordEmailResetStartResult struct {
	Envelope
	MemberID      string `json:"member_id"`
	MemberEmailID string `json:"member_email_id"`
}

// PasswordEmailResetStart emails a member a reset link. Never retried once written: a replay
// would send a second email.
func (c *Client) PasswordEmailResetStart(ctx context.Context, p PasswordEmailResetStartParams) (*PasswordEmailResetStartResult, error) {
	var out PasswordEmailResetStartResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/passwords/email/reset/start",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// PasswordEmailResetParams for POST /v1/b2b/passwords/email/reset.
type PasswordEmailResetParams struct {
	PasswordResetToken       string   `json:"password_reset_token"`
	Password                 string   `json:"password"`
	CodeVerifier             string   `json:"code_verifier,omitempty"`
	SessionToken             string   `json:"session_token,omitempty"`
	SessionJWT               string   `json:"session_jwt,omitempty"`
	IntermediateSessionToken string   `json:"intermediate_session_token,omitempty"`
	SessionDurationMinutes   int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims      Metadata `json:"session_custom_claims,omitzero"`
	Locale                   string   `json:"locale,omitempty"`
}

// PasswordEmailResetResult is a login's outcome and the member's email ID.
type PasswordEmailResetResult struct {
	B2BAuthenticateResult
	MemberEmailID string `json:"member_email_id"`
}

// PasswordEmailReset spends a reset token on a new password and logs the member in (a session,
// or an intermediate session when MFA is due). Never retried once written: the token is single
// use.
func (c *Client) PasswordEmailReset(ctx context.Context, p PasswordEmailResetParams) (*PasswordEmailResetResult, error) {
	var out PasswordEmailResetResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/passwords/email/reset",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// PasswordMigrateParams for POST /v1/b2b/passwords/migrate: a hash from another system for the
// member with EmailAddress in OrganizationID (created when there is none; the member fields
// apply to a new member only).
type PasswordMigrateParams struct {
	OrganizationID         string                `json:"organization_id"`
	EmailAddress           string                `json:"email_address"`
	Hash                   string                `json:"hash"`
	HashType               string                `json:"hash_type"`
	MD5Config              *PasswordSaltConfig   `json:"md_5_config,omitempty"`
	SHA1Config             *PasswordSaltConfig   `json:"sha_1_config,omitempty"`
	SHA512Config           *PasswordSaltConfig   `json:"sha_512_config,omitempty"`
	Argon2Config           *PasswordArgon2Config `json:"argon_2_config,omitempty"`
	ScryptConfig           *PasswordScryptConfig `json:"scrypt_config,omitempty"`
	PBKDF2Config           *PasswordPBKDF2Config `json:"pbkdf_2_config,omitempty"`
	Name                   string                `json:"name,omitempty"`
	TrustedMetadata        Metadata              `json:"trusted_metadata,omitzero"`
	UntrustedMetadata      Metadata              `json:"untrusted_metadata,omitzero"`
	Roles                  []string              `json:"roles,omitempty"`
	MFAPhoneNumber         string                `json:"mfa_phone_number,omitempty"`
	SetPhoneNumberVerified bool                  `json:"set_phone_number_verified,omitempty"`
	ExternalID             string                `json:"external_id,omitempty"`
}

// PasswordMigrateResult is the member the hash was stored on.
type PasswordMigrateResult struct {
	MemberOrgResult
	MemberCreated bool `json:"member_created"`
}

// PasswordMigrate imports a password hash. Never retried once written: it may create a member.
func (c *Client) PasswordMigrate(ctx context.Context, p PasswordMigrateParams) (*PasswordMigrateResult, error) {
	var out PasswordMigrateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/passwords/migrate",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// PasswordExistingResetParams for POST /v1/b2b/passwords/existing_password/reset.
type PasswordExistingResetParams struct {
	OrganizationID         string   `json:"organization_id"`
	EmailAddress           string   `json:"email_address"`
	ExistingPassword       string   `json:"existing_password"`
	NewPassword            string   `json:"new_password"`
	SessionToken           string   `json:"session_token,omitempty"`
	SessionJWT             string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
	Locale                 string   `json:"locale,omitempty"`
}

// PasswordExistingReset checks the current password, stores the new one and logs the member in.
// A wrong current password is 401 unauthorized_credentials (EndUserCredentials). Never retried
// once written.
func (c *Client) PasswordExistingReset(ctx context.Context, p PasswordExistingResetParams) (*B2BAuthenticateResult, error) {
	var out B2BAuthenticateResult
	err := c.do(ctx, call{
		endpoint:           "POST /v1/b2b/passwords/existing_password/reset",
		body:               p,
		endUserCredentials: true,
	}, &out)
	return ptrOrNil(&out, err)
}

// PasswordSessionResetParams for POST /v1/b2b/passwords/session/reset (one of SessionToken and
// SessionJWT).
type PasswordSessionResetParams struct {
	OrganizationID         string   `json:"organization_id"`
	Password               string   `json:"password"`
	SessionToken           string   `json:"session_token,omitempty"`
	SessionJWT             string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
}

// PasswordSessionReset sets a new password for the session's member; the session carries on.
// Never retried once written.
func (c *Client) PasswordSessionReset(ctx context.Context, p PasswordSessionResetParams) (*B2BAuthenticateResult, error) {
	var out B2BAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/passwords/session/reset",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// PasswordRequireResetParams for POST /v1/b2b/passwords/email/require_reset.
type PasswordRequireResetParams struct {
	EmailAddress   string `json:"email_address"`
	OrganizationID string `json:"organization_id,omitempty"`
	MemberID       string `json:"member_id,omitempty"`
}

// PasswordRequireReset forces a password reset. Retried like a read: setting the flag twice is
// setting it once.
func (c *Client) PasswordRequireReset(ctx context.Context, p PasswordRequireResetParams) (*MemberOrgResult, error) {
	var out MemberOrgResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/passwords/email/require_reset",
		body:     p,
		readOnly: true,
	}, &out)
	return ptrOrNil(&out, err)
}

// PasswordDiscoveryAuthenticateParams for POST /v1/b2b/passwords/discovery/authenticate.
type PasswordDiscoveryAuthenticateParams struct {
	EmailAddress string `json:"email_address"`
	Password     string `json:"password"`
}

// PasswordDiscoveryAuthenticate checks an email address's password for discovery. Never retried
// once written (a replay would count twice against the brute-force limits).
func (c *Client) PasswordDiscoveryAuthenticate(ctx context.Context, p PasswordDiscoveryAuthenticateParams) (*DiscoveryAuthenticateResult, error) {
	var out DiscoveryAuthenticateResult
	err := c.do(ctx, call{
		endpoint:           "POST /v1/b2b/passwords/discovery/authenticate",
		body:               p,
		endUserCredentials: true,
	}, &out)
	return ptrOrNil(&out, err)
}

// PasswordDiscoveryResetStartParams for POST /v1/b2b/passwords/discovery/email/reset/start.
type PasswordDiscoveryResetStartParams struct {
	EmailAddress                   string `json:"email_address"`
	ResetPasswordRedirectURL       string `json:"reset_password_redirect_url,omitempty"`
	DiscoveryRedirectURL           string `json:"discovery_redirect_url,omitempty"`
	ResetPasswordTemplateID        string `json:"reset_password_template_id,omitempty"`
	ResetPasswordExpirationMinutes int32  `json:"reset_password_expiration_minutes,omitempty"`
	PKCECodeChallenge              string `json:"pkce_code_challenge,omitempty"`
	Locale                         string `json:"locale,omitempty"`
	VerifyEmailTemplateID          string `json:"verify_email_template_id,omitempty"`
}

// PasswordDiscoveryResetStart emails a discovery reset link. Never retried once written.
func (c *Client) PasswordDiscoveryResetStart(ctx context.Context, p PasswordDiscoveryResetStartParams) (*EnvelopeOnly, error) {
	var out EnvelopeOnly
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/passwords/discovery/email/reset/start",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// PasswordDiscoveryResetParams for POST /v1/b2b/passwords/discovery/email/reset.
type PasswordDiscoveryResetParams struct {
	PasswordResetToken string `json:"password_reset_token"`
	Password           string `json:"password"`
	PKCECodeVerifier   string `json:"pkce_code_verifier,omitempty"`
}

// PasswordDiscoveryReset spends a discovery reset token. Never retried once written.
func (c *Client) PasswordDiscoveryReset(ctx context.Context, p PasswordDiscoveryResetParams) (*DiscoveryAuthenticateResult, error) {
	var out DiscoveryAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/passwords/discovery/email/reset",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}
