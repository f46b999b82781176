package service

import (
	"context"
	"log/slog"
	"time"
)

// base is embedded in every service: the error boundary (errors.go) and its logger.
type base struct {
	log *slog.Logger
}

// newBase returns a base logging to log (nil discards).
func newBase(log *slog.Logger) base {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return base{log: log}
}

// Revocations remembers revoked member sessions for as long as their JWTs could still verify;
// *revocation.List implements it, and the session checker consults the same list on every local
// verification.
type Revocations interface {
	// Revoke marks the session revoked until the given time (after which its JWTs have expired).
	Revoke(ctx context.Context, sessionID string, until time.Time)
	// RevokeMember revokes every session JWT of the member issued before at, until the given time.
	RevokeMember(ctx context.Context, memberID string, at, until time.Time)
}

// revokeFor is how long a revoked session is remembered locally: a Stytch session JWT lives
// 5 minutes, and after a revocation Stytch mints no new ones, so every JWT of the session has
// expired by then (the minute covers the verifier's clock-skew leeway).
const revokeFor = 6 * time.Minute

// revoker records revocations made through authsvc in the revocation list.
type revoker struct {
	list Revocations
	now  func() time.Time
}

// sessions records that the sessions with these IDs were revoked.
func (r revoker) sessions(ctx context.Context, ids []string) {
	until := r.now().Add(revokeFor)
	for _, id := range ids {
		if id != "" {
			r.list.Revoke(ctx, id, until)
		}
	}
}

// member records that every session JWT of a member Stytch has just deleted is revoked: every JWT
// issued before now, including any of a session created while the deletion was under way. A member
// reactivated later logs in afresh, and the new sessions' JWTs, issued after the cut-off, verify.
func (r revoker) member(ctx context.Context, memberID string) {
	if memberID == "" {
		return
	}
	now := r.now()
	r.list.RevokeMember(ctx, memberID, now, now.Add(revokeFor))
}
