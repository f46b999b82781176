package stytchclient

import "context"

// ConsumerOTPPhoneSendParams for POST /v1/otps/sms/send and /v1/otps/whatsapp/send. The number
// must belong to a user, unless UserID, SessionToken or SessionJWT names one: it is then added to
// that user, unverified until a code sent to it is authenticated.
type ConsumerOTPPhoneSendParams struct {
	PhoneNumber       string      `json:"phone_number"` // E.164
	ExpirationMinutes int32       `json:"expiration_minutes,omitempty"`
	Locale            string      `json:"locale,omitempty"`
	Attributes        *Attributes `json:"attributes,omitempty"`
	UserID            string      `json:"user_id,omitempty"`
	SessionToken      string      `json:"session_token,omitempty"`
	SessionJWT        string      `json:"session_jwt,omitempty"`
}

// ConsumerOTPPhoneLoginOrCreateParams for POST /v1/otps/sms/login_or_create and
// /v1/otps/whatsapp/login_or_create.
type ConsumerOTPPhoneLoginOrCreateParams struct {
	PhoneNumber         string      `json:"phone_number"` // E.164
	ExpirationMinutes   int32       `json:"expiration_minutes,omitempty"`
	CreateUserAsPending bool        `json:"create_user_as_pending,omitempty"`
	Locale              string      `json:"locale,omitempty"`
	Attributes          *Attributes `json:"attributes,omitempty"`
}

// ConsumerOTPSMSSend texts a code to a user's phone. Never retried once written (a new send
// replaces the live code, and SMS is toll-fraud limited).
func (c *Client) ConsumerOTPSMSSend(ctx context.Context, p ConsumerOTPPhoneSendParams) (*ConsumerPhoneSendResult, error) {
	return c.phoneSend(ctx, "POST /v1/otps/sms/send", p)
}

// ConsumerOTPSMSLoginOrCreate texts a code, creating the user when the number is new. Never
// retried once written.
func (c *Client) ConsumerOTPSMSLoginOrCreate(ctx context.Context, p ConsumerOTPPhoneLoginOrCreateParams) (*ConsumerPhoneLoginOrCreateResult, error) {
	return c.phoneLoginOrCreate(ctx, "POST /v1/otps/sms/login_or_create", p)
}

// ConsumerOTPWhatsAppSend sends a code by WhatsApp. Never retried once written.
func (c *Client) ConsumerOTPWhatsAppSend(ctx context.Context, p ConsumerOTPPhoneSendParams) (*ConsumerPhoneSendResult, error) {
	return c.phoneSend(ctx, "POST /v1/otps/whatsapp/send", p)
}

// ConsumerOTPWhatsAppLoginOrCreate sends a code by WhatsApp, creating the user when the number
// is new. Never retried once written.
func (c *Client) ConsumerOTPWhatsAppLoginOrCreate(ctx context.Context, p ConsumerOTPPhoneLoginOrCreateParams) (*ConsumerPhoneLoginOrCreateResult, error) {
	return c.phoneLoginOrCreate(ctx, "POST /v1/otps/whatsapp/login_or_create", p)
}

func (c *Client) phoneSend(ctx context.Context, endpoint string, p ConsumerOTPPhoneSendParams) (*ConsumerPhoneSendResult, error) {
	var out ConsumerPhoneSendResult
	err := c.do(ctx, call{endpoint: endpoint, body: p}, &out)
	return ptrOrNil(&out, err)
}

func (c *Client) phoneLoginOrCreate(ctx context.Context, endpoint string, p ConsumerOTPPhoneLoginOrCreateParams) (*ConsumerPhoneLoginOrCreateResult, error) {
	var out ConsumerPhoneLoginOrCreateResult
	err := c.do(ctx, call{endpoint: endpoint, body: p}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerOTPEmailSendParams for POST /v1/otps/email/send; see ConsumerOTPPhoneSendParams for
// UserID and the session fields.
type ConsumerOTPEmailSendParams struct {
	Email             string      `json:"email"`
	ExpirationMinutes int32       `json:"expiration_minutes,omitempty"`
	LoginTemplateID   string      `json:"login_template_id,omitempty"`
	SignupTemplateID  string      `json:"signup_template_id,omitempty"`
	Locale            string      `json:"locale,omitempty"`
	Attributes        *Attributes `json:"attributes,omitempty"`
	UserID            string      `json:"user_id,omitempty"`
	SessionToken      string      `json:"session_token,omitempty"`
	SessionJWT        string      `json:"session_jwt,omitempty"`
}

// ConsumerOTPEmailSend emails a code to a user. Never retried once written.
func (c *Client) ConsumerOTPEmailSend(ctx context.Context, p ConsumerOTPEmailSendParams) (*ConsumerEmailSendResult, error) {
	var out ConsumerEmailSendResult
	err := c.do(ctx, call{endpoint: "POST /v1/otps/email/send", body: p}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerOTPEmailLoginOrCreateParams for POST /v1/otps/email/login_or_create.
type ConsumerOTPEmailLoginOrCreateParams struct {
	Email               string      `json:"email"`
	ExpirationMinutes   int32       `json:"expiration_minutes,omitempty"`
	CreateUserAsPending bool        `json:"create_user_as_pending,omitempty"`
	LoginTemplateID     string      `json:"login_template_id,omitempty"`
	SignupTemplateID    string      `json:"signup_template_id,omitempty"`
	Locale              string      `json:"locale,omitempty"`
	Attributes          *Attributes `json:"attributes,omitempty"`
}

// ConsumerOTPEmailLoginOrCreate emails a code, creating the user when the address is new. Never
// retried once written.
func (c *Client) ConsumerOTPEmailLoginOrCreate(ctx context.Context, p ConsumerOTPEmailLoginOrCreateParams) (*ConsumerEmailLoginOrCreateResult, error) {
	var out ConsumerEmailLoginOrCreateResult
	err := c.do(ctx, call{endpoint: "POST /v1/otps/email/login_or_create", body: p}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerOTPAuthenticateParams for POST /v1/otps/authenticate. MethodID is the email_id or
// phone_id a send returned. Session fields behave as in ConsumerMagicLinkAuthenticateParams.
type ConsumerOTPAuthenticateParams struct {
	MethodID               string               `json:"method_id"`
	Code                   string               `json:"code"`
	SessionToken           string               `json:"session_token,omitempty"`
	SessionJWT             string               `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32                `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata             `json:"session_custom_claims,omitzero"`
	Attributes             *Attributes          `json:"attributes,omitempty"`
	Options                *AuthenticateOptions `json:"options,omitempty"`
	TelemetryID            string               `json:"telemetry_id,omitempty"`
}

// ConsumerOTPAuthenticate checks a code. Never retried once written: a replay would count twice
// against Stytch's brute-force limit.
func (c *Client) ConsumerOTPAuthenticate(ctx context.Context, p ConsumerOTPAuthenticateParams) (*ConsumerAuthenticateResult, error) {
	var out ConsumerAuthenticateResult
	err := c.do(ctx, call{endpoint: "POST /v1/otps/authenticate", body: p}, &out)
	return ptrOrNil(&out, err)
}
