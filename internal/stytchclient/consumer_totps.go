package stytchclient

import "context"

// Consumer TOTPs (/v1/totps...). Codes, secrets and recovery codes travel only in bodies, which
// the client never logs, records in spans or quotes in errors (request.go).

// ConsumerTOTPCreateParams for POST /v1/totps. ExpirationMinutes (5 to 1440, zero: Stytch's
// default of 1440) bounds how long the registration waits for its first code.
type ConsumerTOTPCreateParams struct {
	UserID            string `json:"user_id"`
	ExpirationMinutes int32  `json:"expiration_minutes,omitempty"`
}

// ConsumerTOTPCreateResult is a new, pending registration: its secret, the secret as a QR code
// (a PNG data URL) and its recovery codes.
type ConsumerTOTPCreateResult struct {
	Envelope
	TOTPID        string   `json:"totp_id"`
	Secret        string   `json:"secret"`
	QRCode        string   `json:"qr_code"`
	RecoveryCodes []string `json:"recovery_codes"`
	UserID        string   `json:"user_id"`
	User          User     `json:"user"`
}

// ConsumerTOTPCreate starts a TOTP registration (400 active_totp_exists when the user already
// has an active one). Never retried once written: each call makes a new secret.
func (c *Client) ConsumerTOTPCreate(ctx context.Context, p ConsumerTOTPCreateParams) (*ConsumerTOTPCreateResult, error) {
	var out ConsumerTOTPCreateResult
	err := c.do(ctx, call{endpoint: "POST /v1/totps", body: p}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerTOTPAuthenticateParams for POST /v1/totps/authenticate. With SessionToken or
// SessionJWT (at most one) the factor joins that session; SessionDurationMinutes starts one.
type ConsumerTOTPAuthenticateParams struct {
	UserID                 string   `json:"user_id"`
	TOTPCode               string   `json:"totp_code"`
	SessionToken           string   `json:"session_token,omitempty"`
	SessionJWT             string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
}

// ConsumerTOTPResult is the answer of TOTP authenticate and recover: the session part and the
// registration used.
type ConsumerTOTPResult struct {
	ConsumerSessionResult
	TOTPID string `json:"totp_id"`
}

// ConsumerTOTPAuthenticate checks a code from the user's authenticator app: a wrong code is 401
// unable_to_authenticate_totp, a code of a step already used 401 totp_code_already_authenticated,
// no registration 404 totp_not_found. Never retried once written (a replay would count twice
// against the brute-force limits).
func (c *Client) ConsumerTOTPAuthenticate(ctx context.Context, p ConsumerTOTPAuthenticateParams) (*ConsumerTOTPResult, error) {
	var out ConsumerTOTPResult
	err := c.do(ctx, call{endpoint: "POST /v1/totps/authenticate", body: p}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerTOTPRecoveryCodes is one registration's unused recovery codes.
type ConsumerTOTPRecoveryCodes struct {
	TOTPID        string   `json:"totp_id"`
	Verified      bool     `json:"verified"`
	RecoveryCodes []string `json:"recovery_codes"`
}

// ConsumerTOTPRecoveryCodesResult lists a user's registrations with their unused codes.
type ConsumerTOTPRecoveryCodesResult struct {
	Envelope
	UserID string                      `json:"user_id"`
	TOTPs  []ConsumerTOTPRecoveryCodes `json:"totps"`
}

// userIDBody is a request body naming a user only.
type userIDBody struct {
	UserID string `json:"user_id"`
}

// ConsumerTOTPRecoveryCodes reads a user's recovery codes; it changes nothing, so it is retried
// like a read.
func (c *Client) ConsumerTOTPRecoveryCodes(ctx context.Context, userID string) (*ConsumerTOTPRecoveryCodesResult, error) {
	var out ConsumerTOTPRecoveryCodesResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/totps/recovery_codes",
		body:     userIDBody{UserID: userID},
		readOnly: true,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerTOTPRecoverParams for POST /v1/totps/recover; session fields as in
// ConsumerTOTPAuthenticateParams.
type ConsumerTOTPRecoverParams struct {
	UserID                 string   `json:"user_id"`
	RecoveryCode           string   `json:"recovery_code"`
	SessionToken           string   `json:"session_token,omitempty"`
	SessionJWT             string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
}

// ConsumerTOTPRecover authenticates a recovery code (each once: a used or wrong code is 401
// unable_to_authenticate_recovery_code). Never retried once written: a replay would spend the
// code twice in the caller's eyes.
func (c *Client) ConsumerTOTPRecover(ctx context.Context, p ConsumerTOTPRecoverParams) (*ConsumerTOTPResult, error) {
	var out ConsumerTOTPResult
	err := c.do(ctx, call{endpoint: "POST /v1/totps/recover", body: p}, &out)
	return ptrOrNil(&out, err)
}
