package stytchclient_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// TestSCIMEndpoints walks a SCIM connection's life through the emulator over real HTTP, acting as
// an admin member where Stytch's RBAC applies, and checks that no token reaches a span.
func TestSCIMEndpoints(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	c := h.client
	org, err := h.emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Scim Co", Slug: uniqueSlug(t, "scim")})
	require.NoError(t, err)
	admin, err := h.emu.CreateMember(org.ID, stytchemu.MemberParams{Email: "admin@scim.test", Roles: []string{stytchemu.RoleAdmin}})
	require.NoError(t, err)
	ses, err := h.emu.CreateSession(org.ID, admin.ID, time.Hour)
	require.NoError(t, err)
	acting := sc.MemberSession{JWT: ses.JWT}

	cr, err := c.SCIMConnectionCreate(ctx, sc.SCIMConnectionCreateParams{OrganizationID: org.ID, DisplayName: "Okta", IdentityProvider: "okta", ActingMember: acting})
	require.NoError(t, err)
	token := cr.Connection.BearerToken
	id := cr.Connection.ConnectionID
	require.NotEmpty(t, token)
	assert.Equal(t, "okta", cr.Connection.IdentityProvider)

	got, err := c.SCIMConnectionGet(ctx, org.ID, acting)
	require.NoError(t, err)
	assert.Equal(t, id, got.Connection.ConnectionID)
	assert.Equal(t, token[len(token)-4:], got.Connection.BearerTokenLastFour)
	assert.True(t, got.Connection.BearerTokenExpiresAt.IsZero())

	for i := range 3 {
		_, err := h.emu.AddSCIMGroup(org.ID, fmt.Sprintf("Group %d", i))
		require.NoError(t, err)
	}
	page, err := c.SCIMConnectionGroups(ctx, sc.SCIMConnectionGroupsParams{OrganizationID: org.ID, ConnectionID: id, Limit: 2, ActingMember: acting})
	require.NoError(t, err)
	require.Len(t, page.SCIMGroups, 2)
	require.NotEmpty(t, page.NextCursor)
	rest, err := c.SCIMConnectionGroups(ctx, sc.SCIMConnectionGroupsParams{OrganizationID: org.ID, ConnectionID: id, Cursor: page.NextCursor, Limit: 2})
	require.NoError(t, err)
	require.Len(t, rest.SCIMGroups, 1)
	assert.Empty(t, rest.NextCursor)

	up, err := c.SCIMConnectionUpdate(ctx, sc.SCIMConnectionUpdateParams{
		OrganizationID: org.ID, ConnectionID: id, DisplayName: new("Okta prod"),
		SCIMGroupImplicitRoleAssignments: []sc.SCIMGroupRoleAssignment{{GroupID: page.SCIMGroups[0].GroupID, RoleID: stytchemu.RoleAdmin}},
		ActingMember:                     acting,
	})
	require.NoError(t, err)
	assert.Equal(t, "Okta prod", up.Connection.DisplayName)
	assert.Equal(t, "okta", up.Connection.IdentityProvider, "an unset provider is not sent")
	require.Len(t, up.Connection.SCIMGroupImplicitRoleAssignments, 1)
	assert.Equal(t, "Group 0", up.Connection.SCIMGroupImplicitRoleAssignments[0].GroupName)

	start, err := c.SCIMTokenRotateStart(ctx, org.ID, id, acting)
	require.NoError(t, err)
	next := start.Connection.NextBearerToken
	require.NotEmpty(t, next)
	done, err := c.SCIMTokenRotateComplete(ctx, org.ID, id, acting)
	require.NoError(t, err)
	assert.Equal(t, next[len(next)-4:], done.Connection.BearerTokenLastFour)
	assert.False(t, h.emu.SCIMBearerTokenValid(id, token))

	_, err = c.SCIMTokenRotateCancel(ctx, org.ID, id, acting)
	e, ok := sc.AsError(err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, "scim_token_rotation_not_started", e.ErrorType)

	del, err := c.SCIMConnectionDelete(ctx, org.ID, id, acting)
	require.NoError(t, err)
	assert.Equal(t, id, del.ConnectionID)
	_, err = c.SCIMConnectionGet(ctx, org.ID, sc.MemberSession{})
	assert.True(t, sc.IsNotFound(err), "got %v", err)

	for _, s := range h.spans.GetSpans() {
		for _, a := range s.Attributes {
			v := a.Value.String()
			assert.NotContains(t, v, token, "span %s attribute %s", s.Name, a.Key)
			assert.NotContains(t, v, next, "span %s attribute %s", s.Name, a.Key)
		}
	}
}
