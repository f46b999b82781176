package stytchclient

import (
	"context"
	"errors"
	"net/url"
	"strconv"
)

// MemberCreateParams for POST /v1/b2b/organizations/{organization_id}/members.
type MemberCreateParams struct {
	OrganizationID        string   `json:"-"`
	EmailAddress          string   `json:"email_address"`
	Name                  string   `json:"name,omitempty"`
	TrustedMetadata       Metadata `json:"trusted_metadata,omitzero"`
	UntrustedMetadata     Metadata `json:"untrusted_metadata,omitzero"`
	CreateMemberAsPending bool     `json:"create_member_as_pending,omitempty"`
	IsBreakglass          bool     `json:"is_breakglass,omitempty"`
	MFAPhoneNumber        string   `json:"mfa_phone_number,omitempty"`
	MFAEnrolled           bool     `json:"mfa_enrolled,omitempty"`
	Roles                 []string `json:"roles,omitzero"`
	ExternalID            string   `json:"external_id,omitempty"`

	ActingMember MemberSession `json:"-"`
}

// MemberCreate creates a member. Never retried once written.
func (c *Client) MemberCreate(ctx context.Context, p MemberCreateParams) (*MemberOrgResult, error) {
	var out MemberOrgResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/organizations/{organization_id}/members",
		params:   []string{p.OrganizationID},
		body:     p,
		member:   p.ActingMember,
	}, &out)
	return ptrOrNil(&out, err)
}

// MemberGetParams for GET /v1/b2b/organizations/{organization_id}/member
// (singular "member"). Set exactly one of MemberID and EmailAddress.
type MemberGetParams struct {
	OrganizationID string
	MemberID       string
	EmailAddress   string
}

// MemberGet fetches a member by ID (or external ID) or email address. The
// email travels in the query string; it is redacted from spans and errors.
// Read-only: retried on transport failures and 5xx.
func (c *Client) MemberGet(ctx context.Context, p MemberGetParams) (*MemberOrgResult, error) {
	if (p.MemberID == "") == (p.EmailAddress == "") {
		return nil, errors.New("stytchclient: MemberGet needs exactly one of MemberID and EmailAddress")
	}
	q := url.Values{}
	if p.MemberID != "" {
		q.Set("member_id", p.MemberID)
	} else {
		q.Set("email_address", p.EmailAddress)
	}
	var out MemberOrgResult
	err := c.do(ctx, call{
		endpoint: "GET /v1/b2b/organizations/{organization_id}/member",
		params:   []string{p.OrganizationID},
		query:    q,
	}, &out)
	return ptrOrNil(&out, err)
}

// MemberDangerouslyGet fetches a member by ID without its organization ID.
// Read-only: retried on transport failures and 5xx.
func (c *Client) MemberDangerouslyGet(ctx context.Context, memberID string, includeDeleted bool) (*MemberOrgResult, error) {
	var q url.Values
	if includeDeleted {
		q = url.Values{"include_deleted": {strconv.FormatBool(true)}}
	}
	var out MemberOrgResult
	err := c.do(ctx, call{
		endpoint: "GET /v1/b2b/organizations/members/dangerously_get/{member_id}",
		params:   []string{memberID},
		query:    q,
	}, &out)
	return ptrOrNil(&out, err)
}

// MemberUpdateParams for PUT /v1/b2b/organizations/{organization_id}/members/{member_id}.
//
// Only set fields are sent: nil leaves a field alone; a pointer to "" or
// false, an empty non-nil Roles (removes every explicit role), or an empty
// non-nil metadata map is sent as given.
type MemberUpdateParams struct {
	OrganizationID string `json:"-"`
	MemberID       string `json:"-"`

	Name                     *string  `json:"name,omitempty"`
	TrustedMetadata          Metadata `json:"trusted_metadata,omitzero"`
	UntrustedMetadata        Metadata `json:"untrusted_metadata,omitzero"`
	IsBreakglass             *bool    `json:"is_breakglass,omitempty"`
	MFAPhoneNumber           *string  `json:"mfa_phone_number,omitempty"`
	MFAEnrolled              *bool    `json:"mfa_enrolled,omitempty"`
	Roles                    []string `json:"roles,omitzero"`
	PreserveExistingSessions *bool    `json:"preserve_existing_sessions,omitempty"`
	DefaultMFAMethod         *string  `json:"default_mfa_method,omitempty"`
	EmailAddress             *string  `json:"email_address,omitempty"`
	ExternalID               *string  `json:"external_id,omitempty"`
	UnlinkEmail              *bool    `json:"unlink_email,omitempty"`

	ActingMember MemberSession `json:"-"`
}

// MemberUpdate updates a member. Not retried once written.
func (c *Client) MemberUpdate(ctx context.Context, p MemberUpdateParams) (*MemberOrgResult, error) {
	var out MemberOrgResult
	err := c.do(ctx, call{
		endpoint: "PUT /v1/b2b/organizations/{organization_id}/members/{member_id}",
		params:   []string{p.OrganizationID, p.MemberID},
		body:     p,
		member:   p.ActingMember,
	}, &out)
	return ptrOrNil(&out, err)
}

// MemberDeleteResult is the response of member delete.
type MemberDeleteResult struct {
	Envelope
	MemberID string `json:"member_id"`
}

// MemberDelete deletes a member (and revokes a pending invite). Not retried
// once written.
func (c *Client) MemberDelete(ctx context.Context, organizationID, memberID string, acting MemberSession) (*MemberDeleteResult, error) {
	var out MemberDeleteResult
	err := c.do(ctx, call{
		endpoint: "DELETE /v1/b2b/organizations/{organization_id}/members/{member_id}",
		params:   []string{organizationID, memberID},
		member:   acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// MemberReactivate reactivates a deleted member (PUT with an empty body).
// Not retried once written.
func (c *Client) MemberReactivate(ctx context.Context, organizationID, memberID string, acting MemberSession) (*MemberOrgResult, error) {
	var out MemberOrgResult
	err := c.do(ctx, call{
		endpoint: "PUT /v1/b2b/organizations/{organization_id}/members/{member_id}/reactivate",
		params:   []string{organizationID, memberID},
		member:   acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// MemberDeleteMFAPhoneNumber removes a member's MFA phone number. Note
// Stytch's segment order: mfa_phone_numbers precedes the member ID.
func (c *Client) MemberDeleteMFAPhoneNumber(ctx context.Context, organizationID, memberID string, acting MemberSession) (*MemberOrgResult, error) {
	var out MemberOrgResult
	err := c.do(ctx, call{
		endpoint: "DELETE /v1/b2b/organizations/{organization_id}/members/mfa_phone_numbers/{member_id}",
		params:   []string{organizationID, memberID},
		member:   acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// MemberDeletePassword removes a member's password, keyed by
// member_password_id (not member_id).
func (c *Client) MemberDeletePassword(ctx context.Context, organizationID, memberPasswordID string, acting MemberSession) (*MemberOrgResult, error) {
	var out MemberOrgResult
	err := c.do(ctx, call{
		endpoint: "DELETE /v1/b2b/organizations/{organization_id}/members/passwords/{member_password_id}",
		params:   []string{organizationID, memberPasswordID},
		member:   acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// MemberSearchParams for POST /v1/b2b/organizations/members/search.
type MemberSearchParams struct {
	OrganizationIDs []string     `json:"organization_ids"`
	Cursor          string       `json:"cursor,omitempty"`
	Limit           int32        `json:"limit,omitempty"`
	Query           *SearchQuery `json:"query,omitempty"`

	ActingMember MemberSession `json:"-"`
}

// MemberSearchResult is a page of members with their organizations keyed by ID.
type MemberSearchResult struct {
	Envelope
	Members         []Member                `json:"members"`
	ResultsMetadata ResultsMetadata         `json:"results_metadata"`
	Organizations   map[string]Organization `json:"organizations"`
}

// MemberSearch searches members across organizations (Stytch: 100/min). A
// POST that changes nothing, so it is retried like a GET.
func (c *Client) MemberSearch(ctx context.Context, p MemberSearchParams) (*MemberSearchResult, error) {
	var out MemberSearchResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/organizations/members/search",
		body:     p,
		member:   p.ActingMember,
		readOnly: true,
	}, &out)
	return ptrOrNil(&out, err)
}

// MemberStartEmailUpdateParams for POST
// /v1/b2b/organizations/{organization_id}/members/{member_id}/start_email_update.
type MemberStartEmailUpdateParams struct {
	OrganizationID   string `json:"-"`
	MemberID         string `json:"-"`
	EmailAddress     string `json:"email_address"`
	LoginRedirectURL string `json:"login_redirect_url,omitempty"`
	Locale           string `json:"locale,omitempty"`
	LoginTemplateID  string `json:"login_template_id,omitempty"`
	// DeliveryMethod is EMAIL_MAGIC_LINK or EMAIL_OTP; empty: Stytch's
	// default (a magic link).
	DeliveryMethod string `json:"delivery_method,omitempty"`

	ActingMember MemberSession `json:"-"`
}

// MemberStartEmailUpdate emails a verification link (or code) to a member's
// new address; the address changes when the member authenticates with it.
// Sends an email: never retried once written.
func (c *Client) MemberStartEmailUpdate(ctx context.Context, p MemberStartEmailUpdateParams) (*MemberOrgResult, error) {
	var out MemberOrgResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/organizations/{organization_id}/members/{member_id}/start_email_update",
		params:   []string{p.OrganizationID, p.MemberID},
		body:     p,
		member:   p.ActingMember,
	}, &out)
	return ptrOrNil(&out, err)
}

// MemberDeleteTOTP deletes a member's TOTP registration. Not retried once
// written.
func (c *Client) MemberDeleteTOTP(ctx context.Context, organizationID, memberID string, acting MemberSession) (*MemberOrgResult, error) {
	var out MemberOrgResult
	err := c.do(ctx, call{
		endpoint: "DELETE /v1/b2b/organizations/{organization_id}/members/{member_id}/totp",
		params:   []string{organizationID, memberID},
		member:   acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// MemberDeleteExternalID removes a member's external ID. Not retried once
// written.
func (c *Client) MemberDeleteExternalID(ctx context.Context, organizationID, memberID string, acting MemberSession) (*MemberOrgResult, error) {
	var out MemberOrgResult
	err := c.do(ctx, call{
		endpoint: "DELETE /v1/b2b/organizations/{organization_id}/members/{member_id}/external_id",
		params:   []string{organizationID, memberID},
		member:   acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// MemberUnlinkRetiredEmailParams for POST
// /v1/b2b/organizations/{organization_id}/members/{member_id}/unlink_retired_email.
// Set EmailID, EmailAddress or both.
type MemberUnlinkRetiredEmailParams struct {
	OrganizationID string `json:"-"`
	MemberID       string `json:"-"`
	EmailID        string `json:"email_id,omitempty"`
	EmailAddress   string `json:"email_address,omitempty"`

	ActingMember MemberSession `json:"-"`
}

// MemberUnlinkRetiredEmailResult is the answer of unlink_retired_email: the
// member result plus the organization's ID.
type MemberUnlinkRetiredEmailResult struct {
	MemberOrgResult
	OrganizationID string `json:"organization_id"`
}

// MemberUnlinkRetiredEmail unlinks one of a member's retired email
// addresses. Not retried once written.
func (c *Client) MemberUnlinkRetiredEmail(ctx context.Context, p MemberUnlinkRetiredEmailParams) (*MemberUnlinkRetiredEmailResult, error) {
	if p.EmailID == "" && p.EmailAddress == "" {
		return nil, errors.New("stytchclient: MemberUnlinkRetiredEmail needs EmailID or EmailAddress")
	}
	var out MemberUnlinkRetiredEmailResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/organizations/{organization_id}/members/{member_id}/unlink_retired_email",
		params:   []string{p.OrganizationID, p.MemberID},
		body:     p,
		member:   p.ActingMember,
	}, &out)
	return ptrOrNil(&out, err)
}

// OIDCProviderInfo is what Stytch saved from one OIDC login of a member.
// Every token is a live credential for the identity provider.
type OIDCProviderInfo struct {
	ProviderSubject      string   `json:"provider_subject"`
	IDToken              string   `json:"id_token"`
	AccessToken          string   `json:"access_token"`
	AccessTokenExpiresIn int      `json:"access_token_expires_in"`
	Scopes               []string `json:"scopes"`
	ConnectionID         string   `json:"connection_id"`
	RefreshToken         string   `json:"refresh_token"`
}

// MemberOIDCProvidersResult lists a member's OIDC provider registrations.
type MemberOIDCProvidersResult struct {
	Envelope
	Registrations []OIDCProviderInfo `json:"registrations"`
}

// MemberOIDCProviders reads the tokens Stytch saved from a member's OIDC
// logins (refresh tokens only when includeRefreshToken is set). Read-only:
// retried on transport failures and 5xx.
func (c *Client) MemberOIDCProviders(ctx context.Context, organizationID, memberID string, includeRefreshToken bool) (*MemberOIDCProvidersResult, error) {
	var q url.Values
	if includeRefreshToken {
		q = url.Values{"include_refresh_token": {strconv.FormatBool(true)}}
	}
	var out MemberOIDCProvidersResult
	err := c.do(ctx, call{
		endpoint: "GET /v1/b2b/organizations/{organization_id}/members/{member_id}/oidc_providers",
		params:   []string{organizationID, memberID},
		query:    q,
	}, &out)
	return ptrOrNil(&out, err)
}
