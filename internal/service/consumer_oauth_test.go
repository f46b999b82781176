package service_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/service"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

const oauthSvc = "/authsvc.consumer.v1.OAuthService/"

// The consumer OAuth flows: authsvc builds the start URL, a browser (testkit.OAuthConsent, real
// HTTP through the emulator's start endpoint and consent page) brings back the token, authsvc
// redeems it. Every test runs over gRPC and over REST as a browser with a cookie jar.

// oauthPKCE is a verifier and its S256 challenge.
func oauthPKCE(seed string) (verifier, challenge string) {
	verifier = fmt.Sprintf("verifier-%s-%d-0123456789abcdefghijklmnopqrstuvwxyz", seed, uniq.Add(1))
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// oauthToken runs StartURL through authsvc and the browser's part of the flow for email; it
// returns the token on the redirect URL.
func (e *testEnv) oauthToken(t *testing.T, rest bool, start *consumerv1.OAuthServiceStartURLRequest, email string) string {
	t.Helper()
	resp := &consumerv1.OAuthServiceStartURLResponse{}
	e.consumerCall(t, rest, oauthSvc+"StartURL", "/v1/oauth/start_url", start, resp)
	back := testkit.OAuthConsent(t, resp.GetUrl(), email)
	assert.Equal(t, apptest.DefaultRedirectURL, back.Scheme+"://"+back.Host+back.Path, "the allowlist's default redirect URL")
	return back.Query().Get("token")
}

// oauthAuthenticate redeems a token and returns the answer and its status (OK on success).
func (e *testEnv) oauthAuthenticate(t *testing.T, rest bool, req *consumerv1.OAuthServiceAuthenticateRequest) (*consumerv1.OAuthServiceAuthenticateResponse, codes.Code, string, restResult) {
	t.Helper()
	resp := &consumerv1.OAuthServiceAuthenticateResponse{}
	if rest {
		r := e.restCall(t, "POST", "/v1/oauth/authenticate", req, resp)
		reason := ""
		if info := errorInfo(r.Status); info != nil {
			reason = info.GetReason()
		}
		return resp, r.Status.Code(), reason, r
	}
	st := e.grpcCall(t, oauthSvc+"Authenticate", req, resp)
	reason := ""
	if info := errorInfo(st); info != nil {
		reason = info.GetReason()
	}
	return resp, st.Code(), reason, restResult{}
}

func TestConsumerOAuthRoundTrip(t *testing.T) {
	for _, rest := range []bool{false, true} {
		t.Run(map[bool]string{false: "grpc", true: "rest"}[rest], func(t *testing.T) {
			e := startEnvNoLimits(t)
			addr := email("oauth")

			// Google, with PKCE: a wrong verifier is refused and does not spend the token.
			verifier, challenge := oauthPKCE("google")
			tok := e.oauthToken(t, rest, &consumerv1.OAuthServiceStartURLRequest{
				Provider: consumerv1.IdentityProvider_IDENTITY_PROVIDER_GOOGLE, CodeChallenge: challenge, CustomScopes: []string{"calendar.readonly"},
			}, addr)
			_, code, reason, _ := e.oauthAuthenticate(t, rest, &consumerv1.OAuthServiceAuthenticateRequest{Token: tok, CodeVerifier: "wrong-" + verifier})
			assert.Equal(t, codes.InvalidArgument, code)
			assert.Equal(t, "pkce_mismatch", reason)

			google, code, _, r := e.oauthAuthenticate(t, rest, &consumerv1.OAuthServiceAuthenticateRequest{
				Token: tok, CodeVerifier: verifier, SessionDurationMinutes: proto.Int32(60),
			})
			require.Equal(t, codes.OK, code)
			userID := google.GetUserId()
			assert.Equal(t, "Google", google.GetProviderType())
			assert.NotEmpty(t, google.GetProviderSubject())
			assert.NotEmpty(t, google.GetProviderValues().GetAccessToken())
			assert.NotEmpty(t, google.GetProviderValues().GetIdToken(), "Google is OpenID Connect")
			assert.Contains(t, google.GetProviderValues().GetScopes(), "calendar.readonly")
			assert.NotNil(t, google.GetProviderValues().GetExpiresAt())
			require.Len(t, google.GetUser().GetProviders(), 1)
			assert.Equal(t, google.GetOauthUserRegistrationId(), google.GetUser().GetProviders()[0].GetOauthUserRegistrationId())
			assert.Equal(t, addr, google.GetUser().GetEmails()[0].GetEmail())
			f := google.GetSession().GetAuthenticationFactors()
			require.Len(t, f, 1)
			assert.Equal(t, consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_OAUTH, f[0].GetType())
			assert.Equal(t, "oauth_google", f[0].GetDeliveryMethod())
			assert.Equal(t, google.GetOauthUserRegistrationId(), f[0].GetOauthFactor().GetId())
			assert.Equal(t, google.GetProviderSubject(), f[0].GetOauthFactor().GetProviderSubject())
			if rest {
				assertSessionCookies(t, r, google.GetSessionToken(), google.GetSessionJwt())
			}

			// The token is single use: a replay is refused like any bad token.
			_, code, reason, _ = e.oauthAuthenticate(t, rest, &consumerv1.OAuthServiceAuthenticateRequest{Token: tok, CodeVerifier: verifier})
			assert.Equal(t, codes.Unauthenticated, code)
			assert.Equal(t, "unable_to_auth_oauth_token", reason)

			// A second provider, attached by the user's session: Attach names the user by the
			// session (over REST, the cookies the login set; over gRPC, its token in the request),
			// and the GitHub account, with an address of its own, lands on the same user.
			attachReq := &consumerv1.OAuthServiceAttachRequest{Provider: consumerv1.IdentityProvider_IDENTITY_PROVIDER_GITHUB}
			if !rest {
				attachReq.Session = &consumerv1.OAuthServiceAttachRequest_SessionToken{SessionToken: google.GetSessionToken()}
			}
			attach := &consumerv1.OAuthServiceAttachResponse{}
			e.consumerCall(t, rest, oauthSvc+"Attach", "/v1/oauth/attach", attachReq, attach)
			require.NotEmpty(t, attach.GetOauthAttachToken())
			tok = e.oauthToken(t, rest, &consumerv1.OAuthServiceStartURLRequest{
				Provider: consumerv1.IdentityProvider_IDENTITY_PROVIDER_GITHUB, OauthAttachToken: attach.GetOauthAttachToken(),
			}, email("oauth-gh"))
			github, code, _, _ := e.oauthAuthenticate(t, rest, &consumerv1.OAuthServiceAuthenticateRequest{
				Token: tok, Session: &consumerv1.OAuthServiceAuthenticateRequest_SessionToken{SessionToken: google.GetSessionToken()},
				SessionDurationMinutes: proto.Int32(60),
			})
			require.Equal(t, codes.OK, code)
			assert.Equal(t, userID, github.GetUserId())
			assert.Equal(t, "GitHub", github.GetProviderType())
			assert.Empty(t, github.GetProviderValues().GetIdToken(), "GitHub is not OpenID Connect")
			assert.Equal(t, google.GetSession().GetSessionId(), github.GetSession().GetSessionId(), "the session was extended")
			var methods []string
			for _, f := range github.GetSession().GetAuthenticationFactors() {
				methods = append(methods, f.GetDeliveryMethod())
			}
			assert.ElementsMatch(t, []string{"oauth_google", "oauth_github"}, methods)

			// Users.Get shows both providers; DeleteOAuthRegistration removes one.
			got := &consumerv1.UsersServiceGetResponse{}
			if rest {
				res := e.restSvc(t, "GET", "/v1/users/"+userID, nil, got)
				require.Equal(t, http.StatusOK, res.HTTP, "%s", res.Body)
			} else {
				st := e.grpcSvc(t, usersSvc+"Get", &consumerv1.UsersServiceGetRequest{UserId: userID}, got)
				require.Equal(t, codes.OK, st.Code(), st.Message())
			}
			var types []string
			for _, p := range got.GetUser().GetProviders() {
				types = append(types, p.GetProviderType())
			}
			assert.Equal(t, []string{"Google", "GitHub"}, types)
			del := &consumerv1.UsersServiceDeleteOAuthRegistrationResponse{}
			regID := google.GetOauthUserRegistrationId()
			if rest {
				res := e.restSvc(t, "DELETE", "/v1/users/oauth/"+regID, nil, del)
				require.Equal(t, http.StatusOK, res.HTTP, "%s", res.Body)
			} else {
				st := e.grpcSvc(t, usersSvc+"DeleteOAuthRegistration", &consumerv1.UsersServiceDeleteOAuthRegistrationRequest{OauthUserRegistrationId: regID}, del)
				require.Equal(t, codes.OK, st.Code(), st.Message())
			}
			require.Len(t, del.GetUser().GetProviders(), 1)
			assert.Equal(t, "GitHub", del.GetUser().GetProviders()[0].GetProviderType())
		})
	}
}

// Every provider of the API completes a flow through authsvc and the emulator, and its session
// factor carries the registration (oauth_factor) under Stytch's delivery method.
func TestConsumerOAuthEveryProvider(t *testing.T) {
	e := startEnvNoLimits(t)
	values := consumerv1.IdentityProvider(0).Descriptor().Values()
	for i := 1; i < values.Len(); i++ {
		p := consumerv1.IdentityProvider(values.Get(i).Number())
		t.Run(p.String(), func(t *testing.T) {
			tok := e.oauthToken(t, false, &consumerv1.OAuthServiceStartURLRequest{Provider: p}, email("every"))
			r, code, _, _ := e.oauthAuthenticate(t, false, &consumerv1.OAuthServiceAuthenticateRequest{Token: tok, SessionDurationMinutes: proto.Int32(5)})
			require.Equal(t, codes.OK, code)
			f := r.GetSession().GetAuthenticationFactors()
			require.Len(t, f, 1)
			assert.Equal(t, "oauth_"+strings.ToLower(strings.TrimPrefix(p.String(), "IDENTITY_PROVIDER_")), f[0].GetDeliveryMethod())
			assert.Equal(t, r.GetOauthUserRegistrationId(), f[0].GetOauthFactor().GetId())
			assert.Equal(t, r.GetProviderSubject(), f[0].GetOauthFactor().GetProviderSubject())
			assert.Equal(t, r.GetProviderType(), r.GetUser().GetProviders()[0].GetProviderType())
		})
	}
}

func TestConsumerOAuthRefusals(t *testing.T) {
	e := startEnvNoLimits(t)
	startResp := func() proto.Message { return &consumerv1.OAuthServiceStartURLResponse{} }
	attachResp := func() proto.Message { return &consumerv1.OAuthServiceAttachResponse{} }
	runCases(t, e, []rpcCase{
		{
			name: "StartURL without a provider", method: oauthSvc + "StartURL", verb: "POST", path: fixed("/v1/oauth/start_url"),
			req:  func(*testing.T) proto.Message { return &consumerv1.OAuthServiceStartURLRequest{} },
			resp: startResp, code: codes.InvalidArgument,
		},
		{
			name: "StartURL with a redirect URL off the allowlist", method: oauthSvc + "StartURL", verb: "POST", path: fixed("/v1/oauth/start_url"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.OAuthServiceStartURLRequest{Provider: consumerv1.IdentityProvider_IDENTITY_PROVIDER_APPLE, LoginRedirectUrl: "https://evil.example.net/cb"}
			},
			resp: startResp, code: codes.InvalidArgument, reason: "invalid_redirect_url",
		},
		{
			name: "Authenticate an unknown token", method: oauthSvc + "Authenticate", verb: "POST", path: fixed("/v1/oauth/authenticate"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.OAuthServiceAuthenticateRequest{Token: "oauth-token-that-was-never-issued-0000000"}
			},
			resp: func() proto.Message { return &consumerv1.OAuthServiceAuthenticateResponse{} }, code: codes.Unauthenticated, reason: "unable_to_auth_oauth_token",
		},
		{
			name: "Attach as a service without naming the user", svc: true, method: oauthSvc + "Attach", verb: "POST", path: fixed("/v1/oauth/attach"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.OAuthServiceAttachRequest{Provider: consumerv1.IdentityProvider_IDENTITY_PROVIDER_GITHUB}
			},
			resp: attachResp, code: codes.InvalidArgument,
		},
		{
			name: "Attach a user by ID as a service", svc: true, method: oauthSvc + "Attach", verb: "POST", path: fixed("/v1/oauth/attach"),
			req: func(t *testing.T) proto.Message {
				return &consumerv1.OAuthServiceAttachRequest{Provider: consumerv1.IdentityProvider_IDENTITY_PROVIDER_GITHUB, UserId: e.user(t, stytchemu.UserParams{}).ID}
			},
			resp: attachResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				assert.NotEmpty(t, msg.(*consumerv1.OAuthServiceAttachResponse).GetOauthAttachToken())
			},
		},
	})
}

// StartURL needs the project's public token; without one it says which setting to set, and
// calls nothing.
func TestConsumerOAuthStartURLNeedsThePublicToken(t *testing.T) {
	s := service.NewConsumerOAuth(nil, "", service.RedirectPolicy{}, slog.New(slog.DiscardHandler))
	_, err := s.StartURL(t.Context(), &consumerv1.OAuthServiceStartURLRequest{Provider: consumerv1.IdentityProvider_IDENTITY_PROVIDER_GOOGLE})
	st := status.Convert(err)
	assert.Equal(t, codes.FailedPrecondition, st.Code())
	assert.Contains(t, st.Message(), "STYTCH_CONSUMER_PUBLIC_TOKEN")
}

// OAuth token guessing from one IP spends the per-IP failure budget, and the next guess is
// refused before Stytch.
func TestConsumerOAuthGuessingFromOneIPRefusedBeforeStytch(t *testing.T) {
	e := startEnv(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION_LIMITS": "check_failures_ip=3/10m"}))
	guess := func(i int) *consumerv1.OAuthServiceAuthenticateRequest {
		return &consumerv1.OAuthServiceAuthenticateRequest{Token: fmt.Sprintf("guessed-oauth-token-%d-000000000000000000", i)}
	}
	for i := range 3 {
		st := e.grpcCall(t, oauthSvc+"Authenticate", guess(i), &consumerv1.OAuthServiceAuthenticateResponse{})
		require.Equal(t, codes.Unauthenticated, st.Code(), "guess %d: %s", i, st.Message())
	}
	before := e.consumer(t).Requests("POST /v1/oauth/authenticate")
	st := e.grpcCall(t, oauthSvc+"Authenticate", guess(3), &consumerv1.OAuthServiceAuthenticateResponse{})
	assert.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
	r := e.restCallNoCookies(t, "POST", "/v1/oauth/authenticate", guess(4), nil)
	assert.Equal(t, http.StatusTooManyRequests, r.HTTP, "body: %s", r.Body)
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
	assert.Equal(t, before, e.consumer(t).Requests("POST /v1/oauth/authenticate"), "refused before Stytch")
}
