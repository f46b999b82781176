package service_test

import (
	"net/http"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit/webauthnkey"
)

const webauthnSvc = "/authsvc.consumer.v1.WebAuthnService/"

// The dev-mode consumer project accepts the origin of its redirect URL, http://localhost:3000, for
// the relying party ID localhost.
const (
	waDomain = "localhost"
	waOrigin = "http://localhost:3000"
)

// waRPC is one WebAuthnService call: its gRPC method and its REST verb and path.
type waRPC struct{ method, verb, path string }

var (
	waRegisterStart     = waRPC{"RegisterStart", http.MethodPost, "/v1/webauthn/register/start"}
	waRegister          = waRPC{"Register", http.MethodPost, "/v1/webauthn/register"}
	waAuthenticateStart = waRPC{"AuthenticateStart", http.MethodPost, "/v1/webauthn/authenticate/start"}
	waAuthenticate      = waRPC{"Authenticate", http.MethodPost, "/v1/webauthn/authenticate"}
)

// waCaller calls WebAuthnService through one transport, with a bearer credential (none when
// empty); REST calls also check that the HTTP status matches the gRPC code.
type waCaller func(t *testing.T, bearer string, rpc waRPC, req, resp proto.Message) *status.Status

func transports(e *testEnv) map[string]waCaller {
	return map[string]waCaller{
		"grpc": func(t *testing.T, bearer string, rpc waRPC, req, resp proto.Message) *status.Status {
			t.Helper()
			return e.grpcAs(t, bearer, webauthnSvc+rpc.method, req, resp)
		},
		"rest": func(t *testing.T, bearer string, rpc waRPC, req, resp proto.Message) *status.Status {
			t.Helper()
			var body proto.Message
			if rpc.verb != http.MethodGet {
				body = req
			}
			r := e.restWith(t, &http.Client{}, bearer, rpc.verb, rpc.path, body, resp)
			assert.Equal(t, runtime.HTTPStatusFromCode(r.Status.Code()), r.HTTP, "body: %s", r.Body)
			return r.Status
		},
	}
}

func newAuthenticator(t *testing.T, alg webauthnkey.Alg, opts webauthnkey.Options) *webauthnkey.Authenticator {
	t.Helper()
	k, err := webauthnkey.New(alg, opts)
	require.NoError(t, err)
	return k
}

// register runs both registration steps as bearer (userID empty: the bearer's own user) and
// returns the completed registration.
func register(t *testing.T, call waCaller, bearer, userID string, key *webauthnkey.Authenticator) *consumerv1.WebAuthnServiceRegisterResponse {
	t.Helper()
	start := &consumerv1.WebAuthnServiceRegisterStartResponse{}
	st := call(t, bearer, waRegisterStart, &consumerv1.WebAuthnServiceRegisterStartRequest{
		UserId: userID, Domain: waDomain, UserAgent: "test-browser/1", UseBase64UrlEncoding: true,
		AuthenticatorType: consumerv1.AuthenticatorType_AUTHENTICATOR_TYPE_CROSS_PLATFORM,
	}, start)
	require.Equal(t, codes.OK, st.Code(), st.Message())
	cred, err := key.Register(start.GetPublicKeyCredentialCreationOptions(), waOrigin)
	require.NoError(t, err)
	res := &consumerv1.WebAuthnServiceRegisterResponse{}
	st = call(t, bearer, waRegister, &consumerv1.WebAuthnServiceRegisterRequest{UserId: userID, PublicKeyCredential: cred}, res)
	require.Equal(t, codes.OK, st.Code(), st.Message())
	return res
}

// assertion starts a login for userID (a passkey login when empty) and signs it at origin.
func assertion(t *testing.T, call waCaller, userID string, key *webauthnkey.Authenticator, origin string) string {
	t.Helper()
	start := &consumerv1.WebAuthnServiceAuthenticateStartResponse{}
	st := call(t, "", waAuthenticateStart, &consumerv1.WebAuthnServiceAuthenticateStartRequest{UserId: userID, Domain: waDomain, UseBase64UrlEncoding: true}, start)
	require.Equal(t, codes.OK, st.Code(), st.Message())
	a, err := key.Assert(start.GetPublicKeyCredentialRequestOptions(), origin)
	require.NoError(t, err)
	return a
}

func login(t *testing.T, call waCaller, a string) (*consumerv1.WebAuthnServiceAuthenticateResponse, *status.Status) {
	t.Helper()
	res := &consumerv1.WebAuthnServiceAuthenticateResponse{}
	st := call(t, "", waAuthenticate, &consumerv1.WebAuthnServiceAuthenticateRequest{PublicKeyCredential: a, SessionDurationMinutes: proto.Int32(30)}, res)
	return res, st
}

func requireWebAuthnRefused(t *testing.T, st *status.Status) {
	t.Helper()
	require.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
	ei := errorInfo(st)
	require.NotNil(t, ei)
	assert.Equal(t, "unable_to_auth_webauthn_registration", ei.GetReason())
}

// A user adds a passkey to their own account with their session, then logs in with it: over gRPC
// and over REST, with ES256 and RS256 keys, none and packed attestation. The session records the
// factor, the user object shows the registration, and the assertion is accepted once.
func TestConsumerWebAuthnRegisterAndLogin(t *testing.T) {
	e := startEnvNoLimits(t)
	keys := map[string]webauthnkey.Options{
		"ES256 none":   {Format: webauthnkey.FormatNone},
		"RS256 packed": {Format: webauthnkey.FormatPacked},
	}
	algs := map[string]webauthnkey.Alg{"ES256 none": webauthnkey.ES256, "RS256 packed": webauthnkey.RS256}
	for tname, call := range transports(e) {
		for kname, opts := range keys {
			t.Run(tname+"/"+kname, func(t *testing.T) {
				u := e.user(t, stytchemu.UserParams{})
				key := newAuthenticator(t, algs[kname], opts)
				reg := register(t, call, e.userSession(t, u.ID).JWT, "", key)
				assert.Equal(t, u.ID, reg.GetUserId())
				regs := reg.GetUser().GetWebauthnRegistrations()
				require.Len(t, regs, 1)
				assert.Equal(t, reg.GetWebauthnRegistrationId(), regs[0].GetWebauthnRegistrationId())
				assert.Equal(t, "cross-platform", regs[0].GetAuthenticatorType())
				assert.Equal(t, "test-browser/1", regs[0].GetUserAgent())
				assert.True(t, regs[0].GetVerified())

				a := assertion(t, call, u.ID, key, waOrigin)
				res, st := login(t, call, a)
				require.Equal(t, codes.OK, st.Code(), st.Message())
				assert.Equal(t, u.ID, res.GetUserId())
				assert.Equal(t, reg.GetWebauthnRegistrationId(), res.GetWebauthnRegistrationId())
				assert.NotEmpty(t, res.GetSessionJwt())
				factors := res.GetSession().GetAuthenticationFactors()
				require.Len(t, factors, 1)
				assert.Equal(t, consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_WEBAUTHN, factors[0].GetType())
				assert.Equal(t, "webauthn_registration", factors[0].GetDeliveryMethod())
				assert.Equal(t, reg.GetWebauthnRegistrationId(), factors[0].GetWebauthnFactor().GetWebauthnRegistrationId())
				assert.Equal(t, waDomain, factors[0].GetWebauthnFactor().GetDomain())

				// The registration is a factor Users.Get shows.
				got := &consumerv1.UsersServiceGetResponse{}
				st = e.grpcAs(t, res.GetSessionJwt(), usersSvc+"Get", &consumerv1.UsersServiceGetRequest{UserId: u.ID}, got)
				require.Equal(t, codes.OK, st.Code(), st.Message())
				require.Len(t, got.GetUser().GetWebauthnRegistrations(), 1)

				// Checked locally from its JWT, the session shows the same factor, details included.
				chk := &consumerv1.SessionsServiceAuthenticateResponse{}
				st = e.grpcCall(t, consumerSessionsSvc+"Authenticate", &consumerv1.SessionsServiceAuthenticateRequest{
					Credential: &consumerv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: res.GetSessionJwt()},
				}, chk)
				require.Equal(t, codes.OK, st.Code(), st.Message())
				assert.Equal(t, consumerv1.SessionVerifier_SESSION_VERIFIER_LOCAL, chk.GetVerifiedBy())
				local := chk.GetSession().GetAuthenticationFactors()
				require.Len(t, local, 1)
				assert.Equal(t, consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_WEBAUTHN, local[0].GetType())
				assert.Equal(t, reg.GetWebauthnRegistrationId(), local[0].GetWebauthnFactor().GetWebauthnRegistrationId())

				// Replayed: its challenge was used.
				_, st = login(t, call, a)
				requireWebAuthnRefused(t, st)
			})
		}
	}
}

// A wrong origin, a signature counter that does not increase, another user's key and a deleted
// registration are all refused alike, over both transports.
func TestConsumerWebAuthnRefusedAssertions(t *testing.T) {
	e := startEnvNoLimits(t)
	for tname, call := range transports(e) {
		t.Run(tname, func(t *testing.T) {
			u := e.user(t, stytchemu.UserParams{})
			key := newAuthenticator(t, webauthnkey.ES256, webauthnkey.Options{})
			reg := register(t, call, e.svcToken(t), u.ID, key)

			_, st := login(t, call, assertion(t, call, u.ID, key, "https://phishing.example"))
			requireWebAuthnRefused(t, st)

			_, st = login(t, call, assertion(t, call, u.ID, key, waOrigin))
			require.Equal(t, codes.OK, st.Code(), st.Message())
			key.SetSignCount(0) // as a cloned key that signed before the original did
			_, st = login(t, call, assertion(t, call, u.ID, key, waOrigin))
			requireWebAuthnRefused(t, st)

			// A key registered wrongly at another origin is not registered at all.
			other := newAuthenticator(t, webauthnkey.RS256, webauthnkey.Options{})
			start := &consumerv1.WebAuthnServiceRegisterStartResponse{}
			require.Equal(t, codes.OK, call(t, e.svcToken(t), waRegisterStart, &consumerv1.WebAuthnServiceRegisterStartRequest{UserId: u.ID, Domain: waDomain}, start).Code())
			cred, err := other.Register(start.GetPublicKeyCredentialCreationOptions(), "https://phishing.example")
			require.NoError(t, err)
			st = call(t, e.svcToken(t), waRegister, &consumerv1.WebAuthnServiceRegisterRequest{UserId: u.ID, PublicKeyCredential: cred}, &consumerv1.WebAuthnServiceRegisterResponse{})
			assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())

			// Deleted through UsersService: its assertions stop working.
			a := assertion(t, call, u.ID, key, waOrigin)
			st = e.grpcSvc(t, usersSvc+"DeleteWebAuthnRegistration", &consumerv1.UsersServiceDeleteWebAuthnRegistrationRequest{
				WebauthnRegistrationId: reg.GetWebauthnRegistrationId(),
			}, &consumerv1.UsersServiceDeleteWebAuthnRegistrationResponse{})
			require.Equal(t, codes.OK, st.Code(), st.Message())
			_, st = login(t, call, a)
			requireWebAuthnRefused(t, st)

			// Neither an unknown user nor a user without a registration is revealed.
			st = call(t, "", waAuthenticateStart, &consumerv1.WebAuthnServiceAuthenticateStartRequest{UserId: u.ID, Domain: waDomain}, &consumerv1.WebAuthnServiceAuthenticateStartResponse{})
			requireWebAuthnRefused(t, st)
			st = call(t, "", waAuthenticateStart, &consumerv1.WebAuthnServiceAuthenticateStartRequest{UserId: "user-test-00000000-0000-4000-8000-000000000000", Domain: waDomain}, &consumerv1.WebAuthnServiceAuthenticateStartResponse{})
			requireWebAuthnRefused(t, st)
		})
	}
}

// A passkey (resident key) logs its user in without the user naming themselves.
func TestConsumerWebAuthnPasskeyLogin(t *testing.T) {
	e := startEnvNoLimits(t)
	for tname, call := range transports(e) {
		t.Run(tname, func(t *testing.T) {
			u := e.user(t, stytchemu.UserParams{})
			key := newAuthenticator(t, webauthnkey.ES256, webauthnkey.Options{Attachment: "platform", Format: webauthnkey.FormatPacked})
			start := &consumerv1.WebAuthnServiceRegisterStartResponse{}
			st := call(t, e.svcToken(t), waRegisterStart, &consumerv1.WebAuthnServiceRegisterStartRequest{
				UserId: u.ID, Domain: waDomain, ReturnPasskeyCredentialOptions: true,
				AuthenticatorType: consumerv1.AuthenticatorType_AUTHENTICATOR_TYPE_PLATFORM,
			}, start)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Contains(t, start.GetPublicKeyCredentialCreationOptions(), `"residentKey":"required"`)
			cred, err := key.Register(start.GetPublicKeyCredentialCreationOptions(), waOrigin)
			require.NoError(t, err)
			reg := &consumerv1.WebAuthnServiceRegisterResponse{}
			st = call(t, e.svcToken(t), waRegister, &consumerv1.WebAuthnServiceRegisterRequest{UserId: u.ID, PublicKeyCredential: cred}, reg)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, "platform", reg.GetUser().GetWebauthnRegistrations()[0].GetAuthenticatorType())

			res, st := login(t, call, assertion(t, call, "", key, waOrigin))
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, u.ID, res.GetUserId())
		})
	}
}

// Registration, renaming and listing belong to the user's own session (or a service): a user
// cannot add a key to, rename a key of, or list the keys of another account.
func TestConsumerWebAuthnOwnAccountOnly(t *testing.T) {
	e := startEnvNoLimits(t)
	alice, bob := e.user(t, stytchemu.UserParams{}), e.user(t, stytchemu.UserParams{})
	aliceJWT, bobJWT := e.userSession(t, alice.ID).JWT, e.userSession(t, bob.ID).JWT
	for tname, call := range transports(e) {
		t.Run(tname, func(t *testing.T) {
			reg := register(t, call, aliceJWT, "", newAuthenticator(t, webauthnkey.ES256, webauthnkey.Options{}))
			id := reg.GetWebauthnRegistrationId()

			st := call(t, bobJWT, waRegisterStart, &consumerv1.WebAuthnServiceRegisterStartRequest{UserId: alice.ID, Domain: waDomain}, &consumerv1.WebAuthnServiceRegisterStartResponse{})
			assert.Equal(t, codes.PermissionDenied, st.Code(), st.Message())
			st = call(t, "", waRegister, &consumerv1.WebAuthnServiceRegisterRequest{UserId: alice.ID, PublicKeyCredential: "{}"}, &consumerv1.WebAuthnServiceRegisterResponse{})
			assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())

			update := waRPC{"Update", http.MethodPut, "/v1/webauthn/" + id}
			st = call(t, bobJWT, update, &consumerv1.WebAuthnServiceUpdateRequest{WebauthnRegistrationId: id, Name: "mine now"}, &consumerv1.WebAuthnServiceUpdateResponse{})
			assert.Equal(t, codes.PermissionDenied, st.Code(), st.Message())
			upd := &consumerv1.WebAuthnServiceUpdateResponse{}
			st = call(t, aliceJWT, update, &consumerv1.WebAuthnServiceUpdateRequest{WebauthnRegistrationId: id, Name: "Alice's key"}, upd)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, "Alice's key", upd.GetWebauthnRegistration().GetName())

			list := waRPC{"ListCredentials", http.MethodGet, "/v1/webauthn/credentials/" + alice.ID + "/" + waDomain}
			req := &consumerv1.WebAuthnServiceListCredentialsRequest{UserId: alice.ID, Domain: waDomain}
			st = call(t, bobJWT, list, req, &consumerv1.WebAuthnServiceListCredentialsResponse{})
			assert.Equal(t, codes.PermissionDenied, st.Code(), st.Message())
			creds := &consumerv1.WebAuthnServiceListCredentialsResponse{}
			st = call(t, aliceJWT, list, req, creds)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.NotEmpty(t, creds.GetCredentials())
			for _, c := range creds.GetCredentials() {
				assert.Equal(t, "public-key", c.GetType())
				assert.NotEmpty(t, c.GetPublicKey())
			}
		})
	}
}

// Bad assertions from one client IP spend its failure budget; the next is refused before Stytch
// (429 over REST).
func TestConsumerWebAuthnFailuresRefusedBeforeStytch(t *testing.T) {
	e := startEnv(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION_LIMITS": "check_failures_ip=3/10m"}))
	call := transports(e)["grpc"]
	u := e.user(t, stytchemu.UserParams{})
	key := newAuthenticator(t, webauthnkey.ES256, webauthnkey.Options{})
	register(t, call, e.svcToken(t), u.ID, key)
	a := assertion(t, call, u.ID, key, waOrigin)
	_, st := login(t, call, a)
	require.Equal(t, codes.OK, st.Code(), st.Message())
	for range 3 {
		_, st = login(t, call, a) // replays
		requireWebAuthnRefused(t, st)
	}
	before := e.consumer(t).Requests("POST /v1/webauthn/authenticate")
	_, st = login(t, call, a)
	assert.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
	r := e.restCallNoCookies(t, http.MethodPost, "/v1/webauthn/authenticate", &consumerv1.WebAuthnServiceAuthenticateRequest{PublicKeyCredential: a}, nil)
	assert.Equal(t, http.StatusTooManyRequests, r.HTTP, "body: %s", r.Body)
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
	assert.Equal(t, before, e.consumer(t).Requests("POST /v1/webauthn/authenticate"), "refused before Stytch")
}

// The starts are budgeted per client IP: each stores a challenge at Stytch.
func TestConsumerWebAuthnStartsBudgetedPerIP(t *testing.T) {
	e := startEnv(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION_LIMITS": "check_ip=3/1m"}))
	call := transports(e)["grpc"]
	svc, u := e.svcToken(t), e.user(t, stytchemu.UserParams{})
	req := &consumerv1.WebAuthnServiceAuthenticateStartRequest{Domain: waDomain}
	for range 3 {
		st := call(t, "", waAuthenticateStart, req, &consumerv1.WebAuthnServiceAuthenticateStartResponse{})
		require.Equal(t, codes.OK, st.Code(), st.Message())
	}
	st := call(t, "", waAuthenticateStart, req, &consumerv1.WebAuthnServiceAuthenticateStartResponse{})
	assert.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
	st = call(t, svc, waRegisterStart, &consumerv1.WebAuthnServiceRegisterStartRequest{UserId: u.ID, Domain: waDomain}, &consumerv1.WebAuthnServiceRegisterStartResponse{})
	assert.Equal(t, codes.ResourceExhausted, st.Code(), "the same per-IP budget: %s", st.Message())
}
