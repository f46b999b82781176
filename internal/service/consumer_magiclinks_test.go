package service_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func TestConsumerMagicLinks(t *testing.T) {
	e := startEnvNoLimits(t)
	active := e.user(t, stytchemu.UserParams{Verified: true})
	var lastAddr string
	sendResp := func() proto.Message { return &consumerv1.MagicLinksServiceSendResponse{} }
	loginResp := func() proto.Message { return &consumerv1.MagicLinksServiceLoginOrCreateResponse{} }
	authResp := func() proto.Message { return &consumerv1.MagicLinksServiceAuthenticateResponse{} }
	sendPath := fixed("/v1/magic_links/email/send")
	loginPath := fixed("/v1/magic_links/email/login_or_create")
	authPath := fixed("/v1/magic_links/authenticate")

	runCases(t, e, []rpcCase{
		{
			name: "Send to an existing user", method: consumerMagicLinksSvc + "Send", verb: "POST", path: sendPath,
			req:  func(*testing.T) proto.Message { return &consumerv1.MagicLinksServiceSendRequest{Email: active.Email} },
			resp: sendResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.MagicLinksServiceSendResponse)
				assert.Equal(t, active.ID, r.GetUserId())
				assert.Equal(t, active.EmailID, r.GetEmailId())
				link := e.consumerMessage(t, active.Email, stytchemu.MethodMagicLink)
				assert.True(t, strings.HasPrefix(link.URL, defaultRedirect+"?"), "the default redirect: %q", link.URL)
			},
		},
		{
			name: "Send to the sandbox address", method: consumerMagicLinksSvc + "Send", verb: "POST", path: sendPath,
			req: func(*testing.T) proto.Message {
				return &consumerv1.MagicLinksServiceSendRequest{Email: stytchemu.SandboxEmail}
			},
			resp: sendResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				assert.Equal(t, stytchemu.SandboxUserID, msg.(*consumerv1.MagicLinksServiceSendResponse).GetUserId())
			},
		},
		{
			name: "Send to an unknown address", method: consumerMagicLinksSvc + "Send", verb: "POST", path: sendPath,
			req: func(*testing.T) proto.Message {
				return &consumerv1.MagicLinksServiceSendRequest{Email: email("nobody")}
			},
			resp: sendResp, code: codes.NotFound,
		},
		{
			name: "Send with a redirect outside the allowlist", method: consumerMagicLinksSvc + "Send", verb: "POST", path: sendPath,
			req: func(*testing.T) proto.Message {
				return &consumerv1.MagicLinksServiceSendRequest{Email: active.Email, LoginMagicLinkUrl: "https://evil.example/authenticate"}
			},
			resp: sendResp, code: codes.InvalidArgument, reason: "invalid_redirect_url",
			checkSt: func(t *testing.T, st *status.Status) {
				assert.Contains(t, st.Message(), "login_magic_link_url")
				assert.NotContains(t, st.Message(), "evil.example", "caller input is not echoed")
			},
		},
		{
			name: "Send with an invalid email (validation)", method: consumerMagicLinksSvc + "Send", verb: "POST", path: sendPath,
			req:  func(*testing.T) proto.Message { return &consumerv1.MagicLinksServiceSendRequest{Email: "nope"} },
			resp: sendResp, code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) { assertFieldViolation(t, st, "email") },
		},
		{
			name: "LoginOrCreate a new user with an allowed redirect", method: consumerMagicLinksSvc + "LoginOrCreate", verb: "POST", path: loginPath,
			req: func(*testing.T) proto.Message {
				lastAddr = email("signup")
				return &consumerv1.MagicLinksServiceLoginOrCreateRequest{Email: lastAddr, SignupMagicLinkUrl: otherRedirect}
			},
			resp: loginResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.MagicLinksServiceLoginOrCreateResponse)
				assert.True(t, r.GetUserCreated())
				assert.NotEmpty(t, r.GetUserId())
				link := e.consumerMessage(t, lastAddr, stytchemu.MethodMagicLink)
				assert.Equal(t, stytchemu.TemplateSignup, link.Template)
				assert.True(t, strings.HasPrefix(link.URL, otherRedirect+"?"), "link %q", link.URL)
			},
		},
		{
			name: "LoginOrCreate with a link lifetime above 10080 minutes (validation)", method: consumerMagicLinksSvc + "LoginOrCreate", verb: "POST", path: loginPath,
			req: func(*testing.T) proto.Message {
				return &consumerv1.MagicLinksServiceLoginOrCreateRequest{Email: active.Email, LoginExpirationMinutes: proto.Int32(10081)}
			},
			resp: loginResp, code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) { assertFieldViolation(t, st, "login_expiration_minutes") },
		},
		{
			svc: true, name: "Invite", method: consumerMagicLinksSvc + "Invite", verb: "POST", path: fixed("/v1/magic_links/email/invite"),
			req: func(t *testing.T) proto.Message {
				lastAddr = email("invitee")
				return &consumerv1.MagicLinksServiceInviteRequest{
					Email: lastAddr, Name: &consumerv1.Name{FirstName: "Grace"}, TrustedMetadata: mustStruct(t, map[string]any{"plan": "gold"}),
				}
			},
			resp: func() proto.Message { return &consumerv1.MagicLinksServiceInviteResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				assert.NotEmpty(t, msg.(*consumerv1.MagicLinksServiceInviteResponse).GetUserId())
				link := e.consumerMessage(t, lastAddr, stytchemu.MethodMagicLink)
				assert.Equal(t, stytchemu.TemplateInvite, link.Template)
			},
		},
		{
			svc: true, name: "RevokeInvite", method: consumerMagicLinksSvc + "RevokeInvite", verb: "POST", path: fixed("/v1/magic_links/email/revoke_invite"),
			req: func(t *testing.T) proto.Message {
				addr := email("revoked")
				_, err := e.consumer(t).CreateUser(stytchemu.UserParams{Email: addr, Pending: true})
				require.NoError(t, err)
				st := e.grpcSvc(t, consumerMagicLinksSvc+"Invite", &consumerv1.MagicLinksServiceInviteRequest{Email: addr}, &consumerv1.MagicLinksServiceInviteResponse{})
				require.Equal(t, codes.OK, st.Code(), st.Message())
				return &consumerv1.MagicLinksServiceRevokeInviteRequest{Email: addr}
			},
			resp: func() proto.Message { return &consumerv1.MagicLinksServiceRevokeInviteResponse{} }, code: codes.OK,
		},
		{
			name: "Authenticate the sandbox token with a session", method: consumerMagicLinksSvc + "Authenticate", verb: "POST", path: authPath,
			req: func(*testing.T) proto.Message {
				return &consumerv1.MagicLinksServiceAuthenticateRequest{Token: stytchemu.SandboxMagicLinkToken, SessionDurationMinutes: proto.Int32(60)}
			},
			resp: authResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.MagicLinksServiceAuthenticateResponse)
				assert.Equal(t, stytchemu.SandboxUserID, r.GetUserId())
				assert.NotEmpty(t, r.GetSessionToken())
				assert.NotEmpty(t, r.GetSessionJwt())
				assert.NotNil(t, r.GetSession().GetExpiresAt())
				assert.Equal(t, consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_MAGIC_LINK, r.GetSession().GetAuthenticationFactors()[0].GetType())
				assert.Equal(t, stytchemu.SandboxEmail, r.GetUser().GetEmails()[0].GetEmail())
			},
		},
		{
			name: "Authenticate without a duration starts no session", method: consumerMagicLinksSvc + "Authenticate", verb: "POST", path: authPath,
			req: func(*testing.T) proto.Message {
				return &consumerv1.MagicLinksServiceAuthenticateRequest{Token: stytchemu.SandboxMagicLinkToken}
			},
			resp: authResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.MagicLinksServiceAuthenticateResponse)
				assert.Empty(t, r.GetSessionToken())
				assert.Nil(t, r.GetSession())
				assert.Equal(t, stytchemu.SandboxUserID, r.GetUser().GetUserId())
			},
		},
		{
			name: "Authenticate a used token", method: consumerMagicLinksSvc + "Authenticate", verb: "POST", path: authPath,
			req: func(*testing.T) proto.Message {
				return &consumerv1.MagicLinksServiceAuthenticateRequest{Token: stytchemu.SandboxMagicLinkTokenUnauth}
			},
			resp: authResp, code: codes.Unauthenticated, reason: "unable_to_auth_magic_link",
		},
		{
			name: "Authenticate an unknown token answers the same", method: consumerMagicLinksSvc + "Authenticate", verb: "POST", path: authPath,
			req: func(*testing.T) proto.Message {
				return &consumerv1.MagicLinksServiceAuthenticateRequest{Token: stytchemu.SandboxMagicLinkTokenNotFound}
			},
			resp: authResp, code: codes.Unauthenticated, reason: "unable_to_auth_magic_link",
		},
		{
			name: "Authenticate without a token (validation)", method: consumerMagicLinksSvc + "Authenticate", verb: "POST", path: authPath,
			req:  func(*testing.T) proto.Message { return &consumerv1.MagicLinksServiceAuthenticateRequest{} },
			resp: authResp, code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) { assertFieldViolation(t, st, "token") },
		},
		{
			svc: true, name: "Create an embeddable link, then redeem it", method: consumerMagicLinksSvc + "Create", verb: "POST", path: fixed("/v1/magic_links"),
			req:  func(*testing.T) proto.Message { return &consumerv1.MagicLinksServiceCreateRequest{UserId: active.ID} },
			resp: func() proto.Message { return &consumerv1.MagicLinksServiceCreateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.MagicLinksServiceCreateResponse)
				require.NotEmpty(t, r.GetToken())
				auth := &consumerv1.MagicLinksServiceAuthenticateResponse{}
				st := e.grpcCall(t, consumerMagicLinksSvc+"Authenticate", &consumerv1.MagicLinksServiceAuthenticateRequest{Token: r.GetToken()}, auth)
				require.Equal(t, codes.OK, st.Code(), st.Message())
				assert.Equal(t, active.ID, auth.GetUserId())
			},
		},
		{
			svc: true, name: "Create for an unknown user", method: consumerMagicLinksSvc + "Create", verb: "POST", path: fixed("/v1/magic_links"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.MagicLinksServiceCreateRequest{UserId: "user-test-00000000-0000-4000-8000-000000000000"}
			},
			resp: func() proto.Message { return &consumerv1.MagicLinksServiceCreateResponse{} }, code: codes.NotFound, reason: "user_not_found",
		},
	})
}

// A public send cannot attach an address to somebody else's account: the request has no user_id,
// and a session it names must be genuine (Stytch checks it).
func TestConsumerSendAttachesOnlyWithTheUsersSession(t *testing.T) {
	e := startEnvNoLimits(t)
	u := e.user(t, stytchemu.UserParams{Verified: true})
	sess := e.userSession(t, u.ID)
	added := email("added")

	// The JSON API has no user_id to send.
	r := e.restCallNoCookies(t, "POST", "/v1/magic_links/email/send", nil, nil)
	require.Equal(t, 400, r.HTTP)
	r = e.restRaw(t, e.HTTP, "", "POST", "/v1/magic_links/email/send", strings.NewReader(`{"email":"`+added+`","user_id":"`+u.ID+`"}`), nil)
	require.Equal(t, 400, r.HTTP, "body: %s", r.Body)
	assert.Contains(t, string(r.Body), "user_id")

	// A forged session attaches nothing.
	st := e.grpcCall(t, consumerMagicLinksSvc+"Send", &consumerv1.MagicLinksServiceSendRequest{
		Email: added, Session: &consumerv1.MagicLinksServiceSendRequest_SessionToken{SessionToken: "not-a-session-token-000000000000000000000"},
	}, &consumerv1.MagicLinksServiceSendResponse{})
	require.NotEqual(t, codes.OK, st.Code())

	// The user's own session adds the address to that user, unverified until the link is used.
	resp := &consumerv1.MagicLinksServiceSendResponse{}
	st = e.grpcCall(t, consumerMagicLinksSvc+"Send", &consumerv1.MagicLinksServiceSendRequest{
		Email: added, Session: &consumerv1.MagicLinksServiceSendRequest_SessionToken{SessionToken: sess.Token},
	}, resp)
	require.Equal(t, codes.OK, st.Code(), st.Message())
	assert.Equal(t, u.ID, resp.GetUserId())
	got := &consumerv1.UsersServiceGetResponse{}
	require.Equal(t, codes.OK, e.grpcSvc(t, usersSvc+"Get", &consumerv1.UsersServiceGetRequest{UserId: u.ID}, got).Code())
	var emails []string
	for _, em := range got.GetUser().GetEmails() {
		emails = append(emails, em.GetEmail())
	}
	assert.Contains(t, emails, added)
}
