package service_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const membersSvc = "/authsvc.b2b.v1.MembersService/"

func TestMembers(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	other := e.org(t, stytchemu.OrganizationParams{})
	existing := e.member(t, org.ID, stytchemu.MemberParams{Name: "Ada", Roles: []string{stytchemu.RoleAdmin}, MFAPhoneNumber: "+15005550006"})
	pwID, err := e.Emu.AddMemberPassword(org.ID, existing.ID)
	require.NoError(t, err)

	orgPath := func(suffix string) func(proto.Message) string {
		return fixed("/v1/b2b/organizations/" + org.ID + suffix)
	}
	memberResp := func() proto.Message { return &b2bv1.MembersServiceGetResponse{} }

	runCases(t, e, []rpcCase{
		{
			svc: true, name: "Create", method: membersSvc + "Create", verb: "POST", path: orgPath("/members"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceCreateRequest{OrganizationId: org.ID, EmailAddress: email("new"), Name: "New", Roles: []string{"stytch_admin"}}
			},
			resp: func() proto.Message { return &b2bv1.MembersServiceCreateResponse{} },
			code: codes.OK,
			check: func(t *testing.T, m proto.Message) {
				r := m.(*b2bv1.MembersServiceCreateResponse)
				assert.NotEmpty(t, r.GetMemberId())
				assert.Equal(t, r.GetMemberId(), r.GetMember().GetMemberId())
				assert.Equal(t, "New", r.GetMember().GetName())
				assert.Equal(t, b2bv1.MemberStatus_MEMBER_STATUS_ACTIVE, r.GetMember().GetStatus())
				assert.Equal(t, org.ID, r.GetOrganization().GetOrganizationId())
			},
		},
		{
			svc: true, name: "Create duplicate email", method: membersSvc + "Create", verb: "POST", path: orgPath("/members"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceCreateRequest{OrganizationId: org.ID, EmailAddress: existing.Email}
			},
			resp: func() proto.Message { return &b2bv1.MembersServiceCreateResponse{} },
			code: codes.InvalidArgument, reason: "duplicate_email",
			checkSt: func(t *testing.T, st *status.Status) {
				assert.NotContains(t, st.Message(), existing.Email, "messages never echo an email")
			},
		},
		{
			svc: true, name: "Create invalid email (validation)", method: membersSvc + "Create", verb: "POST", path: orgPath("/members"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceCreateRequest{OrganizationId: org.ID, EmailAddress: "not-an-email"}
			},
			resp: func() proto.Message { return &b2bv1.MembersServiceCreateResponse{} },
			code: codes.InvalidArgument,
		},
		{
			svc: true, name: "Get by id", method: membersSvc + "Get", verb: "GET", noBody: true,
			path: orgPath("/member?member_id=" + existing.ID),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceGetRequest{OrganizationId: org.ID, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: existing.ID}}
			},
			resp: memberResp, code: codes.OK,
			check: func(t *testing.T, m proto.Message) {
				r := m.(*b2bv1.MembersServiceGetResponse)
				assert.Equal(t, existing.ID, r.GetMemberId())
				assert.Equal(t, "Ada", r.GetMember().GetName())
				assert.True(t, r.GetMember().GetIsAdmin())
				assert.NotNil(t, r.GetMember().GetCreatedAt())
			},
		},
		{
			svc: true, name: "Get by email", method: membersSvc + "Get", verb: "GET", noBody: true,
			path: orgPath("/member?email_address=" + url.QueryEscape(existing.Email)),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceGetRequest{OrganizationId: org.ID, Lookup: &b2bv1.MembersServiceGetRequest_EmailAddress{EmailAddress: existing.Email}}
			},
			resp: memberResp, code: codes.OK,
			check: func(t *testing.T, m proto.Message) {
				assert.Equal(t, existing.ID, m.(*b2bv1.MembersServiceGetResponse).GetMemberId())
			},
		},
		{
			svc: true, name: "Get unknown member is 404 with Stytch's reason and request ID", method: membersSvc + "Get", verb: "GET", noBody: true,
			path: orgPath("/member?member_id=member-test-00000000-0000-0000-0000-000000000000"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceGetRequest{OrganizationId: org.ID, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: "member-test-00000000-0000-0000-0000-000000000000"}}
			},
			resp: memberResp, code: codes.NotFound, reason: "member_not_found",
			checkSt: func(t *testing.T, st *status.Status) {
				assertStytchRequestID(t, st)
				assert.Equal(t, "member not found", st.Message())
			},
		},
		{
			svc: true, name: "Get in another organization", method: membersSvc + "Get", verb: "GET", noBody: true,
			path: fixed("/v1/b2b/organizations/" + other.ID + "/member?member_id=" + existing.ID),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceGetRequest{OrganizationId: other.ID, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: existing.ID}}
			},
			resp: memberResp, code: codes.NotFound, reason: "member_not_found",
		},
		{
			svc: true, name: "Get without a lookup (validation)", method: membersSvc + "Get", verb: "GET", noBody: true,
			path: orgPath("/member"),
			req:  func(*testing.T) proto.Message { return &b2bv1.MembersServiceGetRequest{OrganizationId: org.ID} },
			resp: memberResp, code: codes.InvalidArgument,
		},
		{
			svc: true, name: "Update unknown member", method: membersSvc + "Update", verb: "PUT", path: orgPath("/members/member-test-nope"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceUpdateRequest{OrganizationId: org.ID, MemberId: "member-test-nope", Name: new("x")}
			},
			resp: func() proto.Message { return &b2bv1.MembersServiceUpdateResponse{} },
			code: codes.NotFound, reason: "member_not_found",
		},
		{
			svc: true, name: "DangerouslyGet", method: membersSvc + "DangerouslyGet", verb: "GET", noBody: true,
			path: fixed("/v1/b2b/organizations/members/dangerously_get/" + existing.ID),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceDangerouslyGetRequest{MemberId: existing.ID}
			},
			resp: func() proto.Message { return &b2bv1.MembersServiceDangerouslyGetResponse{} },
			code: codes.OK,
			check: func(t *testing.T, m proto.Message) {
				r := m.(*b2bv1.MembersServiceDangerouslyGetResponse)
				assert.Equal(t, existing.ID, r.GetMemberId())
				assert.Equal(t, org.ID, r.GetMember().GetOrganizationId())
			},
		},
		{
			svc: true, name: "DangerouslyGet unknown", method: membersSvc + "DangerouslyGet", verb: "GET", noBody: true,
			path: fixed("/v1/b2b/organizations/members/dangerously_get/member-test-00000000-0000-0000-0000-000000000000"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceDangerouslyGetRequest{MemberId: "member-test-00000000-0000-0000-0000-000000000000"}
			},
			resp: func() proto.Message { return &b2bv1.MembersServiceDangerouslyGetResponse{} },
			code: codes.NotFound, reason: "member_not_found",
		},
		{
			svc: true, name: "DeletePassword unknown", method: membersSvc + "DeletePassword", verb: "DELETE", noBody: true,
			path: orgPath("/members/passwords/member-password-test-00000000-0000-0000-0000-000000000000"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MembersServiceDeletePasswordRequest{OrganizationId: org.ID, MemberPasswordId: "member-password-test-00000000-0000-0000-0000-000000000000"}
			},
			resp: func() proto.Message { return &b2bv1.MembersServiceDeletePasswordResponse{} },
			code: codes.NotFound, reason: "member_password_not_found",
		},
		{
			svc: true, name: "Search needs an organization (validation)", method: membersSvc + "Search", verb: "POST",
			path: fixed("/v1/b2b/organizations/members/search"),
			req:  func(*testing.T) proto.Message { return &b2bv1.MembersServiceSearchRequest{} },
			resp: func() proto.Message { return &b2bv1.MembersServiceSearchResponse{} },
			code: codes.InvalidArgument,
		},
	})

	// Stateful RPCs: each transport gets its own member.
	for _, tr := range []string{"grpc", "rest"} {
		t.Run("lifecycle/"+tr, func(t *testing.T) {
			m := e.member(t, org.ID, stytchemu.MemberParams{Roles: []string{stytchemu.RoleAdmin}, MFAPhoneNumber: "+15005550006"})
			call := func(method, verb, path string, req, resp proto.Message, noBody bool) *status.Status {
				if tr == "grpc" {
					return e.grpcSvc(t, membersSvc+method, req, resp)
				}
				body := req
				if noBody {
					body = nil
				}
				return e.restSvc(t, verb, path, body, resp).Status
			}
			base := "/v1/b2b/organizations/" + org.ID

			// Update: set the name, clear every explicit role.
			up := &b2bv1.MembersServiceUpdateResponse{}
			st := call("Update", "PUT", base+"/members/"+m.ID, &b2bv1.MembersServiceUpdateRequest{
				OrganizationId: org.ID, MemberId: m.ID, Name: new("Renamed"), Roles: &b2bv1.RoleIds{},
				UntrustedMetadata: mustStruct(t, map[string]any{"theme": "dark"}),
			}, up, false)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, "Renamed", up.GetMember().GetName())
			assert.False(t, up.GetMember().GetIsAdmin(), "explicit stytch_admin removed")
			assert.Equal(t, "dark", up.GetMember().GetUntrustedMetadata().GetFields()["theme"].GetStringValue())

			// Update leaves unset fields alone.
			up2 := &b2bv1.MembersServiceUpdateResponse{}
			st = call("Update", "PUT", base+"/members/"+m.ID, &b2bv1.MembersServiceUpdateRequest{OrganizationId: org.ID, MemberId: m.ID, MfaEnrolled: new(true)}, up2, false)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, "Renamed", up2.GetMember().GetName())
			assert.True(t, up2.GetMember().GetMfaEnrolled())

			// DeleteMfaPhoneNumber, then again: the member has none.
			dp := &b2bv1.MembersServiceDeleteMfaPhoneNumberResponse{}
			st = call("DeleteMfaPhoneNumber", "DELETE", base+"/members/mfa_phone_numbers/"+m.ID,
				&b2bv1.MembersServiceDeleteMfaPhoneNumberRequest{OrganizationId: org.ID, MemberId: m.ID}, dp, true)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Empty(t, dp.GetMember().GetMfaPhoneNumber())
			st = call("DeleteMfaPhoneNumber", "DELETE", base+"/members/mfa_phone_numbers/"+m.ID,
				&b2bv1.MembersServiceDeleteMfaPhoneNumberRequest{OrganizationId: org.ID, MemberId: m.ID}, &b2bv1.MembersServiceDeleteMfaPhoneNumberResponse{}, true)
			assert.Equal(t, codes.InvalidArgument, st.Code())
			assert.Equal(t, "member_phone_number_not_found", errorInfo(st).GetReason())

			// DeletePassword.
			pw, err := e.Emu.AddMemberPassword(org.ID, m.ID)
			require.NoError(t, err)
			dpw := &b2bv1.MembersServiceDeletePasswordResponse{}
			st = call("DeletePassword", "DELETE", base+"/members/passwords/"+pw,
				&b2bv1.MembersServiceDeletePasswordRequest{OrganizationId: org.ID, MemberPasswordId: pw}, dpw, true)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, m.ID, dpw.GetMemberId())
			assert.Empty(t, dpw.GetMember().GetMemberPasswordId())

			// Delete, which also ends the member's sessions (locally at once).
			sess := e.session(t, org.ID, m.ID)
			del := &b2bv1.MembersServiceDeleteResponse{}
			st = call("Delete", "DELETE", base+"/members/"+m.ID, &b2bv1.MembersServiceDeleteRequest{OrganizationId: org.ID, MemberId: m.ID}, del, true)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, m.ID, del.GetMemberId())
			st = e.grpcCall(t, sessionsSvc+"Authenticate", &b2bv1.SessionsServiceAuthenticateRequest{
				Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: sess.JWT},
			}, &b2bv1.SessionsServiceAuthenticateResponse{})
			assert.Equal(t, codes.Unauthenticated, st.Code(), "the deleted member's JWT no longer verifies locally")
			assert.Equal(t, "revoked", errorInfo(st).GetReason())

			// DangerouslyGet sees the deleted member only with include_deleted.
			dg := &b2bv1.MembersServiceDangerouslyGetResponse{}
			st = call("DangerouslyGet", "GET", "/v1/b2b/organizations/members/dangerously_get/"+m.ID+"?include_deleted=true",
				&b2bv1.MembersServiceDangerouslyGetRequest{MemberId: m.ID, IncludeDeleted: true}, dg, true)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, b2bv1.MemberStatus_MEMBER_STATUS_DELETED, dg.GetMember().GetStatus())

			// Reactivate.
			re := &b2bv1.MembersServiceReactivateResponse{}
			st = call("Reactivate", "PUT", base+"/members/"+m.ID+"/reactivate", &b2bv1.MembersServiceReactivateRequest{OrganizationId: org.ID, MemberId: m.ID}, re, false)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, b2bv1.MemberStatus_MEMBER_STATUS_ACTIVE, re.GetMember().GetStatus())
			// The reactivated member logs in afresh; the deletion's revocation does not touch the new
			// session (its JWT was issued after the cut-off).
			e.Emu.Advance(time.Second)
			again := e.session(t, org.ID, m.ID)
			st = e.grpcCall(t, sessionsSvc+"Authenticate", &b2bv1.SessionsServiceAuthenticateRequest{
				Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: again.JWT},
			}, &b2bv1.SessionsServiceAuthenticateResponse{})
			assert.Equal(t, codes.OK, st.Code(), "a session started after the reactivation: %v", st.Message())

			// Reactivate an unknown member.
			st = call("Reactivate", "PUT", base+"/members/member-test-00000000-0000-0000-0000-000000000000/reactivate", &b2bv1.MembersServiceReactivateRequest{OrganizationId: org.ID, MemberId: "member-test-00000000-0000-0000-0000-000000000000"}, &b2bv1.MembersServiceReactivateResponse{}, false)
			assert.Equal(t, codes.NotFound, st.Code())
		})
	}

	t.Run("DeletePassword/grpc", func(t *testing.T) {
		r := &b2bv1.MembersServiceDeletePasswordResponse{}
		st := e.grpcSvc(t, membersSvc+"DeletePassword", &b2bv1.MembersServiceDeletePasswordRequest{OrganizationId: org.ID, MemberPasswordId: pwID}, r)
		require.Equal(t, codes.OK, st.Code(), st.Message())
		assert.Equal(t, existing.ID, r.GetMemberId())
	})

	// Search with cursor pagination, through both transports.
	searchOrg := e.org(t, stytchemu.OrganizationParams{})
	want := map[string]bool{}
	for range 5 {
		want[e.member(t, searchOrg.ID, stytchemu.MemberParams{}).ID] = true
	}
	for _, tr := range []string{"grpc", "rest"} {
		t.Run("Search pages/"+tr, func(t *testing.T) {
			got := map[string]bool{}
			cursor, pages := "", 0
			for {
				req := &b2bv1.MembersServiceSearchRequest{OrganizationIds: []string{searchOrg.ID}, Limit: new(int32(2)), Cursor: cursor}
				resp := &b2bv1.MembersServiceSearchResponse{}
				var st *status.Status
				if tr == "grpc" {
					st = e.grpcSvc(t, membersSvc+"Search", req, resp)
				} else {
					st = e.restSvc(t, "POST", "/v1/b2b/organizations/members/search", req, resp).Status
				}
				require.Equal(t, codes.OK, st.Code(), st.Message())
				pages++
				assert.LessOrEqual(t, len(resp.GetMembers()), 2)
				assert.Equal(t, int32(5), resp.GetTotal())
				assert.Contains(t, resp.GetOrganizations(), searchOrg.ID)
				for _, m := range resp.GetMembers() {
					assert.False(t, got[m.GetMemberId()], "member on two pages")
					got[m.GetMemberId()] = true
				}
				if cursor = resp.GetNextCursor(); cursor == "" {
					break
				}
				require.Less(t, pages, 10, "pagination does not end")
			}
			assert.Equal(t, want, got)
			assert.Equal(t, 3, pages)
		})
	}
	t.Run("Search filter", func(t *testing.T) {
		one := e.member(t, searchOrg.ID, stytchemu.MemberParams{Roles: []string{stytchemu.RoleAdmin}})
		resp := &b2bv1.MembersServiceSearchResponse{}
		st := e.grpcSvc(t, membersSvc+"Search", &b2bv1.MembersServiceSearchRequest{
			OrganizationIds: []string{searchOrg.ID},
			Query: &b2bv1.MemberSearchQuery{Operands: []*b2bv1.MemberSearchOperand{
				{Filter: &b2bv1.MemberSearchOperand_MemberRoles{MemberRoles: &b2bv1.StringValues{Values: []string{stytchemu.RoleAdmin}}}},
				{Filter: &b2bv1.MemberSearchOperand_Statuses{Statuses: &b2bv1.MemberStatusValues{Values: []b2bv1.MemberStatus{b2bv1.MemberStatus_MEMBER_STATUS_ACTIVE}}}},
			}},
		}, resp)
		require.Equal(t, codes.OK, st.Code(), st.Message())
		require.Len(t, resp.GetMembers(), 1)
		assert.Equal(t, one.ID, resp.GetMembers()[0].GetMemberId())
	})
}
