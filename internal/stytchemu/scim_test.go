package stytchemu_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

func scimPath(orgID string) string { return "/v1/b2b/scim/" + orgID + "/connection" }

// createSCIM creates orgA's connection and returns the create response.
func (w *world) createSCIM(t *testing.T, body map[string]any) response {
	t.Helper()
	r := w.h.do(post(scimPath(w.orgA.ID), body))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	return r
}

// The whole life of a connection: the token shown once, reads with its last four, a rotation
// completed (old token stops working) and one cancelled (old token keeps working), delete.
func TestSCIMConnectionLifecycle(t *testing.T) {
	w := newWorld(t)
	cr := w.createSCIM(t, map[string]any{"display_name": "Okta", "identity_provider": "okta"})
	c := cr.obj("connection")
	id, _ := c["connection_id"].(string)
	token, _ := c["bearer_token"].(string)
	require.NotEmpty(t, token)
	assert.Regexp(t, `^scim-connection-test-[0-9a-f-]{36}$`, id)
	assert.Equal(t, w.orgA.ID, c["organization_id"])
	assert.Equal(t, "active", c["status"])
	assert.Equal(t, "okta", c["identity_provider"])
	assert.Contains(t, c["base_url"], "/v1/b2b/scim/"+id)
	assert.True(t, w.h.emu.SCIMBearerTokenValid(id, token))

	g := w.h.do(get(scimPath(w.orgA.ID)))
	require.Equal(t, http.StatusOK, g.status, "%s", g.raw)
	gc := g.obj("connection")
	assert.NotContains(t, gc, "bearer_token", "a read never carries the token")
	assert.NotContains(t, string(g.raw), token)
	assert.Equal(t, lastFour(token), gc["bearer_token_last_four"])
	assert.Empty(t, gc["next_bearer_token_last_four"])

	org := w.h.do(get(w.orgPath(w.orgA.ID)))
	require.Equal(t, http.StatusOK, org.status)
	assert.Equal(t, id, org.obj("organization")["scim_active_connection"].(map[string]any)["connection_id"])

	connPath := scimPath(w.orgA.ID) + "/" + id
	// Rotation completed: the next token is shown once; both work until complete; then only it.
	rs := w.h.do(post(connPath+"/rotate/start", map[string]any{}))
	require.Equal(t, http.StatusOK, rs.status, "%s", rs.raw)
	next, _ := rs.obj("connection")["next_bearer_token"].(string)
	require.NotEmpty(t, next)
	require.NotEqual(t, token, next)
	assert.True(t, w.h.emu.SCIMBearerTokenValid(id, token))
	assert.True(t, w.h.emu.SCIMBearerTokenValid(id, next))
	g = w.h.do(get(scimPath(w.orgA.ID)))
	assert.Equal(t, lastFour(next), g.obj("connection")["next_bearer_token_last_four"])
	assert.NotContains(t, string(g.raw), next)
	rc := w.h.do(post(connPath+"/rotate/complete", map[string]any{}))
	require.Equal(t, http.StatusOK, rc.status, "%s", rc.raw)
	assert.Equal(t, lastFour(next), rc.obj("connection")["bearer_token_last_four"])
	assert.Empty(t, rc.obj("connection")["next_bearer_token_last_four"])
	assert.False(t, w.h.emu.SCIMBearerTokenValid(id, token), "the old token is gone")
	assert.True(t, w.h.emu.SCIMBearerTokenValid(id, next))

	// Rotation cancelled: the pending token is discarded, the current one stays.
	rs = w.h.do(post(connPath+"/rotate/start", nil))
	require.Equal(t, http.StatusOK, rs.status, "%s", rs.raw)
	discarded, _ := rs.obj("connection")["next_bearer_token"].(string)
	cc := w.h.do(post(connPath+"/rotate/cancel", nil))
	require.Equal(t, http.StatusOK, cc.status, "%s", cc.raw)
	assert.Equal(t, lastFour(next), cc.obj("connection")["bearer_token_last_four"])
	assert.False(t, w.h.emu.SCIMBearerTokenValid(id, discarded))
	assert.True(t, w.h.emu.SCIMBearerTokenValid(id, next))

	// Nothing to complete or cancel any more.
	for _, op := range []string{"/rotate/complete", "/rotate/cancel"} {
		r := w.h.do(post(connPath+op, nil))
		assert.Equal(t, http.StatusBadRequest, r.status, op)
		assert.Equal(t, "scim_token_rotation_not_started", r.str("error_type"), op)
	}

	d := w.h.do(del(connPath))
	require.Equal(t, http.StatusOK, d.status, "%s", d.raw)
	assert.Equal(t, id, d.str("connection_id"))
	assert.False(t, w.h.emu.SCIMBearerTokenValid(id, next), "a deleted connection's token opens nothing")
	g = w.h.do(get(scimPath(w.orgA.ID)))
	assert.Equal(t, http.StatusNotFound, g.status)
	assert.Equal(t, "scim_connection_not_found", g.str("error_type"))
	org = w.h.do(get(w.orgPath(w.orgA.ID)))
	assert.NotContains(t, org.obj("organization"), "scim_active_connection")
}

// Update: display name, identity provider (Entra's base URL flag) and group role assignments,
// validated against the connection's groups and the RBAC policy.
func TestSCIMConnectionUpdate(t *testing.T) {
	w := newWorld(t)
	id := w.createSCIM(t, map[string]any{"display_name": "IdP"}).obj("connection")["connection_id"].(string)
	connPath := scimPath(w.orgA.ID) + "/" + id
	engineers, err := w.h.emu.AddSCIMGroup(w.orgA.ID, "Engineers")
	require.NoError(t, err)
	for i := range 3 {
		_, err := w.h.emu.AddSCIMGroup(w.orgA.ID, "Group "+string(rune('A'+i)))
		require.NoError(t, err)
	}

	u := w.h.do(put(connPath, map[string]any{
		"display_name": "Entra", "identity_provider": "microsoft-entra",
		"scim_group_implicit_role_assignments": []map[string]any{{"group_id": engineers, "role_id": stytchemu.RoleAdmin}},
	}))
	require.Equal(t, http.StatusOK, u.status, "%s", u.raw)
	c := u.obj("connection")
	assert.Equal(t, "Entra", c["display_name"])
	assert.Equal(t, "microsoft-entra", c["identity_provider"])
	assert.Contains(t, c["base_url"], "?aadOptscim062020")
	assert.Equal(t, []any{map[string]any{"group_id": engineers, "group_name": "Engineers", "role_id": stytchemu.RoleAdmin}}, c["scim_group_implicit_role_assignments"])

	// Unset fields stay; an empty list clears.
	u = w.h.do(put(connPath, map[string]any{"scim_group_implicit_role_assignments": []any{}}))
	require.Equal(t, http.StatusOK, u.status, "%s", u.raw)
	assert.Equal(t, "Entra", u.obj("connection")["display_name"])
	assert.Empty(t, u.obj("connection")["scim_group_implicit_role_assignments"])

	// Groups page with cursor and limit.
	p1 := w.h.do(get(connPath + "?limit=3"))
	require.Equal(t, http.StatusOK, p1.status, "%s", p1.raw)
	assert.Len(t, p1.body["scim_groups"], 3)
	require.NotEmpty(t, p1.str("next_cursor"))
	p2 := w.h.do(get(connPath + "?limit=3&cursor=" + p1.str("next_cursor")))
	require.Equal(t, http.StatusOK, p2.status, "%s", p2.raw)
	assert.Len(t, p2.body["scim_groups"], 1)
	assert.Empty(t, p2.str("next_cursor"))

	bad := []struct {
		name string
		body map[string]any
	}{
		{"unknown identity provider", map[string]any{"identity_provider": "okta2"}},
		{"unknown group", map[string]any{"scim_group_implicit_role_assignments": []map[string]any{{"group_id": "scim-group-test-nope", "role_id": stytchemu.RoleAdmin}}}},
		{"unknown role", map[string]any{"scim_group_implicit_role_assignments": []map[string]any{{"group_id": engineers, "role_id": "no_such_role"}}}},
		{"stytch_member", map[string]any{"scim_group_implicit_role_assignments": []map[string]any{{"group_id": engineers, "role_id": stytchemu.RoleMember}}}},
		{"missing role", map[string]any{"scim_group_implicit_role_assignments": []map[string]any{{"group_id": engineers}}}},
		{"repeated pair", map[string]any{"scim_group_implicit_role_assignments": []map[string]any{
			{"group_id": engineers, "role_id": stytchemu.RoleAdmin}, {"group_id": engineers, "role_id": stytchemu.RoleAdmin},
		}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := w.h.do(put(connPath, tc.body))
			assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.raw)
			assert.Equal(t, "bad_request", r.str("error_type"))
		})
	}
}

func TestSCIMEndpoints(t *testing.T) {
	runCases(t, []epCase{
		{
			name: "create: unknown identity provider", status: http.StatusBadRequest, errType: "bad_request",
			req: func(_ *testing.T, w *world) call {
				return post(scimPath(w.orgA.ID), map[string]any{"identity_provider": "azure"})
			},
		},
		{
			name: "create: a second connection", status: http.StatusBadRequest, errType: "scim_connection_already_exists",
			req: func(t *testing.T, w *world) call {
				w.createSCIM(t, map[string]any{})
				return post(scimPath(w.orgA.ID), map[string]any{})
			},
		},
		{
			name: "create: defaults to generic", status: http.StatusOK,
			req: func(_ *testing.T, w *world) call { return post(scimPath(w.orgA.ID), nil) },
			check: func(t *testing.T, _ *world, r response) {
				assert.Equal(t, "generic", r.obj("connection")["identity_provider"])
			},
		},
		{
			name: "create: unknown organization", status: http.StatusNotFound, errType: "organization_not_found",
			req: func(_ *testing.T, _ *world) call { return post(scimPath("organization-test-nope"), nil) },
		},
		{
			name: "create: by slug", status: http.StatusOK,
			req: func(_ *testing.T, _ *world) call { return post(scimPath("acme"), nil) },
		},
		{
			name: "get: no connection", status: http.StatusNotFound, errType: "scim_connection_not_found",
			req: func(_ *testing.T, w *world) call { return get(scimPath(w.orgA.ID)) },
		},
		{
			name: "update: another organization's connection ID", status: http.StatusNotFound, errType: "scim_connection_not_found",
			req: func(t *testing.T, w *world) call {
				id := w.createSCIM(t, nil).obj("connection")["connection_id"].(string)
				return put(scimPath(w.orgB.ID)+"/"+id, map[string]any{"display_name": "x"})
			},
		},
		{
			name: "groups: bad limit", status: http.StatusBadRequest,
			req: func(t *testing.T, w *world) call {
				id := w.createSCIM(t, nil).obj("connection")["connection_id"].(string)
				return get(scimPath(w.orgA.ID) + "/" + id + "?limit=1001")
			},
		},
		{
			name: "admin session may create", status: http.StatusOK,
			req: func(_ *testing.T, w *world) call { return asMember(post(scimPath(w.orgA.ID), nil), w.adminSes) },
		},
		{
			name: "member session may not create", status: http.StatusForbidden, errType: "session_authorization_error",
			req: func(_ *testing.T, w *world) call { return asMember(post(scimPath(w.orgA.ID), nil), w.userSes) },
		},
		{
			name: "member session may not read", status: http.StatusForbidden, errType: "session_authorization_error",
			req: func(t *testing.T, w *world) call {
				w.createSCIM(t, nil)
				return asMemberJWT(get(scimPath(w.orgA.ID)), w.userSes)
			},
		},
		{
			name: "admin of another organization", status: http.StatusForbidden, errType: "session_authorization_tenancy_error",
			req: func(_ *testing.T, w *world) call { return asMember(post(scimPath(w.orgB.ID), nil), w.adminSes) },
		},
		{
			name: "member session may not rotate", status: http.StatusForbidden, errType: "session_authorization_error",
			req: func(t *testing.T, w *world) call {
				id := w.createSCIM(t, nil).obj("connection")["connection_id"].(string)
				return asMember(post(scimPath(w.orgA.ID)+"/"+id+"/rotate/start", nil), w.userSes)
			},
		},
		{
			name: "wrong project secret", status: http.StatusUnauthorized, errType: "unauthorized_credentials",
			req: func(_ *testing.T, w *world) call { return withWrongAuth(get(scimPath(w.orgA.ID)), w) },
		},
	})
}

// Deleting the organization deletes its connection.
func TestSCIMConnectionGoesWithOrganization(t *testing.T) {
	w := newWorld(t)
	c := w.createSCIM(t, nil).obj("connection")
	require.Equal(t, http.StatusOK, w.h.do(del(w.orgPath(w.orgA.ID))).status)
	assert.False(t, w.h.emu.SCIMBearerTokenValid(c["connection_id"].(string), c["bearer_token"].(string)))
	_, err := w.h.emu.AddSCIMGroup(w.orgA.ID, "x")
	require.Error(t, err)
}
