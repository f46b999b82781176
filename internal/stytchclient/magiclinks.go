package stytchclient

import "context"

// B2BAuthenticateResult is the common shape of B2B primary authenticate
// responses (magic link, email OTP, session exchange, discovery exchange
// and create). When MemberAuthenticated is false, MFARequired or
// PrimaryRequired says what is missing and IntermediateSessionToken must be
// carried to the next step; SessionToken/JWT are then empty.
type B2BAuthenticateResult struct {
	Envelope
	MemberID                 string             `json:"member_id"`
	OrganizationID           string             `json:"organization_id,omitempty"`
	MethodID                 string             `json:"method_id,omitempty"`
	ResetSessions            bool               `json:"reset_sessions,omitempty"` // deprecated by Stytch
	Member                   Member             `json:"member"`
	Organization             Organization       `json:"organization"`
	SessionToken             string             `json:"session_token"`
	SessionJWT               string             `json:"session_jwt"`
	IntermediateSessionToken string             `json:"intermediate_session_token"`
	MemberAuthenticated      bool               `json:"member_authenticated"`
	MemberSession            *MemberSessionInfo `json:"member_session,omitempty"`
	MFARequired              *MFARequired       `json:"mfa_required,omitempty"`
	PrimaryRequired          *PrimaryRequired   `json:"primary_required,omitempty"`
	MemberDevice             *DeviceInfo        `json:"member_device,omitempty"`
}

// MemberOrgResult is the common response of sends and member writes that
// return the member and its organization.
type MemberOrgResult struct {
	Envelope
	MemberID     string       `json:"member_id"`
	Member       Member       `json:"member"`
	Organization Organization `json:"organization"`
}

// LoginOrSignupResult is returned by magic-link and email-OTP login_or_signup.
type LoginOrSignupResult struct {
	MemberOrgResult
	MemberCreated bool `json:"member_created"`
}

// DiscoveryAuthenticateResult is returned by the discovery authenticate
// endpoints: an intermediate session token and the organizations the email
// can enter.
type DiscoveryAuthenticateResult struct {
	Envelope
	IntermediateSessionToken string                   `json:"intermediate_session_token"`
	EmailAddress             string                   `json:"email_address"`
	DiscoveredOrganizations  []DiscoveredOrganization `json:"discovered_organizations"`
}

// EnvelopeOnly is the response of endpoints that return nothing else.
type EnvelopeOnly struct {
	Envelope
}

// MagicLinkLoginOrSignupParams for POST /v1/b2b/magic_links/email/login_or_signup.
type MagicLinkLoginOrSignupParams struct {
	OrganizationID          string `json:"organization_id"`
	EmailAddress            string `json:"email_address"`
	LoginRedirectURL        string `json:"login_redirect_url,omitempty"`
	SignupRedirectURL       string `json:"signup_redirect_url,omitempty"`
	PKCECodeChallenge       string `json:"pkce_code_challenge,omitempty"`
	LoginTemplateID         string `json:"login_template_id,omitempty"`
	SignupTemplateID        string `json:"signup_template_id,omitempty"`
	Locale                  string `json:"locale,omitempty"`
	LoginExpirationMinutes  int32  `json:"login_expiration_minutes,omitempty"`
	SignupExpirationMinutes int32  `json:"signup_expiration_minutes,omitempty"`
}

// MagicLinkLoginOrSignup sends a login or signup magic link. Never retried
// once written (it sends an email).
func (c *Client) MagicLinkLoginOrSignup(ctx context.Context, p MagicLinkLoginOrSignupParams) (*LoginOrSignupResult, error) {
	var out LoginOrSignupResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/magic_links/email/login_or_signup",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// MagicLinkInviteParams for POST /v1/b2b/magic_links/email/invite.
type MagicLinkInviteParams struct {
	OrganizationID          string   `json:"organization_id"`
	EmailAddress            string   `json:"email_address"`
	InviteRedirectURL       string   `json:"invite_redirect_url,omitempty"`
	InvitedByMemberID       string   `json:"invited_by_member_id,omitempty"`
	Name                    string   `json:"name,omitempty"`
	TrustedMetadata         Metadata `json:"trusted_metadata,omitzero"`
	UntrustedMetadata       Metadata `json:"untrusted_metadata,omitzero"`
	InviteTemplateID        string   `json:"invite_template_id,omitempty"`
	Locale                  string   `json:"locale,omitempty"`
	Roles                   []string `json:"roles,omitzero"`
	InviteExpirationMinutes int32    `json:"invite_expiration_minutes,omitempty"`
	// ActingMember, if set, makes Stytch apply that member's RBAC.
	ActingMember MemberSession `json:"-"`
}

// MagicLinkInvite invites a member by email. Never retried once written.
func (c *Client) MagicLinkInvite(ctx context.Context, p MagicLinkInviteParams) (*MemberOrgResult, error) {
	var out MemberOrgResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/magic_links/email/invite",
		body:     p,
		member:   p.ActingMember,
	}, &out)
	return ptrOrNil(&out, err)
}

// MagicLinkDiscoverySendParams for POST /v1/b2b/magic_links/email/discovery/send.
type MagicLinkDiscoverySendParams struct {
	EmailAddress               string `json:"email_address"`
	DiscoveryRedirectURL       string `json:"discovery_redirect_url,omitempty"`
	PKCECodeChallenge          string `json:"pkce_code_challenge,omitempty"`
	LoginTemplateID            string `json:"login_template_id,omitempty"`
	Locale                     string `json:"locale,omitempty"`
	DiscoveryExpirationMinutes int32  `json:"discovery_expiration_minutes,omitempty"`
}

// MagicLinkDiscoverySend sends a discovery magic link. Never retried once written.
func (c *Client) MagicLinkDiscoverySend(ctx context.Context, p MagicLinkDiscoverySendParams) (*EnvelopeOnly, error) {
	var out EnvelopeOnly
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/magic_links/email/discovery/send",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// MagicLinkAuthenticateParams for POST /v1/b2b/magic_links/authenticate.
type MagicLinkAuthenticateParams struct {
	MagicLinksToken          string   `json:"magic_links_token"`
	PKCECodeVerifier         string   `json:"pkce_code_verifier,omitempty"`
	SessionToken             string   `json:"session_token,omitempty"`
	SessionJWT               string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes   int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims      Metadata `json:"session_custom_claims,omitzero"`
	Locale                   string   `json:"locale,omitempty"`
	IntermediateSessionToken string   `json:"intermediate_session_token,omitempty"`
	TelemetryID              string   `json:"telemetry_id,omitempty"`
}

// MagicLinkAuthenticate consumes a magic-link token. Never retried once
// written: the first attempt consumes the token.
func (c *Client) MagicLinkAuthenticate(ctx context.Context, p MagicLinkAuthenticateParams) (*B2BAuthenticateResult, error) {
	var out B2BAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/magic_links/authenticate",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// MagicLinkDiscoveryAuthenticateParams for POST /v1/b2b/magic_links/discovery/authenticate.
type MagicLinkDiscoveryAuthenticateParams struct {
	DiscoveryMagicLinksToken string `json:"discovery_magic_links_token"`
	PKCECodeVerifier         string `json:"pkce_code_verifier,omitempty"`
}

// MagicLinkDiscoveryAuthenticate consumes a discovery magic-link token.
func (c *Client) MagicLinkDiscoveryAuthenticate(ctx context.Context, p MagicLinkDiscoveryAuthenticateParams) (*DiscoveryAuthenticateResult, error) {
	var out DiscoveryAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/magic_links/discovery/authenticate",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// ptrOrNil returns (out, nil) on success and (nil, err) otherwise, so a
// caller never sees a half-filled response next to an error.
func ptrOrNil[T any](out *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return out, nil
}
