package stytchclient

import (
	"context"
	"errors"
	"net/url"
	"strings"
)

// Consumer OAuth (/v1/oauth/...). A flow starts in the browser at Stytch's public start endpoint
// (ConsumerOAuthStartURL builds its URL; no request is made), comes back to the application's
// redirect URL with a token, and ends with ConsumerOAuthAuthenticate. ConsumerOAuthAttach ties
// the next flow to an existing user. Tokens and the provider's tokens travel only in request and
// response bodies, which the client never logs, records in spans or quotes in errors.

// OAuthStartEndpoint is the template of Stytch's OAuth start endpoint, which browsers call.
const OAuthStartEndpoint = "GET /v1/public/oauth/{provider}/start"

// ConsumerOAuthStartParams are the query of Stytch's OAuth start URL. Provider is Stytch's name
// of the provider ("google", "github", ...); PublicToken is the project's public token.
type ConsumerOAuthStartParams struct {
	Provider          string
	PublicToken       string
	LoginRedirectURL  string
	SignupRedirectURL string
	CodeChallenge     string
	OAuthAttachToken  string
	CustomScopes      []string
	LoginHint         string
}

// ErrNoPublicToken is ConsumerOAuthStartURL's answer without a public token.
var ErrNoPublicToken = errors.New("stytch: the OAuth start URL needs the project's public token")

// ConsumerOAuthStartURL returns the URL of Stytch's OAuth start endpoint on the client's base URL
// for p; it makes no request. The provider must be one path segment (a *PathParamError
// otherwise).
func (c *Client) ConsumerOAuthStartURL(p ConsumerOAuthStartParams) (string, error) {
	if p.PublicToken == "" {
		return "", ErrNoPublicToken
	}
	return c.publicStartURL(OAuthStartEndpoint, p.Provider, p.PublicToken, map[string]string{
		"login_redirect_url": p.LoginRedirectURL, "signup_redirect_url": p.SignupRedirectURL, "code_challenge": p.CodeChallenge,
		"oauth_attach_token": p.OAuthAttachToken, "login_hint": p.LoginHint, "custom_scopes": strings.Join(p.CustomScopes, " "),
	})
}

// publicStartURL is the URL of a browser-facing start endpoint (template with one {provider}) on
// the client's base URL, with the public token and the non-empty params.
func (c *Client) publicStartURL(template, provider, publicToken string, params map[string]string) (string, error) {
	path, err := buildPath(template, []string{provider})
	if err != nil {
		return "", err
	}
	q := url.Values{"public_token": {publicToken}}
	for k, v := range params {
		if v != "" {
			q.Set(k, v)
		}
	}
	return c.baseURL + path + "?" + q.Encode(), nil
}

// ConsumerOAuthAttachParams for POST /v1/oauth/attach: exactly one of UserID, SessionToken and
// SessionJWT names the user.
type ConsumerOAuthAttachParams struct {
	Provider     string `json:"provider"`
	UserID       string `json:"user_id,omitempty"`
	SessionToken string `json:"session_token,omitempty"`
	SessionJWT   string `json:"session_jwt,omitempty"`
}

// ConsumerOAuthAttachResult holds the single-use token for the start URL's oauth_attach_token.
type ConsumerOAuthAttachResult struct {
	Envelope
	OAuthAttachToken string `json:"oauth_attach_token"`
}

// ConsumerOAuthAttach returns an attach token for the user (404 user_not_found or
// session_not_found when there is none). Never retried once written: each call makes a token.
func (c *Client) ConsumerOAuthAttach(ctx context.Context, p ConsumerOAuthAttachParams) (*ConsumerOAuthAttachResult, error) {
	var out ConsumerOAuthAttachResult
	err := c.do(ctx, call{endpoint: "POST /v1/oauth/attach", body: p}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerOAuthAuthenticateParams for POST /v1/oauth/authenticate. With SessionToken or
// SessionJWT (at most one) of the token's user the factor joins that session;
// SessionDurationMinutes starts one.
type ConsumerOAuthAuthenticateParams struct {
	Token                  string   `json:"token"`
	CodeVerifier           string   `json:"code_verifier,omitempty"`
	SessionToken           string   `json:"session_token,omitempty"`
	SessionJWT             string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
	TelemetryID            string   `json:"telemetry_id,omitempty"`
}

// OAuthProviderValues are the provider's tokens for the user (api_oauth_v1_ProviderValues).
type OAuthProviderValues struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	IDToken      string    `json:"id_token"`
	Scopes       []string  `json:"scopes"`
	ExpiresAt    Timestamp `json:"expires_at"`
}

// ConsumerOAuthAuthenticateResult is the user, the provider identity and tokens, and the session
// when one was started or extended (Stytch calls it user_session on this endpoint).
type ConsumerOAuthAuthenticateResult struct {
	Envelope
	UserID                  string              `json:"user_id"`
	ProviderSubject         string              `json:"provider_subject"`
	ProviderType            string              `json:"provider_type"`
	SessionToken            string              `json:"session_token"`
	SessionJWT              string              `json:"session_jwt"`
	ProviderValues          OAuthProviderValues `json:"provider_values"`
	User                    User                `json:"user"`
	ResetSessions           bool                `json:"reset_sessions"`
	OAuthUserRegistrationID string              `json:"oauth_user_registration_id"`
	UserSession             *UserSession        `json:"user_session,omitempty"`
	UserDevice              *DeviceInfo         `json:"user_device,omitempty"`
}

// ConsumerOAuthAuthenticate redeems an OAuth token (404 oauth_token_not_found for an unknown one,
// 401 unable_to_auth_oauth_token for a used or expired one, 400 pkce_mismatch for a wrong
// verifier). Never retried once written: the token is single use.
func (c *Client) ConsumerOAuthAuthenticate(ctx context.Context, p ConsumerOAuthAuthenticateParams) (*ConsumerOAuthAuthenticateResult, error) {
	var out ConsumerOAuthAuthenticateResult
	err := c.do(ctx, call{endpoint: "POST /v1/oauth/authenticate", body: p}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerOAuthFactors are the OAuth factor sub-objects of the providers that neither the B2B
// factor nor the Apple and Facebook fields model; Stytch names one per provider. At most one is
// set.
type ConsumerOAuthFactors struct {
	AmazonOAuthFactor     *OAuthFactor `json:"amazon_oauth_factor,omitempty"`
	BitbucketOAuthFactor  *OAuthFactor `json:"bitbucket_oauth_factor,omitempty"`
	CoinbaseOAuthFactor   *OAuthFactor `json:"coinbase_oauth_factor,omitempty"`
	DiscordOAuthFactor    *OAuthFactor `json:"discord_oauth_factor,omitempty"`
	FigmaOAuthFactor      *OAuthFactor `json:"figma_oauth_factor,omitempty"`
	GitLabOAuthFactor     *OAuthFactor `json:"git_lab_oauth_factor,omitempty"`
	InstagramOAuthFactor  *OAuthFactor `json:"instagram_oauth_factor,omitempty"`
	LinkedInOAuthFactor   *OAuthFactor `json:"linked_in_oauth_factor,omitempty"`
	SalesforceOAuthFactor *OAuthFactor `json:"salesforce_oauth_factor,omitempty"`
	ShopifyOAuthFactor    *OAuthFactor `json:"shopify_oauth_factor,omitempty"`
	SnapchatOAuthFactor   *OAuthFactor `json:"snapchat_oauth_factor,omitempty"`
	SpotifyOAuthFactor    *OAuthFactor `json:"spotify_oauth_factor,omitempty"`
	SteamOAuthFactor      *OAuthFactor `json:"steam_oauth_factor,omitempty"`
	TikTokOAuthFactor     *OAuthFactor `json:"tik_tok_oauth_factor,omitempty"`
	TwitchOAuthFactor     *OAuthFactor `json:"twitch_oauth_factor,omitempty"`
	TwitterOAuthFactor    *OAuthFactor `json:"twitter_oauth_factor,omitempty"`
	YahooOAuthFactor      *OAuthFactor `json:"yahoo_oauth_factor,omitempty"`
}

// OtherOAuthFactor returns the sub-object that is set, or nil.
func (f *ConsumerOAuthFactors) OtherOAuthFactor() *OAuthFactor {
	for _, o := range []*OAuthFactor{
		f.AmazonOAuthFactor, f.BitbucketOAuthFactor, f.CoinbaseOAuthFactor, f.DiscordOAuthFactor, f.FigmaOAuthFactor,
		f.GitLabOAuthFactor, f.InstagramOAuthFactor, f.LinkedInOAuthFactor, f.SalesforceOAuthFactor, f.ShopifyOAuthFactor,
		f.SnapchatOAuthFactor, f.SpotifyOAuthFactor, f.SteamOAuthFactor, f.TikTokOAuthFactor, f.TwitchOAuthFactor,
		f.TwitterOAuthFactor, f.YahooOAuthFactor,
	} {
		if o != nil {
			return o
		}
	}
	return nil
}
