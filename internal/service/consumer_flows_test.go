package service_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// The consumer flows: sign up, then log in again, with each factor, over REST as a browser (the
// cookie jar keeps the consumer session cookies authsvc sets) and over gRPC.

// consumerLogin is one factor's way to a session for an address or number: it sends the message,
// reads it from the outbox and redeems it, returning whether the user was created and the answer.
type consumerLogin func(t *testing.T, e *testEnv, rest bool, to string) (created bool, userID, token, jwt string, r restResult)

// call runs one RPC over REST (with the browser's cookies) or gRPC.
func (e *testEnv) consumerCall(t *testing.T, rest bool, method, path string, req, resp proto.Message) restResult {
	t.Helper()
	if rest {
		r := e.restCall(t, "POST", path, req, resp)
		require.Equal(t, http.StatusOK, r.HTTP, "%s: %s", path, r.Body)
		return r
	}
	st := e.grpcCall(t, method, req, resp)
	require.Equal(t, codes.OK, st.Code(), "%s: %s", method, st.Message())
	return restResult{}
}

func magicLinkLogin(t *testing.T, e *testEnv, rest bool, to string) (bool, string, string, string, restResult) {
	sent := &consumerv1.MagicLinksServiceLoginOrCreateResponse{}
	e.consumerCall(t, rest, consumerMagicLinksSvc+"LoginOrCreate", "/v1/magic_links/email/login_or_create",
		&consumerv1.MagicLinksServiceLoginOrCreateRequest{Email: to}, sent)
	link := e.consumerMessage(t, to, stytchemu.MethodMagicLink)
	u, err := url.Parse(link.URL)
	require.NoError(t, err)
	auth := &consumerv1.MagicLinksServiceAuthenticateResponse{}
	r := e.consumerCall(t, rest, consumerMagicLinksSvc+"Authenticate", "/v1/magic_links/authenticate",
		&consumerv1.MagicLinksServiceAuthenticateRequest{Token: u.Query().Get("token"), SessionDurationMinutes: proto.Int32(60)}, auth)
	assert.Equal(t, sent.GetUserId(), auth.GetUserId())
	assert.Equal(t, sent.GetEmailId(), auth.GetMethodId())
	return sent.GetUserCreated(), auth.GetUserId(), auth.GetSessionToken(), auth.GetSessionJwt(), r
}

func emailOTPLogin(t *testing.T, e *testEnv, rest bool, to string) (bool, string, string, string, restResult) {
	sent := &consumerv1.OTPsServiceEmailLoginOrCreateResponse{}
	e.consumerCall(t, rest, consumerOTPsSvc+"EmailLoginOrCreate", "/v1/otps/email/login_or_create",
		&consumerv1.OTPsServiceEmailLoginOrCreateRequest{Email: to}, sent)
	code := e.consumerMessage(t, to, stytchemu.MethodOTP).Code
	auth := &consumerv1.OTPsServiceAuthenticateResponse{}
	r := e.consumerCall(t, rest, consumerOTPsSvc+"Authenticate", "/v1/otps/authenticate",
		&consumerv1.OTPsServiceAuthenticateRequest{MethodId: sent.GetEmailId(), Code: code, SessionDurationMinutes: proto.Int32(60)}, auth)
	return sent.GetUserCreated(), auth.GetUserId(), auth.GetSessionToken(), auth.GetSessionJwt(), r
}

func smsOTPLogin(t *testing.T, e *testEnv, rest bool, to string) (bool, string, string, string, restResult) {
	sent := &consumerv1.OTPsServiceSmsLoginOrCreateResponse{}
	e.consumerCall(t, rest, consumerOTPsSvc+"SmsLoginOrCreate", "/v1/otps/sms/login_or_create",
		&consumerv1.OTPsServiceSmsLoginOrCreateRequest{PhoneNumber: to}, sent)
	msg := e.consumerMessage(t, to, stytchemu.MethodOTP)
	assert.Equal(t, stytchemu.KindSMS, msg.Kind)
	auth := &consumerv1.OTPsServiceAuthenticateResponse{}
	r := e.consumerCall(t, rest, consumerOTPsSvc+"Authenticate", "/v1/otps/authenticate",
		&consumerv1.OTPsServiceAuthenticateRequest{MethodId: sent.GetPhoneId(), Code: msg.Code, SessionDurationMinutes: proto.Int32(60)}, auth)
	return sent.GetUserCreated(), auth.GetUserId(), auth.GetSessionToken(), auth.GetSessionJwt(), r
}

// passwordLogin signs the address up with a password the first time (PasswordsService.Create) and
// logs in with it afterwards (Authenticate).
func passwordLogin(signedUp map[string]bool) consumerLogin {
	return func(t *testing.T, e *testEnv, rest bool, to string) (bool, string, string, string, restResult) {
		if !signedUp[to] {
			signedUp[to] = true
			cr := &consumerv1.PasswordsServiceCreateResponse{}
			r := e.consumerCall(t, rest, passwordsSvc+"Create", "/v1/passwords",
				&consumerv1.PasswordsServiceCreateRequest{Email: to, Password: strongPassword, SessionDurationMinutes: proto.Int32(60)}, cr)
			return true, cr.GetUserId(), cr.GetSessionToken(), cr.GetSessionJwt(), r
		}
		auth := &consumerv1.PasswordsServiceAuthenticateResponse{}
		r := e.consumerCall(t, rest, passwordsSvc+"Authenticate", "/v1/passwords/authenticate",
			&consumerv1.PasswordsServiceAuthenticateRequest{Email: to, Password: strongPassword, SessionDurationMinutes: proto.Int32(60)}, auth)
		return false, auth.GetUserId(), auth.GetSessionToken(), auth.GetSessionJwt(), r
	}
}

func TestConsumerFlowsSignUpAndLogIn(t *testing.T) {
	e := startEnv(t)
	flows := []struct {
		name  string
		login consumerLogin
		to    func() string
	}{
		{"magic link", magicLinkLogin, func() string { return email("ml") }},
		{"email OTP", emailOTPLogin, func() string { return email("otp") }},
		{"SMS OTP", smsOTPLogin, phone},
		{"password", passwordLogin(map[string]bool{}), func() string { return email("pw-flow") }},
	}
	for _, f := range flows {
		for _, rest := range []bool{true, false} {
			name := f.name + "/grpc"
			if rest {
				name = f.name + "/rest"
			}
			t.Run(name, func(t *testing.T) {
				to := f.to()
				created, userID, token, jwt, r := f.login(t, e, rest, to)
				assert.True(t, created, "the first login signs the user up")
				require.NotEmpty(t, token)
				require.NotEmpty(t, jwt)
				if rest {
					assertSessionCookies(t, r, token, jwt)
					// The browser checks its session with the cookies alone.
					sess := &consumerv1.SessionsServiceAuthenticateResponse{}
					r := e.restCall(t, "POST", "/v1/sessions/authenticate", &consumerv1.SessionsServiceAuthenticateRequest{}, sess)
					require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
					assert.Equal(t, userID, sess.GetSession().GetUserId())
					assert.Equal(t, consumerv1.SessionVerifier_SESSION_VERIFIER_LOCAL, sess.GetVerifiedBy(), "a fresh session JWT cookie is checked without Stytch")
				}

				again, againID, token2, _, _ := f.login(t, e, rest, to)
				assert.False(t, again, "the second login finds the user")
				assert.Equal(t, userID, againID)
				assert.NotEqual(t, token, token2, "a new session")

				// Logout: a browser with its cookies alone (the second login's), a service with the
				// session's own token.
				out := &consumerv1.SessionsServiceRevokeResponse{}
				logout := &consumerv1.SessionsServiceRevokeRequest{Target: &consumerv1.SessionsServiceRevokeRequest_SessionToken{SessionToken: token2}}
				if rest {
					logout = &consumerv1.SessionsServiceRevokeRequest{}
				}
				e.consumerCall(t, rest, consumerSessionsSvc+"Revoke", "/v1/sessions/revoke", logout, out)
				assert.True(t, out.GetCallerSessionRevoked() || !rest, "a cookie logout revokes the caller's own session")
				st := e.grpcCall(t, consumerSessionsSvc+"Authenticate", &consumerv1.SessionsServiceAuthenticateRequest{
					Credential: &consumerv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: token2},
				}, &consumerv1.SessionsServiceAuthenticateResponse{})
				assert.Equal(t, codes.Unauthenticated, st.Code())
			})
		}
	}
}

// A retried send with the same idempotency key replays the first answer and sends nothing more.
func TestConsumerSendIdempotentReplay(t *testing.T) {
	e := startEnv(t)
	to := email("idem")
	send := func(key string) (int, string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.BaseURL+"/v1/magic_links/email/login_or_create",
			strings.NewReader(`{"email":"`+to+`"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(b)
	}
	code1, body1 := send("consumer-send-1")
	require.Equal(t, http.StatusOK, code1, body1)
	assert.Contains(t, body1, `"user_created":true`)
	code2, body2 := send("consumer-send-1")
	require.Equal(t, http.StatusOK, code2, body2)
	assert.JSONEq(t, body1, body2, "the replay is the first answer (user_created included)")
	assert.Len(t, outboxTo(e.consumer(t), to), 1, "the replay sent nothing")

	// Without the key, a second send is a second email, to a user that now exists.
	code3, body3 := send("")
	require.Equal(t, http.StatusOK, code3, body3)
	assert.NotContains(t, body3, `"user_created":true`)
	assert.Len(t, outboxTo(e.consumer(t), to), 2)
}

func outboxTo(p *stytchemu.Emulator, to string) []stytchemu.Message {
	var out []stytchemu.Message
	for _, m := range p.Outbox() {
		if strings.EqualFold(m.To, to) {
			out = append(out, m)
		}
	}
	return out
}
