package service

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/callmeta"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

const (
	// revokeFor is how long a revoked session is remembered locally: a Stytch session JWT lives
	// 5 minutes, and after a revocation Stytch mints no new ones, so every JWT of the session has
	// expired by then (the minute covers the verifier's clock-skew leeway).
	revokeFor = 6 * time.Minute
	// jwksMaxAge bounds how long GetJWKS serves its copy of the key set without refetching.
	jwksMaxAge = 5 * time.Minute
)

// Sessions implements b2bv1.SessionsServiceServer.
type Sessions struct {
	b2bv1.UnimplementedSessionsServiceServer
	base

	jwksFlight singleflight.Group
	jwksMu     sync.Mutex
	jwks       []*b2bv1.Jwk
	jwksAt     time.Time
}

var _ b2bv1.SessionsServiceServer = (*Sessions)(nil)

// NewSessions returns the SessionsService. It needs d.Stytch, d.Sessions and d.Verifier; d.JWKS,
// d.MaxTokenAge and d.Revocations are optional.
func NewSessions(d Deps) *Sessions { return &Sessions{base: newBase(d)} }

// Authenticate checks a session token or JWT. A JWT is verified locally; Stytch is asked only when
// the JWT is genuine but expired or older than the allowed age, or when the request changes the
// session (duration, custom claims) or asks an authorization check. A JWT that fails locally for
// any other reason (forged, malformed, revoked, unknown key) is UNAUTHENTICATED without any call.
func (s *Sessions) Authenticate(ctx context.Context, req *b2bv1.SessionsServiceAuthenticateRequest) (*b2bv1.SessionsServiceAuthenticateResponse, error) {
	token, jwt := req.GetSessionToken(), req.GetSessionJwt()
	if token == "" && jwt == "" {
		// Over REST the browser's cookies stand in for the body; the JWT is preferred because it
		// can be checked without Stytch.
		ct, cj := callmeta.SessionCookies(ctx)
		if cj != "" {
			jwt = cj
		} else {
			token = ct
		}
	}
	if token == "" && jwt == "" {
		return nil, invalidArgument("session_token", "missing_credential", "a session_token or session_jwt is required")
	}

	// remoteReason says why Stytch must decide (a label of the verification metric); "" lets a JWT
	// be checked locally first.
	var remoteReason string
	maxAge := s.d.MaxTokenAge
	if req.MaxTokenAgeSeconds != nil {
		asked := time.Duration(req.GetMaxTokenAgeSeconds()) * time.Second
		switch {
		case asked == 0:
			remoteReason = "max_age_zero"
		case maxAge == 0 || asked < maxAge:
			// A caller may tighten the configured maximum, never loosen it.
			maxAge = asked
		}
	}
	switch {
	case token != "":
		remoteReason = "opaque_token"
	case req.GetAuthorizationCheck() != nil:
		remoteReason = "authorization_check"
	case req.SessionDurationMinutes != nil || req.GetSessionCustomClaims() != nil:
		remoteReason = "session_change"
	}

	if remoteReason != "" {
		if jwt != "" {
			// Even when the call must reach Stytch, junk and revoked JWTs are refused locally so that
			// they cost no upstream call.
			c, err := s.d.Verifier.VerifySession(ctx, jwt)
			if err != nil && !verify.Refreshable(err) {
				return nil, s.toStatus(ctx, err, failSession)
			}
			if err == nil && s.revokedClaims(ctx, c) {
				return nil, s.toStatus(ctx, verify.ErrRevoked, failSession)
			}
		}
		return s.remoteAuthenticate(ctx, req, token, jwt, remoteReason)
	}

	res, err := s.d.Sessions.AuthenticateSession(ctx, stytchclient.AuthenticateSessionParams{
		SessionJWT:  jwt,
		MaxTokenAge: maxAge,
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failSession)
	}
	if res.Path == stytchclient.PathLocal && s.revokedClaims(ctx, res.Claims) {
		// Also checked here, not only through the verifier's IsRevoked hook, so that a revocation
		// made through this service holds even where the verifier was built without the hook.
		return nil, s.toStatus(ctx, verify.ErrRevoked, failSession)
	}
	out := &b2bv1.SessionsServiceAuthenticateResponse{
		MemberSession: toMemberSession(&res.Session),
		Member:        toMember(res.Member),
		Organization:  toOrganization(res.Organization),
		SessionJwt:    jwt,
		VerifiedBy:    b2bv1.SessionVerifier_SESSION_VERIFIER_LOCAL,
	}
	if res.Path == stytchclient.PathRemote {
		out.VerifiedBy = b2bv1.SessionVerifier_SESSION_VERIFIER_REMOTE
		out.SessionJwt = res.SessionJWT
	}
	return out, nil
}

func (s *Sessions) remoteAuthenticate(ctx context.Context, req *b2bv1.SessionsServiceAuthenticateRequest, token, jwt, reason string) (*b2bv1.SessionsServiceAuthenticateResponse, error) {
	p := stytchclient.SessionsAuthenticateParams{
		SessionToken:           token,
		SessionJWT:             jwt,
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	}
	if ac := req.GetAuthorizationCheck(); ac != nil {
		p.AuthorizationCheck = &stytchclient.AuthorizationCheck{OrganizationID: ac.GetOrganizationId(), ResourceID: ac.GetResourceId(), Action: ac.GetAction()}
	}
	res, err := s.d.Sessions.AuthenticateRemote(ctx, p, reason)
	if err != nil {
		return nil, s.toStatus(ctx, err, failSession)
	}
	out := &b2bv1.SessionsServiceAuthenticateResponse{
		MemberSession: toMemberSession(&res.MemberSession),
		Member:        toMember(&res.Member),
		Organization:  toOrganization(&res.Organization),
		SessionJwt:    res.SessionJWT,
		VerifiedBy:    b2bv1.SessionVerifier_SESSION_VERIFIER_REMOTE,
	}
	// The token is handed back only to whoever presented it: a JWT holder does not get the
	// long-lived opaque token.
	if token != "" {
		out.SessionToken = res.SessionToken
	}
	if v := res.Verdict; v != nil {
		out.Verdict = &b2bv1.AuthorizationVerdict{Authorized: v.Authorized, GrantingRoles: v.GrantingRoles}
	}
	return out, nil
}

// Get lists a member's active sessions.
func (s *Sessions) Get(ctx context.Context, req *b2bv1.SessionsServiceGetRequest) (*b2bv1.SessionsServiceGetResponse, error) {
	res, err := s.d.Stytch.SessionsGet(ctx, stytchclient.SessionsGetParams{OrganizationID: req.GetOrganizationId(), MemberID: req.GetMemberId()})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &b2bv1.SessionsServiceGetResponse{MemberSessions: make([]*b2bv1.MemberSession, 0, len(res.MemberSessions))}
	for i := range res.MemberSessions {
		out.MemberSessions = append(out.MemberSessions, toMemberSession(&res.MemberSessions[i]))
	}
	return out, nil
}

// Revoke ends a session (by ID, token or JWT; over REST by default the one in the cookies) or all of
// a member's sessions. It is idempotent: Stytch's 404 for an unknown or already revoked session is
// success. Revoked sessions are remembered (Deps.Revocations) so their JWTs stop verifying locally
// at once instead of up to 5 minutes later.
func (s *Sessions) Revoke(ctx context.Context, req *b2bv1.SessionsServiceRevokeRequest) (*b2bv1.SessionsServiceRevokeResponse, error) {
	sessionID, token, jwt, memberID := req.GetMemberSessionId(), req.GetSessionToken(), req.GetSessionJwt(), req.GetMemberId()
	cookieToken, cookieJWT := callmeta.SessionCookies(ctx)
	if sessionID == "" && token == "" && jwt == "" && memberID == "" {
		token, jwt = cookieToken, cookieJWT
	}
	if sessionID == "" && token == "" && jwt == "" && memberID == "" {
		return nil, invalidArgument("target", "missing_credential", "one of member_session_id, session_token, session_jwt or member_id is required")
	}
	// A logout of the session the browser's cookies hold clears them (on REST); revoking another
	// session (an admin acting on a member) leaves the caller's own cookies alone.
	if (token != "" && token == cookieToken) || (jwt != "" && jwt == cookieJWT) {
		_ = grpc.SetHeader(ctx, metadata.Pairs(callmeta.ClearSessionCookies, "1"))
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
			return &b2bv1.SessionsServiceRevokeResponse{}, nil
		}
		if id != "" {
			revoked = []string{id}
		}
	}

	p := stytchclient.SessionsRevokeParams{}
	switch {
	case sessionID != "":
		p.MemberSessionID, p.ActingMember = sessionID, acting(ctx)
	case token != "":
		// The opaque token identifies the session even when the JWT has expired.
		p.SessionToken = token
	case jwt != "":
		p.SessionJWT = jwt
	default:
		p.MemberID, p.ActingMember = memberID, acting(ctx)
	}
	_, err := s.d.Stytch.SessionsRevoke(ctx, p)
	alreadyGone := stytchclient.IsNotFound(err) && memberID == ""
	if err != nil && !alreadyGone {
		return nil, s.toStatus(ctx, err, nil)
	}
	s.remember(ctx, revoked)
	return &b2bv1.SessionsServiceRevokeResponse{}, nil
}

// sessionIDOf finds the session ID behind a token or JWT. gone reports that Stytch no longer knows
// the session (nothing to revoke). A JWT that verifies locally names its session without a call;
// only an opaque token (with revocations remembered) costs a sessions/authenticate.
func (s *Sessions) sessionIDOf(ctx context.Context, token, jwt string) (id string, gone bool, err error) {
	if s.d.Revocations == nil {
		return "", false, nil
	}
	if jwt != "" && s.d.Verifier != nil {
		if c, verr := s.d.Verifier.VerifySession(ctx, jwt); verr == nil {
			return c.SessionID, false, nil
		}
	}
	if token == "" {
		return "", false, nil
	}
	res, err := s.d.Stytch.SessionsAuthenticate(ctx, stytchclient.SessionsAuthenticateParams{SessionToken: token})
	switch {
	case stytchclient.IsNotFound(err):
		return "", true, nil
	case err != nil:
		return "", false, err
	}
	return res.MemberSession.MemberSessionID, false, nil
}

// memberSessionIDs lists a member's sessions so that revoking them all can be remembered locally.
// Best effort: without it the JWTs still expire within 5 minutes.
func (s *Sessions) memberSessionIDs(ctx context.Context, memberID string) []string {
	if s.d.Revocations == nil {
		return nil
	}
	m, err := s.d.Stytch.MemberDangerouslyGet(ctx, memberID, false)
	if err != nil {
		s.log.WarnContext(ctx, "revoke: cannot look up the member's organization", "error", err.Error())
		return nil
	}
	res, err := s.d.Stytch.SessionsGet(ctx, stytchclient.SessionsGetParams{OrganizationID: m.Member.OrganizationID, MemberID: memberID})
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

// Exchange moves a session to another organization of the same person.
func (s *Sessions) Exchange(ctx context.Context, req *b2bv1.SessionsServiceExchangeRequest) (*b2bv1.SessionsServiceExchangeResponse, error) {
	token, jwt := req.GetSessionToken(), req.GetSessionJwt()
	if token == "" && jwt == "" {
		token, jwt = callerSession(ctx)
	}
	if token == "" && jwt == "" {
		return nil, invalidArgument("session_token", "missing_credential", "a session_token or session_jwt is required")
	}
	res, err := s.d.Stytch.SessionsExchange(ctx, stytchclient.SessionsExchangeParams{
		OrganizationID:         req.GetOrganizationId(),
		SessionToken:           token,
		SessionJWT:             jwt,
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
		Locale:                 locale(req.GetLocale()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failSession)
	}
	o := toAuthOutcome(res)
	return &b2bv1.SessionsServiceExchangeResponse{
		MemberId:                 o.MemberID,
		MemberAuthenticated:      o.MemberAuthenticated,
		MemberSession:            o.MemberSession,
		SessionToken:             o.SessionToken,
		SessionJwt:               o.SessionJWT,
		IntermediateSessionToken: o.IntermediateSessionToken,
		Member:                   o.Member,
		Organization:             o.Organization,
		MfaRequired:              o.MfaRequired,
		PrimaryRequired:          o.PrimaryRequired,
	}, nil
}

// callerSession is the caller's own session when a request names none: the one the access layer
// verified, else (REST) the session cookies. Exactly one of the two is returned; the opaque token is
// preferred because Stytch accepts it for as long as the session lives, while the cookie JWT may
// have expired.
func callerSession(ctx context.Context) (token, jwt string) {
	if s, ok := callmeta.MemberSessionFrom(ctx); ok {
		if s.Token != "" {
			return s.Token, ""
		}
		return "", s.JWT
	}
	token, jwt = callmeta.SessionCookies(ctx)
	if token != "" {
		return token, ""
	}
	return "", jwt
}

// GetJWKS returns the project's public signing keys. It serves a copy refreshed at most every
// jwksMaxAge, and at once when the verifier's key cache has refreshed since (a rotation); when
// Stytch cannot be reached it keeps serving the last copy.
func (s *Sessions) GetJWKS(ctx context.Context, _ *b2bv1.SessionsServiceGetJWKSRequest) (*b2bv1.SessionsServiceGetJWKSResponse, error) {
	s.jwksMu.Lock()
	keys, at := s.jwks, s.jwksAt
	s.jwksMu.Unlock()
	fresh := keys != nil && s.now().Sub(at) < jwksMaxAge
	if fresh && s.d.JWKS != nil && s.d.JWKS.LastRefresh().After(at) {
		fresh = false
	}
	if fresh {
		return &b2bv1.SessionsServiceGetJWKSResponse{Keys: keys, ProjectId: s.d.Stytch.ProjectID()}, nil
	}

	ch := s.jwksFlight.DoChan("jwks", func() (any, error) {
		// Detached from this caller's cancellation: other callers may wait for the same fetch.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		res, err := s.d.Stytch.GetJWKS(fctx)
		if err != nil {
			return nil, err
		}
		out := make([]*b2bv1.Jwk, 0, len(res.Keys))
		for _, k := range res.Keys {
			out = append(out, &b2bv1.Jwk{Kty: k.KTY, Use: k.Use, KeyOps: k.KeyOps, Alg: k.Alg, Kid: k.KID, X5C: k.X5C, X5TS256: k.X5TS256, N: k.N, E: k.E})
		}
		s.jwksMu.Lock()
		s.jwks, s.jwksAt = out, s.now()
		s.jwksMu.Unlock()
		return out, nil
	})
	select {
	case <-ctx.Done():
		return nil, s.toStatus(ctx, ctx.Err(), nil)
	case r := <-ch:
		if r.Err != nil {
			if keys != nil {
				s.log.WarnContext(ctx, "jwks refresh failed; serving the previous keys", "error", r.Err.Error())
				return &b2bv1.SessionsServiceGetJWKSResponse{Keys: keys, ProjectId: s.d.Stytch.ProjectID()}, nil
			}
			return nil, s.toStatus(ctx, r.Err, nil)
		}
		fetched, _ := r.Val.([]*b2bv1.Jwk)
		return &b2bv1.SessionsServiceGetJWKSResponse{Keys: fetched, ProjectId: s.d.Stytch.ProjectID()}, nil
	}
}
