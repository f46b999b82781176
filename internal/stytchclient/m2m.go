package stytchclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// M2MClient is an M2M client without secrets.
type M2MClient struct {
	ClientID                 string   `json:"client_id"`
	ClientName               string   `json:"client_name"`
	ClientDescription        string   `json:"client_description"`
	Status                   string   `json:"status"` // active, inactive
	Scopes                   []string `json:"scopes"`
	ClientSecretLastFour     string   `json:"client_secret_last_four"`
	TrustedMetadata          Metadata `json:"trusted_metadata,omitempty"`
	NextClientSecretLastFour string   `json:"next_client_secret_last_four,omitempty"`
}

// M2MClientWithClientSecret is returned once, by create.
type M2MClientWithClientSecret struct {
	M2MClient
	ClientSecret string `json:"client_secret"`
}

// M2MClientWithNextClientSecret is returned once, by rotate/start.
type M2MClientWithNextClientSecret struct {
	M2MClient
	NextClientSecret string `json:"next_client_secret"`
}

// M2MClientResult carries one M2M client.
type M2MClientResult struct {
	Envelope
	M2MClient M2MClient `json:"m2m_client"`
}

// M2MClientCreateParams for POST /v1/m2m/clients.
type M2MClientCreateParams struct {
	Scopes            []string `json:"scopes"`
	ClientID          string   `json:"client_id,omitempty"`
	ClientSecret      string   `json:"client_secret,omitempty"`
	ClientName        string   `json:"client_name,omitempty"`
	ClientDescription string   `json:"client_description,omitempty"`
	TrustedMetadata   Metadata `json:"trusted_metadata,omitzero"`
}

// M2MClientCreateResult holds the only copy of the new client's secret.
type M2MClientCreateResult struct {
	Envelope
	M2MClient M2MClientWithClientSecret `json:"m2m_client"`
}

// M2MClientCreate creates an M2M client. Never retried once written: a
// replay could create a second client whose secret nobody saw.
func (c *Client) M2MClientCreate(ctx context.Context, p M2MClientCreateParams) (*M2MClientCreateResult, error) {
	if p.Scopes == nil {
		p.Scopes = []string{} // required by Stytch, even when empty
	}
	var out M2MClientCreateResult
	err := c.do(ctx, call{endpoint: "POST /v1/m2m/clients", body: p}, &out)
	return ptrOrNil(&out, err)
}

// M2MClientGet fetches an M2M client. Read-only: retried on transport failures and 5xx.
func (c *Client) M2MClientGet(ctx context.Context, clientID string) (*M2MClientResult, error) {
	var out M2MClientResult
	err := c.do(ctx, call{endpoint: "GET /v1/m2m/clients/{client_id}", params: []string{clientID}}, &out)
	return ptrOrNil(&out, err)
}

// M2MClientUpdateParams for PUT /v1/m2m/clients/{client_id}. Only set
// fields are sent; an empty non-nil Scopes removes every scope.
type M2MClientUpdateParams struct {
	ClientID          string   `json:"-"`
	ClientName        *string  `json:"client_name,omitempty"`
	ClientDescription *string  `json:"client_description,omitempty"`
	Status            *string  `json:"status,omitempty"` // active, inactive
	Scopes            []string `json:"scopes,omitzero"`
	TrustedMetadata   Metadata `json:"trusted_metadata,omitzero"`
}

// M2MClientUpdate updates an M2M client. Deactivating does not invalidate
// tokens already issued. Not retried once written.
func (c *Client) M2MClientUpdate(ctx context.Context, p M2MClientUpdateParams) (*M2MClientResult, error) {
	var out M2MClientResult
	err := c.do(ctx, call{endpoint: "PUT /v1/m2m/clients/{client_id}", params: []string{p.ClientID}, body: p}, &out)
	return ptrOrNil(&out, err)
}

// M2MClientDeleteResult is the response of M2M client delete.
type M2MClientDeleteResult struct {
	Envelope
	ClientID string `json:"client_id"`
}

// M2MClientDelete deletes an M2M client. Not retried once written.
func (c *Client) M2MClientDelete(ctx context.Context, clientID string) (*M2MClientDeleteResult, error) {
	var out M2MClientDeleteResult
	err := c.do(ctx, call{endpoint: "DELETE /v1/m2m/clients/{client_id}", params: []string{clientID}}, &out)
	return ptrOrNil(&out, err)
}

// M2MClientSearchResult is a page of M2M clients.
type M2MClientSearchResult struct {
	Envelope
	M2MClients      []M2MClient     `json:"m2m_clients"`
	ResultsMetadata ResultsMetadata `json:"results_metadata"`
}

// M2MClientSearch searches M2M clients. A POST that changes nothing, so it
// is retried like a GET.
func (c *Client) M2MClientSearch(ctx context.Context, p SearchParams) (*M2MClientSearchResult, error) {
	var out M2MClientSearchResult
	err := c.do(ctx, call{endpoint: "POST /v1/m2m/clients/search", body: p, readOnly: true}, &out)
	return ptrOrNil(&out, err)
}

// M2MSecretRotateStartResult holds the only copy of the next secret.
type M2MSecretRotateStartResult struct {
	Envelope
	M2MClient M2MClientWithNextClientSecret `json:"m2m_client"`
}

// M2MSecretRotateStart starts a secret rotation: both secrets are valid
// until M2MSecretRotate or M2MSecretRotateCancel. Never retried once written.
func (c *Client) M2MSecretRotateStart(ctx context.Context, clientID string) (*M2MSecretRotateStartResult, error) {
	var out M2MSecretRotateStartResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/m2m/clients/{client_id}/secrets/rotate/start",
		params:   []string{clientID},
	}, &out)
	return ptrOrNil(&out, err)
}

// M2MSecretRotate promotes the next secret; the old one stops working.
func (c *Client) M2MSecretRotate(ctx context.Context, clientID string) (*M2MClientResult, error) {
	var out M2MClientResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/m2m/clients/{client_id}/secrets/rotate",
		params:   []string{clientID},
	}, &out)
	return ptrOrNil(&out, err)
}

// M2MSecretRotateCancel discards the next secret.
func (c *Client) M2MSecretRotateCancel(ctx context.Context, clientID string) (*M2MClientResult, error) {
	var out M2MClientResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/m2m/clients/{client_id}/secrets/rotate/cancel",
		params:   []string{clientID},
	}, &out)
	return ptrOrNil(&out, err)
}

// M2MTokenParams requests an access token with the client-credentials grant.
// Nil or empty Scopes asks for all of the client's scopes.
type M2MTokenParams struct {
	ClientID     string
	ClientSecret string
	Scopes       []string
}

// M2MToken is an issued access token.
type M2MToken struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"` // seconds
	// Scope echoes the granted scopes when the server sends it.
	Scope string `json:"scope,omitempty"`
	// IssuedAt is this client's clock when the response arrived; with
	// ExpiresIn it gives Expiry. Not part of the wire format.
	IssuedAt time.Time `json:"-"`
}

// Expiry is when the token stops being valid, by this process's clock.
func (t *M2MToken) Expiry() time.Time {
	return t.IssuedAt.Add(time.Duration(t.ExpiresIn) * time.Second)
}

// M2MTokenRaw calls POST /v1/public/{project_id}/oauth2/token once, form
// encoded, with no project Basic auth. Errors come in OAuth2 shape and are
// returned as *Error with ErrorType = the OAuth2 "error" (e.g.
// invalid_client). Never retried once written. Most callers want a
// TokenSource, which caches.
func (c *Client) M2MTokenRaw(ctx context.Context, p M2MTokenParams) (*M2MToken, error) {
	if p.ClientID == "" || p.ClientSecret == "" {
		return nil, errors.New("stytchclient: M2M token needs ClientID and ClientSecret")
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {p.ClientID},
		"client_secret": {p.ClientSecret},
	}
	if len(p.Scopes) > 0 {
		form.Set("scope", strings.Join(p.Scopes, " "))
	}
	var out M2MToken
	err := c.do(ctx, call{
		endpoint: "POST /v1/public/{project_id}/oauth2/token",
		params:   []string{c.projectID},
		form:     form,
		noAuth:   true,
	}, &out)
	if err != nil {
		return nil, err
	}
	if out.AccessToken == "" || out.ExpiresIn <= 0 {
		return nil, fmt.Errorf("stytch: POST /v1/public/{project_id}/oauth2/token: response without access_token or expires_in")
	}
	out.IssuedAt = time.Now()
	return &out, nil
}
