package stytchclient

import (
	"context"
	"net/url"
)

// SessionsGetParams for GET /v1/b2b/sessions.
type SessionsGetParams struct {
	OrganizationID string
	MemberID       string
}

// SessionsGetResult lists a member's active sessions.
type SessionsGetResult struct {
	Envelope
	MemberSessions []MemberSessionInfo `json:"member_sessions"`
}

// SessionsGet lists a member's sessions. Read-only: retried on transport
// failures and 5xx.
func (c *Client) SessionsGet(ctx context.Context, p SessionsGetParams) (*SessionsGetResult, error) {
	var out SessionsGetResult
	err := c.do(ctx, call{
		endpoint: "GET /v1/b2b/sessions",
		query:    url.Values{"organization_id": {p.OrganizationID}, "member_id": {p.MemberID}},
	}, &out)
	return ptrOrNil(&out, err)
}

// SessionsAuthenticateParams for POST /v1/b2b/sessions/authenticate. Set
// exactly one of SessionToken and SessionJWT (both is Stytch's
// too_many_session_arguments).
type SessionsAuthenticateParams struct {
	SessionToken           string              `json:"session_token,omitempty"`
	SessionJWT             string              `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32               `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata            `json:"session_custom_claims,omitzero"`
	AuthorizationCheck     *AuthorizationCheck `json:"authorization_check,omitempty"`
}

// SessionsAuthenticateResult is the response of sessions/authenticate.
type SessionsAuthenticateResult struct {
	Envelope
	MemberSession MemberSessionInfo     `json:"member_session"`
	SessionToken  string                `json:"session_token"`
	SessionJWT    string                `json:"session_jwt"`
	Member        Member                `json:"member"`
	Organization  Organization          `json:"organization"`
	Verdict       *AuthorizationVerdict `json:"verdict,omitempty"`
}

// SessionsAuthenticate checks a session remotely (and extends it when
// SessionDurationMinutes is set). Never retried once written. Prefer
// internal/session's Checker, which verifies JWTs locally first.
func (c *Client) SessionsAuthenticate(ctx context.Context, p SessionsAuthenticateParams) (*SessionsAuthenticateResult, error) {
	var out SessionsAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/sessions/authenticate",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// SessionsRevokeParams for POST /v1/b2b/sessions/revoke. Set one of
// MemberSessionID, SessionToken, SessionJWT, MemberID (all sessions).
type SessionsRevokeParams struct {
	MemberSessionID string        `json:"member_session_id,omitempty"`
	SessionToken    string        `json:"session_token,omitempty"`
	SessionJWT      string        `json:"session_jwt,omitempty"`
	MemberID        string        `json:"member_id,omitempty"`
	ActingMember    MemberSession `json:"-"`
}

// SessionsRevoke revokes sessions. Not retried once written.
func (c *Client) SessionsRevoke(ctx context.Context, p SessionsRevokeParams) (*EnvelopeOnly, error) {
	var out EnvelopeOnly
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/sessions/revoke",
		body:     p,
		member:   p.ActingMember,
	}, &out)
	return ptrOrNil(&out, err)
}

// SessionsExchangeParams for POST /v1/b2b/sessions/exchange.
type SessionsExchangeParams struct {
	OrganizationID         string   `json:"organization_id"`
	SessionToken           string   `json:"session_token,omitempty"`
	SessionJWT             string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
	Locale                 string   `json:"locale,omitempty"`
	TelemetryID            string   `json:"telemetry_id,omitempty"`
}

// SessionsExchange moves a session into another organization. Never retried once written.
func (c *Client) SessionsExchange(ctx context.Context, p SessionsExchangeParams) (*B2BAuthenticateResult, error) {
	var out B2BAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/sessions/exchange",
		body:     p,
	}, &out)
	return ptrOrNil(&out, err)
}

// JWKSResult is the project's JSON Web Key Set.
type JWKSResult struct {
	Envelope
	Keys []JWK `json:"keys"`
}

// GetJWKS fetches and decodes the JWKS of the configured project: GET
// /v1/b2b/sessions/jwks/{project_id} for a B2B project, GET
// /v1/sessions/jwks/{project_id} for a consumer one (Config.ProjectType).
// Read-only: retried on transport failures and 5xx.
func (c *Client) GetJWKS(ctx context.Context) (*JWKSResult, error) {
	var out JWKSResult
	err := c.do(ctx, c.jwksCall(), &out)
	return ptrOrNil(&out, err)
}

// FetchJWKS returns the raw JWKS JSON ({"keys": [...], ...}) of the configured
// project, from the endpoint of its type (see GetJWKS). Its signature fits the
// verify package's key-cache fetcher (func(context.Context) ([]byte, error));
// the body is returned as received so a JWK library parses exactly what Stytch
// sent. A consumer client's FetchJWKS is how consumer session JWTs get their
// keys, exactly as a B2B client's is for member session JWTs.
func (c *Client) FetchJWKS(ctx context.Context) ([]byte, error) {
	var raw []byte
	if err := c.do(ctx, c.jwksCall(), &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// FetchConsumerJWKS returns the raw consumer JWKS JSON of the configured project
// (GET /v1/sessions/jwks/{project_id}) whatever Config.ProjectType says. On a
// consumer client it is FetchJWKS; prefer FetchJWKS, which follows the project type.
func (c *Client) FetchConsumerJWKS(ctx context.Context) ([]byte, error) {
	var raw []byte
	if err := c.do(ctx, consumerJWKSCall(c.projectID), &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

func (c *Client) jwksCall() call {
	if c.projectType == ProjectConsumer {
		return consumerJWKSCall(c.projectID)
	}
	return call{
		endpoint: "GET /v1/b2b/sessions/jwks/{project_id}",
		params:   []string{c.projectID},
	}
}

func consumerJWKSCall(projectID string) call {
	return call{
		endpoint: "GET /v1/sessions/jwks/{project_id}",
		params:   []string{projectID},
	}
}

// SessionsAttestParams for POST /v1/b2b/sessions/attest.
type SessionsAttestParams struct {
	ProfileID              string   `json:"profile_id"`
	Token                  string   `json:"token"`
	OrganizationID         string   `json:"organization_id,omitempty"`
	SessionToken           string   `json:"session_token,omitempty"`
	SessionJWT             string   `json:"session_jwt,omitempty"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
	TelemetryID            string   `json:"telemetry_id,omitempty"`
}

// SessionsAttest exchanges a trusted auth token for a session. Never retried once written: a
// trusted token attests once.
func (c *Client) SessionsAttest(ctx context.Context, p SessionsAttestParams) (*B2BAuthenticateResult, error) {
	var out B2BAuthenticateResult
	err := c.do(ctx, call{endpoint: "POST /v1/b2b/sessions/attest", body: p}, &out)
	return ptrOrNil(&out, err)
}

// SessionsMigrateParams for POST /v1/b2b/sessions/migrate.
type SessionsMigrateParams struct {
	SessionToken           string   `json:"session_token"`
	OrganizationID         string   `json:"organization_id"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
}

// SessionsMigrate imports a session from the project's external OIDC provider (Stytch calls its
// UserInfo endpoint). Never retried once written: it creates a session.
func (c *Client) SessionsMigrate(ctx context.Context, p SessionsMigrateParams) (*B2BAuthenticateResult, error) {
	var out B2BAuthenticateResult
	err := c.do(ctx, call{endpoint: "POST /v1/b2b/sessions/migrate", body: p}, &out)
	return ptrOrNil(&out, err)
}

// SessionsExchangeAccessTokenParams for POST /v1/b2b/sessions/exchange_access_token. AccessToken is
// a Connected Apps access token with the full_access scope.
type SessionsExchangeAccessTokenParams struct {
	AccessToken            string   `json:"access_token"`
	SessionDurationMinutes int32    `json:"session_duration_minutes,omitempty"`
	SessionCustomClaims    Metadata `json:"session_custom_claims,omitzero"`
	TelemetryID            string   `json:"telemetry_id,omitempty"`
}

// SessionsExchangeAccessToken turns a Connected Apps access token back into a member session. Never
// retried once written: a token is exchanged once.
func (c *Client) SessionsExchangeAccessToken(ctx context.Context, p SessionsExchangeAccessTokenParams) (*B2BAuthenticateResult, error) {
	var out B2BAuthenticateResult
	err := c.do(ctx, call{endpoint: "POST /v1/b2b/sessions/exchange_access_token", body: p}, &out)
	return ptrOrNil(&out, err)
}

// ImpersonationAuthenticate redeems a member impersonation token (POST
// /v1/b2b/impersonation/authenticate). Never retried once written: the token is single-use.
func (c *Client) ImpersonationAuthenticate(ctx context.Context, impersonationToken string) (*B2BAuthenticateResult, error) {
	var out B2BAuthenticateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/impersonation/authenticate",
		body:     map[string]string{"impersonation_token": impersonationToken},
	}, &out)
	return ptrOrNil(&out, err)
}
