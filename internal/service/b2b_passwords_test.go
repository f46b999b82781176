package service_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const (
	b2bPasswordsSvc    = "/authsvc.b2b.v1.PasswordsService/"
	b2bPasswordAuthURL = "/v1/b2b/passwords/authenticate"
	b2bPasswordAuthEP  = "POST /v1/b2b/passwords/authenticate"
	// memberPW scores 4 under zxcvbn and is not on the breached list.
	memberPW = "tangerine Orbit 42 velvet"
)

// passwordMember creates a member of orgID with memberPW as its password (the emulator's sign-up).
func (e *testEnv) passwordMember(t *testing.T, orgID string) stytchemu.Member {
	t.Helper()
	m := e.member(t, orgID, stytchemu.MemberParams{})
	id, err := e.Emu.SetMemberPassword(orgID, m.ID, memberPW)
	require.NoError(t, err)
	require.NotEmpty(t, id)
	return m
}

func (tr factorTransport) passwordLogin(t *testing.T, orgID, addr, pw string) (*b2bv1.PasswordsServiceAuthenticateResponse, codes.Code, string) {
	t.Helper()
	out := &b2bv1.PasswordsServiceAuthenticateResponse{}
	code, reason := tr.call(t, "", b2bPasswordsSvc+"Authenticate", b2bPasswordAuthURL, &b2bv1.PasswordsServiceAuthenticateRequest{
		OrganizationId: orgID, EmailAddress: addr, Password: pw,
	}, out)
	return out, code, reason
}

// A member logs in with a password: the right one gives a session holding the password factor;
// a wrong one, an unknown address and a member without a password get one answer.
func TestB2BPasswordLogin(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		org := e.org(t, stytchemu.OrganizationParams{})
		m := e.passwordMember(t, org.ID)
		noPW := e.member(t, org.ID, stytchemu.MemberParams{})

		for name, c := range map[string][2]string{
			"wrong password":     {m.Email, memberPW + "!"},
			"unknown address":    {email("nobody"), memberPW},
			"member without one": {noPW.Email, memberPW},
		} {
			_, code, reason := tr.passwordLogin(t, org.ID, c[0], c[1])
			assert.Equal(t, codes.Unauthenticated, code, name)
			assert.Equal(t, "unauthorized_credentials", reason, name)
		}

		res, code, reason := tr.passwordLogin(t, org.ID, strings.ToUpper(m.Email), memberPW)
		require.Equal(t, codes.OK, code, reason)
		assert.True(t, res.GetMemberAuthenticated())
		assert.Equal(t, m.ID, res.GetMemberId())
		assert.Equal(t, org.ID, res.GetOrganizationId())
		assert.NotEmpty(t, res.GetMember().GetMemberPasswordId())
		require.NotEmpty(t, res.GetSessionToken())
		assert.Empty(t, res.GetIntermediateSessionToken())
		assert.Equal(t, []b2bv1.AuthenticationFactorType{b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_PASSWORD},
			factorTypesOf(res.GetMemberSession()))

		// The session is a full one.
		sess := &b2bv1.SessionsServiceAuthenticateResponse{}
		st := e.grpcAs(t, res.GetSessionJwt(), "/authsvc.b2b.v1.SessionsService/Authenticate", &b2bv1.SessionsServiceAuthenticateRequest{}, sess)
		require.Equal(t, codes.OK, st.Code(), st.Message())
		assert.Equal(t, m.ID, sess.GetMemberSession().GetMemberId(), "the JWT is verified locally and names the member")

		// A malformed request is refused before Stytch.
		_, code, _ = tr.passwordLogin(t, org.ID, "not-an-email", memberPW)
		assert.Equal(t, codes.InvalidArgument, code)
	})
}

// An organization requiring MFA: the password leaves an intermediate session, which a TOTP
// enrolled with it completes into a session holding both factors.
func TestB2BPasswordMFARequired(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		org := e.org(t, stytchemu.OrganizationParams{MFAPolicy: "REQUIRED_FOR_ALL"})
		m := e.passwordMember(t, org.ID)
		res, code, reason := tr.passwordLogin(t, org.ID, m.Email, memberPW)
		require.Equal(t, codes.OK, code, reason)
		assert.False(t, res.GetMemberAuthenticated())
		assert.Empty(t, res.GetSessionToken())
		assert.Empty(t, res.GetSessionJwt())
		assert.NotNil(t, res.GetMfaRequired())
		ist := res.GetIntermediateSessionToken()
		require.NotEmpty(t, ist)

		cr := &b2bv1.TOTPsServiceCreateResponse{}
		code, reason = tr.call(t, "", b2bTOTPsSvc+"Create", "/v1/b2b/totp", &b2bv1.TOTPsServiceCreateRequest{
			OrganizationId: org.ID, MemberId: m.ID, IntermediateSessionToken: ist,
		}, cr)
		require.Equal(t, codes.OK, code, reason)
		auth := &b2bv1.TOTPsServiceAuthenticateResponse{}
		code, reason = tr.call(t, "", b2bTOTPsSvc+"Authenticate", b2bTOTPAuthURL, &b2bv1.TOTPsServiceAuthenticateRequest{
			OrganizationId: org.ID, MemberId: m.ID, Code: totpCode(t, cr.GetSecret()),
			Credential: &b2bv1.TOTPsServiceAuthenticateRequest_IntermediateSessionToken{IntermediateSessionToken: ist},
		}, auth)
		require.Equal(t, codes.OK, code, reason)
		require.NotEmpty(t, auth.GetSessionJwt())
		assert.ElementsMatch(t, []b2bv1.AuthenticationFactorType{
			b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_PASSWORD,
			b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_TOTP,
		}, factorTypesOf(auth.GetMemberSession()))
	})
}

// Wrong passwords for one member are refused before Stytch once the member's failure budget is
// spent, whichever way the address and the organization are spelled, even with the right password.
func TestB2BPasswordBruteForceRefusedBeforeStytch(t *testing.T) {
	e := startEnv(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION_LIMITS": "check_failures_target=3/10m"}))
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		org := e.org(t, stytchemu.OrganizationParams{})
		m := e.passwordMember(t, org.ID)
		for i := range 3 {
			_, code, reason := tr.passwordLogin(t, org.ID, m.Email, "wrong guess number "+string(rune('a'+i)))
			require.Equal(t, codes.Unauthenticated, code, "guess %d: %s", i+1, reason)
		}
		before := e.Emu.Requests(b2bPasswordAuthEP)
		_, code, reason := tr.passwordLogin(t, org.ID, m.Email, "one more guess")
		assert.Equal(t, codes.ResourceExhausted, code, reason)
		_, code, reason = tr.passwordLogin(t, strings.ToUpper(org.ID), strings.ToUpper(m.Email), memberPW)
		assert.Equal(t, codes.ResourceExhausted, code, "one budget per member, however spelled, even for the right password: %s", reason)
		assert.Equal(t, before, e.Emu.Requests(b2bPasswordAuthEP), "refused before Stytch")

		// Another member of the organization is not locked out.
		other := e.passwordMember(t, org.ID)
		_, code, reason = tr.passwordLogin(t, org.ID, other.Email, memberPW)
		assert.Equal(t, codes.OK, code, reason)
	})
}

func TestB2BPasswordStrengthCheck(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		check := func(pw string) *b2bv1.PasswordsServiceStrengthCheckResponse {
			out := &b2bv1.PasswordsServiceStrengthCheckResponse{}
			code, reason := tr.call(t, "", b2bPasswordsSvc+"StrengthCheck", "/v1/b2b/passwords/strength_check",
				&b2bv1.PasswordsServiceStrengthCheckRequest{Password: pw, EmailAddress: email("pw")}, out)
			require.Equal(t, codes.OK, code, reason)
			return out
		}
		strong := check(memberPW)
		assert.True(t, strong.GetValidPassword())
		assert.GreaterOrEqual(t, strong.GetScore(), int32(3))
		assert.Equal(t, b2bv1.PasswordStrengthPolicy_PASSWORD_STRENGTH_POLICY_ZXCVBN, strong.GetStrengthPolicy())
		assert.NotNil(t, strong.GetZxcvbnFeedback())

		weak := check("bananabread")
		assert.False(t, weak.GetValidPassword())
		assert.Less(t, weak.GetScore(), int32(3))
		assert.NotEmpty(t, weak.GetZxcvbnFeedback().GetSuggestions())

		code, _ := tr.call(t, "", b2bPasswordsSvc+"StrengthCheck", "/v1/b2b/passwords/strength_check",
			&b2bv1.PasswordsServiceStrengthCheckRequest{}, &b2bv1.PasswordsServiceStrengthCheckResponse{})
		assert.Equal(t, codes.InvalidArgument, code)
	})
}

// The reset flow is also the sign-up: a member without a password asks for a reset email, spends
// the outbox token (once) on a strong password, is logged in, and logs in with it afterwards.
func TestB2BPasswordEmailResetFlow(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		org := e.org(t, stytchemu.OrganizationParams{})
		m := e.member(t, org.ID, stytchemu.MemberParams{})
		start := &b2bv1.PasswordsServiceEmailResetStartResponse{}
		code, reason := tr.call(t, "", b2bPasswordsSvc+"EmailResetStart", "/v1/b2b/passwords/email/reset/start",
			&b2bv1.PasswordsServiceEmailResetStartRequest{OrganizationId: org.ID, EmailAddress: m.Email}, start)
		require.Equal(t, codes.OK, code, reason)
		assert.Empty(t, start.GetMemberId(), "the answer names no member") //nolint:staticcheck // SA1019: the deprecated field must stay empty
		msg := e.lastLink(t, m.Email)

		// An unknown address gets the same answer, and no email.
		ghost := email("ghost")
		unknown := &b2bv1.PasswordsServiceEmailResetStartResponse{}
		code, reason = tr.call(t, "", b2bPasswordsSvc+"EmailResetStart", "/v1/b2b/passwords/email/reset/start",
			&b2bv1.PasswordsServiceEmailResetStartRequest{OrganizationId: org.ID, EmailAddress: ghost}, unknown)
		require.Equal(t, codes.OK, code, reason)
		assert.True(t, proto.Equal(start, unknown), "known and unknown addresses are answered alike")
		_, sent := e.Emu.LastMessage(ghost)
		assert.False(t, sent)
		assert.Equal(t, stytchemu.TemplateResetPassword, msg.Template)

		reset := func(pw string) (*b2bv1.PasswordsServiceEmailResetResponse, codes.Code, string) {
			out := &b2bv1.PasswordsServiceEmailResetResponse{}
			code, reason := tr.call(t, "", b2bPasswordsSvc+"EmailReset", "/v1/b2b/passwords/email/reset",
				&b2bv1.PasswordsServiceEmailResetRequest{PasswordResetToken: msg.Token, Password: pw}, out)
			return out, code, reason
		}
		_, code, reason = reset("bananabread")
		assert.Equal(t, codes.InvalidArgument, code)
		assert.Equal(t, "weak_password", reason, "a weak password is refused and the token kept")

		res, code, reason := reset(memberPW)
		require.Equal(t, codes.OK, code, reason)
		assert.True(t, res.GetMemberAuthenticated())
		assert.Equal(t, m.ID, res.GetMemberId())
		assert.NotEmpty(t, res.GetMemberEmailId())
		assert.NotEmpty(t, res.GetSessionJwt())
		assert.NotEmpty(t, res.GetMember().GetMemberPasswordId())

		_, code, reason = reset(memberPW + " again")
		assert.Equal(t, codes.Unauthenticated, code, "the token is single use")
		assert.Equal(t, "unable_to_reset_password", reason)

		login, code, reason := tr.passwordLogin(t, org.ID, m.Email, memberPW)
		require.Equal(t, codes.OK, code, reason)
		assert.True(t, login.GetMemberAuthenticated())

		// A redirect URL off the allowlist is refused before Stytch.
		code, reason = tr.call(t, "", b2bPasswordsSvc+"EmailResetStart", "/v1/b2b/passwords/email/reset/start",
			&b2bv1.PasswordsServiceEmailResetStartRequest{OrganizationId: org.ID, EmailAddress: m.Email, ResetPasswordRedirectUrl: "https://evil.test/reset"},
			&b2bv1.PasswordsServiceEmailResetStartResponse{})
		assert.Equal(t, codes.InvalidArgument, code)
		assert.Equal(t, "invalid_redirect_url", reason)
	})
}
