package service

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// Credential rejections of the session-yielding exchanges below: the caller is anonymous, so an
// unknown member, organization or profile answers exactly as a bad token does.
var (
	failAttest        = &authFailure{reason: "invalid_trusted_auth_token", message: "the trusted auth token is invalid, expired or already used"}
	failMigrate       = &authFailure{reason: "invalid_migration_token", message: "the identity provider did not accept the session token"}
	failImpersonation = &authFailure{reason: "impersonation_token_not_found", message: "the impersonation token is invalid, expired or already used"}
)

// sessionParts is what attest, migrate, exchange_access_token and impersonation answer alike.
type sessionParts struct {
	memberID     string
	session      *b2bv1.MemberSession
	token, jwt   string
	member       *b2bv1.Member
	organization *b2bv1.Organization
}

func partsOf(r *stytchclient.B2BAuthenticateResult) sessionParts {
	p := sessionParts{
		memberID: r.MemberID, token: r.SessionToken, jwt: r.SessionJWT,
		session: toMemberSession(r.MemberSession), member: toMember(&r.Member), organization: toOrganization(&r.Organization),
	}
	if p.memberID == "" {
		p.memberID = p.member.GetMemberId()
	}
	return p
}

// Attest exchanges a trusted issuer's token for a session (Stytch verifies it against the profile).
func (s *Sessions) Attest(ctx context.Context, req *b2bv1.SessionsServiceAttestRequest) (*b2bv1.SessionsServiceAttestResponse, error) {
	res, err := s.stytch.SessionsAttest(ctx, stytchclient.SessionsAttestParams{
		ProfileID:              req.GetProfileId(),
		Token:                  req.GetToken(),
		OrganizationID:         req.GetOrganizationId(),
		SessionToken:           req.GetSessionToken(),
		SessionJWT:             req.GetSessionJwt(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failAttest)
	}
	p := partsOf(res)
	return &b2bv1.SessionsServiceAttestResponse{
		MemberId: p.memberID, MemberSession: p.session, SessionToken: p.token, SessionJwt: p.jwt,
		Member: p.member, Organization: p.organization,
	}, nil
}

// Migrate imports a session from the project's external OIDC provider.
func (s *Sessions) Migrate(ctx context.Context, req *b2bv1.SessionsServiceMigrateRequest) (*b2bv1.SessionsServiceMigrateResponse, error) {
	res, err := s.stytch.SessionsMigrate(ctx, stytchclient.SessionsMigrateParams{
		SessionToken:           req.GetSessionToken(),
		OrganizationID:         req.GetOrganizationId(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, failMigrate)
	}
	p := partsOf(res)
	return &b2bv1.SessionsServiceMigrateResponse{
		MemberId: p.memberID, MemberSession: p.session, SessionToken: p.token, SessionJwt: p.jwt,
		Member: p.member, Organization: p.organization,
	}, nil
}

// ExchangeAccessToken turns a Connected Apps access token with full_access into a member session.
func (s *Sessions) ExchangeAccessToken(ctx context.Context, req *b2bv1.SessionsServiceExchangeAccessTokenRequest) (*b2bv1.SessionsServiceExchangeAccessTokenResponse, error) {
	res, err := s.stytch.SessionsExchangeAccessToken(ctx, stytchclient.SessionsExchangeAccessTokenParams{
		AccessToken:            req.GetAccessToken(),
		SessionDurationMinutes: req.GetSessionDurationMinutes(),
		SessionCustomClaims:    fromStruct(req.GetSessionCustomClaims()),
	})
	if err != nil {
		// As the consumer twin: every 401/404 (unknown, expired, too old, revoked) answers alike;
		// a token without full_access (403) keeps Stytch's error type.
		return nil, s.toStatus(ctx, err, failAccessToken)
	}
	p := partsOf(res)
	return &b2bv1.SessionsServiceExchangeAccessTokenResponse{
		MemberId: p.memberID, MemberSession: p.session, SessionToken: p.token, SessionJwt: p.jwt,
		Member: p.member, Organization: p.organization,
	}, nil
}

// AttrImpersonatorID is the span attribute naming who impersonates a member.
const AttrImpersonatorID = "authsvc.impersonator_id"

// AuthenticateImpersonation redeems an impersonation token. Every success is audited: an info log
// line and a span attribute name the impersonator (the dashboard user's ID, never the token or an
// email address) beside the impersonated member and session.
func (s *Sessions) AuthenticateImpersonation(ctx context.Context, req *b2bv1.SessionsServiceAuthenticateImpersonationRequest) (*b2bv1.SessionsServiceAuthenticateImpersonationResponse, error) {
	res, err := s.stytch.ImpersonationAuthenticate(ctx, req.GetImpersonationToken())
	if err != nil {
		return nil, s.toStatus(ctx, err, failImpersonation)
	}
	p := partsOf(res)
	impersonator := impersonatorOf(res.MemberSession)
	trace.SpanFromContext(ctx).SetAttributes(
		attribute.String(AttrImpersonatorID, impersonator),
		attribute.String("authsvc.member_id", p.memberID),
	)
	s.log.LogAttrs(ctx, slog.LevelInfo, "member impersonated",
		slog.String("impersonator_id", impersonator),
		slog.String("member_id", p.memberID),
		slog.String("organization_id", p.organization.GetOrganizationId()),
		slog.String("member_session_id", p.session.GetMemberSessionId()))
	orgID := res.OrganizationID
	if orgID == "" {
		orgID = p.organization.GetOrganizationId()
	}
	return &b2bv1.SessionsServiceAuthenticateImpersonationResponse{
		MemberId: p.memberID, OrganizationId: orgID, MemberSession: p.session, SessionToken: p.token, SessionJwt: p.jwt,
		Member: p.member, Organization: p.organization, ImpersonatorId: impersonator,
	}, nil
}

// impersonatorOf returns the impersonator's ID from the session's impersonated factor.
func impersonatorOf(ms *stytchclient.MemberSessionInfo) string {
	if ms == nil {
		return ""
	}
	for _, f := range ms.AuthenticationFactors {
		if f.ImpersonatedFactor != nil {
			return f.ImpersonatedFactor.ImpersonatorID
		}
	}
	return ""
}
