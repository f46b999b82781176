package stytchclient

import (
	"context"
	"net/url"
	"strconv"
)

// SCIMConnection is an organization's SCIM connection without its bearer tokens.
type SCIMConnection struct {
	OrganizationID                   string                    `json:"organization_id"`
	ConnectionID                     string                    `json:"connection_id"`
	Status                           string                    `json:"status"`
	DisplayName                      string                    `json:"display_name"`
	IdentityProvider                 string                    `json:"identity_provider"`
	BaseURL                          string                    `json:"base_url"`
	BearerTokenLastFour              string                    `json:"bearer_token_last_four"`
	NextBearerTokenLastFour          string                    `json:"next_bearer_token_last_four"`
	BearerTokenExpiresAt             Timestamp                 `json:"bearer_token_expires_at"`
	NextBearerTokenExpiresAt         Timestamp                 `json:"next_bearer_token_expires_at"`
	SCIMGroupImplicitRoleAssignments []SCIMGroupRoleAssignment `json:"scim_group_implicit_role_assignments"`
}

// SCIMConnectionWithToken is returned once, by create: the only copy of the bearer token.
type SCIMConnectionWithToken struct {
	SCIMConnection
	BearerToken string `json:"bearer_token"`
}

// SCIMConnectionWithNextToken is returned once, by rotate/start: the only copy of the next token.
type SCIMConnectionWithNextToken struct {
	SCIMConnection
	NextBearerToken string `json:"next_bearer_token"`
}

// SCIMGroupRoleAssignment grants RoleID to the members of the SCIM group GroupID. GroupName is
// Stytch's, in responses.
type SCIMGroupRoleAssignment struct {
	RoleID    string `json:"role_id"`
	GroupID   string `json:"group_id"`
	GroupName string `json:"group_name,omitempty"`
}

// SCIMGroup is a group an identity provider pushed through a connection.
type SCIMGroup struct {
	GroupID        string `json:"group_id"`
	GroupName      string `json:"group_name"`
	OrganizationID string `json:"organization_id"`
	ConnectionID   string `json:"connection_id"`
}

// SCIMConnectionResult carries one connection.
type SCIMConnectionResult struct {
	Envelope
	Connection SCIMConnection `json:"connection"`
}

// SCIMConnectionCreateParams for POST /v1/b2b/scim/{organization_id}/connection.
type SCIMConnectionCreateParams struct {
	OrganizationID   string `json:"-"`
	DisplayName      string `json:"display_name,omitempty"`
	IdentityProvider string `json:"identity_provider,omitempty"`

	ActingMember MemberSession `json:"-"`
}

// SCIMConnectionCreateResult holds the only copy of the new connection's bearer token.
type SCIMConnectionCreateResult struct {
	Envelope
	Connection SCIMConnectionWithToken `json:"connection"`
}

// SCIMConnectionCreate creates the organization's SCIM connection. Never retried once written: a
// replay could not return the token, which Stytch shows only once.
func (c *Client) SCIMConnectionCreate(ctx context.Context, p SCIMConnectionCreateParams) (*SCIMConnectionCreateResult, error) {
	var out SCIMConnectionCreateResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/scim/{organization_id}/connection",
		params:   []string{p.OrganizationID},
		body:     p,
		member:   p.ActingMember,
	}, &out)
	return ptrOrNil(&out, err)
}

// SCIMConnectionGet fetches the organization's SCIM connection. Read-only: retried on transport
// failures and 5xx.
func (c *Client) SCIMConnectionGet(ctx context.Context, organizationID string, acting MemberSession) (*SCIMConnectionResult, error) {
	var out SCIMConnectionResult
	err := c.do(ctx, call{
		endpoint: "GET /v1/b2b/scim/{organization_id}/connection",
		params:   []string{organizationID},
		member:   acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// SCIMConnectionGroupsParams for GET /v1/b2b/scim/{organization_id}/connection/{connection_id}.
type SCIMConnectionGroupsParams struct {
	OrganizationID string
	ConnectionID   string
	Cursor         string
	Limit          int // 0: Stytch's default

	ActingMember MemberSession
}

// SCIMConnectionGroupsResult is a page of a connection's groups.
type SCIMConnectionGroupsResult struct {
	Envelope
	SCIMGroups []SCIMGroup `json:"scim_groups"`
	NextCursor string      `json:"next_cursor"`
}

// SCIMConnectionGroups lists a page of the connection's groups. Read-only.
func (c *Client) SCIMConnectionGroups(ctx context.Context, p SCIMConnectionGroupsParams) (*SCIMConnectionGroupsResult, error) {
	q := url.Values{}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	var out SCIMConnectionGroupsResult
	err := c.do(ctx, call{
		endpoint: "GET /v1/b2b/scim/{organization_id}/connection/{connection_id}",
		params:   []string{p.OrganizationID, p.ConnectionID},
		query:    q,
		member:   p.ActingMember,
	}, &out)
	return ptrOrNil(&out, err)
}

// SCIMConnectionUpdateParams for PUT /v1/b2b/scim/{organization_id}/connection/{connection_id}.
// Only set fields are sent: a nil pointer or slice leaves the field alone; an empty, non-nil
// slice clears the assignments.
type SCIMConnectionUpdateParams struct {
	OrganizationID string `json:"-"`
	ConnectionID   string `json:"-"`

	DisplayName                      *string                   `json:"display_name,omitempty"`
	IdentityProvider                 string                    `json:"identity_provider,omitempty"`
	SCIMGroupImplicitRoleAssignments []SCIMGroupRoleAssignment `json:"scim_group_implicit_role_assignments,omitzero"`

	ActingMember MemberSession `json:"-"`
}

// SCIMConnectionUpdate updates a connection. Not retried once written.
func (c *Client) SCIMConnectionUpdate(ctx context.Context, p SCIMConnectionUpdateParams) (*SCIMConnectionResult, error) {
	var out SCIMConnectionResult
	err := c.do(ctx, call{
		endpoint: "PUT /v1/b2b/scim/{organization_id}/connection/{connection_id}",
		params:   []string{p.OrganizationID, p.ConnectionID},
		body:     p,
		member:   p.ActingMember,
	}, &out)
	return ptrOrNil(&out, err)
}

// SCIMConnectionDeleteResult is the response of connection delete.
type SCIMConnectionDeleteResult struct {
	Envelope
	ConnectionID string `json:"connection_id"`
}

// SCIMConnectionDelete deletes a connection. Not retried once written.
func (c *Client) SCIMConnectionDelete(ctx context.Context, organizationID, connectionID string, acting MemberSession) (*SCIMConnectionDeleteResult, error) {
	var out SCIMConnectionDeleteResult
	err := c.do(ctx, call{
		endpoint: "DELETE /v1/b2b/scim/{organization_id}/connection/{connection_id}",
		params:   []string{organizationID, connectionID},
		member:   acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// SCIMTokenRotateStartResult holds the only copy of the next bearer token.
type SCIMTokenRotateStartResult struct {
	Envelope
	Connection SCIMConnectionWithNextToken `json:"connection"`
}

// SCIMTokenRotateStart starts a bearer token rotation: both tokens work until complete or
// cancel. Never retried once written.
func (c *Client) SCIMTokenRotateStart(ctx context.Context, organizationID, connectionID string, acting MemberSession) (*SCIMTokenRotateStartResult, error) {
	var out SCIMTokenRotateStartResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/scim/{organization_id}/connection/{connection_id}/rotate/start",
		params:   []string{organizationID, connectionID},
		member:   acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// SCIMTokenRotateComplete promotes the next token; the old one stops working.
func (c *Client) SCIMTokenRotateComplete(ctx context.Context, organizationID, connectionID string, acting MemberSession) (*SCIMConnectionResult, error) {
	var out SCIMConnectionResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/scim/{organization_id}/connection/{connection_id}/rotate/complete",
		params:   []string{organizationID, connectionID},
		member:   acting,
	}, &out)
	return ptrOrNil(&out, err)
}

// SCIMTokenRotateCancel discards the next token; the old one keeps working.
func (c *Client) SCIMTokenRotateCancel(ctx context.Context, organizationID, connectionID string, acting MemberSession) (*SCIMConnectionResult, error) {
	var out SCIMConnectionResult
	err := c.do(ctx, call{
		endpoint: "POST /v1/b2b/scim/{organization_id}/connection/{connection_id}/rotate/cancel",
		params:   []string{organizationID, connectionID},
		member:   acting,
	}, &out)
	return ptrOrNil(&out, err)
}
