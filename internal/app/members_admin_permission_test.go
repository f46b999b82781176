package app_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/gateway"
	"github.com/authsvc/authsvc/internal/rbac"
)

// Issue 17's member administration additions by permission: stytch_admin (every action on
// stytch.member and stytch.organization) starts an email update, deletes a TOTP registration and
// external IDs, and unlinks retired emails in their organization, over gRPC and over REST with the
// browser's cookies; member_manager (stytch.member create, search, delete) and a plain
// stytch_member are refused 403 session_authorization_error; an admin of another organization is
// refused 403 session_authorization_tenancy_error without any call to Stytch. OidcProviders admits
// no member at all.
func TestMemberAdministrationAdditionsByPermission(t *testing.T) {
	m := newMembersEnv(t)
	env := m.env
	members := b2bv1.NewMembersServiceClient(env.Conn)
	orgs := b2bv1.NewOrganizationsServiceClient(env.Conn)
	admin := memberSession(t, env, m.org.ID, "admin@acme.test", "stytch_admin")
	plain := memberSession(t, env, m.org.ID, "plain@acme.test")
	manager := memberSession(t, env, m.org.ID, "manager@acme.test", "member_manager")
	foreignAdmin := memberSession(t, env, m.other.ID, "admin@other.test", "stytch_admin")
	target := memberSession(t, env, m.org.ID, "target@acme.test")

	t.Run("gRPC: stytch_admin administers their organization", func(t *testing.T) {
		ctx := metadata.NewOutgoingContext(t.Context(), bearerCtx(t, admin))
		started, err := members.StartEmailUpdate(ctx, &b2bv1.MembersServiceStartEmailUpdateRequest{OrganizationId: m.org.ID, MemberId: target.MemberID, EmailAddress: "moved@acme.test"})
		require.NoError(t, err)
		assert.Equal(t, "target@acme.test", started.GetMember().GetEmailAddress())
		_, ok := env.Emu.LastMessage("moved@acme.test")
		assert.True(t, ok, "the link went out")
		_, err = members.DeleteExternalId(ctx, &b2bv1.MembersServiceDeleteExternalIdRequest{OrganizationId: m.org.ID, MemberId: target.MemberID})
		require.NoError(t, err)
		_, err = orgs.DeleteExternalId(ctx, &b2bv1.OrganizationsServiceDeleteExternalIdRequest{OrganizationId: m.org.ID})
		require.NoError(t, err)
		// Stytch answers for the member's state (no TOTP, no such retired email): the permission
		// let the call through to it.
		_, err = members.DeleteTotp(ctx, &b2bv1.MembersServiceDeleteTotpRequest{OrganizationId: m.org.ID, MemberId: target.MemberID})
		assert.Equal(t, codes.NotFound, status.Code(err))
		_, err = members.UnlinkRetiredEmail(ctx, &b2bv1.MembersServiceUnlinkRetiredEmailRequest{OrganizationId: m.org.ID, MemberId: target.MemberID, EmailAddress: "gone@acme.test"})
		assert.Equal(t, codes.NotFound, status.Code(err))
		// Tokens of the member's identity provider never reach a member session, not even an admin's.
		_, err = members.OidcProviders(ctx, &b2bv1.MembersServiceOidcProvidersRequest{OrganizationId: m.org.ID, MemberId: target.MemberID})
		assert.Equal(t, codes.PermissionDenied, status.Code(err))
	})

	t.Run("gRPC: roles without the action are refused before Stytch", func(t *testing.T) {
		before := env.StytchCalls("*")
		for _, s := range []struct {
			name string
			ctx  metadata.MD
		}{{"stytch_member", bearerCtx(t, plain)}, {"member_manager", bearerCtx(t, manager)}} {
			ctx := metadata.NewOutgoingContext(t.Context(), s.ctx)
			_, err := members.StartEmailUpdate(ctx, &b2bv1.MembersServiceStartEmailUpdateRequest{OrganizationId: m.org.ID, MemberId: target.MemberID, EmailAddress: "nope@acme.test"})
			code, reason := accessReason(t, err)
			assert.Equal(t, codes.PermissionDenied, code, s.name)
			assert.Equal(t, rbac.ReasonDenied, reason, s.name)
			_, err = members.DeleteTotp(ctx, &b2bv1.MembersServiceDeleteTotpRequest{OrganizationId: m.org.ID, MemberId: target.MemberID})
			_, reason = accessReason(t, err)
			assert.Equal(t, rbac.ReasonDenied, reason, s.name)
			_, err = members.DeleteExternalId(ctx, &b2bv1.MembersServiceDeleteExternalIdRequest{OrganizationId: m.org.ID, MemberId: target.MemberID})
			_, reason = accessReason(t, err)
			assert.Equal(t, rbac.ReasonDenied, reason, s.name)
			_, err = members.UnlinkRetiredEmail(ctx, &b2bv1.MembersServiceUnlinkRetiredEmailRequest{OrganizationId: m.org.ID, MemberId: target.MemberID, EmailAddress: "old@acme.test"})
			_, reason = accessReason(t, err)
			assert.Equal(t, rbac.ReasonDenied, reason, s.name)
			_, err = orgs.DeleteExternalId(ctx, &b2bv1.OrganizationsServiceDeleteExternalIdRequest{OrganizationId: m.org.ID})
			_, reason = accessReason(t, err)
			assert.Equal(t, rbac.ReasonDenied, reason, s.name)
		}
		assert.Equal(t, before, env.StytchCalls("*"), "no call to Stytch")
	})

	t.Run("gRPC: an admin of another organization is refused locally", func(t *testing.T) {
		before := env.StytchCalls("*")
		ctx := metadata.NewOutgoingContext(t.Context(), bearerCtx(t, foreignAdmin))
		_, err := members.StartEmailUpdate(ctx, &b2bv1.MembersServiceStartEmailUpdateRequest{OrganizationId: m.org.ID, MemberId: target.MemberID, EmailAddress: "hijack@other.test"})
		code, reason := accessReason(t, err)
		assert.Equal(t, codes.PermissionDenied, code)
		assert.Equal(t, rbac.ReasonTenancy, reason)
		_, err = members.DeleteExternalId(ctx, &b2bv1.MembersServiceDeleteExternalIdRequest{OrganizationId: m.org.ID, MemberId: target.MemberID})
		_, reason = accessReason(t, err)
		assert.Equal(t, rbac.ReasonTenancy, reason)
		_, err = orgs.DeleteExternalId(ctx, &b2bv1.OrganizationsServiceDeleteExternalIdRequest{OrganizationId: m.org.ID})
		_, reason = accessReason(t, err)
		assert.Equal(t, rbac.ReasonTenancy, reason)
		assert.Equal(t, before, env.StytchCalls("*"), "no call to Stytch at all")
	})

	t.Run("REST with cookies", func(t *testing.T) {
		path := "/v1/b2b/organizations/" + m.org.ID + "/members/" + target.MemberID
		body := map[string]any{"email_address": "rest-moved@acme.test"}
		r := env.RESTWithHeaders(t, http.MethodPost, path+"/start_email_update", body, withCookie(env, gateway.SessionJWTCookie, admin.JWT))
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		r = env.RESTWithHeaders(t, http.MethodDelete, path+"/external_id", nil, withCookie(env, gateway.SessionTokenCookie, admin.Token))
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)

		assert.Equal(t, rbac.ReasonDenied, restAccessReason(t, env.RESTWithHeaders(t, http.MethodPost, path+"/start_email_update", map[string]any{"email_address": "p@acme.test"}, withCookie(env, gateway.SessionJWTCookie, plain.JWT))))
		assert.Equal(t, rbac.ReasonDenied, restAccessReason(t, env.RESTWithHeaders(t, http.MethodDelete, path+"/totp", nil, withCookie(env, gateway.SessionTokenCookie, plain.Token))))
		assert.Equal(t, rbac.ReasonDenied, restAccessReason(t, env.RESTWithHeaders(t, http.MethodPost, path+"/unlink_retired_email", map[string]any{"email_address": "old@acme.test"}, withCookie(env, gateway.SessionJWTCookie, manager.JWT))))

		before := env.StytchCalls("*")
		assert.Equal(t, rbac.ReasonTenancy, restAccessReason(t, env.RESTWithHeaders(t, http.MethodDelete, "/v1/b2b/organizations/"+m.org.ID+"/external_id", nil, withCookie(env, gateway.SessionJWTCookie, foreignAdmin.JWT))))
		assert.Equal(t, before, env.StytchCalls("*"), "no call to Stytch at all")
	})
}
