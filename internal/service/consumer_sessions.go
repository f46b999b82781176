package service

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// ConsumerSessions implements consumerv1.SessionsServiceServer on a consumer project's client.
// Authenticate goes through the consumer project's session checker, as the B2B Sessions does
// through the B2B one: a JWT locally first, Stytch only where the checker's rules require.
type ConsumerSessions struct {
	consumerv1.UnimplementedSessionsServiceServer
	base
	stytch  *stytchclient.Client
	checker *session.Checker
	keys    *verify.JWKSCache
	revoked revoker
}

var _ consumerv1.SessionsServiceServer = (*ConsumerSessions)(nil)

// NewConsumerSessions returns the consumer SessionsService: stytch is the consumer project's
// client, checker its user-session checker, keys its JWKS cache (which GetJWKS serves),
// revocations records sessions revoked here (now is the verifier's clock).
func NewConsumerSessions(stytch *stytchclient.Client, checker *session.Checker, keys *verify.JWKSCache, revocations Revocations, now func() time.Time, log *slog.Logger) *ConsumerSessions {
	return &ConsumerSessions{base: newBase(log), stytch: stytch, checker: checker, keys: keys, revoked: revoker{list: revocations, now: now}}
}

// Authenticate checks a session token or JWT (over REST by default the caller's own, from the
// consumer session cookies).
func (s *ConsumerSessions) Authenticate(ctx context.Context, req *consumerv1.SessionsServiceAuthenticateRequest) (*consumerv1.SessionsServiceAuthenticateResponse, error) {
	sr, err := checkRequest(ctx, req.GetSessionToken(), req.GetSessionJwt(), req.GetSessionDurationMinutes(), req.GetSessionCustomClaims(), req.MaxTokenAgeSeconds)
	if err != nil {
		return nil, err
	}
	if ac := req.GetAuthorizationCheck(); ac != nil {
		sr.UserAuthorizationCheck = &stytchclient.ConsumerAuthorizationCheck{ResourceID: ac.GetResourceId(), Action: ac.GetAction()}
	}
	sr.Factors = requiredFactors(req.GetRequiredFactors(), userFactorTypes)
	res, err := s.checker.Check(ctx, sr)
	if err != nil {
		return nil, s.toStatus(ctx, err, failSession)
	}
	out := &consumerv1.SessionsServiceAuthenticateResponse{
		Session:    toUserSession(&res.UserSession),
		SessionJwt: res.Credential.JWT,
		VerifiedBy: consumerv1.SessionVerifier_SESSION_VERIFIER_LOCAL,
	}
	if st := res.UserStytch; st != nil {
		out.VerifiedBy = consumerv1.SessionVerifier_SESSION_VERIFIER_REMOTE
		out.User = toUser(&st.User)
		out.SessionJwt = st.SessionJWT
		// The token is handed back only to whoever presented it: a JWT holder does not get the
		// long-lived opaque token.
		if res.Credential.Token != "" {
			out.SessionToken = st.SessionToken
		}
		if v := st.Verdict; v != nil {
			out.Verdict = &consumerv1.AuthorizationVerdict{Authorized: v.Authorized, GrantingRoles: v.GrantingRoles}
		}
	}
	return out, nil
}

// Get lists a user's active sessions: the named user's, or the calling user's own.
func (s *ConsumerSessions) Get(ctx context.Context, req *consumerv1.SessionsServiceGetRequest) (*consumerv1.SessionsServiceGetResponse, error) {
	userID := req.GetUserId()
	if userID == "" {
		userID, _ = callerUser(access.From(ctx))
	}
	if userID == "" {
		return nil, rpcerr.InvalidArgument("user_id", "missing_user", "user_id is required (a user session may leave it empty for its own user)")
	}
	res, err := s.stytch.ConsumerSessionsGet(ctx, stytchclient.ConsumerSessionsGetParams{UserID: userID})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &consumerv1.SessionsServiceGetResponse{Sessions: make([]*consumerv1.Session, 0, len(res.Sessions))}
	for i := range res.Sessions {
		out.Sessions = append(out.Sessions, toUserSession(&res.Sessions[i]))
	}
	return out, nil
}

// errNotYourSession refuses a user's revocation of a session ID that is not one of theirs, in the
// same words whether or not the session exists.
var errNotYourSession = rpcerr.New(codes.PermissionDenied, "session_not_owned", "the session is not one of your account's")

// Revoke ends one session (by ID, token or JWT; by default the caller's own). It is idempotent:
// Stytch's 404 for an unknown or already revoked session is success. A user may revoke by ID only
// a session of their own user.
func (s *ConsumerSessions) Revoke(ctx context.Context, req *consumerv1.SessionsServiceRevokeRequest) (*consumerv1.SessionsServiceRevokeResponse, error) {
	sessionID, token, jwt := req.GetSessionId(), req.GetSessionToken(), req.GetSessionJwt()
	caller := access.From(ctx)
	if sessionID == "" && token == "" && jwt == "" {
		token, jwt = caller.OwnSession()
	}
	if sessionID == "" && token == "" && jwt == "" {
		return nil, rpcerr.InvalidArgument("target", "missing_credential", "one of session_id, session_token or session_jwt is required")
	}
	if userID, isUser := callerUser(caller); isUser && sessionID != "" {
		if !s.ownsSession(ctx, userID, sessionID) {
			return nil, errNotYourSession
		}
	}

	// Learn the session ID behind a JWT or token before the session is gone, to remember the
	// revocation (jwtSessionID).
	revoked := sessionID
	if revoked == "" {
		revoked = jwtSessionID(ctx, s.checker, jwt)
	}
	if revoked == "" && token != "" {
		res, err := s.stytch.ConsumerSessionsAuthenticate(ctx, stytchclient.ConsumerSessionsAuthenticateParams{SessionToken: token})
		switch {
		case stytchclient.IsNotFound(err):
			return &consumerv1.SessionsServiceRevokeResponse{CallerSessionRevoked: ownSession(caller, token, jwt, "")}, nil
		case err == nil:
			revoked = res.Session.SessionID
		}
	}
	p := stytchclient.ConsumerSessionsRevokeParams{}
	switch {
	case sessionID != "":
		p.SessionID = sessionID
	case token != "":
		p.SessionToken = token // identifies the session even when its JWT has expired
	default:
		p.SessionJWT = jwt
	}
	if _, err := s.stytch.ConsumerSessionsRevoke(ctx, p); err != nil && !stytchclient.IsNotFound(err) {
		return nil, s.toStatus(ctx, err, nil)
	}
	if revoked != "" {
		s.revoked.sessions(ctx, []string{revoked})
	}
	return &consumerv1.SessionsServiceRevokeResponse{CallerSessionRevoked: ownSession(caller, token, jwt, sessionID)}, nil
}

// ownsSession reports whether sessionID is a live session of userID (Stytch compares IDs in any
// letter case). A failed lookup is a refusal.
func (s *ConsumerSessions) ownsSession(ctx context.Context, userID, sessionID string) bool {
	if userID == "" {
		return false
	}
	res, err := s.stytch.ConsumerSessionsGet(ctx, stytchclient.ConsumerSessionsGetParams{UserID: userID})
	if err != nil {
		s.log.WarnContext(ctx, "revoke: cannot list the user's sessions", "error", err.Error())
		return false
	}
	for _, us := range res.Sessions {
		if strings.EqualFold(us.SessionID, sessionID) {
			return true
		}
	}
	return false
}

// GetJWKS returns the consumer project's public signing keys from the JWKS cache that local
// verification uses (refreshed first when older than jwksMaxAge; the last copy when Stytch cannot
// be reached).
func (s *ConsumerSessions) GetJWKS(ctx context.Context, _ *consumerv1.SessionsServiceGetJWKSRequest) (*consumerv1.SessionsServiceGetJWKSResponse, error) {
	keys, err := s.keys.Published(ctx, jwksMaxAge)
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := make([]*consumerv1.Jwk, 0, len(keys))
	for _, k := range keys {
		out = append(out, &consumerv1.Jwk{Kty: k.KTY, Use: k.Use, KeyOps: k.KeyOps, Alg: k.Alg, Kid: k.KID, X5C: k.X5C, X5TS256: k.X5TS256, N: k.N, E: k.E})
	}
	return &consumerv1.SessionsServiceGetJWKSResponse{Keys: out, ProjectId: s.stytch.ProjectID()}, nil
}

// Migrate imports another identity provider's session.
func (s *ConsumerSessions) Migrate(ctx context.Context, req *consumerv1.SessionsServiceMigrateRequest) (*consumerv1.SessionsServiceMigrateResponse, error) {
	res, err := s.stytch.ConsumerSessionsMigrate(ctx, stytchclient.ConsumerSessionsMigrateParams{
		SessionToken:           req.GetSessionToken(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	cs := newConsumerSession(res)
	return &consumerv1.SessionsServiceMigrateResponse{UserId: cs.userID, Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user}, nil
}

// ExchangeAccessToken turns a Connected Apps access token into a session.
func (s *ConsumerSessions) ExchangeAccessToken(ctx context.Context, req *consumerv1.SessionsServiceExchangeAccessTokenRequest) (*consumerv1.SessionsServiceExchangeAccessTokenResponse, error) {
	res, err := s.stytch.ConsumerSessionsExchangeAccessToken(ctx, stytchclient.ConsumerSessionsExchangeAccessTokenParams{
		AccessToken:            req.GetAccessToken(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failAccessToken)
	}
	cs := newConsumerSession(res)
	return &consumerv1.SessionsServiceExchangeAccessTokenResponse{UserId: cs.userID, Session: cs.session, SessionToken: cs.token, SessionJwt: cs.jwt, User: cs.user}, nil
}

// failAccessToken collapses every rejection of a Connected Apps access token into one answer.
var failAccessToken = &authFailure{reason: "invalid_access_token", message: "the access token is invalid or expired"}
