package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const discoverySvc = "/authsvc.b2b.v1.DiscoveryService/"

// discoveryIST runs a discovery email OTP login for addr and returns the intermediate session token.
func (e *testEnv) discoveryIST(t *testing.T, addr string) string {
	t.Helper()
	require.Equal(t, codes.OK, e.grpcCall(t, otpsSvc+"EmailDiscoverySend", &b2bv1.OTPsServiceEmailDiscoverySendRequest{EmailAddress: addr}, &b2bv1.OTPsServiceEmailDiscoverySendResponse{}).Code())
	r := &b2bv1.OTPsServiceEmailDiscoveryAuthenticateResponse{}
	st := e.grpcCall(t, otpsSvc+"EmailDiscoveryAuthenticate", &b2bv1.OTPsServiceEmailDiscoveryAuthenticateRequest{EmailAddress: addr, Code: e.lastCode(t, addr)}, r)
	require.Equal(t, codes.OK, st.Code(), st.Message())
	return r.GetIntermediateSessionToken()
}

func TestDiscovery(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	m := e.member(t, org.ID, stytchemu.MemberParams{})
	s := e.session(t, org.ID, m.ID)
	ist := e.discoveryIST(t, m.Email)
	listResp := func() proto.Message { return &b2bv1.DiscoveryServiceListOrganizationsResponse{} }
	listPath := fixed("/v1/b2b/discovery/organizations")
	listsOrg := func(t *testing.T, msg proto.Message) {
		r := msg.(*b2bv1.DiscoveryServiceListOrganizationsResponse)
		assert.Equal(t, m.Email, r.GetEmailAddress())
		require.Len(t, r.GetDiscoveredOrganizations(), 1)
		assert.Equal(t, org.ID, r.GetDiscoveredOrganizations()[0].GetOrganization().GetOrganizationId())
		assert.Equal(t, m.ID, r.GetDiscoveredOrganizations()[0].GetMembership().GetMember().GetMemberId())
	}

	runCases(t, e, []rpcCase{
		{
			name: "ListOrganizations with an intermediate session", method: discoverySvc + "ListOrganizations", verb: "POST", path: listPath,
			req: func(*testing.T) proto.Message {
				return &b2bv1.DiscoveryServiceListOrganizationsRequest{Credential: &b2bv1.DiscoveryServiceListOrganizationsRequest_IntermediateSessionToken{IntermediateSessionToken: ist}}
			},
			resp: listResp, code: codes.OK, check: listsOrg,
		},
		{
			name: "ListOrganizations with a session", method: discoverySvc + "ListOrganizations", verb: "POST", path: listPath,
			req: func(*testing.T) proto.Message {
				return &b2bv1.DiscoveryServiceListOrganizationsRequest{Credential: &b2bv1.DiscoveryServiceListOrganizationsRequest_SessionJwt{SessionJwt: s.JWT}}
			},
			resp: listResp, code: codes.OK, check: listsOrg,
		},
		{
			name: "ListOrganizations with an unknown intermediate session", method: discoverySvc + "ListOrganizations", verb: "POST", path: listPath,
			req: func(*testing.T) proto.Message {
				return &b2bv1.DiscoveryServiceListOrganizationsRequest{Credential: &b2bv1.DiscoveryServiceListOrganizationsRequest_IntermediateSessionToken{IntermediateSessionToken: "ist-nope"}}
			},
			resp: listResp, code: codes.Unauthenticated, reason: "intermediate_session_not_found",
		},
		{
			name: "ListOrganizations without a credential", method: discoverySvc + "ListOrganizations", verb: "POST", path: listPath,
			req:  func(*testing.T) proto.Message { return &b2bv1.DiscoveryServiceListOrganizationsRequest{} },
			resp: listResp, code: codes.InvalidArgument, reason: "missing_credential",
		},
		{
			name: "CreateOrganization", method: discoverySvc + "CreateOrganization", verb: "POST", path: fixed("/v1/b2b/discovery/organizations/create"),
			req: func(t *testing.T) proto.Message {
				return &b2bv1.DiscoveryServiceCreateOrganizationRequest{
					IntermediateSessionToken: e.discoveryIST(t, email("founder")),
					OrganizationName:         "Founded",
					MfaPolicy:                b2bv1.MfaPolicy_MFA_POLICY_OPTIONAL,
					EmailInvites:             b2bv1.OrganizationSetting_ORGANIZATION_SETTING_ALL_ALLOWED,
				}
			},
			resp: func() proto.Message { return &b2bv1.DiscoveryServiceCreateOrganizationResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.DiscoveryServiceCreateOrganizationResponse)
				assert.True(t, r.GetMemberAuthenticated())
				assert.Equal(t, "Founded", r.GetOrganization().GetOrganizationName())
				assert.Equal(t, b2bv1.MfaPolicy_MFA_POLICY_OPTIONAL, r.GetOrganization().GetMfaPolicy())
				assert.Contains(t, r.GetMemberSession().GetRoles(), stytchemu.RoleAdmin, "the creator is an admin")
				assert.NotEmpty(t, r.GetSessionJwt())
			},
		},
		{
			name: "CreateOrganization with an unknown intermediate session", method: discoverySvc + "CreateOrganization", verb: "POST", path: fixed("/v1/b2b/discovery/organizations/create"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.DiscoveryServiceCreateOrganizationRequest{IntermediateSessionToken: "ist-nope", OrganizationName: "X"}
			},
			resp: func() proto.Message { return &b2bv1.DiscoveryServiceCreateOrganizationResponse{} },
			code: codes.Unauthenticated, reason: "intermediate_session_not_found",
		},
		{
			name: "ExchangeIntermediateSession", method: discoverySvc + "ExchangeIntermediateSession", verb: "POST", path: fixed("/v1/b2b/discovery/intermediate_sessions/exchange"),
			req: func(t *testing.T) proto.Message {
				return &b2bv1.DiscoveryServiceExchangeIntermediateSessionRequest{IntermediateSessionToken: e.discoveryIST(t, m.Email), OrganizationId: org.ID}
			},
			resp: func() proto.Message { return &b2bv1.DiscoveryServiceExchangeIntermediateSessionResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.DiscoveryServiceExchangeIntermediateSessionResponse)
				assert.True(t, r.GetMemberAuthenticated())
				assert.Equal(t, m.ID, r.GetMemberId())
				assert.Equal(t, org.ID, r.GetMemberSession().GetOrganizationId())
				assert.NotEmpty(t, r.GetSessionToken())
			},
		},
		{
			name: "ExchangeIntermediateSession with an unknown intermediate session", method: discoverySvc + "ExchangeIntermediateSession", verb: "POST", path: fixed("/v1/b2b/discovery/intermediate_sessions/exchange"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.DiscoveryServiceExchangeIntermediateSessionRequest{IntermediateSessionToken: "ist-nope", OrganizationId: org.ID}
			},
			resp: func() proto.Message { return &b2bv1.DiscoveryServiceExchangeIntermediateSessionResponse{} },
			code: codes.Unauthenticated, reason: "intermediate_session_not_found",
		},
		{
			name: "ExchangeIntermediateSession into an unknown organization", method: discoverySvc + "ExchangeIntermediateSession", verb: "POST", path: fixed("/v1/b2b/discovery/intermediate_sessions/exchange"),
			req: func(t *testing.T) proto.Message {
				return &b2bv1.DiscoveryServiceExchangeIntermediateSessionRequest{IntermediateSessionToken: e.discoveryIST(t, m.Email), OrganizationId: "organization-test-nope"}
			},
			resp: func() proto.Message { return &b2bv1.DiscoveryServiceExchangeIntermediateSessionResponse{} },
			code: codes.NotFound, reason: "organization_not_found",
		},
	})
}
