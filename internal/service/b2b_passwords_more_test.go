package service_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// An imported bcrypt hash creates the member (a service or an administrator may import; an
// anonymous caller and a plain member may not), logs in with the old password, and an
// administrator's forced reset then refuses the login until ExistingPasswordReset sets a new
// password, which logs the member in and ends the member's other sessions.
func TestB2BPasswordMigrateRequireAndExistingReset(t *testing.T) {
	e := startEnvNoLimits(t)
	hash, err := bcrypt.GenerateFromPassword([]byte(memberPW), bcrypt.MinCost)
	require.NoError(t, err)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		org := e.org(t, stytchemu.OrganizationParams{})
		addr := email("imported")
		migrate := &b2bv1.PasswordsServiceMigrateRequest{
			OrganizationId: org.ID, EmailAddress: addr, Hash: string(hash), HashType: consumerv1.HashType_HASH_TYPE_BCRYPT, Name: "Imported",
		}
		plain := e.member(t, org.ID, stytchemu.MemberParams{})
		for name, bearer := range map[string]string{"anonymous": "", "a plain member": e.session(t, org.ID, plain.ID).JWT} {
			code, _ := tr.call(t, bearer, b2bPasswordsSvc+"Migrate", "/v1/b2b/passwords/migrate", migrate, &b2bv1.PasswordsServiceMigrateResponse{})
			assert.Contains(t, []codes.Code{codes.Unauthenticated, codes.PermissionDenied}, code, name)
		}
		mig := &b2bv1.PasswordsServiceMigrateResponse{}
		code, reason := tr.call(t, e.svcToken(t), b2bPasswordsSvc+"Migrate", "/v1/b2b/passwords/migrate", migrate, mig)
		require.Equal(t, codes.OK, code, reason)
		assert.True(t, mig.GetMemberCreated())
		assert.Equal(t, "Imported", mig.GetMember().GetName())
		assert.NotEmpty(t, mig.GetMember().GetMemberPasswordId())
		code, _ = tr.call(t, e.svcToken(t), b2bPasswordsSvc+"Migrate", "/v1/b2b/passwords/migrate",
			&b2bv1.PasswordsServiceMigrateRequest{OrganizationId: org.ID, EmailAddress: addr, Hash: string(hash)}, &b2bv1.PasswordsServiceMigrateResponse{})
		assert.Equal(t, codes.InvalidArgument, code, "hash_type is required")

		login, code, reason := tr.passwordLogin(t, org.ID, addr, memberPW)
		require.Equal(t, codes.OK, code, reason)
		earlier := login.GetSessionToken()

		req := &b2bv1.PasswordsServiceRequireResetResponse{}
		code, reason = tr.call(t, e.svcToken(t), b2bPasswordsSvc+"RequireReset", "/v1/b2b/passwords/email/require_reset",
			&b2bv1.PasswordsServiceRequireResetRequest{OrganizationId: org.ID, EmailAddress: addr}, req)
		require.Equal(t, codes.OK, code, reason)
		assert.Equal(t, mig.GetMemberId(), req.GetMemberId())
		_, code, reason = tr.passwordLogin(t, org.ID, addr, memberPW)
		assert.Equal(t, codes.InvalidArgument, code)
		assert.Equal(t, "reset_password", reason)
		code, _ = tr.call(t, "", b2bPasswordsSvc+"RequireReset", "/v1/b2b/passwords/email/require_reset",
			&b2bv1.PasswordsServiceRequireResetRequest{OrganizationId: org.ID, EmailAddress: addr}, &b2bv1.PasswordsServiceRequireResetResponse{})
		assert.Equal(t, codes.Unauthenticated, code, "an anonymous caller forces no reset")

		existing := func(old, next string) (*b2bv1.PasswordsServiceExistingPasswordResetResponse, codes.Code, string) {
			out := &b2bv1.PasswordsServiceExistingPasswordResetResponse{}
			code, reason := tr.call(t, "", b2bPasswordsSvc+"ExistingPasswordReset", "/v1/b2b/passwords/existing_password/reset",
				&b2bv1.PasswordsServiceExistingPasswordResetRequest{OrganizationId: org.ID, EmailAddress: addr, ExistingPassword: old, NewPassword: next}, out)
			return out, code, reason
		}
		_, code, reason = existing(memberPW+"!", memberPW+" two")
		assert.Equal(t, codes.Unauthenticated, code)
		assert.Equal(t, "unauthorized_credentials", reason)
		_, code, reason = existing(memberPW, "bananabread")
		assert.Equal(t, codes.InvalidArgument, code)
		assert.Equal(t, "weak_password", reason)
		res, code, reason := existing(memberPW, memberPW+" two")
		require.Equal(t, codes.OK, code, reason)
		assert.True(t, res.GetMemberAuthenticated())
		assert.Equal(t, org.ID, res.GetOrganizationId())
		assert.NotEmpty(t, res.GetSessionJwt())
		st := e.grpcCall(t, "/authsvc.b2b.v1.SessionsService/Authenticate", &b2bv1.SessionsServiceAuthenticateRequest{
			Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: earlier},
		}, &b2bv1.SessionsServiceAuthenticateResponse{})
		assert.NotEqual(t, codes.OK, st.Code(), "the earlier session ended")
		_, code, reason = tr.passwordLogin(t, org.ID, addr, memberPW+" two")
		assert.Equal(t, codes.OK, code, reason)

		code, _ = tr.call(t, "", b2bPasswordsSvc+"ExistingPasswordReset", "/v1/b2b/passwords/existing_password/reset",
			&b2bv1.PasswordsServiceExistingPasswordResetRequest{OrganizationId: org.ID, EmailAddress: addr, ExistingPassword: memberPW}, &b2bv1.PasswordsServiceExistingPasswordResetResponse{})
		assert.Equal(t, codes.InvalidArgument, code, "new_password is required")
	})
}

// A member resets the password with the own fresh session (the caller's Bearer credential); the
// session carries on, and six minutes later the session is too old to do it again.
func TestB2BPasswordSessionReset(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		org := e.org(t, stytchemu.OrganizationParams{})
		m := e.member(t, org.ID, stytchemu.MemberParams{})
		ses := e.session(t, org.ID, m.ID)
		reset := func(bearer, pw string) (*b2bv1.PasswordsServiceSessionResetResponse, codes.Code, string) {
			out := &b2bv1.PasswordsServiceSessionResetResponse{}
			code, reason := tr.call(t, bearer, b2bPasswordsSvc+"SessionReset", "/v1/b2b/passwords/session/reset",
				&b2bv1.PasswordsServiceSessionResetRequest{OrganizationId: org.ID, Password: pw}, out)
			return out, code, reason
		}
		_, code, _ := reset("", memberPW)
		assert.Equal(t, codes.Unauthenticated, code, "no session at all")
		_, code, reason := reset(ses.JWT, "bananabread")
		assert.Equal(t, codes.InvalidArgument, code)
		assert.Equal(t, "weak_password", reason)
		res, code, reason := reset(ses.JWT, memberPW)
		require.Equal(t, codes.OK, code, reason)
		assert.Equal(t, ses.ID, res.GetMemberSession().GetMemberSessionId())
		assert.Equal(t, m.ID, res.GetMemberId())
		assert.NotEmpty(t, res.GetMember().GetMemberPasswordId())
		_, code, reason = tr.passwordLogin(t, org.ID, m.Email, memberPW)
		assert.Equal(t, codes.OK, code, reason)

		// Another organization's member cannot act on this organization.
		other := e.org(t, stytchemu.OrganizationParams{})
		stranger := e.member(t, other.ID, stytchemu.MemberParams{})
		_, code, _ = reset(e.session(t, other.ID, stranger.ID).JWT, memberPW)
		assert.Equal(t, codes.PermissionDenied, code)
	})
	t.Run("stale session", func(t *testing.T) {
		org := e.org(t, stytchemu.OrganizationParams{})
		m := e.member(t, org.ID, stytchemu.MemberParams{})
		ses := e.session(t, org.ID, m.ID)
		e.Emu.Advance(6 * time.Minute)
		st := e.grpcCall(t, b2bPasswordsSvc+"SessionReset", &b2bv1.PasswordsServiceSessionResetRequest{
			OrganizationId: org.ID, Password: memberPW, Session: &b2bv1.PasswordsServiceSessionResetRequest_SessionToken{SessionToken: ses.Token},
		}, &b2bv1.PasswordsServiceSessionResetResponse{})
		assert.Equal(t, codes.InvalidArgument, st.Code(), st.Message())
	})
}

// The discovery password flow: a reset email to an address with members in two organizations
// (and the same answer for an unknown address), the reset returning an intermediate session and
// both organizations, a discovery login with the new password, and the exchange into one of them.
func TestB2BPasswordDiscoveryFlow(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		a := e.org(t, stytchemu.OrganizationParams{})
		b := e.org(t, stytchemu.OrganizationParams{})
		addr := email("roamer")
		e.member(t, a.ID, stytchemu.MemberParams{Email: addr})
		e.member(t, b.ID, stytchemu.MemberParams{Email: addr})

		start := func(to string) *b2bv1.PasswordsServiceDiscoveryEmailResetStartResponse {
			out := &b2bv1.PasswordsServiceDiscoveryEmailResetStartResponse{}
			code, reason := tr.call(t, "", b2bPasswordsSvc+"DiscoveryEmailResetStart", "/v1/b2b/passwords/discovery/email/reset/start",
				&b2bv1.PasswordsServiceDiscoveryEmailResetStartRequest{EmailAddress: to}, out)
			require.Equal(t, codes.OK, code, reason)
			return out
		}
		known := start(addr)
		ghost := email("ghost")
		assert.True(t, proto.Equal(known, start(ghost)), "an unknown address is answered alike")
		_, sent := e.Emu.LastMessage(ghost)
		assert.False(t, sent)
		msg := e.lastLink(t, addr)
		assert.Equal(t, stytchemu.TemplateResetPassword, msg.Template)

		res := &b2bv1.PasswordsServiceDiscoveryEmailResetResponse{}
		code, reason := tr.call(t, "", b2bPasswordsSvc+"DiscoveryEmailReset", "/v1/b2b/passwords/discovery/email/reset",
			&b2bv1.PasswordsServiceDiscoveryEmailResetRequest{PasswordResetToken: msg.Token, Password: memberPW}, res)
		require.Equal(t, codes.OK, code, reason)
		assert.NotEmpty(t, res.GetIntermediateSessionToken())
		assert.Len(t, res.GetDiscoveredOrganizations(), 2)
		code, _ = tr.call(t, "", b2bPasswordsSvc+"DiscoveryEmailReset", "/v1/b2b/passwords/discovery/email/reset",
			&b2bv1.PasswordsServiceDiscoveryEmailResetRequest{PasswordResetToken: msg.Token, Password: memberPW}, &b2bv1.PasswordsServiceDiscoveryEmailResetResponse{})
		assert.Equal(t, codes.Unauthenticated, code, "the token is single use")

		auth := func(pw string) (*b2bv1.PasswordsServiceDiscoveryAuthenticateResponse, codes.Code, string) {
			out := &b2bv1.PasswordsServiceDiscoveryAuthenticateResponse{}
			code, reason := tr.call(t, "", b2bPasswordsSvc+"DiscoveryAuthenticate", "/v1/b2b/passwords/discovery/authenticate",
				&b2bv1.PasswordsServiceDiscoveryAuthenticateRequest{EmailAddress: addr, Password: pw}, out)
			return out, code, reason
		}
		_, code, reason = auth(memberPW + "!")
		assert.Equal(t, codes.Unauthenticated, code)
		assert.Equal(t, "unauthorized_credentials", reason)
		d, code, reason := auth(memberPW)
		require.Equal(t, codes.OK, code, reason)
		assert.Equal(t, addr, d.GetEmailAddress())
		require.Len(t, d.GetDiscoveredOrganizations(), 2)

		x := &b2bv1.DiscoveryServiceExchangeIntermediateSessionResponse{}
		code, reason = tr.call(t, "", "/authsvc.b2b.v1.DiscoveryService/ExchangeIntermediateSession", "/v1/b2b/discovery/intermediate_sessions/exchange",
			&b2bv1.DiscoveryServiceExchangeIntermediateSessionRequest{IntermediateSessionToken: d.GetIntermediateSessionToken(), OrganizationId: b.ID}, x)
		require.Equal(t, codes.OK, code, reason)
		assert.True(t, x.GetMemberAuthenticated())
		assert.NotEmpty(t, x.GetSessionJwt())
		_, code, reason = tr.passwordLogin(t, a.ID, addr, memberPW)
		assert.Equal(t, codes.OK, code, reason, "one password for the address in every organization")

		code, _ = tr.call(t, "", b2bPasswordsSvc+"DiscoveryAuthenticate", "/v1/b2b/passwords/discovery/authenticate",
			&b2bv1.PasswordsServiceDiscoveryAuthenticateRequest{EmailAddress: "not-an-address", Password: memberPW}, &b2bv1.PasswordsServiceDiscoveryAuthenticateResponse{})
		assert.Equal(t, codes.InvalidArgument, code)
	})
}
