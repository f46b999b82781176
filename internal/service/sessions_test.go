package service_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func authJWT(jwt string) *b2bv1.SessionsServiceAuthenticateRequest {
	return &b2bv1.SessionsServiceAuthenticateRequest{Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: jwt}}
}

func authToken(token string) *b2bv1.SessionsServiceAuthenticateRequest {
	return &b2bv1.SessionsServiceAuthenticateRequest{Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: token}}
}

// forge keeps a genuine JWT's header and signature but changes its payload (another member).
func forge(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	forged := strings.Replace(string(payload), `"sub":"member-`, `"sub":"member-x`, 1)
	require.NotEqual(t, string(payload), forged)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
}

func TestSessionsAuthenticate(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	m := e.member(t, org.ID, stytchemu.MemberParams{})
	s := e.session(t, org.ID, m.ID)
	authResp := func() proto.Message { return &b2bv1.SessionsServiceAuthenticateResponse{} }
	path := fixed("/v1/b2b/sessions/authenticate")
	verifiedBy := func(want b2bv1.SessionVerifier) func(*testing.T, proto.Message) {
		return func(t *testing.T, msg proto.Message) {
			r := msg.(*b2bv1.SessionsServiceAuthenticateResponse)
			assert.Equal(t, want, r.GetVerifiedBy())
			assert.Equal(t, s.ID, r.GetMemberSession().GetMemberSessionId())
			assert.Equal(t, m.ID, r.GetMemberSession().GetMemberId())
			assert.Equal(t, org.ID, r.GetMemberSession().GetOrganizationId())
			assert.NotNil(t, r.GetMemberSession().GetExpiresAt())
			assert.NotEmpty(t, r.GetSessionJwt())
			if want == b2bv1.SessionVerifier_SESSION_VERIFIER_REMOTE {
				assert.Equal(t, m.ID, r.GetMember().GetMemberId(), "Stytch returns the member")
				assert.Equal(t, org.ID, r.GetOrganization().GetOrganizationId())
			} else {
				assert.Nil(t, r.GetMember(), "a JWT does not carry the member")
				assert.Empty(t, r.GetSessionToken(), "a JWT holder never receives the opaque token")
			}
		}
	}

	runCases(t, e, []rpcCase{
		{
			name: "JWT verified locally", method: sessionsSvc + "Authenticate", verb: "POST", path: path,
			req:  func(*testing.T) proto.Message { return authJWT(s.JWT) },
			resp: authResp, code: codes.OK, check: verifiedBy(b2bv1.SessionVerifier_SESSION_VERIFIER_LOCAL),
		},
		{
			name: "token verified by Stytch", method: sessionsSvc + "Authenticate", verb: "POST", path: path,
			req:  func(*testing.T) proto.Message { return authToken(s.Token) },
			resp: authResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				verifiedBy(b2bv1.SessionVerifier_SESSION_VERIFIER_REMOTE)(t, msg)
				assert.Equal(t, s.Token, msg.(*b2bv1.SessionsServiceAuthenticateResponse).GetSessionToken())
			},
		},
		{
			name: "JWT with max_token_age_seconds 0 asks Stytch", method: sessionsSvc + "Authenticate", verb: "POST", path: path,
			req: func(*testing.T) proto.Message {
				r := authJWT(s.JWT)
				r.MaxTokenAgeSeconds = new(int32(0))
				return r
			},
			resp: authResp, code: codes.OK, check: verifiedBy(b2bv1.SessionVerifier_SESSION_VERIFIER_REMOTE),
		},
		{
			name: "JWT with session_duration_minutes extends through Stytch", method: sessionsSvc + "Authenticate", verb: "POST", path: path,
			req: func(*testing.T) proto.Message {
				r := authJWT(s.JWT)
				r.SessionDurationMinutes = new(int32(120))
				return r
			},
			resp: authResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				verifiedBy(b2bv1.SessionVerifier_SESSION_VERIFIER_REMOTE)(t, msg)
				exp := msg.(*b2bv1.SessionsServiceAuthenticateResponse).GetMemberSession().GetExpiresAt().AsTime()
				assert.WithinDuration(t, exp, e.Emu.Now().Add(120*time.Minute), time.Minute)
			},
		},
		{
			name: "authorization check granted", method: sessionsSvc + "Authenticate", verb: "POST", path: path,
			req: func(*testing.T) proto.Message {
				r := authJWT(s.JWT)
				r.AuthorizationCheck = &b2bv1.AuthorizationCheck{OrganizationId: org.ID, ResourceId: "stytch.self", Action: "update.info.name"}
				return r
			},
			resp: authResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				assert.True(t, msg.(*b2bv1.SessionsServiceAuthenticateResponse).GetVerdict().GetAuthorized())
			},
		},
		{
			name: "authorization check denied", method: sessionsSvc + "Authenticate", verb: "POST", path: path,
			req: func(*testing.T) proto.Message {
				r := authJWT(s.JWT)
				r.AuthorizationCheck = &b2bv1.AuthorizationCheck{OrganizationId: org.ID, ResourceId: "stytch.member", Action: "delete"}
				return r
			},
			resp: authResp, code: codes.PermissionDenied, reason: "session_authorization_error",
		},
		{
			name: "forged JWT", method: sessionsSvc + "Authenticate", verb: "POST", path: path,
			req:  func(t *testing.T) proto.Message { return authJWT(forge(t, s.JWT)) },
			resp: authResp, code: codes.Unauthenticated, reason: "bad_signature",
		},
		{
			name: "garbage JWT", method: sessionsSvc + "Authenticate", verb: "POST", path: path,
			req:  func(*testing.T) proto.Message { return authJWT("not.a.jwt") },
			resp: authResp, code: codes.Unauthenticated, reason: "malformed",
		},
		{
			name: "unknown token", method: sessionsSvc + "Authenticate", verb: "POST", path: path,
			req:  func(*testing.T) proto.Message { return authToken(stytchemu.SandboxSessionTokenNotFound) },
			resp: authResp, code: codes.Unauthenticated, reason: "session_not_found",
			checkSt: assertStytchRequestID,
		},
		{
			name: "no credential", method: sessionsSvc + "Authenticate", verb: "POST", path: path,
			req:  func(*testing.T) proto.Message { return &b2bv1.SessionsServiceAuthenticateRequest{} },
			resp: authResp, code: codes.InvalidArgument, reason: "missing_credential",
		},
	})

	t.Run("expired JWT is refreshed by Stytch", func(t *testing.T) {
		s2 := e.session(t, org.ID, m.ID)
		e.Emu.Advance(6 * time.Minute) // session JWTs live 5 minutes; the session an hour
		e.Emu.ResetRequests()
		r := &b2bv1.SessionsServiceAuthenticateResponse{}
		st := e.grpcCall(t, sessionsSvc+"Authenticate", authJWT(s2.JWT), r)
		require.Equal(t, codes.OK, st.Code(), st.Message())
		assert.Equal(t, b2bv1.SessionVerifier_SESSION_VERIFIER_REMOTE, r.GetVerifiedBy())
		assert.NotEqual(t, s2.JWT, r.GetSessionJwt(), "a fresh JWT")
		assert.Equal(t, 1, e.Emu.Requests("POST /v1/b2b/sessions/authenticate"))

		// The fresh JWT verifies locally again.
		e.Emu.ResetRequests()
		r2 := &b2bv1.SessionsServiceAuthenticateResponse{}
		st = e.grpcCall(t, sessionsSvc+"Authenticate", authJWT(r.GetSessionJwt()), r2)
		require.Equal(t, codes.OK, st.Code(), st.Message())
		assert.Equal(t, b2bv1.SessionVerifier_SESSION_VERIFIER_LOCAL, r2.GetVerifiedBy())
		assert.Equal(t, 0, e.Emu.Requests("*"))
	})
}

// TestSessionsAuthenticateLocalMakesNoStytchCalls pins the hot path: a valid JWT costs no call to
// Stytch, and a forged one is refused without one (junk must not spend Stytch's rate limit).
func TestSessionsAuthenticateLocalMakesNoStytchCalls(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	m := e.member(t, org.ID, stytchemu.MemberParams{})
	s := e.session(t, org.ID, m.ID)
	// Warm up: the key cache may still be loading the JWKS.
	require.Equal(t, codes.OK, e.grpcCall(t, sessionsSvc+"Authenticate", authJWT(s.JWT), &b2bv1.SessionsServiceAuthenticateResponse{}).Code())

	for _, tc := range []struct {
		name string
		jwt  string
		code codes.Code
	}{
		{"valid", s.JWT, codes.OK},
		{"forged", forge(t, s.JWT), codes.Unauthenticated},
	} {
		t.Run(tc.name+"/grpc", func(t *testing.T) {
			e.Emu.ResetRequests()
			st := e.grpcCall(t, sessionsSvc+"Authenticate", authJWT(tc.jwt), &b2bv1.SessionsServiceAuthenticateResponse{})
			assert.Equal(t, tc.code, st.Code(), st.Message())
			assert.Equal(t, 0, e.Emu.Requests("*"), "calls to Stytch")
		})
		t.Run(tc.name+"/rest", func(t *testing.T) {
			e.Emu.ResetRequests()
			r := e.restCallNoCookies(t, "POST", "/v1/b2b/sessions/authenticate", authJWT(tc.jwt), &b2bv1.SessionsServiceAuthenticateResponse{})
			assert.Equal(t, tc.code, r.Status.Code(), "body: %s", r.Body)
			assert.Equal(t, 0, e.Emu.Requests("*"), "calls to Stytch")
		})
	}
}

func TestSessionsRevokeGetExchangeJWKS(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	org2 := e.org(t, stytchemu.OrganizationParams{})
	addr := email("multi")
	m := e.member(t, org.ID, stytchemu.MemberParams{Email: addr})
	e.member(t, org2.ID, stytchemu.MemberParams{Email: addr})

	// revoke calls Revoke anonymously when the request carries the session's own credential (logout),
	// else as the back-office service.
	revoke := func(t *testing.T, tr string, req *b2bv1.SessionsServiceRevokeRequest) *status.Status {
		asSvc := req.GetSessionToken() == "" && req.GetSessionJwt() == ""
		if tr == "grpc" {
			if asSvc {
				return e.grpcSvc(t, sessionsSvc+"Revoke", req, &b2bv1.SessionsServiceRevokeResponse{})
			}
			return e.grpcCall(t, sessionsSvc+"Revoke", req, &b2bv1.SessionsServiceRevokeResponse{})
		}
		if asSvc {
			return e.restSvc(t, "POST", "/v1/b2b/sessions/revoke", req, &b2bv1.SessionsServiceRevokeResponse{}).Status
		}
		return e.restCallNoCookies(t, "POST", "/v1/b2b/sessions/revoke", req, &b2bv1.SessionsServiceRevokeResponse{}).Status
	}
	for _, tr := range []string{"grpc", "rest"} {
		t.Run("Revoke by token is idempotent/"+tr, func(t *testing.T) {
			s := e.session(t, org.ID, m.ID)
			req := &b2bv1.SessionsServiceRevokeRequest{Target: &b2bv1.SessionsServiceRevokeRequest_SessionToken{SessionToken: s.Token}}
			require.Equal(t, codes.OK, revoke(t, tr, req).Code())
			require.Equal(t, codes.OK, revoke(t, tr, req).Code(), "revoking again succeeds")
			// Its JWT stops verifying locally at once, and Stytch forgets the token.
			st := e.grpcCall(t, sessionsSvc+"Authenticate", authJWT(s.JWT), &b2bv1.SessionsServiceAuthenticateResponse{})
			assert.Equal(t, codes.Unauthenticated, st.Code())
			assert.Equal(t, "revoked", errorInfo(st).GetReason())
			st = e.grpcCall(t, sessionsSvc+"Authenticate", authToken(s.Token), &b2bv1.SessionsServiceAuthenticateResponse{})
			assert.Equal(t, codes.Unauthenticated, st.Code())
		})
		t.Run("Revoke by JWT/"+tr, func(t *testing.T) {
			s := e.session(t, org.ID, m.ID)
			req := &b2bv1.SessionsServiceRevokeRequest{Target: &b2bv1.SessionsServiceRevokeRequest_SessionJwt{SessionJwt: s.JWT}}
			require.Equal(t, codes.OK, revoke(t, tr, req).Code())
			e.Emu.ResetRequests()
			st := e.grpcCall(t, sessionsSvc+"Authenticate", authJWT(s.JWT), &b2bv1.SessionsServiceAuthenticateResponse{})
			assert.Equal(t, codes.Unauthenticated, st.Code())
			assert.Equal(t, 0, e.Emu.Requests("*"), "refused locally")
			require.Equal(t, codes.OK, revoke(t, tr, req).Code(), "revoking again succeeds")
		})
		t.Run("Revoke by session ID/"+tr, func(t *testing.T) {
			s := e.session(t, org.ID, m.ID)
			req := &b2bv1.SessionsServiceRevokeRequest{Target: &b2bv1.SessionsServiceRevokeRequest_MemberSessionId{MemberSessionId: s.ID}}
			require.Equal(t, codes.OK, revoke(t, tr, req).Code())
			require.Equal(t, codes.OK, revoke(t, tr, req).Code())
			assert.Equal(t, codes.Unauthenticated, e.grpcCall(t, sessionsSvc+"Authenticate", authJWT(s.JWT), &b2bv1.SessionsServiceAuthenticateResponse{}).Code())
		})
		t.Run("Revoke all of a member's sessions/"+tr, func(t *testing.T) {
			mm := e.member(t, org.ID, stytchemu.MemberParams{})
			s1, s2 := e.session(t, org.ID, mm.ID), e.session(t, org.ID, mm.ID)
			req := &b2bv1.SessionsServiceRevokeRequest{Target: &b2bv1.SessionsServiceRevokeRequest_MemberId{MemberId: mm.ID}}
			require.Equal(t, codes.OK, revoke(t, tr, req).Code())
			for _, s := range []stytchemu.Session{s1, s2} {
				assert.Equal(t, codes.Unauthenticated, e.grpcCall(t, sessionsSvc+"Authenticate", authJWT(s.JWT), &b2bv1.SessionsServiceAuthenticateResponse{}).Code())
			}
		})
		t.Run("Revoke an unknown member/"+tr, func(t *testing.T) {
			st := revoke(t, tr, &b2bv1.SessionsServiceRevokeRequest{Target: &b2bv1.SessionsServiceRevokeRequest_MemberId{MemberId: "member-test-00000000-0000-0000-0000-000000000000"}})
			assert.Equal(t, codes.NotFound, st.Code())
		})
		t.Run("Revoke without a target/"+tr, func(t *testing.T) {
			st := revoke(t, tr, &b2bv1.SessionsServiceRevokeRequest{})
			assert.Equal(t, codes.InvalidArgument, st.Code())
			assert.Equal(t, "missing_credential", errorInfo(st).GetReason())
		})
	}

	s := e.session(t, org.ID, m.ID)
	runCases(t, e, []rpcCase{
		{
			svc: true, name: "Get lists the member's sessions", method: sessionsSvc + "Get", verb: "GET", noBody: true,
			path: fixed("/v1/b2b/sessions?organization_id=" + org.ID + "&member_id=" + m.ID),
			req: func(*testing.T) proto.Message {
				return &b2bv1.SessionsServiceGetRequest{OrganizationId: org.ID, MemberId: m.ID}
			},
			resp: func() proto.Message { return &b2bv1.SessionsServiceGetResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				var ids []string
				for _, ms := range msg.(*b2bv1.SessionsServiceGetResponse).GetMemberSessions() {
					ids = append(ids, ms.GetMemberSessionId())
					assert.NotEmpty(t, ms.GetAuthenticationFactors())
				}
				assert.Contains(t, ids, s.ID)
			},
		},
		{
			svc: true, name: "Get for an unknown member", method: sessionsSvc + "Get", verb: "GET", noBody: true,
			path: fixed("/v1/b2b/sessions?organization_id=" + org.ID + "&member_id=member-test-nope"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.SessionsServiceGetRequest{OrganizationId: org.ID, MemberId: "member-test-nope"}
			},
			resp: func() proto.Message { return &b2bv1.SessionsServiceGetResponse{} },
			code: codes.NotFound, reason: "member_not_found",
		},
		{
			name: "Exchange into another organization of the same person", method: sessionsSvc + "Exchange", verb: "POST",
			path: fixed("/v1/b2b/sessions/exchange"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.SessionsServiceExchangeRequest{OrganizationId: org2.ID, Credential: &b2bv1.SessionsServiceExchangeRequest_SessionToken{SessionToken: s.Token}}
			},
			resp: func() proto.Message { return &b2bv1.SessionsServiceExchangeResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*b2bv1.SessionsServiceExchangeResponse)
				assert.True(t, r.GetMemberAuthenticated())
				assert.Equal(t, org2.ID, r.GetMemberSession().GetOrganizationId())
				assert.Equal(t, org2.ID, r.GetOrganization().GetOrganizationId())
				assert.NotEmpty(t, r.GetSessionToken())
				assert.NotEmpty(t, r.GetSessionJwt())
			},
		},
		{
			name: "Exchange with an unknown session", method: sessionsSvc + "Exchange", verb: "POST",
			path: fixed("/v1/b2b/sessions/exchange"),
			req: func(*testing.T) proto.Message {
				return &b2bv1.SessionsServiceExchangeRequest{OrganizationId: org2.ID, Credential: &b2bv1.SessionsServiceExchangeRequest_SessionToken{SessionToken: stytchemu.SandboxSessionTokenNotFound}}
			},
			resp: func() proto.Message { return &b2bv1.SessionsServiceExchangeResponse{} },
			code: codes.Unauthenticated, reason: "session_not_found",
		},
		{
			name: "Exchange without a session", method: sessionsSvc + "Exchange", verb: "POST",
			path: fixed("/v1/b2b/sessions/exchange"),
			req:  func(*testing.T) proto.Message { return &b2bv1.SessionsServiceExchangeRequest{OrganizationId: org2.ID} },
			resp: func() proto.Message { return &b2bv1.SessionsServiceExchangeResponse{} },
			code: codes.InvalidArgument, reason: "missing_credential",
		},
		{
			name: "GetJWKS", method: sessionsSvc + "GetJWKS", verb: "GET", noBody: true, path: fixed("/v1/b2b/sessions/jwks"),
			req:  func(*testing.T) proto.Message { return &b2bv1.SessionsServiceGetJWKSRequest{} },
			resp: func() proto.Message { return &b2bv1.SessionsServiceGetJWKSResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				var kids []string
				for _, k := range msg.(*b2bv1.SessionsServiceGetJWKSResponse).GetKeys() {
					kids = append(kids, k.GetKid())
					assert.Equal(t, "RSA", k.GetKty())
					assert.NotEmpty(t, k.GetN())
				}
				assert.ElementsMatch(t, e.Emu.KeyIDs(), kids)
				assert.Equal(t, e.Emu.ProjectID(), msg.(*b2bv1.SessionsServiceGetJWKSResponse).GetProjectId())
			},
		},
	})

	t.Run("GetJWKS follows a key rotation", func(t *testing.T) {
		kid, err := e.Emu.RotateKeys()
		require.NoError(t, err)
		e.Emu.Advance(jwksRefetch)
		r := &b2bv1.SessionsServiceGetJWKSResponse{}
		require.Equal(t, codes.OK, e.grpcCall(t, sessionsSvc+"GetJWKS", &b2bv1.SessionsServiceGetJWKSRequest{}, r).Code())
		var kids []string
		for _, k := range r.GetKeys() {
			kids = append(kids, k.GetKid())
		}
		assert.Contains(t, kids, kid)
	})
}

// jwksRefetch is past GetJWKS's maximum copy age.
const jwksRefetch = 6 * time.Minute
