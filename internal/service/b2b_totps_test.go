package service_test

import (
	"net/http"
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
	b2bTOTPsSvc    = "/authsvc.b2b.v1.TOTPsService/"
	recoverySvc    = "/authsvc.b2b.v1.RecoveryCodesService/"
	b2bMagicLinks  = "/authsvc.b2b.v1.MagicLinksService/"
	b2bTOTPAuthURL = "/v1/b2b/totp/authenticate"
	recoverURL     = "/v1/b2b/recovery_codes/recover"
)

// magicLinkIST signs m in to org with a magic link, over tr's transport, and returns the
// intermediate session token the organization's MFA policy leaves instead of a session.
func (tr factorTransport) magicLinkIST(t *testing.T, orgID, addr string) *b2bv1.MagicLinksServiceAuthenticateResponse {
	t.Helper()
	code, reason := tr.call(t, "", b2bMagicLinks+"LoginOrSignup", "/v1/b2b/magic_links/email/login_or_signup",
		&b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: orgID, EmailAddress: addr}, &b2bv1.MagicLinksServiceLoginOrSignupResponse{})
	require.Equal(t, codes.OK, code, reason)
	auth := &b2bv1.MagicLinksServiceAuthenticateResponse{}
	code, reason = tr.call(t, "", b2bMagicLinks+"Authenticate", "/v1/b2b/magic_links/authenticate",
		&b2bv1.MagicLinksServiceAuthenticateRequest{MagicLinksToken: tr.e.lastLink(t, addr).Token}, auth)
	require.Equal(t, codes.OK, code, reason)
	require.False(t, auth.GetMemberAuthenticated(), "the organization requires MFA")
	require.NotEmpty(t, auth.GetIntermediateSessionToken())
	require.NotNil(t, auth.GetMfaRequired())
	assert.Empty(t, auth.GetSessionToken(), "no session before the second factor")
	return auth
}

// enrolDuringMFA signs a new member of a new MFA-required organization in with a magic link and
// enrols a TOTP with the intermediate session (no other credential), then completes the login with
// a code computed from the secret; it returns the intermediate session token, now consumed.
func (tr factorTransport) enrolDuringMFA(t *testing.T) (stytchemu.Organization, stytchemu.Member, *b2bv1.TOTPsServiceCreateResponse, *b2bv1.TOTPsServiceAuthenticateResponse, string) {
	t.Helper()
	org := tr.e.org(t, stytchemu.OrganizationParams{MFAPolicy: "REQUIRED_FOR_ALL"})
	m := tr.e.member(t, org.ID, stytchemu.MemberParams{})
	ist := tr.magicLinkIST(t, org.ID, m.Email).GetIntermediateSessionToken()

	cr := &b2bv1.TOTPsServiceCreateResponse{}
	code, reason := tr.call(t, "", b2bTOTPsSvc+"Create", "/v1/b2b/totp", &b2bv1.TOTPsServiceCreateRequest{
		OrganizationId: org.ID, MemberId: m.ID, IntermediateSessionToken: ist,
	}, cr)
	require.Equal(t, codes.OK, code, reason)
	require.NotEmpty(t, cr.GetSecret())
	require.Len(t, cr.GetRecoveryCodes(), 10)
	assert.True(t, strings.HasPrefix(cr.GetQrCode(), "data:image/png;base64,"))

	auth := &b2bv1.TOTPsServiceAuthenticateResponse{}
	code, reason = tr.call(t, "", b2bTOTPsSvc+"Authenticate", b2bTOTPAuthURL, &b2bv1.TOTPsServiceAuthenticateRequest{
		OrganizationId: org.ID, MemberId: m.ID, Code: totpCode(t, cr.GetSecret()),
		Credential: &b2bv1.TOTPsServiceAuthenticateRequest_IntermediateSessionToken{IntermediateSessionToken: ist},
	}, auth)
	require.Equal(t, codes.OK, code, reason)
	return org, m, cr, auth, ist
}

func factorTypesOf(s *b2bv1.MemberSession) []b2bv1.AuthenticationFactorType {
	var out []b2bv1.AuthenticationFactorType
	for _, f := range s.GetAuthenticationFactors() {
		out = append(out, f.GetType())
	}
	return out
}

// The MFA story: an organization requiring MFA, a magic link, the intermediate session,
// a TOTP enrolled with it and a code computed from the secret, and a session holding both factors.
func TestFlowMFAWithTOTP(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		org, m, cr, auth, firstIST := tr.enrolDuringMFA(t)
		require.NotEmpty(t, auth.GetSessionToken())
		require.NotEmpty(t, auth.GetSessionJwt())
		assert.Equal(t, m.ID, auth.GetMemberId())
		assert.Equal(t, cr.GetTotpRegistrationId(), auth.GetMember().GetTotpRegistrationId(), "the first code makes the registration the member's")
		assert.ElementsMatch(t, []b2bv1.AuthenticationFactorType{
			b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_MAGIC_LINK,
			b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_TOTP,
		}, factorTypesOf(auth.GetMemberSession()))

		// The session is a full one: Sessions.Authenticate accepts it, with both factors.
		sess := &b2bv1.SessionsServiceAuthenticateResponse{}
		st := e.grpcAs(t, auth.GetSessionJwt(), "/authsvc.b2b.v1.SessionsService/Authenticate", &b2bv1.SessionsServiceAuthenticateRequest{}, sess)
		require.Equal(t, codes.OK, st.Code(), st.Message())
		assert.Len(t, sess.GetMemberSession().GetAuthenticationFactors(), 2)

		// The next login names the TOTP in mfa_required.
		next := tr.magicLinkIST(t, org.ID, m.Email)
		assert.Equal(t, cr.GetTotpRegistrationId(), next.GetMfaRequired().GetMemberOptions().GetTotpRegistrationId())

		// The intermediate session of the first login was consumed.
		code, reason := tr.call(t, "", b2bTOTPsSvc+"Authenticate", b2bTOTPAuthURL, &b2bv1.TOTPsServiceAuthenticateRequest{
			OrganizationId: org.ID, MemberId: m.ID, Code: totpCode(t, cr.GetSecret()),
			Credential: &b2bv1.TOTPsServiceAuthenticateRequest_IntermediateSessionToken{IntermediateSessionToken: firstIST},
		}, &b2bv1.TOTPsServiceAuthenticateResponse{})
		assert.Equal(t, codes.Unauthenticated, code)
		assert.Equal(t, "intermediate_session_not_found", reason)

		// A code alone never starts a login: the credential oneof is required.
		code, reason = tr.call(t, "", b2bTOTPsSvc+"Authenticate", b2bTOTPAuthURL, &b2bv1.TOTPsServiceAuthenticateRequest{
			OrganizationId: org.ID, MemberId: m.ID, Code: totpCode(t, cr.GetSecret()),
		}, &b2bv1.TOTPsServiceAuthenticateResponse{})
		assert.Equal(t, codes.InvalidArgument, code, reason)

		// A second enrolment while one is active is refused.
		code, reason = tr.call(t, "", b2bTOTPsSvc+"Create", "/v1/b2b/totp", &b2bv1.TOTPsServiceCreateRequest{
			OrganizationId: org.ID, MemberId: m.ID, IntermediateSessionToken: next.GetIntermediateSessionToken(),
		}, &b2bv1.TOTPsServiceCreateResponse{})
		assert.Equal(t, codes.InvalidArgument, code)
		assert.Equal(t, "active_totp_exists", reason)
	})
}

// A recovery code completes a login in place of a TOTP code, once.
func TestFlowMFAWithRecoveryCode(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		org, m, cr, _, _ := tr.enrolDuringMFA(t)
		recoveryCode := cr.GetRecoveryCodes()[3]
		recoverWith := func(ist string) (*b2bv1.RecoveryCodesServiceRecoverResponse, codes.Code, string) {
			out := &b2bv1.RecoveryCodesServiceRecoverResponse{}
			code, reason := tr.call(t, "", recoverySvc+"Recover", recoverURL, &b2bv1.RecoveryCodesServiceRecoverRequest{
				OrganizationId: org.ID, MemberId: m.ID, RecoveryCode: recoveryCode,
				Credential: &b2bv1.RecoveryCodesServiceRecoverRequest_IntermediateSessionToken{IntermediateSessionToken: ist},
			}, out)
			return out, code, reason
		}

		got, code, reason := recoverWith(tr.magicLinkIST(t, org.ID, m.Email).GetIntermediateSessionToken())
		require.Equal(t, codes.OK, code, reason)
		assert.NotEmpty(t, got.GetSessionToken())
		assert.Equal(t, int32(9), got.GetRecoveryCodesRemaining())
		assert.ElementsMatch(t, []b2bv1.AuthenticationFactorType{
			b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_MAGIC_LINK,
			b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_RECOVERY_CODES,
		}, factorTypesOf(got.GetMemberSession()))

		_, code, reason = recoverWith(tr.magicLinkIST(t, org.ID, m.Email).GetIntermediateSessionToken())
		assert.Equal(t, codes.Unauthenticated, code)
		assert.Equal(t, "unable_to_authenticate_recovery_code", reason, "a recovery code works once")
	})
}

// Wrong TOTP codes for one member are refused before Stytch once the member's failure budget is
// spent, whichever way the member is spelled; the recovery budget is apart.
func TestB2BTOTPBruteForceRefusedBeforeStytch(t *testing.T) {
	e := startEnv(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION_LIMITS": "check_failures_target=3/10m"}))
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		org, m, cr, _, _ := tr.enrolDuringMFA(t)
		ist := tr.magicLinkIST(t, org.ID, m.Email).GetIntermediateSessionToken()
		auth := func(memberID, code string) (codes.Code, string) {
			return tr.call(t, "", b2bTOTPsSvc+"Authenticate", b2bTOTPAuthURL, &b2bv1.TOTPsServiceAuthenticateRequest{
				OrganizationId: org.ID, MemberId: memberID, Code: code,
				Credential: &b2bv1.TOTPsServiceAuthenticateRequest_IntermediateSessionToken{IntermediateSessionToken: ist},
			}, &b2bv1.TOTPsServiceAuthenticateResponse{})
		}
		wrong := wrongTOTPCode(t, cr.GetSecret())
		for i := range 3 {
			code, reason := auth(m.ID, wrong)
			require.Equal(t, codes.Unauthenticated, code, "guess %d: %s", i+1, reason)
			require.Equal(t, "unable_to_authenticate_totp", reason)
		}
		before := e.Emu.Requests("POST /v1/b2b/totp/authenticate")
		code, reason := auth(m.ID, wrong)
		assert.Equal(t, codes.ResourceExhausted, code, reason)
		code, reason = auth(strings.ToUpper(m.ID), totpCode(t, cr.GetSecret()))
		assert.Equal(t, codes.ResourceExhausted, code, "one budget per member, in any letter case, even for a right code: %s", reason)
		assert.Equal(t, before, e.Emu.Requests("POST /v1/b2b/totp/authenticate"), "refused before Stytch")

		// The recovery codes have their own budget: the member can still get in.
		got := &b2bv1.RecoveryCodesServiceRecoverResponse{}
		code, reason = tr.call(t, "", recoverySvc+"Recover", recoverURL, &b2bv1.RecoveryCodesServiceRecoverRequest{
			OrganizationId: org.ID, MemberId: m.ID, RecoveryCode: cr.GetRecoveryCodes()[0],
			Credential: &b2bv1.RecoveryCodesServiceRecoverRequest_IntermediateSessionToken{IntermediateSessionToken: ist},
		}, got)
		require.Equal(t, codes.OK, code, reason)
		assert.NotEmpty(t, got.GetSessionJwt())
	})
}

// getRecoveryCodes reads a member's recovery codes as bearer over tr's transport (GET on REST).
func (tr factorTransport) getRecoveryCodes(t *testing.T, bearer, orgID, memberID string) (*b2bv1.RecoveryCodesServiceGetResponse, codes.Code, string) {
	t.Helper()
	out := &b2bv1.RecoveryCodesServiceGetResponse{}
	if !tr.rest {
		st := tr.e.grpcAs(t, bearer, recoverySvc+"Get", &b2bv1.RecoveryCodesServiceGetRequest{OrganizationId: orgID, MemberId: memberID}, out)
		return out, st.Code(), errorReason(st)
	}
	r := tr.e.restWith(t, &http.Client{}, bearer, "GET", "/v1/b2b/recovery_codes/"+orgID+"/"+memberID, nil, out)
	if r.HTTP == http.StatusOK {
		return out, codes.OK, ""
	}
	require.NotNil(t, r.Status, "body: %s", r.Body)
	assert.Equal(t, r.HTTP, httpStatusFor(r.Status.Code()), "the HTTP status matches the gRPC code")
	return out, r.Status.Code(), errorReason(r.Status)
}

// Who may enrol, read and rotate: the member's own session, a service; not another member, not a
// member of another organization.
func TestB2BTOTPAndRecoveryCodesAccess(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		org, m, cr, auth, _ := tr.enrolDuringMFA(t)
		own := auth.GetSessionJwt()
		colleague := tr.e.session(t, org.ID, tr.e.member(t, org.ID, stytchemu.MemberParams{}).ID)
		otherOrg := tr.e.org(t, stytchemu.OrganizationParams{})
		stranger := tr.e.session(t, otherOrg.ID, tr.e.member(t, otherOrg.ID, stytchemu.MemberParams{}).ID)

		got, code, reason := tr.getRecoveryCodes(t, own, org.ID, strings.ToUpper(m.ID))
		require.Equal(t, codes.OK, code, reason)
		assert.Equal(t, cr.GetRecoveryCodes(), got.GetRecoveryCodes())
		_, code, reason = tr.getRecoveryCodes(t, colleague.JWT, org.ID, m.ID)
		assert.Equal(t, codes.PermissionDenied, code, "a member reads only their own codes: %s", reason)
		assert.Equal(t, "session_member_mismatch", reason)
		_, code, reason = tr.getRecoveryCodes(t, stranger.JWT, org.ID, m.ID)
		assert.Equal(t, codes.PermissionDenied, code, "another organization's member: %s", reason)
		_, code, reason = tr.getRecoveryCodes(t, "", org.ID, m.ID)
		assert.Equal(t, codes.Unauthenticated, code, reason)
		got, code, reason = tr.getRecoveryCodes(t, tr.e.svcToken(t), org.ID, m.ID)
		require.Equal(t, codes.OK, code, reason)
		assert.Len(t, got.GetRecoveryCodes(), 10)

		rotate := func(bearer string) (*b2bv1.RecoveryCodesServiceRotateResponse, codes.Code, string) {
			out := &b2bv1.RecoveryCodesServiceRotateResponse{}
			code, reason := tr.call(t, bearer, recoverySvc+"Rotate", "/v1/b2b/recovery_codes/rotate",
				&b2bv1.RecoveryCodesServiceRotateRequest{OrganizationId: org.ID, MemberId: m.ID}, out)
			return out, code, reason
		}
		_, code, reason = rotate(colleague.JWT)
		assert.Equal(t, codes.PermissionDenied, code, reason)
		rot, code, reason := rotate(own)
		require.Equal(t, codes.OK, code, reason)
		require.Len(t, rot.GetRecoveryCodes(), 10)
		assert.NotContains(t, rot.GetRecoveryCodes(), cr.GetRecoveryCodes()[0], "the old codes are gone")

		// An old code no longer works after the rotation.
		code, reason = tr.call(t, "", recoverySvc+"Recover", recoverURL, &b2bv1.RecoveryCodesServiceRecoverRequest{
			OrganizationId: org.ID, MemberId: m.ID, RecoveryCode: cr.GetRecoveryCodes()[0],
			Credential: &b2bv1.RecoveryCodesServiceRecoverRequest_SessionToken{SessionToken: auth.GetSessionToken()},
		}, &b2bv1.RecoveryCodesServiceRecoverResponse{})
		assert.Equal(t, codes.Unauthenticated, code)
		assert.Equal(t, "unable_to_authenticate_recovery_code", reason)

		// Enrolment by another member's session is refused before Stytch; the member's own
		// session is passed on as the proof of its factors.
		other := tr.e.member(t, org.ID, stytchemu.MemberParams{})
		code, reason = tr.call(t, colleague.JWT, b2bTOTPsSvc+"Create", "/v1/b2b/totp",
			&b2bv1.TOTPsServiceCreateRequest{OrganizationId: org.ID, MemberId: other.ID}, &b2bv1.TOTPsServiceCreateResponse{})
		assert.Equal(t, codes.PermissionDenied, code, reason)
		assert.Equal(t, "session_member_mismatch", reason)
		code, reason = tr.call(t, "", b2bTOTPsSvc+"Create", "/v1/b2b/totp",
			&b2bv1.TOTPsServiceCreateRequest{OrganizationId: org.ID, MemberId: other.ID}, &b2bv1.TOTPsServiceCreateResponse{})
		assert.Equal(t, codes.Unauthenticated, code, "no credential: %s", reason)
		mine := &b2bv1.TOTPsServiceCreateResponse{}
		code, reason = tr.call(t, colleague.JWT, b2bTOTPsSvc+"Create", "/v1/b2b/totp",
			&b2bv1.TOTPsServiceCreateRequest{OrganizationId: org.ID, MemberId: colleague.MemberID, ExpirationMinutes: proto.Int32(10)}, mine)
		require.Equal(t, codes.OK, code, reason)
		assert.NotEmpty(t, mine.GetTotpRegistrationId())
	})
}

// Migrate imports a secret, for services only; a code of the imported secret then completes MFA.
func TestB2BTOTPMigrate(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		org := tr.e.org(t, stytchemu.OrganizationParams{MFAPolicy: "REQUIRED_FOR_ALL"})
		m := tr.e.member(t, org.ID, stytchemu.MemberParams{})
		const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
		req := &b2bv1.TOTPsServiceMigrateRequest{OrganizationId: org.ID, MemberId: m.ID, Secret: secret, RecoveryCodes: []string{"abcd-efgh-ijkl"}}

		code, reason := tr.call(t, tr.e.session(t, org.ID, m.ID).JWT, b2bTOTPsSvc+"Migrate", "/v1/b2b/totp/migrate", req, &b2bv1.TOTPsServiceMigrateResponse{})
		assert.Equal(t, codes.PermissionDenied, code, "a member session does not satisfy a service-only rule: %s", reason)
		mig := &b2bv1.TOTPsServiceMigrateResponse{}
		code, reason = tr.call(t, tr.e.svcToken(t), b2bTOTPsSvc+"Migrate", "/v1/b2b/totp/migrate", req, mig)
		require.Equal(t, codes.OK, code, reason)
		assert.NotEmpty(t, mig.GetTotpRegistrationId())
		assert.Equal(t, []string{"abcd-efgh-ijkl"}, mig.GetRecoveryCodes())

		ist := tr.magicLinkIST(t, org.ID, m.Email).GetIntermediateSessionToken()
		auth := &b2bv1.TOTPsServiceAuthenticateResponse{}
		code, reason = tr.call(t, "", b2bTOTPsSvc+"Authenticate", b2bTOTPAuthURL, &b2bv1.TOTPsServiceAuthenticateRequest{
			OrganizationId: org.ID, MemberId: m.ID, Code: totpCode(t, secret),
			Credential: &b2bv1.TOTPsServiceAuthenticateRequest_IntermediateSessionToken{IntermediateSessionToken: ist},
		}, auth)
		require.Equal(t, codes.OK, code, reason)
		assert.Len(t, auth.GetMemberSession().GetAuthenticationFactors(), 2)
	})
}
