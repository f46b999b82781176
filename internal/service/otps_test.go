package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const otpsSvc = "/authsvc.b2b.v1.OTPsService/"

// lastCode returns the newest OTP code sent to recipient (email or phone).
func (e *testEnv) lastCode(t *testing.T, recipient string) string {
	t.Helper()
	msg, ok := e.Emu.LastMessage(recipient)
	require.True(t, ok, "no message to the recipient")
	require.Equal(t, stytchemu.MethodOTP, msg.Method)
	require.NotEmpty(t, msg.Code)
	return msg.Code
}

// wrongCode returns a six-digit code different from code.
func wrongCode(code string) string {
	if code == "000001" {
		return "000002"
	}
	return "000001"
}

func TestOTPs(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	mfaOrg := e.org(t, stytchemu.OrganizationParams{MFAPolicy: "REQUIRED_FOR_ALL"})
	active := e.member(t, org.ID, stytchemu.MemberParams{})

	// mfaStart logs a fresh member of the MFA organization in by email OTP and returns it with its
	// intermediate session token; Stytch texts the member at once.
	const phone = "+15005550006"
	mfaStart := func(t *testing.T) (stytchemu.Member, string) {
		m := e.member(t, mfaOrg.ID, stytchemu.MemberParams{MFAPhoneNumber: phone})
		require.Equal(t, codes.OK, e.grpcCall(t, otpsSvc+"EmailLoginOrSignup", &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: mfaOrg.ID, EmailAddress: m.Email}, &b2bv1.OTPsServiceEmailLoginOrSignupResponse{}).Code())
		r := &b2bv1.OTPsServiceEmailAuthenticateResponse{}
		st := e.grpcCall(t, otpsSvc+"EmailAuthenticate", &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: mfaOrg.ID, EmailAddress: m.Email, Code: e.lastCode(t, m.Email)}, r)
		require.Equal(t, codes.OK, st.Code(), st.Message())
		require.False(t, r.GetMemberAuthenticated())
		require.NotEmpty(t, r.GetIntermediateSessionToken())
		return m, r.GetIntermediateSessionToken()
	}
	var addr string

	runCases(t, e, []rpcCase{
		{
			name: "EmailLoginOrSignup", method: otpsSvc + "EmailLoginOrSignup", verb: "POST", path: fixed("/v1/b2b/otps/email/login_or_signup"),
			req: func(*testing.T) proto.Message {
				addr = email("otp")
				return &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: addr}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceEmailLoginOrSignupResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				assert.True(t, msg.(*b2bv1.OTPsServiceEmailLoginOrSignupResponse).GetMemberCreated())
				assert.Len(t, e.lastCode(t, addr), 6)
			},
		},
		{
			name: "EmailLoginOrSignup to an unknown organization", method: otpsSvc + "EmailLoginOrSignup", verb: "POST", path: fixed("/v1/b2b/otps/email/login_or_signup"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: "organization-test-nope", EmailAddress: email("x")}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceEmailLoginOrSignupResponse{} },
			code: codes.NotFound, reason: "organization_not_found",
		},
		{
			name: "EmailAuthenticate", method: otpsSvc + "EmailAuthenticate", verb: "POST", path: fixed("/v1/b2b/otps/email/authenticate"),
			req: func(t *testing.T) proto.Message {
				require.Equal(t, codes.OK, e.grpcCall(t, otpsSvc+"EmailLoginOrSignup", &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: active.Email}, &b2bv1.OTPsServiceEmailLoginOrSignupResponse{}).Code())
				return &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: org.ID, EmailAddress: active.Email, Code: e.lastCode(t, active.Email)}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceEmailAuthenticateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.OTPsServiceEmailAuthenticateResponse)
				assert.True(t, r.GetMemberAuthenticated())
				assert.NotEmpty(t, r.GetSessionToken())
				assert.Equal(t, active.ID, r.GetMemberId())
				require.NotEmpty(t, r.GetMemberSession().GetAuthenticationFactors())
				assert.Equal(t, b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_EMAIL_OTP, r.GetMemberSession().GetAuthenticationFactors()[0].GetType())
			},
		},
		{
			name: "EmailAuthenticate in an MFA organization returns an intermediate session", method: otpsSvc + "EmailAuthenticate", verb: "POST", path: fixed("/v1/b2b/otps/email/authenticate"),
			req: func(t *testing.T) proto.Message {
				m := e.member(t, mfaOrg.ID, stytchemu.MemberParams{MFAPhoneNumber: phone})
				addr = m.Email
				require.Equal(t, codes.OK, e.grpcCall(t, otpsSvc+"EmailLoginOrSignup", &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: mfaOrg.ID, EmailAddress: m.Email}, &b2bv1.OTPsServiceEmailLoginOrSignupResponse{}).Code())
				return &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: mfaOrg.ID, EmailAddress: m.Email, Code: e.lastCode(t, m.Email)}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceEmailAuthenticateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.OTPsServiceEmailAuthenticateResponse)
				assert.False(t, r.GetMemberAuthenticated())
				assert.NotEmpty(t, r.GetIntermediateSessionToken())
				assert.Empty(t, r.GetSessionToken())
				assert.Nil(t, r.GetMemberSession())
				assert.Equal(t, phone, r.GetMfaRequired().GetMemberOptions().GetMfaPhoneNumber())
				assert.Equal(t, b2bv1.MfaMethod_MFA_METHOD_SMS_OTP, r.GetMfaRequired().GetSecondaryAuthInitiated())
			},
		},
		{
			name: "EmailAuthenticate with a wrong code", method: otpsSvc + "EmailAuthenticate", verb: "POST", path: fixed("/v1/b2b/otps/email/authenticate"),
			req: func(t *testing.T) proto.Message {
				require.Equal(t, codes.OK, e.grpcCall(t, otpsSvc+"EmailLoginOrSignup", &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: active.Email}, &b2bv1.OTPsServiceEmailLoginOrSignupResponse{}).Code())
				return &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: org.ID, EmailAddress: active.Email, Code: wrongCode(e.lastCode(t, active.Email))}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceEmailAuthenticateResponse{} },
			code: codes.Unauthenticated, reason: "unable_to_auth_otp_code",
		},
		{
			name: "EmailAuthenticate with a malformed code (validation)", method: otpsSvc + "EmailAuthenticate", verb: "POST", path: fixed("/v1/b2b/otps/email/authenticate"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: org.ID, EmailAddress: active.Email, Code: "12ab"}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceEmailAuthenticateResponse{} },
			code: codes.InvalidArgument,
		},
		{
			name: "EmailDiscoverySend", method: otpsSvc + "EmailDiscoverySend", verb: "POST", path: fixed("/v1/b2b/otps/email/discovery/send"),
			req: func(*testing.T) proto.Message {
				addr = email("otpdisc")
				return &b2bv1.OTPsServiceEmailDiscoverySendRequest{EmailAddress: addr}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceEmailDiscoverySendResponse{} }, code: codes.OK,
			check: func(t *testing.T, _ proto.Message) {
				msg, ok := e.Emu.LastMessage(addr)
				require.True(t, ok)
				assert.Equal(t, stytchemu.TemplateDiscovery, msg.Template)
			},
		},
		{
			name: "EmailDiscoveryAuthenticate", method: otpsSvc + "EmailDiscoveryAuthenticate", verb: "POST", path: fixed("/v1/b2b/otps/email/discovery/authenticate"),
			req: func(t *testing.T) proto.Message {
				require.Equal(t, codes.OK, e.grpcCall(t, otpsSvc+"EmailDiscoverySend", &b2bv1.OTPsServiceEmailDiscoverySendRequest{EmailAddress: active.Email}, &b2bv1.OTPsServiceEmailDiscoverySendResponse{}).Code())
				return &b2bv1.OTPsServiceEmailDiscoveryAuthenticateRequest{EmailAddress: active.Email, Code: e.lastCode(t, active.Email)}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceEmailDiscoveryAuthenticateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.OTPsServiceEmailDiscoveryAuthenticateResponse)
				assert.NotEmpty(t, r.GetIntermediateSessionToken())
				require.Len(t, r.GetDiscoveredOrganizations(), 1)
				assert.Equal(t, org.ID, r.GetDiscoveredOrganizations()[0].GetOrganization().GetOrganizationId())
			},
		},
		{
			name: "EmailDiscoveryAuthenticate with a code never sent", method: otpsSvc + "EmailDiscoveryAuthenticate", verb: "POST", path: fixed("/v1/b2b/otps/email/discovery/authenticate"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.OTPsServiceEmailDiscoveryAuthenticateRequest{EmailAddress: email("never"), Code: "123456"}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceEmailDiscoveryAuthenticateResponse{} },
			code: codes.Unauthenticated, reason: "unable_to_auth_otp_code",
		},
		{
			name: "SmsSend with the intermediate session", method: otpsSvc + "SmsSend", verb: "POST", path: fixed("/v1/b2b/otps/sms/send"),
			req: func(t *testing.T) proto.Message {
				m, ist := mfaStart(t)
				e.Emu.ClearOutbox()
				return &b2bv1.OTPsServiceSmsSendRequest{OrganizationId: mfaOrg.ID, MemberId: m.ID, Credential: &b2bv1.OTPsServiceSmsSendRequest_IntermediateSessionToken{IntermediateSessionToken: ist}}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceSmsSendResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				assert.Equal(t, phone, msg.(*b2bv1.OTPsServiceSmsSendResponse).GetMember().GetMfaPhoneNumber())
				assert.Len(t, e.lastCode(t, phone), 6)
			},
		},
		{
			name: "SmsSend without a credential (validation)", method: otpsSvc + "SmsSend", verb: "POST", path: fixed("/v1/b2b/otps/sms/send"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.OTPsServiceSmsSendRequest{OrganizationId: mfaOrg.ID, MemberId: active.ID}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceSmsSendResponse{} }, code: codes.InvalidArgument,
		},
		{
			name: "SmsSend with an unknown intermediate session", method: otpsSvc + "SmsSend", verb: "POST", path: fixed("/v1/b2b/otps/sms/send"),
			req: func(t *testing.T) proto.Message {
				m := e.member(t, mfaOrg.ID, stytchemu.MemberParams{MFAPhoneNumber: phone})
				return &b2bv1.OTPsServiceSmsSendRequest{OrganizationId: mfaOrg.ID, MemberId: m.ID, Credential: &b2bv1.OTPsServiceSmsSendRequest_IntermediateSessionToken{IntermediateSessionToken: "ist-nope"}}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceSmsSendResponse{} },
			code: codes.Unauthenticated, reason: "intermediate_session_not_found",
		},
		{
			name: "SmsSend with another member's session JWT", method: otpsSvc + "SmsSend", verb: "POST", path: fixed("/v1/b2b/otps/sms/send"),
			req: func(t *testing.T) proto.Message {
				victim := e.member(t, org.ID, stytchemu.MemberParams{MFAPhoneNumber: phone})
				s := e.session(t, org.ID, active.ID)
				return &b2bv1.OTPsServiceSmsSendRequest{OrganizationId: org.ID, MemberId: victim.ID, Credential: &b2bv1.OTPsServiceSmsSendRequest_SessionJwt{SessionJwt: s.JWT}}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceSmsSendResponse{} },
			code: codes.PermissionDenied, reason: "session_member_mismatch",
		},
		{
			name: "SmsAuthenticate completes MFA", method: otpsSvc + "SmsAuthenticate", verb: "POST", path: fixed("/v1/b2b/otps/sms/authenticate"),
			req: func(t *testing.T) proto.Message {
				m, ist := mfaStart(t)
				return &b2bv1.OTPsServiceSmsAuthenticateRequest{OrganizationId: mfaOrg.ID, MemberId: m.ID, Code: e.lastCode(t, phone), Credential: &b2bv1.OTPsServiceSmsAuthenticateRequest_IntermediateSessionToken{IntermediateSessionToken: ist}}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceSmsAuthenticateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.OTPsServiceSmsAuthenticateResponse)
				assert.NotEmpty(t, r.GetSessionToken())
				assert.NotEmpty(t, r.GetSessionJwt())
				assert.Len(t, r.GetMemberSession().GetAuthenticationFactors(), 2, "email OTP and SMS OTP")
				assert.True(t, r.GetMember().GetMfaPhoneNumberVerified())
			},
		},
		{
			name: "SmsAuthenticate with a wrong code", method: otpsSvc + "SmsAuthenticate", verb: "POST", path: fixed("/v1/b2b/otps/sms/authenticate"),
			req: func(t *testing.T) proto.Message {
				m, ist := mfaStart(t)
				return &b2bv1.OTPsServiceSmsAuthenticateRequest{OrganizationId: mfaOrg.ID, MemberId: m.ID, Code: wrongCode(e.lastCode(t, phone)), Credential: &b2bv1.OTPsServiceSmsAuthenticateRequest_IntermediateSessionToken{IntermediateSessionToken: ist}}
			},
			resp: func() proto.Message { return &b2bv1.OTPsServiceSmsAuthenticateResponse{} },
			code: codes.Unauthenticated, reason: "unable_to_auth_otp_code",
		},
	})

	// An unknown member (Stytch 404 member_not_found), a member with no code (404
	// otp_code_not_found) and a wrong code (401) must look the same to an anonymous caller.
	t.Run("unknown member and wrong code are indistinguishable", func(t *testing.T) {
		require.Equal(t, codes.OK, e.grpcCall(t, otpsSvc+"EmailLoginOrSignup", &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: active.Email}, &b2bv1.OTPsServiceEmailLoginOrSignupResponse{}).Code())
		code := e.lastCode(t, active.Email)
		wrong := e.restCallNoCookies(t, "POST", "/v1/b2b/otps/email/authenticate", &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: org.ID, EmailAddress: active.Email, Code: wrongCode(code)}, nil)
		unknown := e.restCallNoCookies(t, "POST", "/v1/b2b/otps/email/authenticate", &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: org.ID, EmailAddress: email("nobody"), Code: code}, nil)
		noCode := e.member(t, org.ID, stytchemu.MemberParams{})
		never := e.restCallNoCookies(t, "POST", "/v1/b2b/otps/email/authenticate", &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: org.ID, EmailAddress: noCode.Email, Code: code}, nil)
		assert.Equal(t, 401, wrong.HTTP)
		assertSameRejection(t, wrong, unknown)
		assertSameRejection(t, wrong, never)
	})
}
