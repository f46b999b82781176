package callmeta

import "context"

// MemberSession is the verified member session of the caller of an RPC: the credential the access
// layer authenticated (exactly one of Token and JWT is normally set). Handlers forward it to Stytch
// as X-Stytch-Member-Session / X-Stytch-Member-SessionJWT so that Stytch's RBAC decides what the
// member may do.
type MemberSession struct {
	Token string
	JWT   string
}

// IsZero reports whether s carries no credential.
func (s MemberSession) IsZero() bool { return s.Token == "" && s.JWT == "" }

type memberSessionKey struct{}

// WithMemberSession returns ctx carrying the caller's member session. Only the access interceptor
// calls it, after verifying the credential; it is a context value, never read from the wire, so a
// caller cannot claim a session it does not hold.
func WithMemberSession(ctx context.Context, s MemberSession) context.Context {
	return context.WithValue(ctx, memberSessionKey{}, s)
}

// MemberSessionFrom returns the caller's member session put in ctx by WithMemberSession.
func MemberSessionFrom(ctx context.Context) (MemberSession, bool) {
	s, ok := ctx.Value(memberSessionKey{}).(MemberSession)
	return s, ok && !s.IsZero()
}
