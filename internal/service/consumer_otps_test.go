package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
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
