package stytchclient

import "context"

// ConsumerMagicLinkSendParams for POST /v1/magic_links/email/send. Email must belong to a user,
// unless UserID, SessionToken or SessionJWT names one: the address is then added to that user,
// unverified until a link to it is authenticated.
type ConsumerMagicLinkSendParams struct {
	Email                   string      `json:"email"`
	LoginMagicLinkURL       string      `json:"login_magic_link_url,omitempty"`
	SignupMagicLinkURL      string      `json:"signup_magic_link_url,omitempty"`
	LoginExpirationMinutes  int32       `json:"login_expiration_minutes,omitempty"`
	SignupExpirationMinutes int32       `json:"signup_expiration_minutes,omitempty"`
	LoginTemplateID         string      `json:"login_template_id,omitempty"`
	SignupTemplateID        string      `json:"signup_template_id,omitempty"`
	CodeChallenge           string      `json:"code_challenge,omitempty"` // PKCE: base64url SHA-256 of the verifier
	Locale                  string      `json:"locale,omitempty"`
	Attributes              *Attributes `json:"attributes,omitempty"`
	UserID                  string      `json:"user_id,omitempty"`
	SessionToken            string      `json:"session_token,omitempty"`
	SessionJWT              string      `json:"session_jwt,omitempty"`
}

// ConsumerMagicLinkSend emails a login (or, to a pending user, sign-up) magic link. Never
// retried once written (it sends an email).
func (c *Client) ConsumerMagicLinkSend(ctx context.Context, p ConsumerMagicLinkSendParams) (*ConsumerEmailSendResult, error) {
	var out ConsumerEmailSendResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/magic_links/email/send",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerMagicLinkLoginOrCreateParams for POST /v1/magic_links/email/login_or_create.
type ConsumerMagicLinkLoginOrCreateParams struct {
	Email                   string      `json:"email"`
	LoginMagicLinkURL       string      `json:"login_magic_link_url,omitempty"`
	SignupMagicLinkURL      string      `json:"signup_magic_link_url,omitempty"`
	LoginExpirationMinutes  int32       `json:"login_expiration_minutes,omitempty"`
	SignupExpirationMinutes int32       `json:"signup_expiration_minutes,omitempty"`
	LoginTemplateID         string      `json:"login_template_id,omitempty"`
	SignupTemplateID        string      `json:"signup_template_id,omitempty"`
	CreateUserAsPending     bool        `json:"create_user_as_pending,omitempty"`
	CodeChallenge           string      `json:"code_challenge,omitempty"`
	Locale                  string      `json:"locale,omitempty"`
	Attributes              *Attributes `json:"attributes,omitempty"`
}

// ConsumerMagicLinkLoginOrCreate emails a login link to an active user, or a sign-up link to a
// new or pending one (creating the user). Never retried once written.
func (c *Client) ConsumerMagicLinkLoginOrCreate(ctx context.Context, p ConsumerMagicLinkLoginOrCreateParams) (*ConsumerEmailLoginOrCreateResult, error) {
	var out ConsumerEmailLoginOrCreateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/magic_links/email/login_or_create",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerMagicLinkInviteParams for POST /v1/magic_links/email/invite.
type ConsumerMagicLinkInviteParams struct {
	Email                   string      `json:"email"`
	Name                    *UserName   `json:"name,omitempty"`
	InviteMagicLinkURL      string      `json:"invite_magic_link_url,omitempty"`
	InviteExpirationMinutes int32       `json:"invite_expiration_minutes,omitempty"`
	InviteTemplateID        string      `json:"invite_template_id,omitempty"`
	Locale                  string      `json:"locale,omitempty"`
	TrustedMetadata         Metadata    `json:"trusted_metadata,omitzero"`
	UntrustedMetadata       Metadata    `json:"untrusted_metadata,omitzero"`
	Attributes              *Attributes `json:"attributes,omitempty"`
}

// ConsumerMagicLinkInvite creates a pending user and emails an invite link. Never retried once
// written.
func (c *Client) ConsumerMagicLinkInvite(ctx context.Context, p ConsumerMagicLinkInviteParams) (*ConsumerEmailSendResult, error) {
	var out ConsumerEmailSendResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/magic_links/email/invite",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerMagicLinkRevokeInviteParams for POST /v1/magic_links/email/revoke_invite.
type ConsumerMagicLinkRevokeInviteParams struct {
	Email string `json:"email"`
}

// ConsumerMagicLinkRevokeInvite revokes the pending invite of an email address. Not retried once
// written.
func (c *Client) ConsumerMagicLinkRevokeInvite(ctx context.Context, p ConsumerMagicLinkRevokeInviteParams) (*EnvelopeOnly, error) {
	var out EnvelopeOnly
	err := c.do(ctx, call{
		endpoint: "POST /v1/magic_links/email/revoke_invite",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerMagicLinkCreateParams for POST /v1/magic_links (an embeddable magic link).
type ConsumerMagicLinkCreateParams struct {
	UserID            string      `json:"user_id"`
	ExpirationMinutes int32       `json:"expiration_minutes,omitempty"`
	Attributes        *Attributes `json:"attributes,omitempty"`
}

// ConsumerMagicLinkCreateResult carries the embeddable magic-link token. The token is a
// credential: deliver it, never log it.
type ConsumerMagicLinkCreateResult struct {
	Envelope
	UserID string `json:"user_id"`
	Token  string `json:"token"`
}

// ConsumerMagicLinkCreate creates an embeddable magic-link token for a user, sending nothing.
// Never retried once written (a replay would mint a second live token).
func (c *Client) ConsumerMagicLinkCreate(ctx context.Context, p ConsumerMagicLinkCreateParams) (*ConsumerMagicLinkCreateResult, error) {
	var out ConsumerMagicLinkCreateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/magic_links",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerMagicLinkAuthenticateParams for POST /v1/magic_links/authenticate. Without
// SessionDurationMinutes no session is created; with SessionToken or SessionJWT (at most one)
// the factor joins that session.
type ConsumerMagicLinkAuthenticateParams struct {
	Token                  string               `json:"token"`
	CodeVerifier           string               `json:"code_verifier,omitempty"` // PKCE
	SessionToken           string               `json:"session_token,omitempty"`
	SessionJWT             string               `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32                `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata             `json:"session_custom_claims,omitzero"`
	Attributes             *Attributes          `json:"attributes,omitempty"`
	Options                *AuthenticateOptions `json:"options,omitempty"`
	TelemetryID            string               `json:"telemetry_id,omitempty"`
}

// ConsumerMagicLinkAuthenticate consumes a magic-link token. Never retried once written: the
// first attempt consumes the token.
func (c *Client) ConsumerMagicLinkAuthenticate(ctx context.Context, p ConsumerMagicLinkAuthenticateParams) (*ConsumerAuthenticateResult, error) {
	var out ConsumerAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/magic_links/authenticate",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}
