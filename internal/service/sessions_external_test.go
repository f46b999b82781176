package service_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

func fieldViolation(field string) func(*testing.T, *status.Status) {
	return func(t *testing.T, st *status.Status) { assertFieldViolation(t, st, field) }
}

// factorTypeOf returns the session's first factor of type typ, or nil.
func factorTypeOf(ms *b2bv1.MemberSession, typ b2bv1.AuthenticationFactorType) *b2bv1.AuthenticationFactor {
	for _, f := range ms.GetAuthenticationFactors() {
		if f.GetType() == typ {
			return f
		}
	}
	return nil
}

func TestSessionsAttest(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	m := e.member(t, org.ID, stytchemu.MemberParams{})
	mint := func(t *testing.T) string {
		tok, err := e.Emu.MintTrustedAuthToken(stytchemu.ExampleTrustedAuthProfileID, m.Email, org.ID, 0)
		require.NoError(t, err)
		return tok
	}
	path := fixed("/v1/b2b/sessions/attest")
	resp := func() proto.Message { return &b2bv1.SessionsServiceAttestResponse{} }
	var replay string
	runCases(t, e, []rpcCase{
		{
			name: "a trusted token gives a session", method: sessionsSvc + "Attest", verb: "POST", path: path,
			req: func(t *testing.T) proto.Message {
				replay = mint(t)
				return &b2bv1.SessionsServiceAttestRequest{ProfileId: stytchemu.ExampleTrustedAuthProfileID, Token: replay}
			},
			resp: resp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.SessionsServiceAttestResponse)
				assert.Equal(t, m.ID, r.GetMemberId())
				assert.NotEmpty(t, r.GetSessionJwt())
				assert.NotEmpty(t, r.GetSessionToken())
				assert.Equal(t, org.ID, r.GetOrganization().GetOrganizationId())
				f := factorTypeOf(r.GetMemberSession(), b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_TRUSTED_AUTH_TOKEN)
				require.NotNil(t, f, "the session carries the trusted_auth_token factor")
				assert.NotEmpty(t, f.GetTrustedAuthTokenFactor().GetTokenId())
			},
		},
		{
			name: "a replayed token", method: sessionsSvc + "Attest", verb: "POST", path: path,
			req: func(*testing.T) proto.Message {
				return &b2bv1.SessionsServiceAttestRequest{ProfileId: stytchemu.ExampleTrustedAuthProfileID, Token: replay}
			},
			resp: resp, code: codes.Unauthenticated, reason: "invalid_trusted_auth_token",
		},
		{
			name: "an unknown profile answers as a bad token", method: sessionsSvc + "Attest", verb: "POST", path: path,
			req: func(t *testing.T) proto.Message {
				return &b2bv1.SessionsServiceAttestRequest{ProfileId: "no-such-profile", Token: mint(t)}
			},
			resp: resp, code: codes.Unauthenticated, reason: "invalid_trusted_auth_token",
		},
		{
			name: "no token", method: sessionsSvc + "Attest", verb: "POST", path: path,
			req: func(*testing.T) proto.Message {
				return &b2bv1.SessionsServiceAttestRequest{ProfileId: stytchemu.ExampleTrustedAuthProfileID}
			},
			resp: resp, code: codes.InvalidArgument,
			checkSt: fieldViolation("token"),
		},
	})
}

func TestSessionsMigrate(t *testing.T) {
	var lastAuth string
	ui := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lastAuth = r.Header.Get("Authorization")
		switch lastAuth {
		case "Bearer external-good":
			_, _ = w.Write([]byte(`{"sub":"ext-1","email":"migrated@example.com","email_verified":true}`))
		case "Bearer external-stranger":
			_, _ = w.Write([]byte(`{"sub":"ext-2","email":"stranger@example.com"}`))
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(ui.Close)
	emu, consumer := apptest.DevEmulatorWith(t, stytchemu.WithUserInfoURL(ui.URL))
	e := startEnv(t, apptest.WithEmulator(emu), apptest.WithConsumerProject(consumer), apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION": "off"}))
	org := e.org(t, stytchemu.OrganizationParams{})
	m := e.member(t, org.ID, stytchemu.MemberParams{Email: "migrated@example.com"})
	path := fixed("/v1/b2b/sessions/migrate")
	resp := func() proto.Message { return &b2bv1.SessionsServiceMigrateResponse{} }
	migrate := func(tok string) func(*testing.T) proto.Message {
		return func(*testing.T) proto.Message {
			d := int32(30)
			return &b2bv1.SessionsServiceMigrateRequest{SessionToken: tok, OrganizationId: org.ID, SessionDurationMinutes: &d}
		}
	}
	runCases(t, e, []rpcCase{
		{
			name: "the provider's token gives the member a session", method: sessionsSvc + "Migrate", verb: "POST", path: path,
			req: migrate("external-good"), resp: resp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.SessionsServiceMigrateResponse)
				assert.Equal(t, "Bearer external-good", lastAuth, "Stytch passes the token to the UserInfo endpoint")
				assert.Equal(t, m.ID, r.GetMemberId())
				assert.NotEmpty(t, r.GetSessionJwt())
				assert.NotNil(t, factorTypeOf(r.GetMemberSession(), b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_IMPORTED))
			},
		},
		{
			name: "a token the provider refuses", method: sessionsSvc + "Migrate", verb: "POST", path: path,
			req: migrate("external-bad"), resp: resp, code: codes.Unauthenticated, reason: "invalid_migration_token",
		},
		{
			name: "an email with no member answers as a refused token", method: sessionsSvc + "Migrate", verb: "POST", path: path,
			req: migrate("external-stranger"), resp: resp, code: codes.Unauthenticated, reason: "invalid_migration_token",
		},
		{
			name: "no organization", method: sessionsSvc + "Migrate", verb: "POST", path: path,
			req: func(*testing.T) proto.Message {
				return &b2bv1.SessionsServiceMigrateRequest{SessionToken: "external-good"}
			},
			resp: resp, code: codes.InvalidArgument, checkSt: fieldViolation("organization_id"),
		},
	})
}

func TestSessionsAuthenticateImpersonation(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{MFAPolicy: "REQUIRED_FOR_ALL"})
	m := e.member(t, org.ID, stytchemu.MemberParams{})
	path := fixed("/v1/b2b/impersonation/authenticate")
	resp := func() proto.Message { return &b2bv1.SessionsServiceAuthenticateImpersonationResponse{} }
	var used string
	runCases(t, e, []rpcCase{
		{
			name: "an impersonation token gives a session naming the impersonator", method: sessionsSvc + "AuthenticateImpersonation", verb: "POST", path: path,
			req: func(t *testing.T) proto.Message {
				tok, err := e.Emu.CreateImpersonationToken(m.ID, "dashboard-member-42", "support@vendor.example")
				require.NoError(t, err)
				used = tok
				return &b2bv1.SessionsServiceAuthenticateImpersonationRequest{ImpersonationToken: tok}
			},
			resp: resp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.SessionsServiceAuthenticateImpersonationResponse)
				assert.Equal(t, m.ID, r.GetMemberId())
				assert.Equal(t, org.ID, r.GetOrganizationId())
				assert.Equal(t, "dashboard-member-42", r.GetImpersonatorId())
				assert.NotEmpty(t, r.GetSessionJwt(), "MFA is never required for impersonation")
				f := factorTypeOf(r.GetMemberSession(), b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_IMPERSONATED)
				require.NotNil(t, f)
				assert.Equal(t, "impersonation", f.GetDeliveryMethod())
				assert.Equal(t, "dashboard-member-42", f.GetImpersonatedFactor().GetImpersonatorId())
			},
		},
		{
			name: "a used token", method: sessionsSvc + "AuthenticateImpersonation", verb: "POST", path: path,
			req: func(*testing.T) proto.Message {
				return &b2bv1.SessionsServiceAuthenticateImpersonationRequest{ImpersonationToken: used}
			},
			resp: resp, code: codes.Unauthenticated, reason: "impersonation_token_not_found",
		},
		{
			name: "no token", method: sessionsSvc + "AuthenticateImpersonation", verb: "POST", path: path,
			req:  func(*testing.T) proto.Message { return &b2bv1.SessionsServiceAuthenticateImpersonationRequest{} },
			resp: resp, code: codes.InvalidArgument, checkSt: fieldViolation("impersonation_token"),
		},
	})

	// The audit: a log line and a span attribute name the impersonator, never the token.
	logs := e.App.Logs()
	assert.Contains(t, logs, "member impersonated")
	assert.Contains(t, logs, "dashboard-member-42")
	assert.NotContains(t, logs, used)
	assert.NotContains(t, logs, "support@vendor.example")
	found := false
	for _, s := range e.App.Spans.GetSpans() {
		for _, a := range s.Attributes {
			if string(a.Key) == "authsvc.impersonator_id" && a.Value.AsString() == "dashboard-member-42" {
				found = true
			}
			assert.NotEqual(t, used, a.Value.String(), "the token is in no span")
		}
	}
	assert.True(t, found, "a span names the impersonator")
}

// TestSessionsExchangeIntoSecondOrganization is the full switch: a member signed in to one
// organization exchanges the session into a second organization it belongs to.
func TestSessionsExchangeIntoSecondOrganization(t *testing.T) {
	e := startEnvNoLimits(t)
	orgA := e.org(t, stytchemu.OrganizationParams{})
	orgB := e.org(t, stytchemu.OrganizationParams{})
	addr := email("switch")
	a := e.member(t, orgA.ID, stytchemu.MemberParams{Email: addr})
	b := e.member(t, orgB.ID, stytchemu.MemberParams{Email: addr})
	s := e.session(t, orgA.ID, a.ID)
	path := fixed("/v1/b2b/sessions/exchange")
	resp := func() proto.Message { return &b2bv1.SessionsServiceExchangeResponse{} }
	runCases(t, e, []rpcCase{
		{
			name: "into the second organization", method: sessionsSvc + "Exchange", verb: "POST", path: path,
			req: func(*testing.T) proto.Message {
				return &b2bv1.SessionsServiceExchangeRequest{OrganizationId: orgB.ID, Credential: &b2bv1.SessionsServiceExchangeRequest_SessionToken{SessionToken: s.Token}}
			},
			resp: resp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.SessionsServiceExchangeResponse)
				assert.True(t, r.GetMemberAuthenticated())
				assert.Equal(t, b.ID, r.GetMemberId(), "the member of the second organization")
				assert.Equal(t, orgB.ID, r.GetMemberSession().GetOrganizationId())
				assert.Equal(t, orgB.ID, r.GetOrganization().GetOrganizationId())
				assert.NotEqual(t, s.ID, r.GetMemberSession().GetMemberSessionId(), "a new session")
				require.NotEmpty(t, r.GetSessionJwt())
				// The new JWT authenticates in the second organization.
				var auth b2bv1.SessionsServiceAuthenticateResponse
				st := e.grpcCall(t, sessionsSvc+"Authenticate", authJWT(r.GetSessionJwt()), &auth)
				require.Equal(t, codes.OK, st.Code(), "%v", st)
				assert.Equal(t, orgB.ID, auth.GetMemberSession().GetOrganizationId())
				assert.Equal(t, b.ID, auth.GetMemberSession().GetMemberId())
			},
		},
		{
			name: "into an organization the member is not in", method: sessionsSvc + "Exchange", verb: "POST", path: path,
			req: func(t *testing.T) proto.Message {
				other := e.org(t, stytchemu.OrganizationParams{})
				return &b2bv1.SessionsServiceExchangeRequest{OrganizationId: other.ID, Credential: &b2bv1.SessionsServiceExchangeRequest_SessionToken{SessionToken: s.Token}}
			},
			resp: resp, code: codes.NotFound,
		},
	})
}

func TestSessionsExchangeAccessToken(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{MFAPolicy: "REQUIRED_FOR_ALL"})
	m := e.member(t, org.ID, stytchemu.MemberParams{})
	ses := e.session(t, org.ID, m.ID)
	accessToken := func(fullAccess bool) string {
		return testkit.ConnectedAppAccessToken(t, e.Emu, ses.Token, fullAccess, "openid")
	}
	const method = sessionsSvc + "ExchangeAccessToken"
	path := fixed("/v1/b2b/sessions/exchange_access_token")
	resp := func() proto.Message { return &b2bv1.SessionsServiceExchangeAccessTokenResponse{} }
	exchange := func(tok func() string) func(*testing.T) proto.Message {
		return func(*testing.T) proto.Message {
			d := int32(30)
			return &b2bv1.SessionsServiceExchangeAccessTokenRequest{AccessToken: tok(), SessionDurationMinutes: &d}
		}
	}
	runCases(t, e, []rpcCase{
		{
			name: "an access token with full_access gives the member a session", method: method, verb: "POST", path: path,
			req: exchange(func() string { return accessToken(true) }), resp: resp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.SessionsServiceExchangeAccessTokenResponse)
				assert.Equal(t, m.ID, r.GetMemberId())
				assert.Equal(t, m.ID, r.GetMember().GetMemberId())
				assert.Equal(t, org.ID, r.GetOrganization().GetOrganizationId())
				require.NotEmpty(t, r.GetSessionToken(), "MFA is never required: a full session")
				require.NotEmpty(t, r.GetSessionJwt())
				assert.NotEqual(t, ses.Token, r.GetSessionToken(), "a new session")
				f := factorTypeOf(r.GetMemberSession(), b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_OAUTH)
				require.NotNil(t, f, "the session carries the access token exchange factor")
				assert.NotEmpty(t, f.GetOauthAccessTokenExchangeFactor().GetClientId())
				auth := &b2bv1.SessionsServiceAuthenticateResponse{}
				st := e.grpcCall(t, sessionsSvc+"Authenticate", &b2bv1.SessionsServiceAuthenticateRequest{
					Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: r.GetSessionToken()},
				}, auth)
				require.Equal(t, codes.OK, st.Code(), st.Message())
				assert.Equal(t, m.ID, auth.GetMemberSession().GetMemberId(), "the session is a real one")
				assert.Equal(t, b2bv1.SessionVerifier_SESSION_VERIFIER_REMOTE, auth.GetVerifiedBy(), "a session token: Stytch knows the session")
			},
		},
		{
			name: "an access token without full_access", method: method, verb: "POST", path: path,
			req: exchange(func() string { return accessToken(false) }), resp: resp,
			code: codes.PermissionDenied, reason: "access_token_missing_full_access_scope",
		},
		{
			name: "garbage", method: method, verb: "POST", path: path,
			req: exchange(func() string { return "eyJ.not.an-access-token" }), resp: resp,
			code: codes.Unauthenticated, reason: "invalid_access_token",
		},
		{
			name: "a session JWT is no access token", method: method, verb: "POST", path: path,
			req: exchange(func() string { return ses.JWT }), resp: resp,
			code: codes.Unauthenticated, reason: "invalid_access_token",
		},
		{
			name: "no token", method: method, verb: "POST", path: path,
			req:  func(*testing.T) proto.Message { return &b2bv1.SessionsServiceExchangeAccessTokenRequest{} },
			resp: resp, code: codes.InvalidArgument, checkSt: fieldViolation("access_token"),
		},
	})

	t.Run("REST sets the session cookies", func(t *testing.T) {
		r := &b2bv1.SessionsServiceExchangeAccessTokenResponse{}
		res := e.restCall(t, "POST", path(nil), &b2bv1.SessionsServiceExchangeAccessTokenRequest{AccessToken: accessToken(true)}, r)
		require.Equal(t, http.StatusOK, res.HTTP, "body: %s", res.Body)
		assertSessionCookies(t, res, r.GetSessionToken(), r.GetSessionJwt())
		auth, ar := e.authenticateWithCookies(t)
		require.Equal(t, http.StatusOK, ar.HTTP, "body: %s", ar.Body)
		assert.Equal(t, m.ID, auth.GetMemberSession().GetMemberId(), "the cookies authenticate")
		assert.Equal(t, r.GetMemberSession().GetMemberSessionId(), auth.GetMemberSession().GetMemberSessionId())
	})
}
