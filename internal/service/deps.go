package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/authsvc/authsvc/internal/callmeta"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// Deps are what the services need. Stytch, Sessions, Verifier and JWKS are required by the services
// that use them; the rest is optional.
type Deps struct {
	// Stytch is the Stytch REST client.
	Stytch *stytchclient.Client
	// Sessions checks member sessions local-first (Sessions.Authenticate).
	Sessions *stytchclient.SessionAuthenticator
	// Tokens issues and caches M2M access tokens (M2M.IssueToken).
	Tokens *stytchclient.TokenSource
	// Verifier verifies M2M access tokens (M2M.AuthenticateToken) and session JWTs (to learn the
	// session ID of a JWT being revoked).
	Verifier *verify.Verifier
	// JWKS holds the project's signing keys; GetJWKS serves them.
	JWKS *verify.JWKSCache
	// Redirects decides the redirect URLs of magic links.
	Redirects RedirectPolicy
	// MaxTokenAge is the oldest session JWT (by iat) Sessions.Authenticate accepts locally when the
	// request sets no max_token_age_seconds; older ones are checked with Stytch. Zero: only exp.
	MaxTokenAge time.Duration
	// Revocations remembers revoked sessions so that their JWTs stop verifying locally before they
	// expire; Sessions.Authenticate consults it. Wire the same value into
	// verify.VerifierConfig.IsRevoked too, so that every other local check (caller access) honours
	// it. Nil: revocations are only known to Stytch (a revoked session's JWT keeps verifying locally
	// for up to 5 minutes).
	Revocations Revocations
	// Now is the clock for token ages; nil means time.Now. Give it the verifier's clock.
	Now func() time.Time
	// Logger receives the raw causes of failed calls (never secrets or email addresses). Nil
	// discards.
	Logger *slog.Logger
}

// Revocations remembers revoked member sessions for as long as their JWTs could still verify.
type Revocations interface {
	// Revoke marks the session revoked until the given time (after which its JWTs have expired).
	Revoke(ctx context.Context, sessionID string, until time.Time)
	// IsRevoked reports whether the session was revoked. It fits verify.VerifierConfig.IsRevoked.
	IsRevoked(ctx context.Context, sessionID string) bool
	// RevokeMember revokes every session JWT of the member issued before at, until the given time.
	RevokeMember(ctx context.Context, memberID string, at, until time.Time)
	// IsMemberRevoked reports whether a JWT of the member issued at issuedAt was revoked by
	// RevokeMember. It fits verify.VerifierConfig.IsMemberRevoked.
	IsMemberRevoked(ctx context.Context, memberID string, issuedAt time.Time) bool
}

// base is embedded in every service: the dependencies and the error boundary.
type base struct {
	d   Deps
	log *slog.Logger
	now func() time.Time
}

func newBase(d Deps) base {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	return base{d: d, log: log, now: now}
}

// acting returns the caller's verified member session (put in the context by the access layer), to
// be forwarded to Stytch so that its RBAC applies. Zero when the caller is not a member (a service,
// or no access layer yet).
func acting(ctx context.Context) stytchclient.MemberSession {
	s, ok := callmeta.MemberSessionFrom(ctx)
	if !ok {
		return stytchclient.MemberSession{}
	}
	// Prefer the JWT: Stytch can check it without a session lookup.
	if s.JWT != "" {
		return stytchclient.MemberSession{JWT: s.JWT}
	}
	return stytchclient.MemberSession{Token: s.Token}
}

// remember records revoked sessions in Deps.Revocations, if configured.
func (b *base) remember(ctx context.Context, sessionIDs []string) {
	if b.d.Revocations == nil {
		return
	}
	until := b.now().Add(revokeFor)
	for _, id := range sessionIDs {
		if id != "" {
			b.d.Revocations.Revoke(ctx, id, until)
		}
	}
}

// forgetMember records in Deps.Revocations, if configured, that every session JWT of a member
// Stytch has just deleted is revoked: every JWT issued before now, including any of a session
// created while the deletion was under way. A member reactivated later logs in afresh, and the
// new sessions' JWTs, issued after the cut-off, verify.
func (b *base) forgetMember(ctx context.Context, memberID string) {
	if b.d.Revocations == nil || memberID == "" {
		return
	}
	now := b.now()
	b.d.Revocations.RevokeMember(ctx, memberID, now, now.Add(revokeFor))
}

func (b *base) isRevoked(ctx context.Context, sessionID string) bool {
	return b.d.Revocations != nil && sessionID != "" && b.d.Revocations.IsRevoked(ctx, sessionID)
}

// revokedClaims reports whether verified session claims were revoked through this service: their
// session, or their member.
func (b *base) revokedClaims(ctx context.Context, c *verify.SessionClaims) bool {
	if b.d.Revocations == nil || c == nil {
		return false
	}
	return b.isRevoked(ctx, c.SessionID) || b.d.Revocations.IsMemberRevoked(ctx, c.MemberID, c.IssuedAt)
}
