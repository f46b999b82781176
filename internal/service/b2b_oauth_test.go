package service_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/service"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

const b2bOAuthSvc = "/authsvc.b2b.v1.OAuthService/"

// The B2B OAuth flows: authsvc builds the start URL, a browser (testkit.OAuthConsentAs: real HTTP
// through the emulator's start endpoint and its stand-in consent page) brings back the token,
// authsvc redeems it. Every test runs over gRPC and over REST as a browser with a cookie jar.

var oauthTransports = map[string]bool{"grpc": false, "rest": true}

// b2bOAuthCall calls an OAuthService RPC over gRPC, or over REST as a browser (the env's cookie
// jar), and returns the status and (REST) the response.
func (e *testEnv) b2bOAuthCall(t *testing.T, rest bool, rpc, path string, req, resp proto.Message) (*status.Status, restResult) {
	t.Helper()
	if rest {
		r := e.restCall(t, "POST", path, req, resp)
		return r.Status, r
	}
	return e.grpcCall(t, b2bOAuthSvc+rpc, req, resp), restResult{}
}

// b2bOAuthToken runs StartURL through authsvc and the browser's part of the flow as the account
// (email, and optionally name, subject, tenant); it returns the URL the browser comes back to.
func (e *testEnv) b2bOAuthToken(t *testing.T, rest bool, start *b2bv1.OAuthServiceStartURLRequest, tokenType string, account url.Values) *url.URL {
	t.Helper()
	resp := &b2bv1.OAuthServiceStartURLResponse{}
	st, _ := e.b2bOAuthCall(t, rest, "StartURL", "/v1/b2b/oauth/start_url", start, resp)
	require.Equal(t, codes.OK, st.Code(), st.Message())
	back := testkit.OAuthConsentAs(t, resp.GetUrl(), tokenType, account)
	assert.Equal(t, apptest.DefaultRedirectURL, back.Scheme+"://"+back.Host+back.Path, "the allowlist's default redirect URL")
	return back
}

func reasonOf(st *status.Status) string {
	if info := errorInfo(st); info != nil {
		return info.GetReason()
	}
	return ""
}

// An OAuth login end to end: a new person of an allowed domain is JIT-provisioned through Google
// with PKCE (a wrong verifier refused without spending the token), gets a session (cookies over
// REST), and the token is refused the second time; an existing member signs in by the
// organization's slug through Microsoft; a service reads the provider tokens, a member may not.
func TestB2BOAuthLoginRoundTrip(t *testing.T) {
	e := startEnvNoLimits(t)
	for name, rest := range oauthTransports {
		t.Run(name, func(t *testing.T) {
			domain := fmt.Sprintf("oauth-%s-%d.example", name, uniq.Add(1))
			org := e.org(t, stytchemu.OrganizationParams{EmailJITProvisioning: "RESTRICTED", EmailAllowedDomains: []string{domain}})
			addr := fmt.Sprintf("olive@%s", domain)

			verifier, challenge := oauthPKCE("b2b-google")
			back := e.b2bOAuthToken(t, rest, &b2bv1.OAuthServiceStartURLRequest{
				Provider: b2bv1.IdentityProvider_IDENTITY_PROVIDER_GOOGLE, OrganizationId: org.ID,
				PkceCodeChallenge: challenge, CustomScopes: []string{"calendar.readonly"}, ProviderPrompt: "select_account",
			}, "oauth", url.Values{"email": {addr}, "name": {"Olive Oauth"}})
			tok := back.Query().Get("token")

			const authPath = "/v1/b2b/oauth/authenticate"
			st, _ := e.b2bOAuthCall(t, rest, "Authenticate", authPath,
				&b2bv1.OAuthServiceAuthenticateRequest{OauthToken: tok, PkceCodeVerifier: "wrong-" + verifier}, &b2bv1.OAuthServiceAuthenticateResponse{})
			assert.Equal(t, codes.InvalidArgument, st.Code(), st.Message())
			assert.Equal(t, "pkce_mismatch", reasonOf(st))

			auth := &b2bv1.OAuthServiceAuthenticateResponse{}
			st, r := e.b2bOAuthCall(t, rest, "Authenticate", authPath, &b2bv1.OAuthServiceAuthenticateRequest{
				OauthToken: tok, PkceCodeVerifier: verifier, SessionDurationMinutes: proto.Int32(60),
			}, auth)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.True(t, auth.GetMemberAuthenticated())
			assert.Equal(t, org.ID, auth.GetOrganizationId())
			assert.Equal(t, addr, auth.GetMember().GetEmailAddress(), "JIT-provisioned by the allowed domain")
			assert.Equal(t, "Olive Oauth", auth.GetMember().GetName())
			assert.Equal(t, auth.GetMember().GetMemberId(), auth.GetMemberId())
			assert.NotEmpty(t, auth.GetSessionToken())
			assert.NotEmpty(t, auth.GetSessionJwt())
			assert.Empty(t, auth.GetIntermediateSessionToken())
			assert.Equal(t, "Google", auth.GetProviderType())
			assert.NotEmpty(t, auth.GetProviderSubject())
			pv := auth.GetProviderValues()
			assert.NotEmpty(t, pv.GetAccessToken())
			assert.NotEmpty(t, pv.GetIdToken(), "Google is OpenID Connect")
			assert.Contains(t, pv.GetScopes(), "calendar.readonly")
			assert.NotNil(t, pv.GetExpiresAt())
			f := factorTypeOf(auth.GetMemberSession(), b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_OAUTH)
			require.NotNil(t, f)
			assert.Equal(t, "oauth_google", f.GetDeliveryMethod())
			assert.Equal(t, auth.GetProviderSubject(), f.GetOauthFactor().GetProviderSubject())
			if rest {
				assertSessionCookies(t, r, auth.GetSessionToken(), auth.GetSessionJwt())
				sess, r := e.authenticateWithCookies(t)
				require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
				assert.Equal(t, auth.GetMemberId(), sess.GetMemberSession().GetMemberId(), "the cookies are the OAuth session")
			}

			// The token is single use: a replay is refused like any bad token.
			st, _ = e.b2bOAuthCall(t, rest, "Authenticate", authPath,
				&b2bv1.OAuthServiceAuthenticateRequest{OauthToken: tok, PkceCodeVerifier: verifier}, &b2bv1.OAuthServiceAuthenticateResponse{})
			assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
			assert.Equal(t, "unable_to_auth_oauth_token", reasonOf(st))

			// An existing member, the organization named by its slug, through Microsoft: the login
			// redirect URL, no PKCE.
			m := e.member(t, org.ID, stytchemu.MemberParams{})
			back = e.b2bOAuthToken(t, rest, &b2bv1.OAuthServiceStartURLRequest{
				Provider: b2bv1.IdentityProvider_IDENTITY_PROVIDER_MICROSOFT, OrganizationSlug: org.Slug, LoginRedirectUrl: apptest.DefaultRedirectURL,
			}, "oauth", url.Values{"email": {m.Email}})
			ms := &b2bv1.OAuthServiceAuthenticateResponse{}
			st, _ = e.b2bOAuthCall(t, rest, "Authenticate", authPath, &b2bv1.OAuthServiceAuthenticateRequest{OauthToken: back.Query().Get("token")}, ms)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, m.ID, ms.GetMemberId())
			assert.Equal(t, "Microsoft", ms.GetProviderType())

			// The provider tokens: a service with read:members reads them (the refresh token only
			// on request); a member session, even the member's own, may not.
			tokens := &b2bv1.OAuthServiceGetProviderTokensResponse{}
			req := &b2bv1.OAuthServiceGetProviderTokensRequest{
				OrganizationId: org.ID, MemberId: auth.GetMemberId(), Provider: b2bv1.IdentityProvider_IDENTITY_PROVIDER_GOOGLE, IncludeRefreshToken: true,
			}
			tokensPath := "/v1/b2b/organizations/" + org.ID + "/members/" + auth.GetMemberId() + "/oauth_providers/IDENTITY_PROVIDER_GOOGLE"
			if rest {
				r := e.restSvc(t, "GET", tokensPath+"?include_refresh_token=true", nil, tokens)
				require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
				r = e.restWith(t, &http.Client{}, auth.GetSessionToken(), "GET", tokensPath, nil, nil)
				assert.Equal(t, http.StatusForbidden, r.HTTP, "body: %s", r.Body)
			} else {
				st = e.grpcSvc(t, b2bOAuthSvc+"GetProviderTokens", req, tokens)
				require.Equal(t, codes.OK, st.Code(), st.Message())
				st = e.grpcAs(t, auth.GetSessionToken(), b2bOAuthSvc+"GetProviderTokens", req, &b2bv1.OAuthServiceGetProviderTokensResponse{})
				assert.Equal(t, codes.PermissionDenied, st.Code(), st.Message())
			}
			assert.Equal(t, "Google", tokens.GetProviderType())
			assert.Equal(t, auth.GetProviderSubject(), tokens.GetProviderSubject())
			assert.Equal(t, pv.GetAccessToken(), tokens.GetAccessToken())
			assert.Equal(t, pv.GetIdToken(), tokens.GetIdToken())
			assert.Equal(t, pv.GetRefreshToken(), tokens.GetRefreshToken())
			assert.Positive(t, tokens.GetAccessTokenExpiresIn())
		})
	}
}

// A discovery OAuth flow: the token (PKCE-bound, single use) becomes an intermediate session and
// the organizations the address belongs to, and the intermediate session enters one of them.
func TestB2BOAuthDiscoveryRoundTrip(t *testing.T) {
	e := startEnvNoLimits(t)
	for name, rest := range oauthTransports {
		t.Run(name, func(t *testing.T) {
			addr := email("oauth-discovery")
			orgA := e.org(t, stytchemu.OrganizationParams{})
			orgB := e.org(t, stytchemu.OrganizationParams{})
			m := e.member(t, orgA.ID, stytchemu.MemberParams{Email: addr})
			e.member(t, orgB.ID, stytchemu.MemberParams{Email: addr})

			verifier, challenge := oauthPKCE("b2b-discovery")
			back := e.b2bOAuthToken(t, rest, &b2bv1.OAuthServiceStartURLRequest{
				Provider: b2bv1.IdentityProvider_IDENTITY_PROVIDER_HUBSPOT, Discovery: true, PkceCodeChallenge: challenge,
			}, "discovery_oauth", url.Values{"email": {addr}, "tenant": {"4242"}, "name": {"Dee Discovery"}})
			tok := back.Query().Get("token")

			const path = "/v1/b2b/oauth/discovery/authenticate"
			st, _ := e.b2bOAuthCall(t, rest, "DiscoveryAuthenticate", path,
				&b2bv1.OAuthServiceDiscoveryAuthenticateRequest{DiscoveryOauthToken: tok, PkceCodeVerifier: "wrong-" + verifier}, &b2bv1.OAuthServiceDiscoveryAuthenticateResponse{})
			assert.Equal(t, codes.InvalidArgument, st.Code(), st.Message())
			assert.Equal(t, "pkce_mismatch", reasonOf(st))

			d := &b2bv1.OAuthServiceDiscoveryAuthenticateResponse{}
			st, r := e.b2bOAuthCall(t, rest, "DiscoveryAuthenticate", path,
				&b2bv1.OAuthServiceDiscoveryAuthenticateRequest{DiscoveryOauthToken: tok, PkceCodeVerifier: verifier}, d)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			require.NotEmpty(t, d.GetIntermediateSessionToken())
			assert.Equal(t, addr, d.GetEmailAddress())
			assert.Equal(t, "HubSpot", d.GetProviderType())
			assert.Equal(t, "4242", d.GetProviderTenantId())
			assert.Equal(t, []string{"4242"}, d.GetProviderTenantIds())
			assert.Equal(t, "Dee Discovery", d.GetFullName())
			var orgs []string
			for _, o := range d.GetDiscoveredOrganizations() {
				orgs = append(orgs, o.GetOrganization().GetOrganizationId())
			}
			assert.ElementsMatch(t, []string{orgA.ID, orgB.ID}, orgs)
			if rest {
				assert.Empty(t, cookiesOf(r.Header), "an intermediate session sets no cookies")
			}

			st, _ = e.b2bOAuthCall(t, rest, "DiscoveryAuthenticate", path,
				&b2bv1.OAuthServiceDiscoveryAuthenticateRequest{DiscoveryOauthToken: tok, PkceCodeVerifier: verifier}, &b2bv1.OAuthServiceDiscoveryAuthenticateResponse{})
			assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
			assert.Equal(t, "unable_to_auth_oauth_token", reasonOf(st))

			// The intermediate session enters orgA with the OAuth factor.
			x := &b2bv1.DiscoveryServiceExchangeIntermediateSessionResponse{}
			xreq := &b2bv1.DiscoveryServiceExchangeIntermediateSessionRequest{IntermediateSessionToken: d.GetIntermediateSessionToken(), OrganizationId: orgA.ID}
			if rest {
				r := e.restCall(t, "POST", "/v1/b2b/discovery/intermediate_sessions/exchange", xreq, x)
				require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
			} else {
				st = e.grpcCall(t, "/authsvc.b2b.v1.DiscoveryService/ExchangeIntermediateSession", xreq, x)
				require.Equal(t, codes.OK, st.Code(), st.Message())
			}
			assert.True(t, x.GetMemberAuthenticated())
			assert.Equal(t, m.ID, x.GetMemberId())
			f := factorTypeOf(x.GetMemberSession(), b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_OAUTH)
			require.NotNil(t, f)
			assert.Equal(t, "oauth_hubspot", f.GetDeliveryMethod())
		})
	}
}

// An organization that requires MFA: the OAuth login answers an intermediate session with
// mfa_required (and no session, so no cookies); the SMS code Stytch sent completes it into a
// session with both factors.
func TestB2BOAuthMFARequired(t *testing.T) {
	e := startEnvNoLimits(t)
	for name, rest := range oauthTransports {
		t.Run(name, func(t *testing.T) {
			org := e.org(t, stytchemu.OrganizationParams{MFAPolicy: "REQUIRED_FOR_ALL"})
			ph := phone()
			m := e.member(t, org.ID, stytchemu.MemberParams{MFAPhoneNumber: ph})
			back := e.b2bOAuthToken(t, rest, &b2bv1.OAuthServiceStartURLRequest{
				Provider: b2bv1.IdentityProvider_IDENTITY_PROVIDER_GITHUB, OrganizationId: org.ID,
			}, "oauth", url.Values{"email": {m.Email}, "tenant": {"acme-gh"}})

			auth := &b2bv1.OAuthServiceAuthenticateResponse{}
			st, r := e.b2bOAuthCall(t, rest, "Authenticate", "/v1/b2b/oauth/authenticate",
				&b2bv1.OAuthServiceAuthenticateRequest{OauthToken: back.Query().Get("token")}, auth)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.False(t, auth.GetMemberAuthenticated())
			require.NotEmpty(t, auth.GetIntermediateSessionToken())
			assert.Empty(t, auth.GetSessionToken())
			assert.Empty(t, auth.GetSessionJwt())
			assert.Nil(t, auth.GetMemberSession())
			require.NotNil(t, auth.GetMfaRequired())
			assert.Equal(t, ph, auth.GetMfaRequired().GetMemberOptions().GetMfaPhoneNumber())
			assert.Equal(t, b2bv1.MfaMethod_MFA_METHOD_SMS_OTP, auth.GetMfaRequired().GetSecondaryAuthInitiated())
			assert.Equal(t, m.ID, auth.GetMemberId())
			assert.Equal(t, "GitHub", auth.GetProviderType())
			assert.NotEmpty(t, auth.GetProviderValues().GetAccessToken())
			if rest {
				assert.Empty(t, cookiesOf(r.Header), "no session yet, so no cookies")
			}

			done := &b2bv1.OTPsServiceSmsAuthenticateResponse{}
			sreq := &b2bv1.OTPsServiceSmsAuthenticateRequest{
				OrganizationId: org.ID, MemberId: m.ID, Code: e.lastCode(t, ph),
				Credential: &b2bv1.OTPsServiceSmsAuthenticateRequest_IntermediateSessionToken{IntermediateSessionToken: auth.GetIntermediateSessionToken()},
			}
			if rest {
				r := e.restCall(t, "POST", "/v1/b2b/otps/sms/authenticate", sreq, done)
				require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
				assertSessionCookies(t, r, done.GetSessionToken(), done.GetSessionJwt())
			} else {
				st = e.grpcCall(t, "/authsvc.b2b.v1.OTPsService/SmsAuthenticate", sreq, done)
				require.Equal(t, codes.OK, st.Code(), st.Message())
			}
			var methods []string
			for _, f := range done.GetMemberSession().GetAuthenticationFactors() {
				methods = append(methods, f.GetDeliveryMethod())
			}
			assert.Contains(t, methods, "oauth_github")
			assert.Len(t, methods, 2, "the OAuth factor and the SMS code: %v", methods)
		})
	}
}

func TestB2BOAuthRefusals(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	m := e.member(t, org.ID, stytchemu.MemberParams{})
	google := b2bv1.IdentityProvider_IDENTITY_PROVIDER_GOOGLE
	startPath := fixed("/v1/b2b/oauth/start_url")
	startResp := func() proto.Message { return &b2bv1.OAuthServiceStartURLResponse{} }
	start := func(name, field string, req *b2bv1.OAuthServiceStartURLRequest) rpcCase {
		return rpcCase{
			name: "StartURL " + name, method: b2bOAuthSvc + "StartURL", verb: "POST", path: startPath,
			req: func(*testing.T) proto.Message { return req }, resp: startResp, code: codes.InvalidArgument, checkSt: fieldViolation(field),
		}
	}
	authResp := func() proto.Message { return &b2bv1.OAuthServiceAuthenticateResponse{} }
	discResp := func() proto.Message { return &b2bv1.OAuthServiceDiscoveryAuthenticateResponse{} }
	tokensPath := func(req proto.Message) string {
		r := req.(*b2bv1.OAuthServiceGetProviderTokensRequest)
		return "/v1/b2b/organizations/" + r.GetOrganizationId() + "/members/" + r.GetMemberId() + "/oauth_providers/" + r.GetProvider().String()
	}
	runCases(t, e, []rpcCase{
		start("without a provider", "provider", &b2bv1.OAuthServiceStartURLRequest{OrganizationId: org.ID}),
		start("with an unknown provider", "provider", &b2bv1.OAuthServiceStartURLRequest{Provider: 99, OrganizationId: org.ID}),
		start("of a login without an organization", "organization_id", &b2bv1.OAuthServiceStartURLRequest{Provider: google}),
		start("of a login with both organization fields", "organization_id", &b2bv1.OAuthServiceStartURLRequest{
			Provider: google, OrganizationId: org.ID, OrganizationSlug: org.Slug,
		}),
		start("of a login with a discovery redirect URL", "discovery_redirect_url", &b2bv1.OAuthServiceStartURLRequest{
			Provider: google, OrganizationId: org.ID, DiscoveryRedirectUrl: apptest.DefaultRedirectURL,
		}),
		start("of discovery naming an organization", "organization_id", &b2bv1.OAuthServiceStartURLRequest{Provider: google, Discovery: true, OrganizationId: org.ID}),
		start("of discovery with a login redirect URL", "login_redirect_url", &b2bv1.OAuthServiceStartURLRequest{
			Provider: google, Discovery: true, LoginRedirectUrl: apptest.DefaultRedirectURL,
		}),
		start("with an organization that is not one path segment", "organization_id", &b2bv1.OAuthServiceStartURLRequest{Provider: google, OrganizationId: "a/b"}),
		start("with a bad slug", "organization_slug", &b2bv1.OAuthServiceStartURLRequest{Provider: google, OrganizationSlug: "x"}),
		start("with a short PKCE challenge", "pkce_code_challenge", &b2bv1.OAuthServiceStartURLRequest{Provider: google, OrganizationId: org.ID, PkceCodeChallenge: "short"}),
		start("with a scope holding a space", "custom_scopes[0]", &b2bv1.OAuthServiceStartURLRequest{
			Provider: google, OrganizationId: org.ID, CustomScopes: []string{"a b"},
		}),
		start("with a redirect URL that is no URL", "login_redirect_url", &b2bv1.OAuthServiceStartURLRequest{
			Provider: google, OrganizationId: org.ID, LoginRedirectUrl: "not a url",
		}),
		{
			name: "StartURL with a redirect URL off the allowlist", method: b2bOAuthSvc + "StartURL", verb: "POST", path: startPath,
			req: func(*testing.T) proto.Message {
				return &b2bv1.OAuthServiceStartURLRequest{Provider: google, Discovery: true, DiscoveryRedirectUrl: "https://evil.example.net/cb"}
			},
			resp: startResp, code: codes.InvalidArgument, reason: "invalid_redirect_url",
		},
		{
			name: "Authenticate without a token", method: b2bOAuthSvc + "Authenticate", verb: "POST", path: fixed("/v1/b2b/oauth/authenticate"),
			req:  func(*testing.T) proto.Message { return &b2bv1.OAuthServiceAuthenticateRequest{} },
			resp: authResp, code: codes.InvalidArgument, checkSt: fieldViolation("oauth_token"),
		},
		{
			name: "Authenticate with a session too short", method: b2bOAuthSvc + "Authenticate", verb: "POST", path: fixed("/v1/b2b/oauth/authenticate"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.OAuthServiceAuthenticateRequest{OauthToken: "oauth-token-x", SessionDurationMinutes: proto.Int32(1)}
			},
			resp: authResp, code: codes.InvalidArgument, checkSt: fieldViolation("session_duration_minutes"),
		},
		{
			name: "Authenticate with an unsupported locale", method: b2bOAuthSvc + "Authenticate", verb: "POST", path: fixed("/v1/b2b/oauth/authenticate"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.OAuthServiceAuthenticateRequest{OauthToken: "oauth-token-x", Locale: b2bv1.Locale_LOCALE_IT}
			},
			resp: authResp, code: codes.InvalidArgument, checkSt: fieldViolation("locale"),
		},
		{
			name: "Authenticate an unknown token", method: b2bOAuthSvc + "Authenticate", verb: "POST", path: fixed("/v1/b2b/oauth/authenticate"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.OAuthServiceAuthenticateRequest{OauthToken: "oauth-token-that-was-never-issued-0000000"}
			},
			resp: authResp, code: codes.Unauthenticated, reason: "unable_to_auth_oauth_token",
		},
		{
			name: "DiscoveryAuthenticate without a token", method: b2bOAuthSvc + "DiscoveryAuthenticate", verb: "POST", path: fixed("/v1/b2b/oauth/discovery/authenticate"),
			req:  func(*testing.T) proto.Message { return &b2bv1.OAuthServiceDiscoveryAuthenticateRequest{} },
			resp: discResp, code: codes.InvalidArgument, checkSt: fieldViolation("discovery_oauth_token"),
		},
		{
			name: "DiscoveryAuthenticate an unknown token", method: b2bOAuthSvc + "DiscoveryAuthenticate", verb: "POST", path: fixed("/v1/b2b/oauth/discovery/authenticate"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.OAuthServiceDiscoveryAuthenticateRequest{DiscoveryOauthToken: "oauth-token-that-was-never-issued-0000000"}
			},
			resp: discResp, code: codes.Unauthenticated, reason: "unable_to_auth_oauth_token",
		},
		{
			name: "GetProviderTokens without a provider", svc: true, noBody: true, method: b2bOAuthSvc + "GetProviderTokens", verb: "GET", path: tokensPath,
			req: func(*testing.T) proto.Message {
				return &b2bv1.OAuthServiceGetProviderTokensRequest{OrganizationId: org.ID, MemberId: m.ID}
			},
			resp: func() proto.Message { return &b2bv1.OAuthServiceGetProviderTokensResponse{} }, code: codes.InvalidArgument, checkSt: fieldViolation("provider"),
		},
		{
			name: "GetProviderTokens of a member who never signed in with the provider", svc: true, noBody: true,
			method: b2bOAuthSvc + "GetProviderTokens", verb: "GET", path: tokensPath,
			req: func(*testing.T) proto.Message {
				return &b2bv1.OAuthServiceGetProviderTokensRequest{OrganizationId: org.ID, MemberId: m.ID, Provider: b2bv1.IdentityProvider_IDENTITY_PROVIDER_SLACK}
			},
			resp: func() proto.Message { return &b2bv1.OAuthServiceGetProviderTokensResponse{} }, code: codes.NotFound, reason: "oauth_registration_not_found",
		},
	})
}

// StartURL needs the B2B project's public token; without one it says which setting to set, and
// calls nothing.
func TestB2BOAuthStartURLNeedsThePublicToken(t *testing.T) {
	s := service.NewB2BOAuth(nil, "", service.RedirectPolicy{}, slog.New(slog.DiscardHandler))
	_, err := s.StartURL(t.Context(), &b2bv1.OAuthServiceStartURLRequest{Provider: b2bv1.IdentityProvider_IDENTITY_PROVIDER_GOOGLE, Discovery: true})
	st := status.Convert(err)
	assert.Equal(t, codes.FailedPrecondition, st.Code())
	assert.Contains(t, st.Message(), "STYTCH_PUBLIC_TOKEN")
}

// OAuth token guessing from one IP spends the per-IP failure budget, login and discovery tokens
// alike, and the next guess is refused before Stytch.
func TestB2BOAuthGuessingFromOneIPRefusedBeforeStytch(t *testing.T) {
	e := startEnv(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION_LIMITS": "check_failures_ip=3/10m"}))
	guess := func(i int) string { return fmt.Sprintf("guessed-oauth-token-%d-000000000000000000", i) }
	for i := range 2 {
		st := e.grpcCall(t, b2bOAuthSvc+"Authenticate", &b2bv1.OAuthServiceAuthenticateRequest{OauthToken: guess(i)}, &b2bv1.OAuthServiceAuthenticateResponse{})
		require.Equal(t, codes.Unauthenticated, st.Code(), "guess %d: %s", i, st.Message())
	}
	st := e.grpcCall(t, b2bOAuthSvc+"DiscoveryAuthenticate", &b2bv1.OAuthServiceDiscoveryAuthenticateRequest{DiscoveryOauthToken: guess(2)}, &b2bv1.OAuthServiceDiscoveryAuthenticateResponse{})
	require.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
	before := e.Emu.Requests("POST /v1/b2b/oauth/authenticate") + e.Emu.Requests("POST /v1/b2b/oauth/discovery/authenticate")
	st = e.grpcCall(t, b2bOAuthSvc+"Authenticate", &b2bv1.OAuthServiceAuthenticateRequest{OauthToken: guess(3)}, &b2bv1.OAuthServiceAuthenticateResponse{})
	assert.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
	r := e.restCallNoCookies(t, "POST", "/v1/b2b/oauth/discovery/authenticate", &b2bv1.OAuthServiceDiscoveryAuthenticateRequest{DiscoveryOauthToken: guess(4)}, nil)
	assert.Equal(t, http.StatusTooManyRequests, r.HTTP, "body: %s", r.Body)
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
	assert.Equal(t, before, e.Emu.Requests("POST /v1/b2b/oauth/authenticate")+e.Emu.Requests("POST /v1/b2b/oauth/discovery/authenticate"), "refused before Stytch")
}
