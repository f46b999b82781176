package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// The member administration additions of issue 17, each over gRPC and REST as a back-office
// service: an email update that lands when the member follows the link, then the unlinking of the
// retired address; TOTP and external ID deletes; the OIDC provider tokens with and without refresh
// tokens; the organization's external ID delete.
func TestMemberAdministrationAdditions(t *testing.T) {
	e := startEnvNoLimits(t)
	orgsAdmin := orgsToken(t, e, "write:organizations")
	for _, tr := range []string{"grpc", "rest"} {
		t.Run(tr, func(t *testing.T) {
			org := e.org(t, stytchemu.OrganizationParams{})
			base := "/v1/b2b/organizations/" + org.ID
			call := func(method, verb, path string, req, resp proto.Message, noBody bool) *status.Status {
				t.Helper()
				if tr == "grpc" {
					return e.grpcSvc(t, method, req, resp)
				}
				body := req
				if noBody {
					body = nil
				}
				return e.restSvc(t, verb, path, body, resp).Status
			}
			public := func(method, path string, req, resp proto.Message) *status.Status {
				t.Helper()
				if tr == "grpc" {
					return e.grpcCall(t, method, req, resp)
				}
				return e.restCall(t, "POST", path, req, resp).Status
			}

			// StartEmailUpdate: the link goes to the new address; the member keeps the old one
			// until the link is authenticated.
			m := e.member(t, org.ID, stytchemu.MemberParams{Email: email("old")})
			e.session(t, org.ID, m.ID) // a login verifies the address
			newAddr := email("new")
			start := &b2bv1.MembersServiceStartEmailUpdateResponse{}
			st := call(membersSvc+"StartEmailUpdate", "POST", base+"/members/"+m.ID+"/start_email_update",
				&b2bv1.MembersServiceStartEmailUpdateRequest{OrganizationId: org.ID, MemberId: m.ID, EmailAddress: newAddr}, start, false)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, m.ID, start.GetMemberId())
			assert.Equal(t, m.Email, start.GetMember().GetEmailAddress(), "unchanged until the new address is proven")
			assert.Equal(t, org.ID, start.GetOrganization().GetOrganizationId())
			msg, ok := e.Emu.LastMessage(newAddr)
			require.True(t, ok, "the link goes to the new address")
			assert.Equal(t, stytchemu.TemplateEmailUpdate, msg.Template)
			_, toOld := e.Emu.LastMessage(m.Email)
			assert.False(t, toOld, "nothing goes to the old address")

			auth := &b2bv1.MagicLinksServiceAuthenticateResponse{}
			st = public(magicLinksSvc+"Authenticate", "/v1/b2b/magic_links/authenticate",
				&b2bv1.MagicLinksServiceAuthenticateRequest{MagicLinksToken: msg.Token}, auth)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, newAddr, auth.GetMember().GetEmailAddress())
			assert.True(t, auth.GetMember().GetEmailAddressVerified())
			require.Len(t, auth.GetMember().GetRetiredEmailAddresses(), 1)
			assert.Equal(t, m.Email, auth.GetMember().GetRetiredEmailAddresses()[0].GetEmailAddress())

			// A retired address is taken: another member cannot move to it...
			other := e.member(t, org.ID, stytchemu.MemberParams{})
			e.session(t, org.ID, other.ID)
			st = call(membersSvc+"StartEmailUpdate", "POST", base+"/members/"+other.ID+"/start_email_update",
				&b2bv1.MembersServiceStartEmailUpdateRequest{OrganizationId: org.ID, MemberId: other.ID, EmailAddress: m.Email}, &b2bv1.MembersServiceStartEmailUpdateResponse{}, false)
			assert.Equal(t, codes.InvalidArgument, st.Code())
			assert.Equal(t, "duplicate_email", errorInfo(st).GetReason())
			assert.NotContains(t, st.Message(), m.Email, "messages never echo an email")

			// ...until UnlinkRetiredEmail frees it.
			unlinked := &b2bv1.MembersServiceUnlinkRetiredEmailResponse{}
			st = call(membersSvc+"UnlinkRetiredEmail", "POST", base+"/members/"+m.ID+"/unlink_retired_email",
				&b2bv1.MembersServiceUnlinkRetiredEmailRequest{OrganizationId: org.ID, MemberId: m.ID, EmailAddress: m.Email}, unlinked, false)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, org.ID, unlinked.GetOrganizationId())
			assert.Equal(t, m.ID, unlinked.GetMemberId())
			assert.Empty(t, unlinked.GetMember().GetRetiredEmailAddresses())
			st = call(membersSvc+"StartEmailUpdate", "POST", base+"/members/"+other.ID+"/start_email_update",
				&b2bv1.MembersServiceStartEmailUpdateRequest{OrganizationId: org.ID, MemberId: other.ID, EmailAddress: m.Email, DeliveryMethod: b2bv1.EmailUpdateDeliveryMethod_EMAIL_UPDATE_DELIVERY_METHOD_EMAIL_OTP}, &b2bv1.MembersServiceStartEmailUpdateResponse{}, false)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			code, ok := e.Emu.LastMessage(m.Email)
			require.True(t, ok)
			assert.Equal(t, stytchemu.MethodOTP, code.Method, "EMAIL_OTP sends a code")

			// Unlinking an address the member never had.
			st = call(membersSvc+"UnlinkRetiredEmail", "POST", base+"/members/"+m.ID+"/unlink_retired_email",
				&b2bv1.MembersServiceUnlinkRetiredEmailRequest{OrganizationId: org.ID, MemberId: m.ID, EmailAddress: email("never")}, &b2bv1.MembersServiceUnlinkRetiredEmailResponse{}, false)
			assert.Equal(t, codes.NotFound, st.Code())
			assert.Equal(t, "retired_email_not_found", errorInfo(st).GetReason())

			// DeleteTotp: an imported registration goes; a second delete finds none.
			st = call(b2bTOTPsSvc+"Migrate", "POST", "/v1/b2b/totp/migrate",
				&b2bv1.TOTPsServiceMigrateRequest{OrganizationId: org.ID, MemberId: m.ID, Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}, &b2bv1.TOTPsServiceMigrateResponse{}, false)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			dt := &b2bv1.MembersServiceDeleteTotpResponse{}
			st = call(membersSvc+"DeleteTotp", "DELETE", base+"/members/"+m.ID+"/totp",
				&b2bv1.MembersServiceDeleteTotpRequest{OrganizationId: org.ID, MemberId: m.ID}, dt, true)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Empty(t, dt.GetMember().GetTotpRegistrationId())
			st = call(membersSvc+"DeleteTotp", "DELETE", base+"/members/"+m.ID+"/totp",
				&b2bv1.MembersServiceDeleteTotpRequest{OrganizationId: org.ID, MemberId: m.ID}, &b2bv1.MembersServiceDeleteTotpResponse{}, true)
			assert.Equal(t, codes.NotFound, st.Code())
			assert.Equal(t, "totp_not_found", errorInfo(st).GetReason())

			// DeleteExternalId, the member named by the external ID itself.
			ext := e.member(t, org.ID, stytchemu.MemberParams{ExternalID: "crm-" + tr})
			de := &b2bv1.MembersServiceDeleteExternalIdResponse{}
			st = call(membersSvc+"DeleteExternalId", "DELETE", base+"/members/crm-"+tr+"/external_id",
				&b2bv1.MembersServiceDeleteExternalIdRequest{OrganizationId: org.ID, MemberId: "crm-" + tr}, de, true)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, ext.ID, de.GetMemberId())
			assert.Empty(t, de.GetMember().GetExternalId())

			// OidcProviders: the real shape, refresh tokens only when asked.
			providers := &b2bv1.MembersServiceOidcProvidersResponse{}
			st = call(membersSvc+"OidcProviders", "GET", base+"/members/"+other.ID+"/oidc_providers",
				&b2bv1.MembersServiceOidcProvidersRequest{OrganizationId: org.ID, MemberId: other.ID}, providers, true)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Empty(t, providers.GetRegistrations(), "no OIDC login yet")
			require.NoError(t, e.Emu.AddMemberOIDCTokens(org.ID, other.ID, stytchemu.OIDCTokens{
				ProviderSubject: "sub-" + tr, IDToken: "id-token", AccessToken: "access-token", AccessTokenExpiresIn: 3600,
				Scopes: []string{"openid", "email"}, ConnectionID: "oidc-connection-test-" + tr, RefreshToken: "refresh-token",
			}))
			providers = &b2bv1.MembersServiceOidcProvidersResponse{}
			st = call(membersSvc+"OidcProviders", "GET", base+"/members/"+other.ID+"/oidc_providers",
				&b2bv1.MembersServiceOidcProvidersRequest{OrganizationId: org.ID, MemberId: other.ID}, providers, true)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			require.Len(t, providers.GetRegistrations(), 1)
			reg := providers.GetRegistrations()[0]
			assert.Equal(t, "access-token", reg.GetAccessToken())
			assert.Equal(t, int32(3600), reg.GetAccessTokenExpiresIn())
			assert.Equal(t, []string{"openid", "email"}, reg.GetScopes())
			assert.Equal(t, "oidc-connection-test-"+tr, reg.GetConnectionId())
			assert.Empty(t, reg.GetRefreshToken(), "no refresh token unless asked")
			providers = &b2bv1.MembersServiceOidcProvidersResponse{}
			st = call(membersSvc+"OidcProviders", "GET", base+"/members/"+other.ID+"/oidc_providers?include_refresh_token=true",
				&b2bv1.MembersServiceOidcProvidersRequest{OrganizationId: org.ID, MemberId: other.ID, IncludeRefreshToken: true}, providers, true)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			require.Len(t, providers.GetRegistrations(), 1)
			assert.Equal(t, "refresh-token", providers.GetRegistrations()[0].GetRefreshToken())

			// OrganizationsService.DeleteExternalId, the organization named by its external ID; it
			// takes write:organizations, which write:members does not grant.
			orgExt := "acme-ext-" + tr
			orgs := orgsTransports(e)[tr]
			st = orgs(t, orgsAdmin, orgsSvc+"Update", "PUT", base,
				&b2bv1.OrganizationsServiceUpdateRequest{OrganizationId: org.ID, OrganizationExternalId: proto.String(orgExt)}, &b2bv1.OrganizationsServiceUpdateResponse{})
			require.Equal(t, codes.OK, st.Code(), st.Message())
			st = call(orgsSvc+"DeleteExternalId", "DELETE", "/v1/b2b/organizations/"+orgExt+"/external_id",
				&b2bv1.OrganizationsServiceDeleteExternalIdRequest{OrganizationId: orgExt}, &b2bv1.OrganizationsServiceDeleteExternalIdResponse{}, true)
			assert.Equal(t, codes.PermissionDenied, st.Code(), "write:members is not enough")
			dox := &b2bv1.OrganizationsServiceDeleteExternalIdResponse{}
			st = orgs(t, orgsAdmin, orgsSvc+"DeleteExternalId", "DELETE", "/v1/b2b/organizations/"+orgExt+"/external_id",
				&b2bv1.OrganizationsServiceDeleteExternalIdRequest{OrganizationId: orgExt}, dox)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, org.ID, dox.GetOrganization().GetOrganizationId())
			assert.Empty(t, dox.GetOrganization().GetOrganizationExternalId())
			st = orgs(t, orgsAdmin, orgsSvc+"DeleteExternalId", "DELETE", "/v1/b2b/organizations/"+orgExt+"/external_id",
				&b2bv1.OrganizationsServiceDeleteExternalIdRequest{OrganizationId: orgExt}, &b2bv1.OrganizationsServiceDeleteExternalIdResponse{})
			assert.Equal(t, codes.NotFound, st.Code(), "the external ID no longer names the organization")
		})
	}
}

// Bad input is refused before Stytch, naming the field.
func TestMemberAdministrationValidation(t *testing.T) {
	e := startEnvNoLimits(t)
	org := "organization-test-00000000-0000-0000-0000-000000000000"
	member := "member-test-00000000-0000-0000-0000-000000000000"
	base := "/v1/b2b/organizations/" + org + "/members/" + member
	runCases(t, e, []rpcCase{
		{
			svc: true, name: "StartEmailUpdate without a valid email", method: membersSvc + "StartEmailUpdate", verb: "POST", path: fixed(base + "/start_email_update"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceStartEmailUpdateRequest{OrganizationId: org, MemberId: member, EmailAddress: "not-an-email"}
			},
			resp: func() proto.Message { return &b2bv1.MembersServiceStartEmailUpdateResponse{} },
			code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) {
				assert.Contains(t, st.Message(), "email_address")
			},
		},
		{
			svc: true, name: "StartEmailUpdate with an unknown delivery method", method: membersSvc + "StartEmailUpdate", verb: "POST", path: fixed(base + "/start_email_update"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceStartEmailUpdateRequest{OrganizationId: org, MemberId: member, EmailAddress: "a@example.com", DeliveryMethod: 42}
			},
			resp: func() proto.Message { return &b2bv1.MembersServiceStartEmailUpdateResponse{} },
			code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) {
				assert.Contains(t, st.Message(), "delivery_method")
			},
		},
		{
			svc: true, name: "UnlinkRetiredEmail naming no email", method: membersSvc + "UnlinkRetiredEmail", verb: "POST", path: fixed(base + "/unlink_retired_email"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceUnlinkRetiredEmailRequest{OrganizationId: org, MemberId: member}
			},
			resp: func() proto.Message { return &b2bv1.MembersServiceUnlinkRetiredEmailResponse{} },
			code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) {
				assert.Contains(t, st.Message(), "email_id or email_address")
			},
		},
		{
			svc: true, name: "UnlinkRetiredEmail with a malformed email ID", method: membersSvc + "UnlinkRetiredEmail", verb: "POST", path: fixed(base + "/unlink_retired_email"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceUnlinkRetiredEmailRequest{OrganizationId: org, MemberId: member, EmailId: "not an id"}
			},
			resp: func() proto.Message { return &b2bv1.MembersServiceUnlinkRetiredEmailResponse{} },
			code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) {
				assert.Contains(t, st.Message(), "email_id")
			},
		},
		{
			svc: true, name: "DeleteTotp of an unknown member", method: membersSvc + "DeleteTotp", verb: "DELETE", noBody: true, path: fixed(base + "/totp"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceDeleteTotpRequest{OrganizationId: org, MemberId: member}
			},
			resp: func() proto.Message { return &b2bv1.MembersServiceDeleteTotpResponse{} },
			code: codes.NotFound, reason: "organization_not_found",
		},
	})
}
