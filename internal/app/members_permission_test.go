package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/gateway"
	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// membersEnv is authsvc in front of a project with the example policy (its custom role
// member_manager holds stytch.member create, search and delete), with organization Acme and another
// one, Other.
type membersEnv struct {
	env   *apptest.Env
	org   stytchemu.Organization
	other stytchemu.Organization
}

func newMembersEnv(t *testing.T) *membersEnv {
	t.Helper()
	emu := testkit.Emulator(t, stytchemu.WithRBACPolicy(rbac.Example()))
	env := apptest.Start(t, apptest.WithEmulator(emu))
	org, err := emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Acme", Slug: "acme-members"})
	require.NoError(t, err)
	other, err := emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Other", Slug: "other-members"})
	require.NoError(t, err)
	return &membersEnv{env: env, org: org, other: other}
}

// accessReason is the code and the ErrorInfo reason, in authsvc's domain, of a gRPC refusal.
func accessReason(t *testing.T, err error) (codes.Code, string) {
	t.Helper()
	st, ok := status.FromError(err)
	require.True(t, ok, "not a status: %v", err)
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.GetDomain() == rpcerr.Domain {
			return st.Code(), ei.GetReason()
		}
	}
	t.Fatalf("no ErrorInfo in authsvc's domain: %v", st)
	return 0, ""
}

// restAccessReason is the ErrorInfo reason, in authsvc's domain, of a REST refusal (403).
func restAccessReason(t *testing.T, r apptest.Response) string {
	t.Helper()
	require.Equal(t, http.StatusForbidden, r.Status, "body: %s", r.Body)
	var st struct {
		Details []struct {
			Type   string `json:"@type"`
			Reason string `json:"reason"`
			Domain string `json:"domain"`
		} `json:"details"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &st))
	for _, d := range st.Details {
		if strings.HasSuffix(d.Type, "google.rpc.ErrorInfo") && d.Domain == rpcerr.Domain {
			return d.Reason
		}
	}
	t.Fatalf("no ErrorInfo in authsvc's domain: %s", r.Body)
	return ""
}

// withCookie is a browser's same-origin request carrying a session cookie.
func withCookie(env *apptest.Env, name, value string) http.Header {
	return http.Header{"Cookie": {name + "=" + value}, "Origin": {env.BaseURL}}
}

func bearerCtx(t *testing.T, s stytchemu.Session) metadata.MD {
	t.Helper()
	return metadata.Pairs("authorization", "Bearer "+s.JWT)
}

// Issue 17's "permissions as RPC policy": a member whose role grants the stytch.member action
// administers the members of their own organization (gRPC, and REST with the browser's cookies);
// a stytch_member is refused 403 session_authorization_error; an admin of another organization is
// refused 403 session_authorization_tenancy_error by authsvc alone (no call to Stytch at all).
func TestMembersAdministeredByPermission(t *testing.T) {
	m := newMembersEnv(t)
	env := m.env
	members := b2bv1.NewMembersServiceClient(env.Conn)
	admin := memberSession(t, env, m.org.ID, "admin@acme.test", "stytch_admin")
	plain := memberSession(t, env, m.org.ID, "plain@acme.test")
	manager := memberSession(t, env, m.org.ID, "manager@acme.test", "member_manager")
	foreignAdmin := memberSession(t, env, m.other.ID, "admin@other.test", "stytch_admin")

	t.Run("gRPC: stytch_admin creates, searches and deletes in their organization", func(t *testing.T) {
		ctx := metadata.NewOutgoingContext(t.Context(), bearerCtx(t, admin))
		created, err := members.Create(ctx, &b2bv1.MembersServiceCreateRequest{OrganizationId: m.org.ID, EmailAddress: "new@acme.test"})
		require.NoError(t, err)
		id := created.GetMember().GetMemberId()
		require.NotEmpty(t, id)
		found, err := members.Search(ctx, &b2bv1.MembersServiceSearchRequest{OrganizationIds: []string{m.org.ID}})
		require.NoError(t, err)
		var ids []string
		for _, x := range found.GetMembers() {
			ids = append(ids, x.GetMemberId())
		}
		assert.Contains(t, ids, id)
		_, err = members.Delete(ctx, &b2bv1.MembersServiceDeleteRequest{OrganizationId: m.org.ID, MemberId: id})
		require.NoError(t, err)
		_, err = members.Reactivate(ctx, &b2bv1.MembersServiceReactivateRequest{OrganizationId: m.org.ID, MemberId: id})
		require.NoError(t, err)
	})

	t.Run("gRPC: a custom role of the policy granting the action", func(t *testing.T) {
		ctx := metadata.NewOutgoingContext(t.Context(), bearerCtx(t, manager))
		created, err := members.Create(ctx, &b2bv1.MembersServiceCreateRequest{OrganizationId: m.org.ID, EmailAddress: "hired@acme.test"})
		require.NoError(t, err)
		_, err = members.Search(ctx, &b2bv1.MembersServiceSearchRequest{OrganizationIds: []string{m.org.ID}})
		require.NoError(t, err)
		_, err = members.Delete(ctx, &b2bv1.MembersServiceDeleteRequest{OrganizationId: m.org.ID, MemberId: created.GetMember().GetMemberId()})
		require.NoError(t, err)
	})

	t.Run("gRPC: stytch_member is refused", func(t *testing.T) {
		before := env.StytchCalls("POST /v1/b2b/organizations/{organization_id}/members")
		ctx := metadata.NewOutgoingContext(t.Context(), bearerCtx(t, plain))
		_, err := members.Create(ctx, &b2bv1.MembersServiceCreateRequest{OrganizationId: m.org.ID, EmailAddress: "nope@acme.test"})
		code, reason := accessReason(t, err)
		assert.Equal(t, codes.PermissionDenied, code)
		assert.Equal(t, rbac.ReasonDenied, reason)
		_, err = members.Search(ctx, &b2bv1.MembersServiceSearchRequest{OrganizationIds: []string{m.org.ID}})
		_, reason = accessReason(t, err)
		assert.Equal(t, rbac.ReasonDenied, reason)
		assert.Equal(t, before, env.StytchCalls("POST /v1/b2b/organizations/{organization_id}/members"), "refused before Stytch")
	})

	t.Run("gRPC: an admin of another organization is refused locally", func(t *testing.T) {
		before := env.StytchCalls("*")
		ctx := metadata.NewOutgoingContext(t.Context(), bearerCtx(t, foreignAdmin))
		_, err := members.Create(ctx, &b2bv1.MembersServiceCreateRequest{OrganizationId: m.org.ID, EmailAddress: "intruder@acme.test"})
		code, reason := accessReason(t, err)
		assert.Equal(t, codes.PermissionDenied, code)
		assert.Equal(t, rbac.ReasonTenancy, reason)
		_, err = members.Search(ctx, &b2bv1.MembersServiceSearchRequest{OrganizationIds: []string{m.org.ID, m.other.ID}})
		_, reason = accessReason(t, err)
		assert.Equal(t, rbac.ReasonTenancy, reason)
		assert.Equal(t, before, env.StytchCalls("*"), "no call to Stytch at all")
	})

	t.Run("REST with cookies", func(t *testing.T) {
		path := "/v1/b2b/organizations/" + m.org.ID + "/members"
		body := func(email string) map[string]any { return map[string]any{"email_address": email} }

		// The JWT cookie (roles from its claims) and the opaque session cookie (roles from
		// Stytch's answer) both carry the admin's roles.
		r := env.RESTWithHeaders(t, http.MethodPost, path, body("rest@acme.test"), withCookie(env, gateway.SessionJWTCookie, admin.JWT))
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		id, _ := r.JSON(t)["member"].(map[string]any)["member_id"].(string)
		require.NotEmpty(t, id)
		r = env.RESTWithHeaders(t, http.MethodPost, "/v1/b2b/organizations/members/search", map[string]any{"organization_ids": []string{m.org.ID}}, withCookie(env, gateway.SessionTokenCookie, admin.Token))
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		r = env.RESTWithHeaders(t, http.MethodDelete, path+"/"+id, nil, withCookie(env, gateway.SessionJWTCookie, manager.JWT))
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)

		assert.Equal(t, rbac.ReasonDenied, restAccessReason(t, env.RESTWithHeaders(t, http.MethodPost, path, body("plain@acme.test"), withCookie(env, gateway.SessionJWTCookie, plain.JWT))))
		assert.Equal(t, rbac.ReasonDenied, restAccessReason(t, env.RESTWithHeaders(t, http.MethodPost, path, body("plain2@acme.test"), withCookie(env, gateway.SessionTokenCookie, plain.Token))))

		before := env.StytchCalls("*")
		assert.Equal(t, rbac.ReasonTenancy, restAccessReason(t, env.RESTWithHeaders(t, http.MethodPost, path, body("foreign@acme.test"), withCookie(env, gateway.SessionJWTCookie, foreignAdmin.JWT))))
		assert.Equal(t, before, env.StytchCalls("*"), "no call to Stytch at all")
	})

	assert.Equal(t, 1, env.StytchCalls(policyRoute), "the policy is fetched once and cached")
}
