package stytchclient

import (
	"context"
	"errors"
	"net/url"
	"strings"
)

// B2B OAuth (/v1/b2b/oauth/...). As for consumer OAuth, a flow starts in the browser at Stytch's
// public start endpoint (B2BOAuthStartURL builds its URL; no request is made): a login into one
// organization, or a discovery flow. It comes back to the application's redirect URL with
// stytch_token_type=oauth (B2BOAuthAuthenticate redeems the token) or discovery_oauth
// (B2BOAuthDiscoveryAuthenticate). Tokens, and the provider's tokens that the authenticate calls
// and MemberOAuthProviderTokens return, travel only in bodies, which the client never logs.

// Templates of Stytch's B2B OAuth start endpoints, which browsers call.
const (
	B2BOAuthStartEndpoint          = "GET /v1/b2b/public/oauth/{provider}/start"
	B2BOAuthDiscoveryStartEndpoint = "GET /v1/b2b/public/oauth/{provider}/discovery/start"
)

// B2BOAuthStartParams are the query of a B2B OAuth start URL. Provider is Stytch's name ("google",
// "microsoft", "hubspot", "slack", "github"). With Discovery, DiscoveryRedirectURL is used and the
// organization and login/sign-up URLs are not; otherwise OrganizationID or OrganizationSlug names
// the organization.
type B2BOAuthStartParams struct {
	Provider             string
	PublicToken          string
	Discovery            bool
	OrganizationID       string
	OrganizationSlug     string
	LoginRedirectURL     string
	SignupRedirectURL    string
	DiscoveryRedirectURL string
	PKCECodeChallenge    string
	CustomScopes         []string
	ProviderPrompt       string
	LoginHint            string
}

// B2BOAuthStartURL returns the URL of Stytch's B2B OAuth start endpoint for p; it makes no
// request.
func (c *Client) B2BOAuthStartURL(p B2BOAuthStartParams) (string, error) {
	if p.PublicToken == "" {
		return "", ErrNoPublicToken
	}
	q := map[string]string{
		"pkce_code_challenge": p.PKCECodeChallenge, "custom_scopes": strings.Join(p.CustomScopes, " "),
		"provider_prompt": p.ProviderPrompt, "login_hint": p.LoginHint,
	}
	if p.Discovery {
		q["discovery_redirect_url"] = p.DiscoveryRedirectURL
		return c.publicStartURL(B2BOAuthDiscoveryStartEndpoint, p.Provider, p.PublicToken, q)
	}
	q["organization_id"], q["slug"] = p.OrganizationID, p.OrganizationSlug
	q["login_redirect_url"], q["signup_redirect_url"] = p.LoginRedirectURL, p.SignupRedirectURL
	return c.publicStartURL(B2BOAuthStartEndpoint, p.Provider, p.PublicToken, q)
}

// B2BOAuthAuthenticateParams for POST /v1/b2b/oauth/authenticate.
type B2BOAuthAuthenticateParams struct {
	OAuthToken               string   `json:"oauth_token"`
	PKCECodeVerifier         string   `json:"pkce_code_verifier,omitempty"`
	SessionToken             string   `json:"session_token,omitempty"`
	SessionJWT               string   `json:"session_jwt,omitempty"`
	IntermediateSessionToken string   `json:"intermediate_session_token,omitempty"`
	SessionDurationMinutes   int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims      Metadata `json:"session_custom_claims,omitzero"`
	Locale                   string   `json:"locale,omitempty"`
}

// B2BOAuthAuthenticateResult is the login outcome with the provider identity and its tokens.
type B2BOAuthAuthenticateResult struct {
	B2BAuthenticateResult
	ProviderSubject string              `json:"provider_subject"`
	ProviderType    string              `json:"provider_type"`
	ProviderValues  OAuthProviderValues `json:"provider_values"`
}

// B2BOAuthAuthenticate redeems a B2B OAuth token (404 oauth_token_not_found, 401
// unable_to_auth_oauth_token when used or expired, 400 pkce_mismatch). Never retried once
// written: the token is single use.
func (c *Client) B2BOAuthAuthenticate(ctx context.Context, p B2BOAuthAuthenticateParams) (*B2BOAuthAuthenticateResult, error) {
	var out B2BOAuthAuthenticateResult
	err := c.do(ctx, call{endpoint: "POST /v1/b2b/oauth/authenticate", body: p}, &out)
	return ptrOrNil(&out, err)
}

// B2BOAuthDiscoveryAuthenticateParams for POST /v1/b2b/oauth/discovery/authenticate.
type B2BOAuthDiscoveryAuthenticateParams struct {
	DiscoveryOAuthToken string `json:"discovery_oauth_token"`
	PKCECodeVerifier    string `json:"pkce_code_verifier,omitempty"`
}

// B2BOAuthDiscoveryAuthenticateResult is the intermediate session and the organizations the
// address can enter.
type B2BOAuthDiscoveryAuthenticateResult struct {
	Envelope
	IntermediateSessionToken string                   `json:"intermediate_session_token"`
	EmailAddress             string                   `json:"email_address"`
	DiscoveredOrganizations  []DiscoveredOrganization `json:"discovered_organizations"`
	ProviderType             string                   `json:"provider_type"`
	ProviderTenantID         string                   `json:"provider_tenant_id"`
	ProviderTenantIDs        []string                 `json:"provider_tenant_ids"`
	FullName                 string                   `json:"full_name"`
}

// B2BOAuthDiscoveryAuthenticate redeems a discovery OAuth token. Never retried once written.
func (c *Client) B2BOAuthDiscoveryAuthenticate(ctx context.Context, p B2BOAuthDiscoveryAuthenticateParams) (*B2BOAuthDiscoveryAuthenticateResult, error) {
	var out B2BOAuthDiscoveryAuthenticateResult
	err := c.do(ctx, call{endpoint: "POST /v1/b2b/oauth/discovery/authenticate", body: p}, &out)
	return ptrOrNil(&out, err)
}

// MemberOAuthRegistration is one identity's tokens at a provider with several per member (Slack,
// HubSpot, GitHub); fields a provider does not have stay empty.
type MemberOAuthRegistration struct {
	ProviderSubject      string   `json:"provider_subject"`
	ProviderTenantID     string   `json:"provider_tenant_id"`
	ProviderTenantIDs    []string `json:"provider_tenant_ids"`
	AccessToken          string   `json:"access_token"`
	AccessTokenExpiresIn int64    `json:"access_token_expires_in"`
	RefreshToken         string   `json:"refresh_token"`
	Scopes               []string `json:"scopes"`
	BotAccessToken       string   `json:"bot_access_token"`
	BotScopes            []string `json:"bot_scopes"`
}

// MemberOAuthProviderTokensResult is a member's tokens at one provider: Google and Microsoft
// answer with one identity (the top-level fields), Slack, HubSpot and GitHub with Registrations.
type MemberOAuthProviderTokensResult struct {
	Envelope
	ProviderType         string                    `json:"provider_type"`
	ProviderSubject      string                    `json:"provider_subject"`
	AccessToken          string                    `json:"access_token"`
	AccessTokenExpiresIn int64                     `json:"access_token_expires_in"`
	RefreshToken         string                    `json:"refresh_token"`
	IDToken              string                    `json:"id_token"`
	Scopes               []string                  `json:"scopes"`
	Registrations        []MemberOAuthRegistration `json:"registrations"`
}

// b2bOAuthProviderEndpoints are the per-provider token reads, by Stytch's provider name.
var b2bOAuthProviderEndpoints = map[string]string{
	"google":    "GET /v1/b2b/organizations/{organization_id}/members/{member_id}/oauth_providers/google",
	"microsoft": "GET /v1/b2b/organizations/{organization_id}/members/{member_id}/oauth_providers/microsoft",
	"hubspot":   "GET /v1/b2b/organizations/{organization_id}/members/{member_id}/oauth_providers/hubspot",
	"slack":     "GET /v1/b2b/organizations/{organization_id}/members/{member_id}/oauth_providers/slack",
	"github":    "GET /v1/b2b/organizations/{organization_id}/members/{member_id}/oauth_providers/github",
}

// ErrUnknownOAuthProvider is MemberOAuthProviderTokens' answer for a provider B2B OAuth lacks.
var ErrUnknownOAuthProvider = errors.New("stytch: not a B2B OAuth provider (google, microsoft, hubspot, slack, github)")

// MemberOAuthProviderTokens reads the member's tokens at provider (a read: retried like a GET).
// Slack answers no refresh token; elsewhere includeRefresh asks for it.
func (c *Client) MemberOAuthProviderTokens(ctx context.Context, orgID, memberID, provider string, includeRefresh bool) (*MemberOAuthProviderTokensResult, error) {
	ep, ok := b2bOAuthProviderEndpoints[provider]
	if !ok {
		return nil, ErrUnknownOAuthProvider
	}
	var q url.Values
	if includeRefresh && provider != "slack" {
		q = url.Values{"include_refresh_token": {"true"}}
	}
	var out MemberOAuthProviderTokensResult
	err := c.do(ctx, call{endpoint: ep, params: []string{orgID, memberID}, query: q}, &out)
	return ptrOrNil(&out, err)
}
