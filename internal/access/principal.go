package access

import "context"

// Kind says how the caller of an RPC was admitted.
type Kind string

// Caller kinds, as they appear in the caller.kind log field.
const (
	// KindNone: no credential was presented (only seen on refusals).
	KindNone Kind = "none"
	// KindPublic: the RPC is public, or the request carries its own credential (credential_fields);
	// whatever credential came with the call was ignored.
	KindPublic Kind = "public"
	// KindMember: a verified Stytch member session.
	KindMember Kind = "member"
	// KindService: a verified Stytch M2M access token.
	KindService Kind = "service"
)

// Principal is the verified caller of an RPC.
type Principal struct {
	Kind Kind

	// MemberID, OrganizationID, SessionID and Roles describe a member caller (KindMember).
	MemberID       string
	OrganizationID string
	SessionID      string
	Roles          []string

	// ClientID and Scopes describe a service caller (KindService).
	ClientID string
	Scopes   []string
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller the access interceptor admitted. It is a context value set only
// by the interceptor after verification, never read from the wire.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
