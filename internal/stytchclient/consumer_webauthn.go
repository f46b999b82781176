package stytchclient

import "context"

// Consumer WebAuthn (/v1/webauthn/...): passkeys and security keys. The options and credentials
// travel as the JSON strings Stytch uses (the browser's PublicKeyCredential*Options and
// PublicKeyCredential), in request and response bodies only, which the client never logs.

// WebAuthnRegisterStartParams for POST /v1/webauthn/register/start. Domain is the relying party
// ID. AuthenticatorType is "platform", "cross-platform" or empty (either).
type WebAuthnRegisterStartParams struct {
	UserID                         string `json:"user_id"`
	Domain                         string `json:"domain"`
	UserAgent                      string `json:"user_agent,omitempty"`
	AuthenticatorType              string `json:"authenticator_type,omitempty"`
	ReturnPasskeyCredentialOptions bool   `json:"return_passkey_credential_options,omitempty"`
	OverrideID                     string `json:"override_id,omitempty"`
	OverrideName                   string `json:"override_name,omitempty"`
	OverrideDisplayName            string `json:"override_display_name,omitempty"`
	UseBase64URLEncoding           bool   `json:"use_base64_url_encoding,omitempty"`
}

// WebAuthnRegisterStartResult carries the creation options for navigator.credentials.create().
type WebAuthnRegisterStartResult struct {
	Envelope
	UserID                             string `json:"user_id"`
	PublicKeyCredentialCreationOptions string `json:"public_key_credential_creation_options"`
}

// WebAuthnRegisterStart begins a registration. It stores a challenge at Stytch, so it is never
// retried once written.
func (c *Client) WebAuthnRegisterStart(ctx context.Context, p WebAuthnRegisterStartParams) (*WebAuthnRegisterStartResult, error) {
	var out WebAuthnRegisterStartResult
	err := c.do(ctx, call{endpoint: "POST /v1/webauthn/register/start", body: p}, &out)
	return ptrOrNil(&out, err)
}

// WebAuthnRegisterParams for POST /v1/webauthn/register. With SessionToken or SessionJWT (at most
// one) the factor joins that session; SessionDurationMinutes starts one.
type WebAuthnRegisterParams struct {
	UserID                 string   `json:"user_id"`
	PublicKeyCredential    string   `json:"public_key_credential"`
	SessionToken           string   `json:"session_token,omitempty"`
	SessionJWT             string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
}

// WebAuthnResult is the answer of register and authenticate: the registration and, when one was
// asked for, the session.
type WebAuthnResult struct {
	ConsumerSessionResult
	WebAuthnRegistrationID string `json:"webauthn_registration_id"`
}

// WebAuthnRegister completes a registration: 400 invalid_public_key_credential for a credential
// that does not parse, 401 unable_to_auth_webauthn_registration for one that fails the ceremony
// (challenge, origin, attestation). Never retried once written.
func (c *Client) WebAuthnRegister(ctx context.Context, p WebAuthnRegisterParams) (*WebAuthnResult, error) {
	var out WebAuthnResult
	err := c.do(ctx, call{endpoint: "POST /v1/webauthn/register", body: p}, &out)
	return ptrOrNil(&out, err)
}

// WebAuthnAuthenticateStartParams for POST /v1/webauthn/authenticate/start. Without UserID it
// starts a passkey (discoverable credential) login.
type WebAuthnAuthenticateStartParams struct {
	Domain                         string `json:"domain"`
	UserID                         string `json:"user_id,omitempty"`
	ReturnPasskeyCredentialOptions bool   `json:"return_passkey_credential_options,omitempty"`
	UseBase64URLEncoding           bool   `json:"use_base64_url_encoding,omitempty"`
}

// WebAuthnAuthenticateStartResult carries the request options for navigator.credentials.get().
type WebAuthnAuthenticateStartResult struct {
	Envelope
	UserID                            string `json:"user_id"`
	PublicKeyCredentialRequestOptions string `json:"public_key_credential_request_options"`
}

// WebAuthnAuthenticateStart begins a login; never retried once written (it stores a challenge).
func (c *Client) WebAuthnAuthenticateStart(ctx context.Context, p WebAuthnAuthenticateStartParams) (*WebAuthnAuthenticateStartResult, error) {
	var out WebAuthnAuthenticateStartResult
	err := c.do(ctx, call{endpoint: "POST /v1/webauthn/authenticate/start", body: p}, &out)
	return ptrOrNil(&out, err)
}

// WebAuthnAuthenticateParams for POST /v1/webauthn/authenticate.
type WebAuthnAuthenticateParams struct {
	PublicKeyCredential    string   `json:"public_key_credential"`
	SessionToken           string   `json:"session_token,omitempty"`
	SessionJWT             string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
}

// WebAuthnAuthenticate completes a login with a signed assertion: 401
// unable_to_auth_webauthn_registration for a replayed, misdirected or unverifiable assertion or a
// signature counter that did not increase. Never retried once written (each challenge is
// answered once).
func (c *Client) WebAuthnAuthenticate(ctx context.Context, p WebAuthnAuthenticateParams) (*WebAuthnResult, error) {
	var out WebAuthnResult
	err := c.do(ctx, call{endpoint: "POST /v1/webauthn/authenticate", body: p}, &out)
	return ptrOrNil(&out, err)
}

// WebAuthnUpdateResult is the renamed registration.
type WebAuthnUpdateResult struct {
	Envelope
	WebAuthnRegistration *UserWebAuthnRegistration `json:"webauthn_registration,omitempty"`
}

// WebAuthnUpdate renames a registration (404 webauthn_registration_not_found). Like every PUT, it
// is not retried once written.
func (c *Client) WebAuthnUpdate(ctx context.Context, webauthnRegistrationID, name string) (*WebAuthnUpdateResult, error) {
	var out WebAuthnUpdateResult
	err := c.do(ctx, call{
		endpoint: "PUT /v1/webauthn/{webauthn_registration_id}",
		params:   []string{webauthnRegistrationID},
		body:     map[string]string{"name": name},
	}, &out)
	return ptrOrNil(&out, err)
}

// WebAuthnCredential is the public part of a registered credential.
type WebAuthnCredential struct {
	CredentialID           string `json:"credential_id"`
	WebAuthnRegistrationID string `json:"webauthn_registration_id"`
	Type                   string `json:"type"`
	PublicKey              string `json:"public_key"`
}

// WebAuthnListCredentialsResult lists a user's credentials for one domain.
type WebAuthnListCredentialsResult struct {
	Envelope
	Credentials []WebAuthnCredential `json:"credentials"`
}

// WebAuthnListCredentials lists the public keys of a user's registrations for domain.
func (c *Client) WebAuthnListCredentials(ctx context.Context, userID, domain string) (*WebAuthnListCredentialsResult, error) {
	var out WebAuthnListCredentialsResult
	err := c.do(ctx, call{
		endpoint: "GET /v1/webauthn/credentials/{user_id}/{domain}",
		params:   []string{userID, domain},
	}, &out)
	return ptrOrNil(&out, err)
}
