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
