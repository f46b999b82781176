package stytchclient

import "context"

// OTPEmailLoginOrSignupParams for POST /v1/b2b/otps/email/login_or_signup.
type OTPEmailLoginOrSignupParams struct {
	OrganizationID          string `json:"organization_id"`
	EmailAddress            string `json:"email_address"`
	LoginTemplateID         string `json:"login_template_id,omitempty"`
	SignupTemplateID        string `json:"signup_template_id,omitempty"`
	Locale                  string `json:"locale,omitempty"`
	LoginExpirationMinutes  int32  `json:"login_expiration_minutes,omitempty"`
	SignupExpirationMinutes int32  `json:"signup_expiration_minutes,omitempty"`
}

// OTPEmailLoginOrSignup emails a one-time code. Never retried once written.
func (c *Client) OTPEmailLoginOrSignup(ctx context.Context, p OTPEmailLoginOrSignupParams) (*LoginOrSignupResult, error) {
	var out LoginOrSignupResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/otps/email/login_or_signup",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// OTPEmailAuthenticateParams for POST /v1/b2b/otps/email/authenticate.
type OTPEmailAuthenticateParams struct {
	OrganizationID           string   `json:"organization_id"`
	EmailAddress             string   `json:"email_address"`
	Code                     string   `json:"code"`
	SessionToken             string   `json:"session_token,omitempty"`
	SessionJWT               string   `json:"session_jwt,omitempty"`
	IntermediateSessionToken string   `json:"intermediate_session_token,omitempty"`
	SessionDurationMinutes   int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims      Metadata `json:"session_custom_claims,omitzero"`
	Locale                   string   `json:"locale,omitempty"`
	TelemetryID              string   `json:"telemetry_id,omitempty"`
}

// OTPEmailAuthenticate checks an emailed code. Never retried once written:
// a replay would count twice against Stytch's brute-force limit.
func (c *Client) OTPEmailAuthenticate(ctx context.Context, p OTPEmailAuthenticateParams) (*B2BAuthenticateResult, error) {
	var out B2BAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/otps/email/authenticate",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// OTPEmailDiscoverySendParams for POST /v1/b2b/otps/email/discovery/send.
type OTPEmailDiscoverySendParams struct {
	EmailAddress               string `json:"email_address"`
	LoginTemplateID            string `json:"login_template_id,omitempty"`
	Locale                     string `json:"locale,omitempty"`
	DiscoveryExpirationMinutes int32  `json:"discovery_expiration_minutes,omitempty"`
}

// OTPEmailDiscoverySend emails a discovery code. Never retried once written.
func (c *Client) OTPEmailDiscoverySend(ctx context.Context, p OTPEmailDiscoverySendParams) (*EnvelopeOnly, error) {
	var out EnvelopeOnly
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/otps/email/discovery/send",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// OTPEmailDiscoveryAuthenticateParams for POST /v1/b2b/otps/email/discovery/authenticate.
type OTPEmailDiscoveryAuthenticateParams struct {
	EmailAddress string `json:"email_address"`
	Code         string `json:"code"`
}

// OTPEmailDiscoveryAuthenticate checks a discovery code.
func (c *Client) OTPEmailDiscoveryAuthenticate(ctx context.Context, p OTPEmailDiscoveryAuthenticateParams) (*DiscoveryAuthenticateResult, error) {
	var out DiscoveryAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/otps/email/discovery/authenticate",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// OTPSMSSendParams for POST /v1/b2b/otps/sms/send. SMS is MFA only in B2B;
// pass the intermediate session token (or an existing session for step-up).
type OTPSMSSendParams struct {
	OrganizationID           string `json:"organization_id"`
	MemberID                 string `json:"member_id"`
	MFAPhoneNumber           string `json:"mfa_phone_number,omitempty"`
	Locale                   string `json:"locale,omitempty"`
	IntermediateSessionToken string `json:"intermediate_session_token,omitempty"`
	SessionToken             string `json:"session_token,omitempty"`
	SessionJWT               string `json:"session_jwt,omitempty"`
}

// OTPSMSSend texts an MFA code. Never retried once written (a new send
// invalidates the previous code, and SMS is toll-fraud limited).
func (c *Client) OTPSMSSend(ctx context.Context, p OTPSMSSendParams) (*MemberOrgResult, error) {
	var out MemberOrgResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/otps/sms/send",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// OTPSMSAuthenticateParams for POST /v1/b2b/otps/sms/authenticate.
type OTPSMSAuthenticateParams struct {
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
	TelemetryID              string   `json:"telemetry_id,omitempty"`
}

// OTPSMSAuthenticateResult is the response of SMS OTP authenticate.
type OTPSMSAuthenticateResult struct {
	Envelope
	MemberID      string             `json:"member_id"`
	Member        Member             `json:"member"`
	Organization  Organization       `json:"organization"`
	SessionToken  string             `json:"session_token"`
	SessionJWT    string             `json:"session_jwt"`
	MemberSession *MemberSessionInfo `json:"member_session,omitempty"`
	MemberDevice  *DeviceInfo        `json:"member_device,omitempty"`
}

// OTPSMSAuthenticate checks an MFA code. Never retried once written.
func (c *Client) OTPSMSAuthenticate(ctx context.Context, p OTPSMSAuthenticateParams) (*OTPSMSAuthenticateResult, error) {
	var out OTPSMSAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/otps/sms/authenticate",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}
