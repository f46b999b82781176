package service_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const (
	magicLinksSvc   = "/authsvc.b2b.v1.MagicLinksService/"
	defaultRedirect = "http://localhost:3000/authenticate" // first allowlist entry of the test app
	otherRedirect   = "http://localhost:3000/discovery"    // second entry
)

// lastLink returns the newest magic-link email to addr.
func (e *testEnv) lastLink(t *testing.T, addr string) stytchemu.Message {
	t.Helper()
	msg, ok := e.Emu.LastMessage(addr)
	require.True(t, ok, "no message to the address")
	require.Equal(t, stytchemu.MethodMagicLink, msg.Method)
	return msg
}

func TestMagicLinks(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	active := e.member(t, org.ID, stytchemu.MemberParams{})
	loginResp := func() proto.Message { return &b2bv1.MagicLinksServiceLoginOrSignupResponse{} }
	loginPath := fixed("/v1/b2b/magic_links/email/login_or_signup")
	var lastAddr string

	runCases(t, e, []rpcCase{
		{
			name: "LoginOrSignup a new member uses the default redirect", method: magicLinksSvc + "LoginOrSignup", verb: "POST", path: loginPath,
			req: func(*testing.T) proto.Message {
				lastAddr = email("signup")
				return &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: lastAddr}
			},
			resp: loginResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.MagicLinksServiceLoginOrSignupResponse)
				assert.True(t, r.GetMemberCreated())
				assert.Equal(t, b2bv1.MemberStatus_MEMBER_STATUS_PENDING, r.GetMember().GetStatus())
				link := e.lastLink(t, lastAddr)
				assert.Equal(t, stytchemu.TemplateSignup, link.Template)
				assert.True(t, strings.HasPrefix(link.URL, defaultRedirect+"?"), "link %q", link.URL)
			},
		},
		{
			name: "LoginOrSignup an active member with an allowed redirect", method: magicLinksSvc + "LoginOrSignup", verb: "POST", path: loginPath,
			req: func(*testing.T) proto.Message {
				// Same URL written differently: case of scheme and host, explicit default port.
				return &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: active.Email, LoginRedirectUrl: "HTTP://LocalHost:3000/discovery"}
			},
			resp: loginResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				assert.False(t, msg.(*b2bv1.MagicLinksServiceLoginOrSignupResponse).GetMemberCreated())
				link := e.lastLink(t, active.Email)
				assert.Equal(t, stytchemu.TemplateLogin, link.Template)
				assert.True(t, strings.HasPrefix(link.URL, otherRedirect+"?"), "the configured entry is sent, verbatim: %q", link.URL)
			},
		},
		{
			name: "LoginOrSignup with a redirect outside the allowlist", method: magicLinksSvc + "LoginOrSignup", verb: "POST", path: loginPath,
			req: func(*testing.T) proto.Message {
				return &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: active.Email, SignupRedirectUrl: "https://evil.example/authenticate"}
			},
			resp: loginResp, code: codes.InvalidArgument, reason: "invalid_redirect_url",
			checkSt: func(t *testing.T, st *status.Status) {
				assert.Contains(t, st.Message(), "signup_redirect_url")
				assert.NotContains(t, st.Message(), "evil.example", "caller input is not echoed")
			},
		},
		{
			name: "LoginOrSignup with an allowed path plus a query", method: magicLinksSvc + "LoginOrSignup", verb: "POST", path: loginPath,
			req: func(*testing.T) proto.Message {
				return &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: active.Email, LoginRedirectUrl: defaultRedirect + "?next=https://evil.example"}
			},
			resp: loginResp, code: codes.InvalidArgument, reason: "invalid_redirect_url",
		},
		{
			name: "LoginOrSignup to an unknown organization", method: magicLinksSvc + "LoginOrSignup", verb: "POST", path: loginPath,
			req: func(*testing.T) proto.Message {
				return &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: "organization-test-nope", EmailAddress: active.Email}
			},
			resp: loginResp, code: codes.NotFound, reason: "organization_not_found",
		},
		{
			name: "LoginOrSignup with an invalid email (validation)", method: magicLinksSvc + "LoginOrSignup", verb: "POST", path: loginPath,
			req: func(*testing.T) proto.Message {
				return &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: "nope"}
			},
			resp: loginResp, code: codes.InvalidArgument,
		},
		{
			svc: true, name: "Invite", method: magicLinksSvc + "Invite", verb: "POST", path: fixed("/v1/b2b/magic_links/email/invite"),
			req: func(*testing.T) proto.Message {
				lastAddr = email("invitee")
				return &b2bv1.MagicLinksServiceInviteRequest{OrganizationId: org.ID, EmailAddress: lastAddr, Name: "Grace", Roles: []string{stytchemu.RoleAdmin}}
			},
			resp: func() proto.Message { return &b2bv1.MagicLinksServiceInviteResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.MagicLinksServiceInviteResponse)
				assert.Equal(t, b2bv1.MemberStatus_MEMBER_STATUS_INVITED, r.GetMember().GetStatus())
				assert.Equal(t, "Grace", r.GetMember().GetName())
				link := e.lastLink(t, lastAddr)
				assert.Equal(t, stytchemu.TemplateInvite, link.Template)
				assert.True(t, strings.HasPrefix(link.URL, defaultRedirect+"?"))
			},
		},
		{
			svc: true, name: "Invite an active member", method: magicLinksSvc + "Invite", verb: "POST", path: fixed("/v1/b2b/magic_links/email/invite"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MagicLinksServiceInviteRequest{OrganizationId: org.ID, EmailAddress: active.Email}
			},
			resp: func() proto.Message { return &b2bv1.MagicLinksServiceInviteResponse{} },
			code: codes.InvalidArgument, reason: "member_already_active",
		},
		{
			svc: true, name: "Invite with a redirect outside the allowlist", method: magicLinksSvc + "Invite", verb: "POST", path: fixed("/v1/b2b/magic_links/email/invite"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MagicLinksServiceInviteRequest{OrganizationId: org.ID, EmailAddress: email("x"), InviteRedirectUrl: "http://localhost:3001/authenticate"}
			},
			resp: func() proto.Message { return &b2bv1.MagicLinksServiceInviteResponse{} },
			code: codes.InvalidArgument, reason: "invalid_redirect_url",
		},
		{
			name: "DiscoverySend", method: magicLinksSvc + "DiscoverySend", verb: "POST", path: fixed("/v1/b2b/magic_links/email/discovery/send"),
			req: func(*testing.T) proto.Message {
				lastAddr = email("disc")
				return &b2bv1.MagicLinksServiceDiscoverySendRequest{EmailAddress: lastAddr, DiscoveryRedirectUrl: otherRedirect}
			},
			resp: func() proto.Message { return &b2bv1.MagicLinksServiceDiscoverySendResponse{} }, code: codes.OK,
			check: func(t *testing.T, _ proto.Message) {
				link := e.lastLink(t, lastAddr)
				assert.Equal(t, stytchemu.TemplateDiscovery, link.Template)
				assert.True(t, strings.HasPrefix(link.URL, otherRedirect+"?"))
			},
		},
		{
			name: "DiscoverySend with a redirect outside the allowlist", method: magicLinksSvc + "DiscoverySend", verb: "POST", path: fixed("/v1/b2b/magic_links/email/discovery/send"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MagicLinksServiceDiscoverySendRequest{EmailAddress: email("d"), DiscoveryRedirectUrl: "javascript:alert(1)"}
			},
			resp: func() proto.Message { return &b2bv1.MagicLinksServiceDiscoverySendResponse{} },
			code: codes.InvalidArgument,
		},
		{
			name: "Authenticate", method: magicLinksSvc + "Authenticate", verb: "POST", path: fixed("/v1/b2b/magic_links/authenticate"),
			req: func(t *testing.T) proto.Message {
				lastAddr = email("auth")
				e.member(t, org.ID, stytchemu.MemberParams{Email: lastAddr})
				st := e.grpcCall(t, magicLinksSvc+"LoginOrSignup", &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: lastAddr}, &b2bv1.MagicLinksServiceLoginOrSignupResponse{})
				require.Equal(t, codes.OK, st.Code(), st.Message())
				return &b2bv1.MagicLinksServiceAuthenticateRequest{MagicLinksToken: e.lastLink(t, lastAddr).Token}
			},
			resp: func() proto.Message { return &b2bv1.MagicLinksServiceAuthenticateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.MagicLinksServiceAuthenticateResponse)
				assert.True(t, r.GetMemberAuthenticated())
				assert.NotEmpty(t, r.GetSessionToken())
				assert.NotEmpty(t, r.GetSessionJwt())
				assert.Empty(t, r.GetIntermediateSessionToken())
				assert.Equal(t, lastAddr, r.GetMember().GetEmailAddress())
				assert.Equal(t, org.ID, r.GetOrganizationId())
				require.NotEmpty(t, r.GetMemberSession().GetAuthenticationFactors())
				assert.Equal(t, b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_MAGIC_LINK, r.GetMemberSession().GetAuthenticationFactors()[0].GetType())
			},
		},
		{
			name: "Authenticate an unknown token", method: magicLinksSvc + "Authenticate", verb: "POST", path: fixed("/v1/b2b/magic_links/authenticate"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MagicLinksServiceAuthenticateRequest{MagicLinksToken: "nope-nope-nope"}
			},
			resp: func() proto.Message { return &b2bv1.MagicLinksServiceAuthenticateResponse{} },
			code: codes.Unauthenticated, reason: "unable_to_auth_magic_link",
		},
		{
			name: "DiscoveryAuthenticate", method: magicLinksSvc + "DiscoveryAuthenticate", verb: "POST", path: fixed("/v1/b2b/magic_links/discovery/authenticate"),
			req: func(t *testing.T) proto.Message {
				require.Equal(t, codes.OK, e.grpcCall(t, magicLinksSvc+"DiscoverySend", &b2bv1.MagicLinksServiceDiscoverySendRequest{EmailAddress: active.Email}, &b2bv1.MagicLinksServiceDiscoverySendResponse{}).Code())
				return &b2bv1.MagicLinksServiceDiscoveryAuthenticateRequest{DiscoveryMagicLinksToken: e.lastLink(t, active.Email).Token}
			},
			resp: func() proto.Message { return &b2bv1.MagicLinksServiceDiscoveryAuthenticateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.MagicLinksServiceDiscoveryAuthenticateResponse)
				assert.NotEmpty(t, r.GetIntermediateSessionToken())
				assert.Equal(t, active.Email, r.GetEmailAddress())
				require.Len(t, r.GetDiscoveredOrganizations(), 1)
				d := r.GetDiscoveredOrganizations()[0]
				assert.Equal(t, org.ID, d.GetOrganization().GetOrganizationId())
				assert.Equal(t, b2bv1.MembershipType_MEMBERSHIP_TYPE_ACTIVE_MEMBER, d.GetMembership().GetType())
				assert.True(t, d.GetMemberAuthenticated())
			},
		},
		{
			name: "DiscoveryAuthenticate an unknown token", method: magicLinksSvc + "DiscoveryAuthenticate", verb: "POST", path: fixed("/v1/b2b/magic_links/discovery/authenticate"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.MagicLinksServiceDiscoveryAuthenticateRequest{DiscoveryMagicLinksToken: "nope"}
			},
			resp: func() proto.Message { return &b2bv1.MagicLinksServiceDiscoveryAuthenticateResponse{} },
			code: codes.Unauthenticated, reason: "unable_to_auth_magic_link",
		},
	})

	// An unknown token (Stytch 404 magic_link_not_found) and a used one (401
	// unable_to_auth_magic_link) must look the same to an anonymous caller.
	t.Run("unknown and used tokens are indistinguishable", func(t *testing.T) {
		addr := email("used")
		e.member(t, org.ID, stytchemu.MemberParams{Email: addr})
		require.Equal(t, codes.OK, e.grpcCall(t, magicLinksSvc+"LoginOrSignup", &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: addr}, &b2bv1.MagicLinksServiceLoginOrSignupResponse{}).Code())
		tok := e.lastLink(t, addr).Token
		require.Equal(t, codes.OK, e.grpcCall(t, magicLinksSvc+"Authenticate", &b2bv1.MagicLinksServiceAuthenticateRequest{MagicLinksToken: tok}, &b2bv1.MagicLinksServiceAuthenticateResponse{}).Code())

		used := e.restCallNoCookies(t, "POST", "/v1/b2b/magic_links/authenticate", &b2bv1.MagicLinksServiceAuthenticateRequest{MagicLinksToken: tok}, nil)
		unknown := e.restCallNoCookies(t, "POST", "/v1/b2b/magic_links/authenticate", &b2bv1.MagicLinksServiceAuthenticateRequest{MagicLinksToken: "unknown-token"}, nil)
		assertSameRejection(t, used, unknown)
	})
}

// assertSameRejection checks that two failures carry the same HTTP status, code, message and
// reason (only Stytch's request ID may differ).
func assertSameRejection(t *testing.T, a, b restResult) {
	t.Helper()
	assert.Equal(t, a.HTTP, b.HTTP)
	assert.Equal(t, a.Status.Code(), b.Status.Code())
	assert.Equal(t, a.Status.Message(), b.Status.Message())
	assert.Equal(t, errorInfo(a.Status).GetReason(), errorInfo(b.Status).GetReason())
	assert.Equal(t, errorInfo(a.Status).GetDomain(), errorInfo(b.Status).GetDomain())
}
