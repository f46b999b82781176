package service_test

import (
	"crypto/md5" //nolint:gosec // the legacy hash being migrated, not ours
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const passwordsSvc = "/authsvc.consumer.v1.PasswordsService/"

// strongPassword passes the emulator's default strength policy.
const strongPassword = "tangerine-Kayak-47-orbit"

// passwordUser signs a user up with strongPassword through the API and returns the address.
func (e *testEnv) passwordUser(t *testing.T) (string, string) {
	t.Helper()
	addr := email("pw")
	resp := &consumerv1.PasswordsServiceCreateResponse{}
	st := e.grpcCall(t, passwordsSvc+"Create", &consumerv1.PasswordsServiceCreateRequest{Email: addr, Password: strongPassword}, resp)
	require.Equal(t, codes.OK, st.Code(), st.Message())
	return addr, resp.GetUserId()
}

func TestConsumerPasswords(t *testing.T) {
	e := startEnvNoLimits(t)
	var addr, userID string
	authResp := func() proto.Message { return &consumerv1.PasswordsServiceAuthenticateResponse{} }
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte("old-system-password-9"), bcrypt.MinCost)
	require.NoError(t, err)

	runCases(t, e, []rpcCase{
		{
			name: "Create signs up with a session", method: passwordsSvc + "Create", verb: "POST", path: fixed("/v1/passwords"),
			req: func(*testing.T) proto.Message {
				addr = email("pw-create")
				return &consumerv1.PasswordsServiceCreateRequest{Email: addr, Password: strongPassword, SessionDurationMinutes: proto.Int32(60), Name: &consumerv1.Name{FirstName: "Pat"}}
			},
			resp: func() proto.Message { return &consumerv1.PasswordsServiceCreateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.PasswordsServiceCreateResponse)
				assert.NotEmpty(t, r.GetSessionToken())
				assert.NotEmpty(t, r.GetUser().GetPassword().GetPasswordId())
				assert.Equal(t, "Pat", r.GetUser().GetName().GetFirstName())
			},
		},
		{
			name: "Create with a weak password", method: passwordsSvc + "Create", verb: "POST", path: fixed("/v1/passwords"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.PasswordsServiceCreateRequest{Email: email("weak"), Password: "password"}
			},
			resp: func() proto.Message { return &consumerv1.PasswordsServiceCreateResponse{} }, code: codes.InvalidArgument,
		},
		{
			name: "Authenticate the right password", method: passwordsSvc + "Authenticate", verb: "POST", path: fixed("/v1/passwords/authenticate"),
			req: func(t *testing.T) proto.Message {
				addr, userID = e.passwordUser(t)
				return &consumerv1.PasswordsServiceAuthenticateRequest{Email: addr, Password: strongPassword, SessionDurationMinutes: proto.Int32(30)}
			},
			resp: authResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.PasswordsServiceAuthenticateResponse)
				assert.Equal(t, userID, r.GetUserId())
				assert.Equal(t, consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_PASSWORD, r.GetSession().GetAuthenticationFactors()[0].GetType())
			},
		},
		{
			name: "Authenticate a wrong password", method: passwordsSvc + "Authenticate", verb: "POST", path: fixed("/v1/passwords/authenticate"),
			req: func(t *testing.T) proto.Message {
				addr, _ = e.passwordUser(t)
				return &consumerv1.PasswordsServiceAuthenticateRequest{Email: addr, Password: strongPassword + "x"}
			},
			resp: authResp, code: codes.Unauthenticated, reason: "unauthorized_credentials",
		},
		{
			name: "Authenticate an unknown address answers the same", method: passwordsSvc + "Authenticate", verb: "POST", path: fixed("/v1/passwords/authenticate"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.PasswordsServiceAuthenticateRequest{Email: email("nobody"), Password: strongPassword}
			},
			resp: authResp, code: codes.Unauthenticated, reason: "unauthorized_credentials",
		},
		{
			name: "StrengthCheck a weak password", method: passwordsSvc + "StrengthCheck", verb: "POST", path: fixed("/v1/passwords/strength_check"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.PasswordsServiceStrengthCheckRequest{Password: "password1"}
			},
			resp: func() proto.Message { return &consumerv1.PasswordsServiceStrengthCheckResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.PasswordsServiceStrengthCheckResponse)
				assert.False(t, r.GetValidPassword())
				assert.NotEqual(t, consumerv1.StrengthPolicy_STRENGTH_POLICY_UNSPECIFIED, r.GetStrengthPolicy())
			},
		},
		{
			name: "StrengthCheck a strong password", method: passwordsSvc + "StrengthCheck", verb: "POST", path: fixed("/v1/passwords/strength_check"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.PasswordsServiceStrengthCheckRequest{Password: strongPassword}
			},
			resp: func() proto.Message { return &consumerv1.PasswordsServiceStrengthCheckResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				assert.True(t, msg.(*consumerv1.PasswordsServiceStrengthCheckResponse).GetValidPassword())
			},
		},
		{
			svc: true, name: "Migrate a bcrypt hash, then log in with the old password", method: passwordsSvc + "Migrate", verb: "POST", path: fixed("/v1/passwords/migrate"),
			req: func(*testing.T) proto.Message {
				addr = email("migrated")
				return &consumerv1.PasswordsServiceMigrateRequest{Email: addr, Hash: string(bcryptHash), HashType: consumerv1.HashType_HASH_TYPE_BCRYPT}
			},
			resp: func() proto.Message { return &consumerv1.PasswordsServiceMigrateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				assert.True(t, msg.(*consumerv1.PasswordsServiceMigrateResponse).GetUserCreated())
				st := e.grpcCall(t, passwordsSvc+"Authenticate", &consumerv1.PasswordsServiceAuthenticateRequest{Email: addr, Password: "old-system-password-9"}, &consumerv1.PasswordsServiceAuthenticateResponse{})
				assert.Equal(t, codes.OK, st.Code(), st.Message())
			},
		},
		{
			svc: true, name: "Migrate a salted MD5 hash", method: passwordsSvc + "Migrate", verb: "POST", path: fixed("/v1/passwords/migrate"),
			req: func(*testing.T) proto.Message {
				addr = email("migrated-md5")
				// md5("pre" + "hunter2-legacy" + "post")
				return &consumerv1.PasswordsServiceMigrateRequest{
					Email: addr, Hash: md5Hex("pre" + "hunter2-legacy" + "post"), HashType: consumerv1.HashType_HASH_TYPE_MD_5,
					Config: &consumerv1.PasswordsServiceMigrateRequest_Md_5Config{Md_5Config: &consumerv1.SaltConfig{PrependSalt: "pre", AppendSalt: "post"}},
				}
			},
			resp: func() proto.Message { return &consumerv1.PasswordsServiceMigrateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				st := e.grpcCall(t, passwordsSvc+"Authenticate", &consumerv1.PasswordsServiceAuthenticateRequest{Email: addr, Password: "hunter2-legacy"}, &consumerv1.PasswordsServiceAuthenticateResponse{})
				assert.Equal(t, codes.OK, st.Code(), st.Message())
			},
		},
		{
			name: "EmailResetStart, then EmailReset with the mailed token", method: passwordsSvc + "EmailResetStart", verb: "POST", path: fixed("/v1/passwords/email/reset/start"),
			req: func(t *testing.T) proto.Message {
				addr, _ = e.passwordUser(t)
				return &consumerv1.PasswordsServiceEmailResetStartRequest{Email: addr}
			},
			resp: func() proto.Message { return &consumerv1.PasswordsServiceEmailResetStartResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				m, ok := e.consumer(t).LastMessage(addr)
				require.True(t, ok)
				assert.Equal(t, stytchemu.TemplateResetPassword, m.Template)
				r := &consumerv1.PasswordsServiceEmailResetResponse{}
				st := e.grpcCall(t, passwordsSvc+"EmailReset", &consumerv1.PasswordsServiceEmailResetRequest{
					Token: m.Token, Password: strongPassword + "-new", SessionDurationMinutes: proto.Int32(30),
				}, r)
				require.Equal(t, codes.OK, st.Code(), st.Message())
				assert.NotEmpty(t, r.GetSessionJwt())
			},
		},
		{
			name: "EmailResetStart for an unknown address is answered alike and sends nothing", method: passwordsSvc + "EmailResetStart", verb: "POST", path: fixed("/v1/passwords/email/reset/start"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.PasswordsServiceEmailResetStartRequest{Email: "nobody-reset@example.test"}
			},
			resp: func() proto.Message { return &consumerv1.PasswordsServiceEmailResetStartResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				assert.True(t, proto.Equal(&consumerv1.PasswordsServiceEmailResetStartResponse{}, msg), "no user is named")
				_, sent := e.consumer(t).LastMessage("nobody-reset@example.test")
				assert.False(t, sent)
			},
		},
		{
			name: "EmailReset with an unknown token", method: passwordsSvc + "EmailReset", verb: "POST", path: fixed("/v1/passwords/email/reset"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.PasswordsServiceEmailResetRequest{Token: "not-a-reset-token-00000000000000000000", Password: strongPassword}
			},
			resp: func() proto.Message { return &consumerv1.PasswordsServiceEmailResetResponse{} }, code: codes.Unauthenticated, reason: "unable_to_reset_password",
		},
		{
			name: "ExistingPasswordReset", method: passwordsSvc + "ExistingPasswordReset", verb: "POST", path: fixed("/v1/passwords/existing_password/reset"),
			req: func(t *testing.T) proto.Message {
				addr, _ = e.passwordUser(t)
				return &consumerv1.PasswordsServiceExistingPasswordResetRequest{Email: addr, ExistingPassword: strongPassword, NewPassword: strongPassword + "-2"}
			},
			resp: func() proto.Message { return &consumerv1.PasswordsServiceExistingPasswordResetResponse{} }, code: codes.OK,
			check: func(t *testing.T, _ proto.Message) {
				st := e.grpcCall(t, passwordsSvc+"Authenticate", &consumerv1.PasswordsServiceAuthenticateRequest{Email: addr, Password: strongPassword + "-2"}, &consumerv1.PasswordsServiceAuthenticateResponse{})
				assert.Equal(t, codes.OK, st.Code(), st.Message())
			},
		},
		{
			name: "SessionReset with the session's token", method: passwordsSvc + "SessionReset", verb: "POST", path: fixed("/v1/passwords/session/reset"),
			req: func(t *testing.T) proto.Message {
				a, _ := e.passwordUser(t)
				r := &consumerv1.PasswordsServiceAuthenticateResponse{}
				st := e.grpcCall(t, passwordsSvc+"Authenticate", &consumerv1.PasswordsServiceAuthenticateRequest{Email: a, Password: strongPassword, SessionDurationMinutes: proto.Int32(30)}, r)
				require.Equal(t, codes.OK, st.Code(), st.Message())
				return &consumerv1.PasswordsServiceSessionResetRequest{
					Password: strongPassword + "-3", Session: &consumerv1.PasswordsServiceSessionResetRequest_SessionToken{SessionToken: r.GetSessionToken()},
				}
			},
			resp: func() proto.Message { return &consumerv1.PasswordsServiceSessionResetResponse{} }, code: codes.OK,
		},
	})
}

// Credential stuffing and guessing are refused before Stytch: with 3 failures allowed per email
// address, the 4th wrong password for one address is RESOURCE_EXHAUSTED and never reaches Stytch.
func TestConsumerPasswordGuessingRefusedBeforeStytch(t *testing.T) {
	e := startEnv(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION_LIMITS": "check_failures_target=3/10m"}))
	addr, _ := e.passwordUser(t)
	wrong := &consumerv1.PasswordsServiceAuthenticateRequest{Email: addr, Password: "wrong-" + strongPassword}
	for range 3 {
		st := e.grpcCall(t, passwordsSvc+"Authenticate", wrong, &consumerv1.PasswordsServiceAuthenticateResponse{})
		require.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
	}
	before := e.consumer(t).Requests("POST /v1/passwords/authenticate")
	st := e.grpcCall(t, passwordsSvc+"Authenticate", wrong, &consumerv1.PasswordsServiceAuthenticateResponse{})
	assert.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
	// The same address in another spelling is the same budget.
	r := e.restCallNoCookies(t, "POST", "/v1/passwords/authenticate", &consumerv1.PasswordsServiceAuthenticateRequest{Email: strings.ToUpper(addr), Password: strongPassword}, nil)
	assert.Equal(t, http.StatusTooManyRequests, r.HTTP, "body: %s", r.Body)
	assert.Equal(t, before, e.consumer(t).Requests("POST /v1/passwords/authenticate"), "refused before Stytch")
}

// Credential stuffing: wrong passwords for many addresses from one client IP spend one per-IP
// failure budget, and the next attempt, for yet another address, is refused before Stytch.
func TestConsumerPasswordStuffingFromOneIPRefusedBeforeStytch(t *testing.T) {
	e := startEnv(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION_LIMITS": "check_failures_ip=3/10m"}))
	for i := range 3 {
		st := e.grpcCall(t, passwordsSvc+"Authenticate", &consumerv1.PasswordsServiceAuthenticateRequest{
			Email: fmt.Sprintf("stuffed-%d@example.com", i), Password: "wrong-" + strongPassword,
		}, &consumerv1.PasswordsServiceAuthenticateResponse{})
		require.NotEqual(t, codes.OK, st.Code())
		require.NotEqual(t, codes.ResourceExhausted, st.Code(), "attempt %d: %s", i, st.Message())
	}
	before := e.consumer(t).Requests("POST /v1/passwords/authenticate")
	st := e.grpcCall(t, passwordsSvc+"Authenticate", &consumerv1.PasswordsServiceAuthenticateRequest{
		Email: "stuffed-next@example.com", Password: "wrong-" + strongPassword,
	}, &consumerv1.PasswordsServiceAuthenticateResponse{})
	assert.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
	assert.Equal(t, before, e.consumer(t).Requests("POST /v1/passwords/authenticate"), "refused before Stytch")
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s)) //nolint:gosec // the legacy hash being migrated, not ours
	return hex.EncodeToString(sum[:])
}
