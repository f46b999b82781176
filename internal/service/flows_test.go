package service_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// The flows below run over REST as a browser would: JSON bodies, and the cookie jar carrying the
// stytch_session / stytch_session_jwt cookies that authsvc sets.

// tokenFromLink reads the token query parameter of a magic link, as the redirect page would.
func tokenFromLink(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	tok := u.Query().Get("token")
	require.NotEmpty(t, tok)
	return tok
}

func cookiesOf(h http.Header) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: h}).Cookies() {
		out[c.Name] = c
	}
	return out
}

// assertSessionCookies checks that a response set both session cookies as a browser needs them.
func assertSessionCookies(t *testing.T, r restResult, token, jwt string) {
	t.Helper()
	c := cookiesOf(r.Header)
	require.Contains(t, c, "stytch_session")
	require.Contains(t, c, "stytch_session_jwt")
	assert.Equal(t, token, c["stytch_session"].Value)
	assert.Equal(t, jwt, c["stytch_session_jwt"].Value)
	for _, k := range []string{"stytch_session", "stytch_session_jwt"} {
		assert.True(t, c[k].HttpOnly, k)
		assert.Equal(t, http.SameSiteLaxMode, c[k].SameSite, k)
		assert.Positive(t, c[k].MaxAge, k)
	}
}

// authenticateWithCookies calls Sessions.Authenticate with an empty body: the cookies are the
// credential.
func (e *testEnv) authenticateWithCookies(t *testing.T) (*b2bv1.SessionsServiceAuthenticateResponse, restResult) {
	t.Helper()
	resp := &b2bv1.SessionsServiceAuthenticateResponse{}
	r := e.restCall(t, "POST", "/v1/b2b/sessions/authenticate", &b2bv1.SessionsServiceAuthenticateRequest{}, resp)
	return resp, r
}

func TestFlowMagicLinkLogin(t *testing.T) {
	e := startEnv(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	addr := email("browser")

	r := e.restCall(t, "POST", "/v1/b2b/magic_links/email/login_or_signup", &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: addr}, &b2bv1.MagicLinksServiceLoginOrSignupResponse{})
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)

	link := e.lastLink(t, addr)
	auth := &b2bv1.MagicLinksServiceAuthenticateResponse{}
	r = e.restCall(t, "POST", "/v1/b2b/magic_links/authenticate", &b2bv1.MagicLinksServiceAuthenticateRequest{MagicLinksToken: tokenFromLink(t, link.URL)}, auth)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	require.True(t, auth.GetMemberAuthenticated())
	assertSessionCookies(t, r, auth.GetSessionToken(), auth.GetSessionJwt())

	// The browser checks its session with the cookies alone: verified locally, no call to Stytch.
	e.Emu.ResetRequests()
	sess, r := e.authenticateWithCookies(t)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	assert.Equal(t, b2bv1.SessionVerifier_SESSION_VERIFIER_LOCAL, sess.GetVerifiedBy())
	assert.Equal(t, auth.GetMemberSession().GetMemberSessionId(), sess.GetMemberSession().GetMemberSessionId())
	assert.Equal(t, 0, e.Emu.Requests("POST /v1/b2b/sessions/authenticate"))

	// Logout with the cookies alone; the cookies are cleared.
	r = e.restCall(t, "POST", "/v1/b2b/sessions/revoke", &b2bv1.SessionsServiceRevokeRequest{}, &b2bv1.SessionsServiceRevokeResponse{})
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	cleared := cookiesOf(r.Header)
	require.Contains(t, cleared, "stytch_session")
	assert.Negative(t, cleared["stytch_session"].MaxAge)
	assert.Negative(t, cleared["stytch_session_jwt"].MaxAge)
	base, err := url.Parse(e.BaseURL)
	require.NoError(t, err)
	assert.Empty(t, e.HTTP.Jar.Cookies(base), "the browser dropped the cookies")

	// The session no longer authenticates: not with the cookies (gone), not with the old JWT (refused
	// locally at once), not with the old token (Stytch).
	_, r = e.authenticateWithCookies(t)
	assert.Equal(t, http.StatusBadRequest, r.HTTP)
	r = e.restCall(t, "POST", "/v1/b2b/sessions/authenticate", authJWT(auth.GetSessionJwt()), nil)
	assert.Equal(t, http.StatusUnauthorized, r.HTTP)
	assert.Equal(t, "revoked", errorInfo(r.Status).GetReason())
	r = e.restCall(t, "POST", "/v1/b2b/sessions/authenticate", authToken(auth.GetSessionToken()), nil)
	assert.Equal(t, http.StatusUnauthorized, r.HTTP)
	assert.Equal(t, `Bearer realm="authsvc"`, r.Header.Get("WWW-Authenticate"))
}

func TestFlowMFAWithSMS(t *testing.T) {
	e := startEnv(t)
	org := e.org(t, stytchemu.OrganizationParams{MFAPolicy: "REQUIRED_FOR_ALL"})
	m := e.member(t, org.ID, stytchemu.MemberParams{})
	const phone = "+15005550007"

	r := e.restCall(t, "POST", "/v1/b2b/magic_links/email/login_or_signup", &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: m.Email}, nil)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	auth := &b2bv1.MagicLinksServiceAuthenticateResponse{}
	r = e.restCall(t, "POST", "/v1/b2b/magic_links/authenticate", &b2bv1.MagicLinksServiceAuthenticateRequest{MagicLinksToken: e.lastLink(t, m.Email).Token}, auth)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	require.False(t, auth.GetMemberAuthenticated(), "MFA is required")
	require.NotEmpty(t, auth.GetIntermediateSessionToken())
	require.NotNil(t, auth.GetMfaRequired())
	assert.Empty(t, auth.GetMfaRequired().GetMemberOptions().GetMfaPhoneNumber(), "no phone enrolled yet")
	assert.Empty(t, cookiesOf(r.Header), "no session yet, so no cookies")

	send := &b2bv1.OTPsServiceSmsSendResponse{}
	r = e.restCall(t, "POST", "/v1/b2b/otps/sms/send", &b2bv1.OTPsServiceSmsSendRequest{
		OrganizationId: org.ID, MemberId: m.ID, MfaPhoneNumber: phone,
		Credential: &b2bv1.OTPsServiceSmsSendRequest_IntermediateSessionToken{IntermediateSessionToken: auth.GetIntermediateSessionToken()},
	}, send)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)

	done := &b2bv1.OTPsServiceSmsAuthenticateResponse{}
	r = e.restCall(t, "POST", "/v1/b2b/otps/sms/authenticate", &b2bv1.OTPsServiceSmsAuthenticateRequest{
		OrganizationId: org.ID, MemberId: m.ID, Code: e.lastCode(t, phone),
		Credential: &b2bv1.OTPsServiceSmsAuthenticateRequest_IntermediateSessionToken{IntermediateSessionToken: auth.GetIntermediateSessionToken()},
	}, done)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	assertSessionCookies(t, r, done.GetSessionToken(), done.GetSessionJwt())
	assert.Equal(t, phone, done.GetMember().GetMfaPhoneNumber())

	sess, r := e.authenticateWithCookies(t)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	var types []b2bv1.AuthenticationFactorType
	for _, f := range sess.GetMemberSession().GetAuthenticationFactors() {
		types = append(types, f.GetType())
	}
	assert.ElementsMatch(t, []b2bv1.AuthenticationFactorType{
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_MAGIC_LINK,
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_OTP,
	}, types)

	// The intermediate session was consumed.
	r = e.restCall(t, "POST", "/v1/b2b/otps/sms/authenticate", &b2bv1.OTPsServiceSmsAuthenticateRequest{
		OrganizationId: org.ID, MemberId: m.ID, Code: e.lastCode(t, phone),
		Credential: &b2bv1.OTPsServiceSmsAuthenticateRequest_IntermediateSessionToken{IntermediateSessionToken: auth.GetIntermediateSessionToken()},
	}, nil)
	assert.Equal(t, http.StatusUnauthorized, r.HTTP)
}

func TestFlowDiscovery(t *testing.T) {
	e := startEnv(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	m := e.member(t, org.ID, stytchemu.MemberParams{})

	discover := func(t *testing.T, addr string) *b2bv1.MagicLinksServiceDiscoveryAuthenticateResponse {
		r := e.restCall(t, "POST", "/v1/b2b/magic_links/email/discovery/send", &b2bv1.MagicLinksServiceDiscoverySendRequest{EmailAddress: addr}, nil)
		require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
		d := &b2bv1.MagicLinksServiceDiscoveryAuthenticateResponse{}
		r = e.restCall(t, "POST", "/v1/b2b/magic_links/discovery/authenticate", &b2bv1.MagicLinksServiceDiscoveryAuthenticateRequest{DiscoveryMagicLinksToken: tokenFromLink(t, e.lastLink(t, addr).URL)}, d)
		require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
		require.NotEmpty(t, d.GetIntermediateSessionToken())
		return d
	}

	t.Run("exchange into an existing organization", func(t *testing.T) {
		d := discover(t, m.Email)
		list := &b2bv1.DiscoveryServiceListOrganizationsResponse{}
		r := e.restCall(t, "POST", "/v1/b2b/discovery/organizations", &b2bv1.DiscoveryServiceListOrganizationsRequest{
			Credential: &b2bv1.DiscoveryServiceListOrganizationsRequest_IntermediateSessionToken{IntermediateSessionToken: d.GetIntermediateSessionToken()},
		}, list)
		require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
		require.Len(t, list.GetDiscoveredOrganizations(), 1)
		picked := list.GetDiscoveredOrganizations()[0].GetOrganization().GetOrganizationId()
		assert.Equal(t, org.ID, picked)

		ex := &b2bv1.DiscoveryServiceExchangeIntermediateSessionResponse{}
		r = e.restCall(t, "POST", "/v1/b2b/discovery/intermediate_sessions/exchange", &b2bv1.DiscoveryServiceExchangeIntermediateSessionRequest{IntermediateSessionToken: d.GetIntermediateSessionToken(), OrganizationId: picked}, ex)
		require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
		assertSessionCookies(t, r, ex.GetSessionToken(), ex.GetSessionJwt())

		sess, r := e.authenticateWithCookies(t)
		require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
		assert.Equal(t, m.ID, sess.GetMemberSession().GetMemberId())

		// With a session, ListOrganizations needs no body credential: the cookies are used.
		r = e.restCall(t, "POST", "/v1/b2b/discovery/organizations", &b2bv1.DiscoveryServiceListOrganizationsRequest{}, list)
		require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
		assert.Equal(t, m.Email, list.GetEmailAddress())
	})

	t.Run("create an organization", func(t *testing.T) {
		d := discover(t, email("founder"))
		assert.Empty(t, d.GetDiscoveredOrganizations(), "a new address belongs nowhere")
		cr := &b2bv1.DiscoveryServiceCreateOrganizationResponse{}
		r := e.restCall(t, "POST", "/v1/b2b/discovery/organizations/create", &b2bv1.DiscoveryServiceCreateOrganizationRequest{IntermediateSessionToken: d.GetIntermediateSessionToken(), OrganizationName: "Newco"}, cr)
		require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
		assertSessionCookies(t, r, cr.GetSessionToken(), cr.GetSessionJwt())
		sess, r := e.authenticateWithCookies(t)
		require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
		assert.Equal(t, cr.GetOrganization().GetOrganizationId(), sess.GetMemberSession().GetOrganizationId())
		assert.Contains(t, sess.GetMemberSession().GetRoles(), stytchemu.RoleAdmin)
	})
}

func TestFlowEmailOTPLogin(t *testing.T) {
	e := startEnv(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	addr := email("otp-browser")

	send := &b2bv1.OTPsServiceEmailLoginOrSignupResponse{}
	r := e.restCall(t, "POST", "/v1/b2b/otps/email/login_or_signup", &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: addr}, send)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	assert.True(t, send.GetMemberCreated())

	auth := &b2bv1.OTPsServiceEmailAuthenticateResponse{}
	r = e.restCall(t, "POST", "/v1/b2b/otps/email/authenticate", &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: org.ID, EmailAddress: addr, Code: e.lastCode(t, addr)}, auth)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	require.True(t, auth.GetMemberAuthenticated())
	assert.Equal(t, b2bv1.MemberStatus_MEMBER_STATUS_ACTIVE, auth.GetMember().GetStatus())
	assertSessionCookies(t, r, auth.GetSessionToken(), auth.GetSessionJwt())

	sess, r := e.authenticateWithCookies(t)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	assert.Equal(t, send.GetMemberId(), sess.GetMemberSession().GetMemberId())
	assert.Equal(t, b2bv1.SessionVerifier_SESSION_VERIFIER_LOCAL, sess.GetVerifiedBy())
}

func TestFlowM2M(t *testing.T) {
	e := startEnv(t)

	created := &m2mv1.CreateClientResponse{}
	r := e.restSvc(t, "POST", "/v1/m2m/clients", &m2mv1.CreateClientRequest{Scopes: []string{"read:members"}, ClientName: "reporting"}, created)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	id, oldSecret := created.GetM2MClient().GetClientId(), created.GetClientSecret()

	issue := func(secret string) (*m2mv1.IssueTokenResponse, restResult) {
		tok := &m2mv1.IssueTokenResponse{}
		return tok, e.restCallNoCookies(t, "POST", "/v1/m2m/token", &m2mv1.IssueTokenRequest{ClientId: id, ClientSecret: secret}, tok)
	}
	tok, r := issue(oldSecret)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)

	authenticate := func(scopes ...string) restResult {
		return e.restCallNoCookies(t, "POST", "/v1/m2m/authenticate", &m2mv1.AuthenticateTokenRequest{AccessToken: tok.GetAccessToken(), RequiredScopes: scopes}, &m2mv1.AuthenticateTokenResponse{})
	}
	assert.Equal(t, http.StatusOK, authenticate("read:members").HTTP)
	denied := authenticate("write:members")
	assert.Equal(t, http.StatusForbidden, denied.HTTP)
	assert.Equal(t, "insufficient_scope", errorInfo(denied.Status).GetReason())

	start := &m2mv1.RotateSecretStartResponse{}
	r = e.restSvc(t, "POST", "/v1/m2m/clients/"+id+"/secrets/rotate/start", &m2mv1.RotateSecretStartRequest{ClientId: id}, start)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	newSecret := start.GetNextClientSecret()
	_, r = issue(newSecret)
	require.Equal(t, http.StatusOK, r.HTTP, "the next secret works during the rotation")
	_, r = issue(oldSecret)
	require.Equal(t, http.StatusOK, r.HTTP, "so does the old one")

	r = e.restSvc(t, "POST", "/v1/m2m/clients/"+id+"/secrets/rotate", &m2mv1.RotateSecretRequest{ClientId: id}, &m2mv1.RotateSecretResponse{})
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)

	// The old secret is refused at once, although a token for it sits in authsvc's cache.
	_, r = issue(oldSecret)
	assert.Equal(t, http.StatusUnauthorized, r.HTTP)
	assert.Equal(t, codes.Unauthenticated, r.Status.Code())
	assert.Equal(t, "invalid_client", errorInfo(r.Status).GetReason())
	fresh, r := issue(newSecret)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	assert.NotEmpty(t, fresh.GetAccessToken())
}

// An admin revoking another member's session from the browser stays logged in: only a logout of the
// session the cookies hold clears them.
func TestFlowAdminRevokesAnotherSessionKeepsOwnCookies(t *testing.T) {
	e := startEnv(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	admin := e.member(t, org.ID, stytchemu.MemberParams{Roles: []string{"stytch_admin"}})
	victim := e.member(t, org.ID, stytchemu.MemberParams{})
	other := e.session(t, org.ID, victim.ID)

	// The admin logs in through the browser flow, so the jar holds the admin's cookies.
	r := e.restCall(t, "POST", "/v1/b2b/magic_links/email/login_or_signup", &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: admin.Email}, nil)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	r = e.restCall(t, "POST", "/v1/b2b/magic_links/authenticate", &b2bv1.MagicLinksServiceAuthenticateRequest{MagicLinksToken: e.lastLink(t, admin.Email).Token}, nil)
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)

	r = e.restCall(t, "POST", "/v1/b2b/sessions/revoke", &b2bv1.SessionsServiceRevokeRequest{
		Target: &b2bv1.SessionsServiceRevokeRequest_MemberSessionId{MemberSessionId: other.ID},
	}, &b2bv1.SessionsServiceRevokeResponse{})
	require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
	assert.Empty(t, cookiesOf(r.Header), "revoking someone else's session must not touch the caller's cookies")
	assert.Empty(t, r.Header.Values("Grpc-Metadata-Authsvc-Clear-Session-Cookies"), "internal metadata stays internal")

	sess, r := e.authenticateWithCookies(t)
	require.Equal(t, http.StatusOK, r.HTTP, "the admin is still logged in: %s", r.Body)
	assert.Equal(t, admin.ID, sess.GetMemberSession().GetMemberId())
}
