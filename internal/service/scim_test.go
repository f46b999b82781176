package service_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const scimSvc = "/authsvc.b2b.v1.SCIMService/"

func scimPath(orgID string) string { return "/v1/b2b/scim/" + orgID + "/connection" }

// The whole life of a SCIM connection through each transport, administered by a stytch_admin
// member with their session: the token shown once at create, reads showing only its last four, a
// rotation completed (the old token stops working) and one cancelled (the old token keeps
// working), the groups paged, role assignments set, delete. No token reaches authsvc's log.
func TestSCIMConnectionLifecycle(t *testing.T) {
	e := startEnvNoLimits(t)
	var tokens []string
	for name, call := range orgsTransports(e) {
		t.Run(name, func(t *testing.T) {
			org := e.org(t, stytchemu.OrganizationParams{})
			admin := e.member(t, org.ID, stytchemu.MemberParams{Roles: []string{stytchemu.RoleAdmin}})
			bearer := e.session(t, org.ID, admin.ID).JWT
			base := scimPath(org.ID)

			cr := &b2bv1.SCIMServiceCreateConnectionResponse{}
			st := call(t, bearer, scimSvc+"CreateConnection", "POST", base, &b2bv1.SCIMServiceCreateConnectionRequest{
				OrganizationId: org.ID, DisplayName: "Okta", IdentityProvider: b2bv1.SCIMIdentityProvider_SCIM_IDENTITY_PROVIDER_OKTA,
			}, cr)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			token := cr.GetBearerToken()
			require.NotEmpty(t, token)
			c := cr.GetConnection()
			id := c.GetConnectionId()
			assert.Equal(t, org.ID, c.GetOrganizationId())
			assert.Equal(t, "active", c.GetStatus())
			assert.Equal(t, b2bv1.SCIMIdentityProvider_SCIM_IDENTITY_PROVIDER_OKTA, c.GetIdentityProvider())
			assert.NotEmpty(t, c.GetBaseUrl())
			assert.True(t, e.Emu.SCIMBearerTokenValid(id, token))
			tokens = append(tokens, token)

			get := func(t *testing.T) *b2bv1.SCIMConnection {
				t.Helper()
				r := &b2bv1.SCIMServiceGetConnectionResponse{}
				st := call(t, bearer, scimSvc+"GetConnection", "GET", base, &b2bv1.SCIMServiceGetConnectionRequest{OrganizationId: org.ID}, r)
				require.Equal(t, codes.OK, st.Code(), st.Message())
				return r.GetConnection()
			}
			g := get(t)
			assert.Equal(t, token[len(token)-4:], g.GetBearerTokenLastFour(), "a read shows the last four only")
			assert.Nil(t, g.NextBearerTokenLastFour)

			connPath := base + "/" + id
			ids := func() (string, string) { return org.ID, id }
			start := func(t *testing.T) string {
				t.Helper()
				o, cid := ids()
				r := &b2bv1.SCIMServiceRotateTokenStartResponse{}
				st := call(t, bearer, scimSvc+"RotateTokenStart", "POST", connPath+"/rotate/start", &b2bv1.SCIMServiceRotateTokenStartRequest{OrganizationId: o, ConnectionId: cid}, r)
				require.Equal(t, codes.OK, st.Code(), st.Message())
				next := r.GetNextBearerToken()
				require.NotEmpty(t, next)
				assert.Equal(t, next[len(next)-4:], r.GetConnection().GetNextBearerTokenLastFour())
				return next
			}

			// Rotation completed: both tokens work until complete, then only the new one.
			next := start(t)
			assert.Equal(t, next[len(next)-4:], get(t).GetNextBearerTokenLastFour())
			assert.True(t, e.Emu.SCIMBearerTokenValid(id, token))
			done := &b2bv1.SCIMServiceRotateTokenCompleteResponse{}
			st = call(t, bearer, scimSvc+"RotateTokenComplete", "POST", connPath+"/rotate/complete", &b2bv1.SCIMServiceRotateTokenCompleteRequest{OrganizationId: org.ID, ConnectionId: id}, done)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, next[len(next)-4:], done.GetConnection().GetBearerTokenLastFour())
			assert.False(t, e.Emu.SCIMBearerTokenValid(id, token), "the old token is gone")
			assert.True(t, e.Emu.SCIMBearerTokenValid(id, next))

			// Rotation cancelled: the old (now current) token stays, the pending one is discarded.
			discarded := start(t)
			cancelled := &b2bv1.SCIMServiceRotateTokenCancelResponse{}
			st = call(t, bearer, scimSvc+"RotateTokenCancel", "POST", connPath+"/rotate/cancel", &b2bv1.SCIMServiceRotateTokenCancelRequest{OrganizationId: org.ID, ConnectionId: id}, cancelled)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, next[len(next)-4:], cancelled.GetConnection().GetBearerTokenLastFour())
			assert.True(t, e.Emu.SCIMBearerTokenValid(id, next))
			assert.False(t, e.Emu.SCIMBearerTokenValid(id, discarded))
			tokens = append(tokens, next, discarded)

			// Nothing to cancel now: Stytch's 400, INVALID_ARGUMENT with its error type.
			st = call(t, bearer, scimSvc+"RotateTokenCancel", "POST", connPath+"/rotate/cancel", &b2bv1.SCIMServiceRotateTokenCancelRequest{OrganizationId: org.ID, ConnectionId: id}, &b2bv1.SCIMServiceRotateTokenCancelResponse{})
			assert.Equal(t, codes.InvalidArgument, st.Code())
			assert.Equal(t, "scim_token_rotation_not_started", errorInfo(st).GetReason())

			// Groups (pushed by the IdP), paged; then a role for one of them.
			var groups []string
			for _, n := range []string{"Engineering", "Finance", "Sales"} {
				gid, err := e.Emu.AddSCIMGroup(org.ID, n)
				require.NoError(t, err)
				groups = append(groups, gid)
			}
			page := &b2bv1.SCIMServiceGetConnectionGroupsResponse{}
			st = call(t, bearer, scimSvc+"GetConnectionGroups", "GET", connPath+"?limit=2", &b2bv1.SCIMServiceGetConnectionGroupsRequest{OrganizationId: org.ID, ConnectionId: id, Limit: 2}, page)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			require.Len(t, page.GetScimGroups(), 2)
			require.NotEmpty(t, page.GetNextCursor())
			rest := &b2bv1.SCIMServiceGetConnectionGroupsResponse{}
			st = call(t, bearer, scimSvc+"GetConnectionGroups", "GET", connPath+"?limit=2&cursor="+url.QueryEscape(page.GetNextCursor()),
				&b2bv1.SCIMServiceGetConnectionGroupsRequest{OrganizationId: org.ID, ConnectionId: id, Limit: 2, Cursor: page.GetNextCursor()}, rest)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			require.Len(t, rest.GetScimGroups(), 1)
			assert.Equal(t, "Sales", rest.GetScimGroups()[0].GetGroupName())
			assert.Empty(t, rest.GetNextCursor())

			up := &b2bv1.SCIMServiceUpdateConnectionResponse{}
			st = call(t, bearer, scimSvc+"UpdateConnection", "PUT", connPath, &b2bv1.SCIMServiceUpdateConnectionRequest{
				OrganizationId: org.ID, ConnectionId: id, DisplayName: proto.String("Entra"),
				IdentityProvider: b2bv1.SCIMIdentityProvider_SCIM_IDENTITY_PROVIDER_MICROSOFT_ENTRA,
				ScimGroupImplicitRoleAssignments: &b2bv1.SCIMGroupRoleAssignments{Assignments: []*b2bv1.SCIMGroupRoleAssignment{
					{GroupId: groups[0], RoleId: stytchemu.RoleAdmin},
				}},
			}, up)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, "Entra", up.GetConnection().GetDisplayName())
			assert.Equal(t, b2bv1.SCIMIdentityProvider_SCIM_IDENTITY_PROVIDER_MICROSOFT_ENTRA, up.GetConnection().GetIdentityProvider())
			require.Len(t, up.GetConnection().GetScimGroupImplicitRoleAssignments(), 1)
			assert.Equal(t, "Engineering", up.GetConnection().GetScimGroupImplicitRoleAssignments()[0].GetGroupName())

			// A role Stytch does not know: Stytch's 400 as INVALID_ARGUMENT.
			st = call(t, bearer, scimSvc+"UpdateConnection", "PUT", connPath, &b2bv1.SCIMServiceUpdateConnectionRequest{
				OrganizationId: org.ID, ConnectionId: id,
				ScimGroupImplicitRoleAssignments: &b2bv1.SCIMGroupRoleAssignments{Assignments: []*b2bv1.SCIMGroupRoleAssignment{
					{GroupId: groups[1], RoleId: "no_such_role"},
				}},
			}, &b2bv1.SCIMServiceUpdateConnectionResponse{})
			assert.Equal(t, codes.InvalidArgument, st.Code())

			// An empty, set list clears the assignments; the unset name stays.
			st = call(t, bearer, scimSvc+"UpdateConnection", "PUT", connPath, &b2bv1.SCIMServiceUpdateConnectionRequest{
				OrganizationId: org.ID, ConnectionId: id, ScimGroupImplicitRoleAssignments: &b2bv1.SCIMGroupRoleAssignments{},
			}, up)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Empty(t, up.GetConnection().GetScimGroupImplicitRoleAssignments())
			assert.Equal(t, "Entra", up.GetConnection().GetDisplayName())

			del := &b2bv1.SCIMServiceDeleteConnectionResponse{}
			st = call(t, bearer, scimSvc+"DeleteConnection", "DELETE", connPath, &b2bv1.SCIMServiceDeleteConnectionRequest{OrganizationId: org.ID, ConnectionId: id}, del)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, id, del.GetConnectionId())
			st = call(t, bearer, scimSvc+"GetConnection", "GET", base, &b2bv1.SCIMServiceGetConnectionRequest{OrganizationId: org.ID}, &b2bv1.SCIMServiceGetConnectionResponse{})
			assert.Equal(t, codes.NotFound, st.Code())
			assert.Equal(t, "scim_connection_not_found", errorInfo(st).GetReason())
		})
	}
	logs := e.App.Logs()
	require.NotEmpty(t, logs)
	for _, tok := range tokens {
		assert.NotContains(t, logs, tok, "a bearer token reached the log")
	}
}

// Who may administer: stytch_admin of the organization and services with write:scim /
// read:scim; a stytch_member is refused, and so is an admin of another organization, locally
// (Stytch is never asked).
func TestSCIMAccess(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	other := e.org(t, stytchemu.OrganizationParams{})
	adminJWT := e.session(t, org.ID, e.member(t, org.ID, stytchemu.MemberParams{Roles: []string{stytchemu.RoleAdmin}}).ID).JWT
	memberJWT := e.session(t, org.ID, e.member(t, org.ID, stytchemu.MemberParams{}).ID).JWT
	otherAdminJWT := e.session(t, other.ID, e.member(t, other.ID, stytchemu.MemberParams{Roles: []string{stytchemu.RoleAdmin}}).ID).JWT
	write := orgsToken(t, e, "write:scim")
	read := orgsToken(t, e, "read:scim")

	for name, call := range orgsTransports(e) {
		t.Run(name, func(t *testing.T) {
			create := func(bearer, orgID string) (*b2bv1.SCIMServiceCreateConnectionResponse, codes.Code, string) {
				r := &b2bv1.SCIMServiceCreateConnectionResponse{}
				st := call(t, bearer, scimSvc+"CreateConnection", "POST", scimPath(orgID), &b2bv1.SCIMServiceCreateConnectionRequest{OrganizationId: orgID}, r)
				return r, st.Code(), errorInfo(st).GetReason()
			}
			getAs := func(bearer string) codes.Code {
				return call(t, bearer, scimSvc+"GetConnection", "GET", scimPath(org.ID), &b2bv1.SCIMServiceGetConnectionRequest{OrganizationId: org.ID}, &b2bv1.SCIMServiceGetConnectionResponse{}).Code()
			}
			calls := e.Emu.Requests("POST /v1/b2b/scim/{organization_id}/connection")

			_, code, reason := create(memberJWT, org.ID)
			assert.Equal(t, codes.PermissionDenied, code, "stytch_member")
			assert.Equal(t, "session_authorization_error", reason)
			_, code, reason = create(otherAdminJWT, org.ID)
			assert.Equal(t, codes.PermissionDenied, code, "admin of another organization")
			assert.Equal(t, "session_authorization_tenancy_error", reason)
			_, code, _ = create(read, org.ID)
			assert.Equal(t, codes.PermissionDenied, code, "read:scim cannot create")
			_, code, _ = create("", org.ID)
			assert.Equal(t, codes.Unauthenticated, code)
			assert.Equal(t, calls, e.Emu.Requests("POST /v1/b2b/scim/{organization_id}/connection"), "refused locally")

			r, code, _ := create(adminJWT, org.ID)
			require.Equal(t, codes.OK, code)
			id := r.GetConnection().GetConnectionId()
			assert.Equal(t, codes.OK, getAs(adminJWT))
			assert.Equal(t, codes.OK, getAs(read))
			assert.Equal(t, codes.PermissionDenied, getAs(memberJWT))
			assert.Equal(t, codes.PermissionDenied, getAs(otherAdminJWT))

			// A second connection: Stytch's refusal.
			_, code, reason = create(write, org.ID)
			assert.Equal(t, codes.InvalidArgument, code)
			assert.Equal(t, "scim_connection_already_exists", reason)

			st := call(t, write, scimSvc+"DeleteConnection", "DELETE", scimPath(org.ID)+"/"+id, &b2bv1.SCIMServiceDeleteConnectionRequest{OrganizationId: org.ID, ConnectionId: id}, &b2bv1.SCIMServiceDeleteConnectionResponse{})
			require.Equal(t, codes.OK, st.Code(), st.Message())
		})
	}
}

// Bad input is INVALID_ARGUMENT naming the field, before Stytch is called.
func TestSCIMInvalidArgument(t *testing.T) {
	e := startEnvNoLimits(t)
	write := orgsToken(t, e, "write:scim", "read:scim")
	org := e.org(t, stytchemu.OrganizationParams{})
	conn := "scim-connection-test-00000000-0000-4000-8000-000000000000"
	cases := []struct {
		name, method, verb, path, field string
		req                             proto.Message
	}{
		{
			"organization_id with a slash", "CreateConnection", "POST", scimPath("a%2Fb"), "organization_id",
			&b2bv1.SCIMServiceCreateConnectionRequest{OrganizationId: "a/b"},
		},
		{
			"unknown identity provider", "CreateConnection", "POST", scimPath(org.ID), "identity_provider",
			&b2bv1.SCIMServiceCreateConnectionRequest{OrganizationId: org.ID, IdentityProvider: 99},
		},
		{
			"display name too long", "CreateConnection", "POST", scimPath(org.ID), "display_name",
			&b2bv1.SCIMServiceCreateConnectionRequest{OrganizationId: org.ID, DisplayName: strings.Repeat("x", 257)},
		},
		{
			"connection_id not a Stytch ID", "RotateTokenStart", "POST", scimPath(org.ID) + "/not-an-id/rotate/start", "connection_id",
			&b2bv1.SCIMServiceRotateTokenStartRequest{OrganizationId: org.ID, ConnectionId: "not-an-id"},
		},
		{
			"assignment without a role", "UpdateConnection", "PUT", scimPath(org.ID) + "/" + conn, "role_id",
			&b2bv1.SCIMServiceUpdateConnectionRequest{OrganizationId: org.ID, ConnectionId: conn, ScimGroupImplicitRoleAssignments: &b2bv1.SCIMGroupRoleAssignments{
				Assignments: []*b2bv1.SCIMGroupRoleAssignment{{GroupId: "g"}},
			}},
		},
		{
			"limit too large", "GetConnectionGroups", "GET", scimPath(org.ID) + "/" + conn + "?limit=1001", "limit",
			&b2bv1.SCIMServiceGetConnectionGroupsRequest{OrganizationId: org.ID, ConnectionId: conn, Limit: 1001},
		},
	}
	for name, call := range orgsTransports(e) {
		for _, tc := range cases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				before := e.Emu.Requests("* /v1/b2b/scim/*")
				resp := map[string]proto.Message{
					"CreateConnection":    &b2bv1.SCIMServiceCreateConnectionResponse{},
					"RotateTokenStart":    &b2bv1.SCIMServiceRotateTokenStartResponse{},
					"UpdateConnection":    &b2bv1.SCIMServiceUpdateConnectionResponse{},
					"GetConnectionGroups": &b2bv1.SCIMServiceGetConnectionGroupsResponse{},
				}[tc.method]
				st := call(t, write, scimSvc+tc.method, tc.verb, tc.path, tc.req, resp)
				require.Equal(t, codes.InvalidArgument, st.Code(), st.Message())
				assert.Contains(t, st.Message(), tc.field)
				assert.Equal(t, before, e.Emu.Requests("* /v1/b2b/scim/*"), "Stytch was not called")
			})
		}
	}
}
