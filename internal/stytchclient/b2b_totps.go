package stytchclient

import "context"

// B2B TOTPs (/v1/b2b/totp...) and recovery codes (/v1/b2b/recovery_codes...). Codes, secrets and
// recovery codes travel only in bodies, which the client never logs, records in spans or quotes in
// errors (request.go).

// TOTPCreateParams for POST /v1/b2b/totp. ExpirationMinutes (5 to 1440, zero: Stytch's default
// of 60) bounds how long the registration waits for its first code. A member who already has a
// second factor must be proved by an intermediate session or session that holds it (at most one
// of the three).
type TOTPCreateParams struct {
	OrganizationID           string `json:"organization_id"`
	MemberID                 string `json:"member_id"`
	ExpirationMinutes        int32  `json:"expiration_minutes,omitempty"`
	IntermediateSessionToken string `json:"intermediate_session_token,omitempty"`
	SessionToken             string `json:"session_token,omitempty"`
	SessionJWT               string `json:"session_jwt,omitempty"`
}

// TOTPCreateResult is a new, pending registration: its secret, the secret as a QR code (a PNG
// data URL) and its recovery codes.
type TOTPCreateResult struct {
	MemberOrgResult
	TOTPRegistrationID string   `json:"totp_registration_id"`
	Secret             string   `json:"secret"`
	QRCode             string   `json:"qr_code"`
	RecoveryCodes      []string `json:"recovery_codes"`
}

// TOTPCreate starts a member's TOTP registration (400 active_totp_exists when the member has an
// active one). Never retried once written: each call makes a new secret.
func (c *Client) TOTPCreate(ctx context.Context, p TOTPCreateParams) (*TOTPCreateResult, error) {
	var out TOTPCreateResult
	err := c.do(ctx, call{endpoint: "POST /v1/b2b/totp", body: p}, &out)
	return ptrOrNil(&out, err)
}

// TOTPAuthenticateParams for POST /v1/b2b/totp/authenticate: exactly one of
// IntermediateSessionToken (consumed: MFA), SessionToken and SessionJWT (step-up).
type TOTPAuthenticateParams struct {
	OrganizationID           string   `json:"organization_id"`
	MemberID                 string   `json:"member_id"`
	Code                     string   `json:"code"`
	IntermediateSessionToken string   `json:"intermediate_session_token,omitempty"`
	SessionToken             string   `json:"session_token,omitempty"`
	SessionJWT               string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes   int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims      Metadata `json:"session_custom_claims,omitzero"`
	SetMFAEnrollment         string   `json:"set_mfa_enrollment,omitempty"` // "enroll" or "unenroll"
	SetDefaultMFA            bool     `json:"set_default_mfa,omitempty"`
}

// TOTPAuthenticate checks a code from the member's authenticator app: a wrong code is 401
// unable_to_authenticate_totp, a code of a step already used 401 totp_code_already_authenticated,
// no registration 404 totp_not_found. The answer has the shape of SMS OTP authenticate. Never
// retried once written (a replay would count twice against the brute-force limits).
func (c *Client) TOTPAuthenticate(ctx context.Context, p TOTPAuthenticateParams) (*OTPSMSAuthenticateResult, error) {
	var out OTPSMSAuthenticateResult
	err := c.do(ctx, call{endpoint: "POST /v1/b2b/totp/authenticate", body: p}, &out)
	return ptrOrNil(&out, err)
}

// TOTPMigrateParams for POST /v1/b2b/totp/migrate. RecoveryCodes may be empty: Stytch then makes
// new ones.
type TOTPMigrateParams struct {
	OrganizationID string   `json:"organization_id"`
	MemberID       string   `json:"member_id"`
	Secret         string   `json:"secret"`
	RecoveryCodes  []string `json:"recovery_codes"`
}

// TOTPMigrateResult is the imported, active registration.
type TOTPMigrateResult struct {
	MemberOrgResult
	TOTPRegistrationID string   `json:"totp_registration_id"`
	RecoveryCodes      []string `json:"recovery_codes"`
}

// TOTPMigrate imports an existing TOTP secret. Never retried once written.
func (c *Client) TOTPMigrate(ctx context.Context, p TOTPMigrateParams) (*TOTPMigrateResult, error) {
	if p.RecoveryCodes == nil {
		p.RecoveryCodes = []string{} // required by Stytch, even when empty
	}
	var out TOTPMigrateResult
	err := c.do(ctx, call{endpoint: "POST /v1/b2b/totp/migrate", body: p}, &out)
	return ptrOrNil(&out, err)
}

// RecoveryCodesResult is a member's recovery codes (unused ones, or a new set).
type RecoveryCodesResult struct {
	MemberOrgResult
	RecoveryCodes []string `json:"recovery_codes"`
}

// RecoveryCodesGet reads a member's unused recovery codes; it changes nothing, so it is retried
// like a read.
func (c *Client) RecoveryCodesGet(ctx context.Context, organizationID, memberID string) (*RecoveryCodesResult, error) {
	var out RecoveryCodesResult
	err := c.do(ctx, call{
		endpoint: "GET /v1/b2b/recovery_codes/{organization_id}/{member_id}",
		params:   []string{organizationID, memberID},
		readOnly: true,
	}, &out)
	return ptrOrNil(&out, err)
}

// memberRef is a request body naming a member only.
type memberRef struct {
	OrganizationID string `json:"organization_id"`
	MemberID       string `json:"member_id"`
}

// RecoveryCodesRotate replaces a member's recovery codes. Never retried once written: a replay
// would replace the codes the first call returned.
func (c *Client) RecoveryCodesRotate(ctx context.Context, organizationID, memberID string) (*RecoveryCodesResult, error) {
	var out RecoveryCodesResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/recovery_codes/rotate",
		body:     memberRef{OrganizationID: organizationID, MemberID: memberID},
	}, &out)
	return ptrOrNil(&out, err)
}

// RecoveryCodesRecoverParams for POST /v1/b2b/recovery_codes/recover; the credential fields as in
// TOTPAuthenticateParams.
type RecoveryCodesRecoverParams struct {
	OrganizationID           string   `json:"organization_id"`
	MemberID                 string   `json:"member_id"`
	RecoveryCode             string   `json:"recovery_code"`
	IntermediateSessionToken string   `json:"intermediate_session_token,omitempty"`
	SessionToken             string   `json:"session_token,omitempty"`
	SessionJWT               string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes   int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims      Metadata `json:"session_custom_claims,omitzero"`
}

// RecoveryCodesRecoverResult is the session answer plus the codes left.
type RecoveryCodesRecoverResult struct {
	OTPSMSAuthenticateResult
	RecoveryCodesRemaining int32 `json:"recovery_codes_remaining"`
}

// RecoveryCodesRecover spends a recovery code (each once: a used or wrong code is 401
// unable_to_authenticate_recovery_code). Never retried once written.
func (c *Client) RecoveryCodesRecover(ctx context.Context, p RecoveryCodesRecoverParams) (*RecoveryCodesRecoverResult, error) {
	var out RecoveryCodesRecoverResult
	err := c.do(ctx, call{endpoint: "POST /v1/b2b/recovery_codes/recover", body: p}, &out)
	return ptrOrNil(&out, err)
}
