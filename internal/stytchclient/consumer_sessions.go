package stytchclient

import (
	"context"
	"net/url"
)

// ConsumerSessionsGetParams for GET /v1/sessions.
type ConsumerSessionsGetParams struct {
	UserID string // a user ID or the user's external ID
}

// ConsumerSessionsGetResult lists a user's active sessions.
type ConsumerSessionsGetResult struct {
	Envelope
	Sessions []UserSession `json:"sessions"`
}

// ConsumerSessionsGet lists a user's active sessions. Read-only: retried on transport failures
// and 5xx.
func (c *Client) ConsumerSessionsGet(ctx context.Context, p ConsumerSessionsGetParams) (*ConsumerSessionsGetResult, error) {
	var out ConsumerSessionsGetResult
	err := c.do(ctx, call{
		endpoint: "GET /v1/sessions",
		query:    url.Values{"user_id": {p.UserID}},
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerSessionsAuthenticateParams for POST /v1/sessions/authenticate. Set exactly one of
// SessionToken and SessionJWT (both is Stytch's too_many_session_arguments); an expired JWT of a
// live session is accepted and a fresh one returned.
type ConsumerSessionsAuthenticateParams struct {
	SessionToken           string                      `json:"session_token,omitempty"`
	SessionJWT             string                      `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32                       `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata                    `json:"session_custom_claims,omitzero"`
	AuthorizationCheck     *ConsumerAuthorizationCheck `json:"authorization_check,omitempty"`
}

// ConsumerSessionsAuthenticateResult is the response of consumer sessions/authenticate.
type ConsumerSessionsAuthenticateResult struct {
	Envelope
	Session      UserSession           `json:"session"`
	SessionToken string                `json:"session_token"`
	SessionJWT   string                `json:"session_jwt"`
	User         User                  `json:"user"`
	Verdict      *AuthorizationVerdict `json:"verdict,omitempty"`
}

// ConsumerSessionsAuthenticate checks a user session remotely (and extends it when
// SessionDurationMinutes is set). Never retried once written.
func (c *Client) ConsumerSessionsAuthenticate(ctx context.Context, p ConsumerSessionsAuthenticateParams) (*ConsumerSessionsAuthenticateResult, error) {
	var out ConsumerSessionsAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/sessions/authenticate",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerSessionsRevokeParams for POST /v1/sessions/revoke. Set exactly one field.
type ConsumerSessionsRevokeParams struct {
	SessionID    string `json:"session_id,omitempty"`
	SessionToken string `json:"session_token,omitempty"`
	SessionJWT   string `json:"session_jwt,omitempty"`
}

// ConsumerSessionsRevoke revokes one session. Not retried once written.
func (c *Client) ConsumerSessionsRevoke(ctx context.Context, p ConsumerSessionsRevokeParams) (*EnvelopeOnly, error) {
	var out EnvelopeOnly
	err := c.do(ctx, call{
		endpoint: "POST /v1/sessions/revoke",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerSessionsMigrateParams for POST /v1/sessions/migrate. SessionToken is the other
// identity provider's token, which Stytch presents to the project's UserInfo endpoint.
type ConsumerSessionsMigrateParams struct {
	SessionToken           string   `json:"session_token"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
	TelemetryID            string   `json:"telemetry_id,omitempty"`
}

// ConsumerSessionsMigrate exchanges another identity provider's session for a Stytch user (found
// by email or created) and, with SessionDurationMinutes, a session. Never retried once written.
func (c *Client) ConsumerSessionsMigrate(ctx context.Context, p ConsumerSessionsMigrateParams) (*ConsumerSessionResult, error) {
	var out ConsumerSessionResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/sessions/migrate",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// ConsumerSessionsExchangeAccessTokenParams for POST /v1/sessions/exchange_access_token.
// AccessToken is a Connected Apps access token with the full_access scope.
type ConsumerSessionsExchangeAccessTokenParams struct {
	AccessToken            string   `json:"access_token"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
	TelemetryID            string   `json:"telemetry_id,omitempty"`
}

// ConsumerSessionsExchangeAccessToken turns a Connected Apps access token back into a session.
// Never retried once written (a token is exchanged once).
func (c *Client) ConsumerSessionsExchangeAccessToken(ctx context.Context, p ConsumerSessionsExchangeAccessTokenParams) (*ConsumerSessionResult, error) {
	var out ConsumerSessionResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/sessions/exchange_access_token",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}
