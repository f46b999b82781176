package service_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func TestConsumerOTPs(t *testing.T) {
	e := startEnvNoLimits(t)
	u := e.user(t, stytchemu.UserParams{Email: email("otp"), Phone: phone(), Verified: true})
	var last string
	var lastPhoneID string

	phoneSendCase := func(name, rpc, path string, resp func() proto.Message, check func(t *testing.T, msg proto.Message)) rpcCase {
		return rpcCase{
			name: name, method: consumerOTPsSvc + rpc, verb: "POST", path: fixed(path),
			req: func(*testing.T) proto.Message {
				switch rpc {
				case "SmsSend":
					return &consumerv1.OTPsServiceSmsSendRequest{PhoneNumber: u.Phone}
				case "WhatsAppSend":
					return &consumerv1.OTPsServiceWhatsAppSendRequest{PhoneNumber: u.Phone}
				case "SmsLoginOrCreate":
					last = phone()
					return &consumerv1.OTPsServiceSmsLoginOrCreateRequest{PhoneNumber: last}
				default:
					last = phone()
					return &consumerv1.OTPsServiceWhatsAppLoginOrCreateRequest{PhoneNumber: last}
				}
			},
			resp: resp, code: codes.OK, check: check,
		}
	}
	runCases(t, e, []rpcCase{
		phoneSendCase("SmsSend to a user's number", "SmsSend", "/v1/otps/sms/send",
			func() proto.Message { return &consumerv1.OTPsServiceSmsSendResponse{} },
			func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.OTPsServiceSmsSendResponse)
				assert.Equal(t, u.ID, r.GetUserId())
				assert.Equal(t, u.PhoneID, r.GetPhoneId())
				assert.Equal(t, stytchemu.KindSMS, e.consumerMessage(t, u.Phone, stytchemu.MethodOTP).Kind)
			}),
		phoneSendCase("SmsLoginOrCreate a new number", "SmsLoginOrCreate", "/v1/otps/sms/login_or_create",
			func() proto.Message { return &consumerv1.OTPsServiceSmsLoginOrCreateResponse{} },
			func(t *testing.T, msg proto.Message) {
				assert.True(t, msg.(*consumerv1.OTPsServiceSmsLoginOrCreateResponse).GetUserCreated())
				assert.NotEmpty(t, e.consumerMessage(t, last, stytchemu.MethodOTP).Code)
			}),
		phoneSendCase("WhatsAppSend to a user's number", "WhatsAppSend", "/v1/otps/whatsapp/send",
			func() proto.Message { return &consumerv1.OTPsServiceWhatsAppSendResponse{} },
			func(t *testing.T, msg proto.Message) {
				assert.Equal(t, u.PhoneID, msg.(*consumerv1.OTPsServiceWhatsAppSendResponse).GetPhoneId())
				assert.Equal(t, stytchemu.KindWhatsApp, e.consumerMessage(t, u.Phone, stytchemu.MethodOTP).Kind)
			}),
		phoneSendCase("WhatsAppLoginOrCreate a new number", "WhatsAppLoginOrCreate", "/v1/otps/whatsapp/login_or_create",
			func() proto.Message { return &consumerv1.OTPsServiceWhatsAppLoginOrCreateResponse{} },
			func(t *testing.T, msg proto.Message) {
				assert.True(t, msg.(*consumerv1.OTPsServiceWhatsAppLoginOrCreateResponse).GetUserCreated())
			}),
		{
			name: "SmsSend to the sandbox number sends nothing", method: consumerOTPsSvc + "SmsSend", verb: "POST", path: fixed("/v1/otps/sms/send"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.OTPsServiceSmsSendRequest{PhoneNumber: stytchemu.SandboxPhoneNumber}
			},
			resp: func() proto.Message { return &consumerv1.OTPsServiceSmsSendResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				lastPhoneID = msg.(*consumerv1.OTPsServiceSmsSendResponse).GetPhoneId()
				assert.NotEmpty(t, lastPhoneID)
				_, sent := e.consumer(t).LastMessage(stytchemu.SandboxPhoneNumber)
				assert.False(t, sent)
			},
		},
		{
			name: "SmsSend to a number that is not E.164 (validation)", method: consumerOTPsSvc + "SmsSend", verb: "POST", path: fixed("/v1/otps/sms/send"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.OTPsServiceSmsSendRequest{PhoneNumber: "4155550123"}
			},
			resp: func() proto.Message { return &consumerv1.OTPsServiceSmsSendResponse{} }, code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) { assertFieldViolation(t, st, "phone_number") },
		},
		{
			name: "SmsLoginOrCreate with a code lifetime of 11 minutes (validation)", method: consumerOTPsSvc + "SmsLoginOrCreate", verb: "POST", path: fixed("/v1/otps/sms/login_or_create"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.OTPsServiceSmsLoginOrCreateRequest{PhoneNumber: u.Phone, ExpirationMinutes: proto.Int32(11)}
			},
			resp: func() proto.Message { return &consumerv1.OTPsServiceSmsLoginOrCreateResponse{} }, code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) { assertFieldViolation(t, st, "expiration_minutes") },
		},
		{
			name: "EmailSend to a user's address", method: consumerOTPsSvc + "EmailSend", verb: "POST", path: fixed("/v1/otps/email/send"),
			req:  func(*testing.T) proto.Message { return &consumerv1.OTPsServiceEmailSendRequest{Email: u.Email} },
			resp: func() proto.Message { return &consumerv1.OTPsServiceEmailSendResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				assert.Equal(t, u.EmailID, msg.(*consumerv1.OTPsServiceEmailSendResponse).GetEmailId())
				assert.Equal(t, stytchemu.KindEmail, e.consumerMessage(t, u.Email, stytchemu.MethodOTP).Kind)
			},
		},
		{
			name: "EmailSend to an unknown address", method: consumerOTPsSvc + "EmailSend", verb: "POST", path: fixed("/v1/otps/email/send"),
			req:  func(*testing.T) proto.Message { return &consumerv1.OTPsServiceEmailSendRequest{Email: email("nobody")} },
			resp: func() proto.Message { return &consumerv1.OTPsServiceEmailSendResponse{} }, code: codes.NotFound,
		},
		{
			name: "EmailLoginOrCreate a new address", method: consumerOTPsSvc + "EmailLoginOrCreate", verb: "POST", path: fixed("/v1/otps/email/login_or_create"),
			req: func(*testing.T) proto.Message {
				last = email("otp-signup")
				return &consumerv1.OTPsServiceEmailLoginOrCreateRequest{Email: last, CreateUserAsPending: true}
			},
			resp: func() proto.Message { return &consumerv1.OTPsServiceEmailLoginOrCreateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				assert.True(t, msg.(*consumerv1.OTPsServiceEmailLoginOrCreateResponse).GetUserCreated())
				assert.NotEmpty(t, e.consumerMessage(t, last, stytchemu.MethodOTP).Code)
			},
		},
		{
			name: "Authenticate the sandbox code", method: consumerOTPsSvc + "Authenticate", verb: "POST", path: fixed("/v1/otps/authenticate"),
			req: func(t *testing.T) proto.Message {
				require.NotEmpty(t, lastPhoneID)
				return &consumerv1.OTPsServiceAuthenticateRequest{MethodId: lastPhoneID, Code: "000000", SessionDurationMinutes: proto.Int32(30)}
			},
			resp: func() proto.Message { return &consumerv1.OTPsServiceAuthenticateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.OTPsServiceAuthenticateResponse)
				assert.Equal(t, stytchemu.SandboxUserID, r.GetUserId())
				assert.Equal(t, lastPhoneID, r.GetMethodId())
				assert.NotEmpty(t, r.GetSessionJwt())
				assert.Equal(t, consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_OTP, r.GetSession().GetAuthenticationFactors()[0].GetType())
			},
		},
		{
			name: "Authenticate a wrong code", method: consumerOTPsSvc + "Authenticate", verb: "POST", path: fixed("/v1/otps/authenticate"),
			req: func(t *testing.T) proto.Message {
				st := e.grpcCall(t, consumerOTPsSvc+"EmailSend", &consumerv1.OTPsServiceEmailSendRequest{Email: u.Email}, &consumerv1.OTPsServiceEmailSendResponse{})
				require.Equal(t, codes.OK, st.Code(), st.Message())
				return &consumerv1.OTPsServiceAuthenticateRequest{MethodId: u.EmailID, Code: wrongCode(e.consumerMessage(t, u.Email, stytchemu.MethodOTP).Code)}
			},
			resp: func() proto.Message { return &consumerv1.OTPsServiceAuthenticateResponse{} }, code: codes.Unauthenticated, reason: "unable_to_auth_otp_code",
		},
		{
			name: "Authenticate an unknown method answers the same", method: consumerOTPsSvc + "Authenticate", verb: "POST", path: fixed("/v1/otps/authenticate"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.OTPsServiceAuthenticateRequest{MethodId: "phone-number-test-00000000-0000-4000-8000-000000000000", Code: "123456"}
			},
			resp: func() proto.Message { return &consumerv1.OTPsServiceAuthenticateResponse{} }, code: codes.Unauthenticated, reason: "unable_to_auth_otp_code",
		},
		{
			name: "Authenticate a method_id in upper case (validation)", method: consumerOTPsSvc + "Authenticate", verb: "POST", path: fixed("/v1/otps/authenticate"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.OTPsServiceAuthenticateRequest{MethodId: "PHONE-NUMBER-TEST-00000000-0000-4000-8000-000000000000", Code: "123456"}
			},
			resp: func() proto.Message { return &consumerv1.OTPsServiceAuthenticateResponse{} }, code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) { assertFieldViolation(t, st, "method_id") },
		},
	})
}

// Guessing one method's code is refused before Stytch: with 3 failures allowed per target, the 4th
// wrong code for one phone is RESOURCE_EXHAUSTED and never reaches Stytch, while another method's
// budget is untouched.
func TestConsumerOTPGuessingRefusedBeforeStytch(t *testing.T) {
	e := startEnv(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION_LIMITS": "check_failures_target=3/10m"}))
	u := e.user(t, stytchemu.UserParams{Email: email("guess"), Phone: phone(), Verified: true})
	st := e.grpcCall(t, consumerOTPsSvc+"SmsSend", &consumerv1.OTPsServiceSmsSendRequest{PhoneNumber: u.Phone}, &consumerv1.OTPsServiceSmsSendResponse{})
	require.Equal(t, codes.OK, st.Code(), st.Message())
	code := e.consumerMessage(t, u.Phone, stytchemu.MethodOTP).Code
	wrong := &consumerv1.OTPsServiceAuthenticateRequest{MethodId: u.PhoneID, Code: wrongCode(code)}
	for range 3 {
		st := e.grpcCall(t, consumerOTPsSvc+"Authenticate", wrong, &consumerv1.OTPsServiceAuthenticateResponse{})
		require.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
	}
	before := e.consumer(t).Requests("POST /v1/otps/authenticate")
	st = e.grpcCall(t, consumerOTPsSvc+"Authenticate", wrong, &consumerv1.OTPsServiceAuthenticateResponse{})
	assert.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
	r := e.restCallNoCookies(t, "POST", "/v1/otps/authenticate", &consumerv1.OTPsServiceAuthenticateRequest{MethodId: u.PhoneID, Code: code}, nil)
	assert.Equal(t, http.StatusTooManyRequests, r.HTTP, "even the right code, once the budget is spent: %s", r.Body)
	assert.Equal(t, before, e.consumer(t).Requests("POST /v1/otps/authenticate"), "refused before Stytch")

	// The email method of the same user has its own budget.
	st = e.grpcCall(t, consumerOTPsSvc+"Authenticate", &consumerv1.OTPsServiceAuthenticateRequest{MethodId: u.EmailID, Code: "123456"}, &consumerv1.OTPsServiceAuthenticateResponse{})
	assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
}

// SMS and WhatsApp sends spend a budget per phone-number prefix (toll fraud spreads over one
// premium range): with 2 sends allowed per prefix, a third number in the range is refused, whichever
// channel it uses, before Stytch sends anything.
func TestConsumerSMSSendsBudgetedPerPrefix(t *testing.T) {
	e := startEnv(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION_LIMITS": "send_phone_prefix=2/10m,phone_prefix_digits=6"}))
	for _, n := range []string{"+447700900101", "+447700900202"} {
		st := e.grpcCall(t, consumerOTPsSvc+"SmsLoginOrCreate", &consumerv1.OTPsServiceSmsLoginOrCreateRequest{PhoneNumber: n}, &consumerv1.OTPsServiceSmsLoginOrCreateResponse{})
		require.Equal(t, codes.OK, st.Code(), st.Message())
	}
	sent := len(e.consumer(t).Outbox())
	st := e.grpcCall(t, consumerOTPsSvc+"WhatsAppLoginOrCreate", &consumerv1.OTPsServiceWhatsAppLoginOrCreateRequest{PhoneNumber: "+447700900303"}, &consumerv1.OTPsServiceWhatsAppLoginOrCreateResponse{})
	assert.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
	assert.Len(t, e.consumer(t).Outbox(), sent, "nothing sent")
	// Another range is not affected.
	st = e.grpcCall(t, consumerOTPsSvc+"SmsLoginOrCreate", &consumerv1.OTPsServiceSmsLoginOrCreateRequest{PhoneNumber: "+14155550123"}, &consumerv1.OTPsServiceSmsLoginOrCreateResponse{})
	assert.Equal(t, codes.OK, st.Code(), st.Message())
}
