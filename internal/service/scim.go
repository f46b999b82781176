package service

import (
	"context"
	"log/slog"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// SCIM implements b2bv1.SCIMServiceServer. Every call is made on behalf of the calling member when
// there is one (X-Stytch-Member-Session), so that Stytch's RBAC decides too; the access layer has
// already checked the member's organization and stytch.scim permission locally.
//
// The bearer token is a secret: it is copied from Stytch's create and rotate/start answers into
// the response (whose field is debug_redact, so interceptors and the idempotency store treat it
// as one) and goes nowhere else: no log line, span or error carries it.
type SCIM struct {
	b2bv1.UnimplementedSCIMServiceServer
	base
	stytch *stytchclient.Client
}

var _ b2bv1.SCIMServiceServer = (*SCIM)(nil)

// NewSCIM returns the SCIMService.
func NewSCIM(stytch *stytchclient.Client, log *slog.Logger) *SCIM {
	return &SCIM{base: newBase(log), stytch: stytch}
}

// CreateConnection creates the organization's SCIM connection and returns its bearer token, once.
func (s *SCIM) CreateConnection(ctx context.Context, req *b2bv1.SCIMServiceCreateConnectionRequest) (*b2bv1.SCIMServiceCreateConnectionResponse, error) {
	res, err := s.stytch.SCIMConnectionCreate(ctx, stytchclient.SCIMConnectionCreateParams{
		OrganizationID:   req.GetOrganizationId(),
		DisplayName:      req.GetDisplayName(),
		IdentityProvider: scimIdentityProviders.name(req.GetIdentityProvider()),
		ActingMember:     access.From(ctx).Acting(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SCIMServiceCreateConnectionResponse{
		Connection:  toSCIMConnection(&res.Connection.SCIMConnection),
		BearerToken: res.Connection.BearerToken,
	}, nil
}

// GetConnection returns the organization's SCIM connection without its tokens.
func (s *SCIM) GetConnection(ctx context.Context, req *b2bv1.SCIMServiceGetConnectionRequest) (*b2bv1.SCIMServiceGetConnectionResponse, error) {
	res, err := s.stytch.SCIMConnectionGet(ctx, req.GetOrganizationId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SCIMServiceGetConnectionResponse{Connection: toSCIMConnection(&res.Connection)}, nil
}

// GetConnectionGroups lists a page of the connection's SCIM groups.
func (s *SCIM) GetConnectionGroups(ctx context.Context, req *b2bv1.SCIMServiceGetConnectionGroupsRequest) (*b2bv1.SCIMServiceGetConnectionGroupsResponse, error) {
	res, err := s.stytch.SCIMConnectionGroups(ctx, stytchclient.SCIMConnectionGroupsParams{
		OrganizationID: req.GetOrganizationId(),
		ConnectionID:   req.GetConnectionId(),
		Cursor:         req.GetCursor(),
		Limit:          int(req.GetLimit()),
		ActingMember:   access.From(ctx).Acting(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &b2bv1.SCIMServiceGetConnectionGroupsResponse{
		ScimGroups: make([]*b2bv1.SCIMGroup, 0, len(res.SCIMGroups)),
		NextCursor: res.NextCursor,
	}
	for _, g := range res.SCIMGroups {
		out.ScimGroups = append(out.ScimGroups, &b2bv1.SCIMGroup{
			GroupId: g.GroupID, GroupName: g.GroupName, OrganizationId: g.OrganizationID, ConnectionId: g.ConnectionID,
		})
	}
	return out, nil
}

// UpdateConnection changes the fields that are set; a set, empty assignment list clears them.
func (s *SCIM) UpdateConnection(ctx context.Context, req *b2bv1.SCIMServiceUpdateConnectionRequest) (*b2bv1.SCIMServiceUpdateConnectionResponse, error) {
	p := stytchclient.SCIMConnectionUpdateParams{
		OrganizationID:   req.GetOrganizationId(),
		ConnectionID:     req.GetConnectionId(),
		DisplayName:      req.DisplayName,
		IdentityProvider: scimIdentityProviders.name(req.GetIdentityProvider()),
		ActingMember:     access.From(ctx).Acting(),
	}
	if w := req.GetScimGroupImplicitRoleAssignments(); w != nil {
		// Non-nil even when empty: "clear the list".
		p.SCIMGroupImplicitRoleAssignments = make([]stytchclient.SCIMGroupRoleAssignment, 0, len(w.GetAssignments()))
		for _, a := range w.GetAssignments() {
			p.SCIMGroupImplicitRoleAssignments = append(p.SCIMGroupImplicitRoleAssignments,
				stytchclient.SCIMGroupRoleAssignment{GroupID: a.GetGroupId(), RoleID: a.GetRoleId()})
		}
	}
	res, err := s.stytch.SCIMConnectionUpdate(ctx, p)
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SCIMServiceUpdateConnectionResponse{Connection: toSCIMConnection(&res.Connection)}, nil
}

// DeleteConnection deletes the connection.
func (s *SCIM) DeleteConnection(ctx context.Context, req *b2bv1.SCIMServiceDeleteConnectionRequest) (*b2bv1.SCIMServiceDeleteConnectionResponse, error) {
	res, err := s.stytch.SCIMConnectionDelete(ctx, req.GetOrganizationId(), req.GetConnectionId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SCIMServiceDeleteConnectionResponse{ConnectionId: res.ConnectionID}, nil
}

// RotateTokenStart starts a rotation and returns the next token, once.
func (s *SCIM) RotateTokenStart(ctx context.Context, req *b2bv1.SCIMServiceRotateTokenStartRequest) (*b2bv1.SCIMServiceRotateTokenStartResponse, error) {
	res, err := s.stytch.SCIMTokenRotateStart(ctx, req.GetOrganizationId(), req.GetConnectionId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	c := toSCIMConnection(&res.Connection.SCIMConnection)
	if c.NextBearerTokenLastFour == nil && len(res.Connection.NextBearerToken) >= 4 {
		// Stytch's rotate/start object carries the next token instead of its last four.
		last := res.Connection.NextBearerToken[len(res.Connection.NextBearerToken)-4:]
		c.NextBearerTokenLastFour = &last
	}
	return &b2bv1.SCIMServiceRotateTokenStartResponse{Connection: c, NextBearerToken: res.Connection.NextBearerToken}, nil
}

// RotateTokenComplete makes the next token the bearer token.
func (s *SCIM) RotateTokenComplete(ctx context.Context, req *b2bv1.SCIMServiceRotateTokenCompleteRequest) (*b2bv1.SCIMServiceRotateTokenCompleteResponse, error) {
	res, err := s.stytch.SCIMTokenRotateComplete(ctx, req.GetOrganizationId(), req.GetConnectionId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SCIMServiceRotateTokenCompleteResponse{Connection: toSCIMConnection(&res.Connection)}, nil
}

// RotateTokenCancel discards the next token.
func (s *SCIM) RotateTokenCancel(ctx context.Context, req *b2bv1.SCIMServiceRotateTokenCancelRequest) (*b2bv1.SCIMServiceRotateTokenCancelResponse, error) {
	res, err := s.stytch.SCIMTokenRotateCancel(ctx, req.GetOrganizationId(), req.GetConnectionId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.SCIMServiceRotateTokenCancelResponse{Connection: toSCIMConnection(&res.Connection)}, nil
}

func toSCIMConnection(c *stytchclient.SCIMConnection) *b2bv1.SCIMConnection {
	out := &b2bv1.SCIMConnection{
		OrganizationId:           c.OrganizationID,
		ConnectionId:             c.ConnectionID,
		Status:                   c.Status,
		DisplayName:              c.DisplayName,
		IdentityProvider:         scimIdentityProviders.value(c.IdentityProvider),
		BaseUrl:                  c.BaseURL,
		BearerTokenLastFour:      c.BearerTokenLastFour,
		BearerTokenExpiresAt:     ts(c.BearerTokenExpiresAt),
		NextBearerTokenExpiresAt: ts(c.NextBearerTokenExpiresAt),
	}
	if c.NextBearerTokenLastFour != "" {
		out.NextBearerTokenLastFour = &c.NextBearerTokenLastFour
	}
	for _, a := range c.SCIMGroupImplicitRoleAssignments {
		out.ScimGroupImplicitRoleAssignments = append(out.ScimGroupImplicitRoleAssignments,
			&b2bv1.SCIMGroupRoleAssignment{GroupId: a.GroupID, RoleId: a.RoleID, GroupName: a.GroupName})
	}
	return out
}
