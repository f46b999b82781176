package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func TestConsumerSessions(t *testing.T) {
	e := startEnvNoLimits(t)
	u := e.user(t, stytchemu.UserParams{Verified: true})
	authResp := func() proto.Message { return &consumerv1.SessionsServiceAuthenticateResponse{} }
	var sess stytchemu.UserSession

	runCases(t, e, []rpcCase{
		{
			name: "Authenticate a session token", method: consumerSessionsSvc + "Authenticate", verb: "POST", path: fixed("/v1/sessions/authenticate"),
			req: func(t *testing.T) proto.Message {
				sess = e.userSession(t, u.ID)
				return &consumerv1.SessionsServiceAuthenticateRequest{Credential: &consumerv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: sess.Token}}
			},
			resp: authResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.SessionsServiceAuthenticateResponse)
				assert.Equal(t, sess.ID, r.GetSession().GetSessionId())
				assert.Equal(t, u.ID, r.GetUser().GetUserId())
				assert.Equal(t, sess.Token, r.GetSessionToken())
				assert.NotEmpty(t, r.GetSessionJwt())
				assert.Equal(t, consumerv1.SessionVerifier_SESSION_VERIFIER_REMOTE, r.GetVerifiedBy())
			},
		},
		{
			name: "Authenticate a session JWT does not hand out the token", method: consumerSessionsSvc + "Authenticate", verb: "POST", path: fixed("/v1/sessions/authenticate"),
			req: func(t *testing.T) proto.Message {
				sess = e.userSession(t, u.ID)
				return &consumerv1.SessionsServiceAuthenticateRequest{Credential: &consumerv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: sess.JWT}}
			},
			resp: authResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.SessionsServiceAuthenticateResponse)
				assert.Equal(t, sess.ID, r.GetSession().GetSessionId())
				assert.Empty(t, r.GetSessionToken())
			},
		},
		{
			name: "Authenticate requiring the factor the session holds is decided locally", method: consumerSessionsSvc + "Authenticate", verb: "POST", path: fixed("/v1/sessions/authenticate"),
			req: func(t *testing.T) proto.Message {
				sess = e.userSession(t, u.ID) // signed in by email magic link just now
				return &consumerv1.SessionsServiceAuthenticateRequest{
					Credential: &consumerv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: sess.JWT},
					RequiredFactors: []*consumerv1.RequiredFactor{{
						Type: consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_MAGIC_LINK, DeliveryMethod: "email", WithinSeconds: proto.Int32(600),
					}},
				}
			},
			resp: authResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.SessionsServiceAuthenticateResponse)
				assert.Equal(t, sess.ID, r.GetSession().GetSessionId())
				assert.Equal(t, consumerv1.SessionVerifier_SESSION_VERIFIER_LOCAL, r.GetVerifiedBy())
			},
		},
		{
			name: "Authenticate requiring a passkey the session lacks is PERMISSION_DENIED naming it", method: consumerSessionsSvc + "Authenticate", verb: "POST", path: fixed("/v1/sessions/authenticate"),
			req: func(t *testing.T) proto.Message {
				sess = e.userSession(t, u.ID)
				return &consumerv1.SessionsServiceAuthenticateRequest{
					Credential: &consumerv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: sess.JWT},
					RequiredFactors: []*consumerv1.RequiredFactor{
						{Type: consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_MAGIC_LINK},
						{Type: consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_WEBAUTHN, WithinSeconds: proto.Int32(600)},
					},
				}
			},
			resp: authResp, code: codes.PermissionDenied, reason: "session_factor_required",
			checkSt: func(t *testing.T, st *status.Status) {
				md := rpcerr.ErrorInfo(st).GetMetadata()
				assert.Equal(t, "webauthn", md["factor_type"])
				assert.Equal(t, "600", md["within_seconds"])
			},
		},
		{
			name: "Authenticate with an unspecified required factor names the field", method: consumerSessionsSvc + "Authenticate", verb: "POST", path: fixed("/v1/sessions/authenticate"),
			req: func(t *testing.T) proto.Message {
				sess = e.userSession(t, u.ID)
				return &consumerv1.SessionsServiceAuthenticateRequest{
					Credential:      &consumerv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: sess.JWT},
					RequiredFactors: []*consumerv1.RequiredFactor{{WithinSeconds: proto.Int32(600)}},
				}
			},
			resp: authResp, code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) { assertFieldViolation(t, st, "required_factors[0].type") },
		},
		{
			name: "Authenticate an unknown token", method: consumerSessionsSvc + "Authenticate", verb: "POST", path: fixed("/v1/sessions/authenticate"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.SessionsServiceAuthenticateRequest{Credential: &consumerv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: stytchemu.SandboxSessionTokenNotFound}}
			},
			resp: authResp, code: codes.Unauthenticated, reason: "session_not_found",
		},
		{
			name: "Authenticate with no credential at all", method: consumerSessionsSvc + "Authenticate", verb: "POST", path: fixed("/v1/sessions/authenticate"),
			req:  func(*testing.T) proto.Message { return &consumerv1.SessionsServiceAuthenticateRequest{} },
			resp: authResp, code: codes.InvalidArgument, reason: "missing_credential",
		},
		{
			svc: true, name: "Get a user's sessions", method: consumerSessionsSvc + "Get", verb: "GET", noBody: true,
			path: func(m proto.Message) string {
				return "/v1/sessions?user_id=" + m.(*consumerv1.SessionsServiceGetRequest).GetUserId()
			},
			req: func(t *testing.T) proto.Message {
				sess = e.userSession(t, u.ID)
				return &consumerv1.SessionsServiceGetRequest{UserId: u.ID}
			},
			resp: func() proto.Message { return &consumerv1.SessionsServiceGetResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				var ids []string
				for _, s := range msg.(*consumerv1.SessionsServiceGetResponse).GetSessions() {
					ids = append(ids, s.GetSessionId())
				}
				assert.Contains(t, ids, sess.ID)
			},
		},
		{
			svc: true, name: "Get without a user", method: consumerSessionsSvc + "Get", verb: "GET", noBody: true, path: fixed("/v1/sessions"),
			req:  func(*testing.T) proto.Message { return &consumerv1.SessionsServiceGetRequest{} },
			resp: func() proto.Message { return &consumerv1.SessionsServiceGetResponse{} }, code: codes.InvalidArgument, reason: "missing_user",
		},
		{
			svc: true, name: "Revoke by session ID", method: consumerSessionsSvc + "Revoke", verb: "POST", path: fixed("/v1/sessions/revoke"),
			req: func(t *testing.T) proto.Message {
				sess = e.userSession(t, u.ID)
				return &consumerv1.SessionsServiceRevokeRequest{Target: &consumerv1.SessionsServiceRevokeRequest_SessionId{SessionId: sess.ID}}
			},
			resp: func() proto.Message { return &consumerv1.SessionsServiceRevokeResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				assert.False(t, msg.(*consumerv1.SessionsServiceRevokeResponse).GetCallerSessionRevoked())
				st := e.grpcCall(t, consumerSessionsSvc+"Authenticate", &consumerv1.SessionsServiceAuthenticateRequest{
					Credential: &consumerv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: sess.Token},
				}, &consumerv1.SessionsServiceAuthenticateResponse{})
				assert.Equal(t, codes.Unauthenticated, st.Code())
			},
		},
		{
			name: "Revoke by the session's own token (logout), twice", method: consumerSessionsSvc + "Revoke", verb: "POST", path: fixed("/v1/sessions/revoke"),
			req: func(t *testing.T) proto.Message {
				sess = e.userSession(t, u.ID)
				req := &consumerv1.SessionsServiceRevokeRequest{Target: &consumerv1.SessionsServiceRevokeRequest_SessionToken{SessionToken: sess.Token}}
				st := e.grpcCall(t, consumerSessionsSvc+"Revoke", req, &consumerv1.SessionsServiceRevokeResponse{})
				require.Equal(t, codes.OK, st.Code(), st.Message())
				return req // the second logout succeeds too
			},
			resp: func() proto.Message { return &consumerv1.SessionsServiceRevokeResponse{} }, code: codes.OK,
		},
		{
			svc: true, name: "Revoke by session JWT: the same JWT is refused at once, not when it expires", method: consumerSessionsSvc + "Revoke", verb: "POST", path: fixed("/v1/sessions/revoke"),
			req: func(t *testing.T) proto.Message {
				sess = e.userSession(t, u.ID)
				return &consumerv1.SessionsServiceRevokeRequest{Target: &consumerv1.SessionsServiceRevokeRequest_SessionJwt{SessionJwt: sess.JWT}}
			},
			resp: func() proto.Message { return &consumerv1.SessionsServiceRevokeResponse{} }, code: codes.OK,
			check: func(t *testing.T, _ proto.Message) {
				// The JWT's signature and expiry still verify; only the revocation list can refuse it.
				st := e.grpcCall(t, consumerSessionsSvc+"Authenticate", &consumerv1.SessionsServiceAuthenticateRequest{
					Credential: &consumerv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: sess.JWT},
				}, &consumerv1.SessionsServiceAuthenticateResponse{})
				assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
			},
		},
		{
			name: "GetJWKS", method: consumerSessionsSvc + "GetJWKS", verb: "GET", noBody: true, path: fixed("/v1/sessions/jwks"),
			req:  func(*testing.T) proto.Message { return &consumerv1.SessionsServiceGetJWKSRequest{} },
			resp: func() proto.Message { return &consumerv1.SessionsServiceGetJWKSResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.SessionsServiceGetJWKSResponse)
				require.NotEmpty(t, r.GetKeys())
				assert.Equal(t, e.consumer(t).ProjectID(), r.GetProjectId(), "the consumer project's keys, not the B2B project's")
				assert.Equal(t, "RS256", r.GetKeys()[0].GetAlg())
			},
		},
		{
			svc: true, name: "Migrate", method: consumerSessionsSvc + "Migrate", verb: "POST", path: fixed("/v1/sessions/migrate"),
			req: func(t *testing.T) proto.Message {
				tok := "external-idp-token-" + email("m")
				require.NoError(t, e.consumer(t).AddMigrationToken(tok, email("migrated")))
				return &consumerv1.SessionsServiceMigrateRequest{SessionToken: tok, SessionDurationMinutes: proto.Int32(60)}
			},
			resp: func() proto.Message { return &consumerv1.SessionsServiceMigrateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.SessionsServiceMigrateResponse)
				assert.NotEmpty(t, r.GetUserId())
				assert.NotEmpty(t, r.GetSessionToken())
				assert.Equal(t, consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_IMPORTED, r.GetSession().GetAuthenticationFactors()[0].GetType())
			},
		},
		{
			name: "ExchangeAccessToken with an unknown token", method: consumerSessionsSvc + "ExchangeAccessToken", verb: "POST", path: fixed("/v1/sessions/exchange_access_token"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.SessionsServiceExchangeAccessTokenRequest{AccessToken: "not-a-connected-apps-token"}
			},
			resp: func() proto.Message { return &consumerv1.SessionsServiceExchangeAccessTokenResponse{} }, code: codes.Unauthenticated, reason: "invalid_access_token",
		},
	})
}
