package service

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// Sessions implements b2bv1.SessionsServiceServer.
type Sessions struct {
	b2bv1.UnimplementedSessionsServiceServer
	base
	stytch  *stytchclient.Client
	checker *session.Checker
	keys    *verify.JWKSCache
	revoked revoker
}

var _ b2bv1.SessionsServiceServer = (*Sessions)(nil)

// NewSessions returns the SessionsService. checker decides session checks; keys is the one JWKS
// cache of the project, which GetJWKS serves; revocations records sessions revoked here (now is the
// verifier's clock).
func NewSessions(stytch *stytchclient.Client, checker *session.Checker, keys *verify.JWKSCache, revocations Revocations, now func() time.Time, log *slog.Logger) *Sessions {
	return &Sessions{base: newBase(log), stytch: stytch, checker: checker, keys: keys, revoked: revoker{list: revocations, now: now}}
}

// Authenticate checks a session token or JWT (over REST by default the caller's own, from the
// cookies). The session checker decides: a JWT locally, Stytch only when the JWT is genuine but
// expired or older than max_token_age_seconds, or when the request changes the session (duration,
// custom claims). An authorization check on a JWT is decided locally from the cached RBAC policy
// (internal/session/authorize.go). A JWT that fails locally for any other reason (forged,
// malformed, revoked, unknown key) is UNAUTHENTICATED without any call.
func (s *Sessions) Authenticate(ctx context.Context, req *b2bv1.SessionsServiceAuthenticateRequest) (*b2bv1.SessionsServiceAuthenticateResponse, error) {
	sr, err := checkRequest(ctx, req.GetSessionToken(), req.GetSessionJwt(), req.GetSessionDurationMinutes(), req.GetSessionCustomClaims(), req.MaxTokenAgeSeconds)
	if err != nil {
		return nil, err
	}
	if ac := req.GetAuthorizationCheck(); ac != nil {
		sr.AuthorizationCheck = &stytchclient.AuthorizationCheck{OrganizationID: ac.GetOrganizationId(), ResourceID: ac.GetResourceId(), Action: ac.GetAction()}
	}
	sr.Factors = requiredFactors(req.GetRequiredFactors(), factorTypes)
	res, err := s.checker.Check(ctx, sr)
	if err != nil {
		return nil, s.toStatus(ctx, err, failSession)
	}
	out := &b2bv1.SessionsServiceAuthenticateResponse{
		MemberSession: toMemberSession(&res.Session),
		SessionJwt:    res.Credential.JWT,
		VerifiedBy:    b2bv1.SessionVerifier_SESSION_VERIFIER_LOCAL,
	}
	if v := res.Verdict; v != nil {
		out.Verdict = &b2bv1.AuthorizationVerdict{Authorized: v.Authorized, GrantingRoles: v.GrantingRoles}
	}
	if st := res.Stytch; st != nil {
		out.VerifiedBy = b2bv1.SessionVerifier_SESSION_VERIFIER_REMOTE
		out.Member = toMember(&st.Member)
		out.Organization = toOrganization(&st.Organization)
		out.SessionJwt = st.SessionJWT
		// The token is handed back only to whoever presented it: a JWT holder does not get the
		// long-lived opaque token.
		if res.Credential.Token != "" {
			out.SessionToken = st.SessionToken
		}
		if v := st.Verdict; v != nil {
			out.Verdict = &b2bv1.AuthorizationVerdict{Authorized: v.Authorized, GrantingRoles: v.GrantingRoles}
		}
	}
	return out, nil
}

// errMissingSession answers a request that names no session and presents none.
var errMissingSession = rpcerr.InvalidArgument("session_token", "missing_credential", "a session_token or session_jwt is required")

// checkRequest is the session check a Sessions.Authenticate request asks for (B2B and consumer
// alike): the token or JWT it names, else the caller's own credential (over REST the session
// cookies), with the session change and token age it sets.
func checkRequest(ctx context.Context, token, jwt string, duration int32, claims *structpb.Struct, maxTokenAgeSeconds *int32) (session.Request, error) {
	sr := session.Request{Token: token, JWT: jwt, SessionDurationMinutes: duration, CustomClaims: fromStruct(claims)}
	if sr.Token == "" && sr.JWT == "" {
		cred := access.From(ctx).Credential
		switch cred.Kind {
		case access.CredentialSessionJWT:
			sr.JWT, sr.FallbackToken = cred.Token, cred.FallbackToken
		case access.CredentialSessionToken:
			sr.Token = cred.Token
		default:
			return sr, errMissingSession
		}
	}
	if maxTokenAgeSeconds != nil {
		sr.MaxTokenAge = time.Duration(*maxTokenAgeSeconds) * time.Second
		sr.Fresh = sr.MaxTokenAge == 0
	}
	return sr, nil
}

// requiredFactor is a RequiredFactor of either API (b2bv1 or consumerv1).
type requiredFactor[E comparable] interface {
	GetType() E
	GetDeliveryMethod() string
	GetWithinSeconds() int32
}

// requiredFactors are a Sessions.Authenticate request's step-up requirements in the session
// checker's terms (Stytch's factor type names from types).
func requiredFactors[E comparable, F requiredFactor[E]](in []F, types enumNames[E]) []session.FactorRequirement {
	if len(in) == 0 {
		return nil
	}
	out := make([]session.FactorRequirement, 0, len(in))
	for _, f := range in {
		out = append(out, session.FactorRequirement{
			Type:           types.name(f.GetType()),
			DeliveryMethod: f.GetDeliveryMethod(),
			Within:         time.Duration(f.GetWithinSeconds()) * time.Second,
		})
	}
	return out
}

// Get lists a member's active sessions.
func (s *Sessions) Get(ctx context.Context, req *b2bv1.SessionsServiceGetRequest) (*b2bv1.SessionsServiceGetResponse, error) {
	res, err := s.stytch.SessionsGet(ctx, stytchclient.SessionsGetParams{OrganizationID: req.GetOrganizationId(), MemberID: req.GetMemberId()})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &b2bv1.SessionsServiceGetResponse{MemberSessions: make([]*b2bv1.MemberSession, 0, len(res.MemberSessions))}
	for i := range res.MemberSessions {
		out.MemberSessions = append(out.MemberSessions, toMemberSession(&res.MemberSessions[i]))
	}
	return out, nil
}

// Revoke ends a session (by ID, token or JWT; by default the caller's own) or all of a member's
// sessions. It is idempotent: Stytch's 404 for an unknown or already revoked session is success.
// Revoked sessions are recorded in the revocation list so their JWTs stop verifying locally at
// once instead of up to 5 minutes later.
func (s *Sessions) Revoke(ctx context.Context, req *b2bv1.SessionsServiceRevokeRequest) (*b2bv1.SessionsServiceRevokeResponse, error) {
	sessionID, token, jwt, memberID := req.GetMemberSessionId(), req.GetSessionToken(), req.GetSessionJwt(), req.GetMemberId()
	caller := access.From(ctx)
	if sessionID == "" && token == "" && jwt == "" && memberID == "" {
		token, jwt = caller.OwnSession()
	}
	if sessionID == "" && token == "" && jwt == "" && memberID == "" {
		return nil, rpcerr.InvalidArgument("target", "missing_credential", "one of member_session_id, session_token, session_jwt or member_id is required")
	}

	// Learn which session IDs to remember before they are gone.
	var revoked []string
	switch {
	case sessionID != "":
		revoked = []string{sessionID}
	case memberID != "":
		revoked = s.memberSessionIDs(ctx, memberID)
	default:
		id, gone, err := s.sessionIDOf(ctx, token, jwt)
		if err != nil {
			return nil, s.toStatus(ctx, err, nil)
		}
		if gone {
			return &b2bv1.SessionsServiceRevokeResponse{CallerSessionRevoked: ownSession(caller, token, jwt, "")}, nil
		}
		if id != "" {
			revoked = []string{id}
		}
	}

	p := stytchclient.SessionsRevokeParams{}
	switch {
	case sessionID != "":
		p.MemberSessionID, p.ActingMember = sessionID, caller.Acting()
	case token != "":
		// The opaque token identifies the session even when the JWT has expired.
		p.SessionToken = token
	case jwt != "":
		p.SessionJWT = jwt
	default:
		p.MemberID, p.ActingMember = memberID, caller.Acting()
	}
	_, err := s.stytch.SessionsRevoke(ctx, p)
	alreadyGone := stytchclient.IsNotFound(err) && memberID == ""
	if err != nil && !alreadyGone {
		return nil, s.toStatus(ctx, err, nil)
	}
	s.revoked.sessions(ctx, revoked)
	own := ownSession(caller, token, jwt, sessionID)
	if memberID != "" && memberID == caller.MemberID {
		own = true
	}
	return &b2bv1.SessionsServiceRevokeResponse{CallerSessionRevoked: own}, nil
}

// ownSession reports whether a revoked target (a token, a JWT or a session ID) is the caller's own
// session.
func ownSession(caller access.Principal, token, jwt, sessionID string) bool {
	c := caller.Credential
	switch {
	case sessionID != "":
		return sessionID == caller.SessionID
	case token != "":
		return token == c.Token || token == c.FallbackToken || token == caller.Session.Token
	case jwt != "":
		return jwt == c.Token || jwt == caller.Session.JWT
	}
	return false
}

// sessionIDOf finds the session ID behind a token or JWT. gone reports that Stytch no longer knows
// the session (nothing to revoke). A JWT that verifies locally names its session without a call;
// only an opaque token costs a sessions/authenticate.
func (s *Sessions) sessionIDOf(ctx context.Context, token, jwt string) (id string, gone bool, err error) {
	if id := jwtSessionID(ctx, s.checker, jwt); id != "" {
		return id, false, nil
	}
	if token == "" {
		return "", false, nil
	}
	res, err := s.stytch.SessionsAuthenticate(ctx, stytchclient.SessionsAuthenticateParams{SessionToken: token})
	switch {
	case stytchclient.IsNotFound(err):
		return "", true, nil
	case err != nil:
		return "", false, err
	}
	return res.MemberSession.MemberSessionID, false, nil
}

// jwtSessionID is the session ID of a genuine, unexpired session JWT of checker's project, or "".
// Revoke learns it before the session ends, to remember the revocation: a revoked session's JWT
// still verifies until it expires, and only the revocation list refuses it before then.
func jwtSessionID(ctx context.Context, checker *session.Checker, jwt string) string {
	if jwt == "" {
		return ""
	}
	c, err := checker.Verifier().VerifySession(ctx, jwt)
	if err != nil {
		return ""
	}
	return c.SessionID
}

// memberSessionIDs lists a member's sessions so that revoking them all can be remembered locally.
// Best effort: without it the JWTs still expire within 5 minutes.
func (s *Sessions) memberSessionIDs(ctx context.Context, memberID string) []string {
	m, err := s.stytch.MemberDangerouslyGet(ctx, memberID, false)
	if err != nil {
		s.log.WarnContext(ctx, "revoke: cannot look up the member's organization", "error", err.Error())
		return nil
	}
	res, err := s.stytch.SessionsGet(ctx, stytchclient.SessionsGetParams{OrganizationID: m.Member.OrganizationID, MemberID: memberID})
	if err != nil {
		s.log.WarnContext(ctx, "revoke: cannot list the member's sessions", "error", err.Error())
		return nil
	}
	ids := make([]string, 0, len(res.MemberSessions))
	for _, ms := range res.MemberSessions {
		ids = append(ids, ms.MemberSessionID)
	}
	return ids
}

// Exchange moves a session (by default the caller's own) to another organization of the same
// person.
func (s *Sessions) Exchange(ctx context.Context, req *b2bv1.SessionsServiceExchangeRequest) (*b2bv1.SessionsServiceExchangeResponse, error) {
	token, jwt := req.GetSessionToken(), req.GetSessionJwt()
	if token == "" && jwt == "" {
		token, jwt = access.From(ctx).OwnSession()
	}
	if token == "" && jwt == "" {
		return nil, rpcerr.InvalidArgument("session_token", "missing_credential", "a session_token or session_jwt is required")
	}
	res, err := s.stytch.SessionsExchange(ctx, stytchclient.SessionsExchangeParams{
		OrganizationID:         req.GetOrganizationId(),
		SessionToken:           token,
		SessionJWT:             jwt,
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
		Locale:                 locales.name(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failSession)
	}
	return newAuthResponse[b2bv1.SessionsServiceExchangeResponse](res), nil
}

// GetJWKS returns the project's public signing keys from the one JWKS cache that local
// verification uses: the keys served are exactly the keys authsvc accepts. When the copy is older
// than jwksMaxAge the cache is refreshed first (a service behind authsvc asks after seeing an
// unknown kid); when Stytch cannot be reached the last copy is served.
func (s *Sessions) GetJWKS(ctx context.Context, _ *b2bv1.SessionsServiceGetJWKSRequest) (*b2bv1.SessionsServiceGetJWKSResponse, error) {
	keys, err := s.keys.Published(ctx, jwksMaxAge)
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := make([]*b2bv1.Jwk, 0, len(keys))
	for _, k := range keys {
		out = append(out, &b2bv1.Jwk{Kty: k.KTY, Use: k.Use, KeyOps: k.KeyOps, Alg: k.Alg, Kid: k.KID, X5C: k.X5C, X5TS256: k.X5TS256, N: k.N, E: k.E})
	}
	return &b2bv1.SessionsServiceGetJWKSResponse{Keys: out, ProjectId: s.stytch.ProjectID()}, nil
}

// jwksMaxAge bounds how old a key set GetJWKS serves without asking Stytch first.
const jwksMaxAge = 5 * time.Minute
