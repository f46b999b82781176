package access

import (
	"context"

	"github.com/authsvc/authsvc/internal/stytchclient"
)

// Kind says who the caller of an RPC is.
type Kind string

// Caller kinds, as they appear in the caller.kind log field.
const (
	// KindNone: no usable credential was presented (only seen on refusals).
	KindNone Kind = "none"
	// KindPublic: an anonymous caller, admitted because the RPC is public or the request carries
	// its own credential (credential_fields). Whatever credential came with the call was not
	// verified; it is still in Principal.Credential for handlers that act on the caller's own
	// session.
	KindPublic Kind = "public"
	// KindMember: a verified Stytch B2B member session.
	KindMember Kind = "member"
	// KindUser: a verified Stytch consumer user session (consumer projects; not admitted by any
	// B2B rule).
	KindUser Kind = "user"
	// KindService: a verified Stytch M2M access token.
	KindService Kind = "service"
)

// Principal is the caller of an RPC, resolved once per call by the access interceptor and carried
// in the context. Handlers read it with [From]; nothing else reads credentials.
type Principal struct {
	Kind Kind
	// Credential is what the call presented: the Authorization header's bearer token, or on REST
	// the session cookies. For an anonymous caller it was not verified.
	Credential Credential
	// Session is the verified session credential: the JWT (Stytch's refreshed one when the check
	// went remote) or the opaque token. A member's is forwarded to Stytch on the member's behalf
	// (X-Stytch-Member-Session[JWT], so Stytch's RBAC decides; see Acting); a user's is the user's
	// own session for handlers acting on it (see OwnSession). Zero unless KindMember or KindUser.
	Session stytchclient.MemberSession
	// MemberID and OrganizationID describe a member caller (KindMember).
	MemberID       string
	OrganizationID string
	// UserID describes a consumer user caller (KindUser).
	UserID string
	// SessionID and Roles describe a member's or a user's session.
	SessionID string
	Roles     []string
	// ClientID and Scopes describe a service caller (KindService).
	ClientID string
	Scopes   []string
}

// CredentialKind is what a presented credential looks like before it is verified.
type CredentialKind uint8

// Credential kinds.
const (
	CredentialNone         CredentialKind = iota // nothing presented
	CredentialMalformed                          // something that cannot be a Stytch credential
	CredentialSessionToken                       // an opaque session token (only Stytch can check it)
	CredentialSessionJWT                         // a JWT with the Stytch session claim
	CredentialM2M                                // a JWT with scope and no session claim
)

func (k CredentialKind) String() string {
	switch k {
	case CredentialMalformed:
		return "malformed"
	case CredentialSessionToken:
		return "session_token"
	case CredentialSessionJWT:
		return "session_jwt"
	case CredentialM2M:
		return "m2m_token"
	default:
		return "none"
	}
}

// Credential is what a caller presented, classified but not verified.
type Credential struct {
	Kind  CredentialKind
	Token string
	// Cookie: from the REST session cookies, not an Authorization header.
	Cookie bool
	// FallbackToken is the stytch_session cookie when the stytch_session_jwt cookie came first: a
	// JWT cookie that no longer verifies (a rotated key) must not lock out a browser whose session
	// lives.
	FallbackToken string
}

// OwnSession returns the caller's own session credential for a request that names none: the
// verified member or user session, else the session credential presented (an anonymous caller's,
// checked by whatever the handler does with it). Exactly one of token and jwt is set, or neither;
// the opaque token is preferred because Stytch accepts it for as long as the session lives, while
// a JWT may have expired.
func (p Principal) OwnSession() (token, jwt string) {
	if p.Kind == KindMember || p.Kind == KindUser {
		return p.Session.Token, p.Session.JWT
	}
	switch p.Credential.Kind {
	case CredentialSessionToken:
		return p.Credential.Token, ""
	case CredentialSessionJWT:
		if p.Credential.FallbackToken != "" {
			return p.Credential.FallbackToken, ""
		}
		return "", p.Credential.Token
	}
	return "", ""
}

// CallerKey names the authenticated caller for per-caller budgets and idempotency scopes:
// "member:<member ID>", "user:<user ID>" or "service:<client ID>"; "" for an anonymous caller.
// The kind prefix keeps a member, a user and a service apart even if their IDs were alike.
func (p Principal) CallerKey() string {
	switch p.Kind {
	case KindMember:
		return "member:" + p.MemberID
	case KindUser:
		return "user:" + p.UserID
	case KindService:
		return "service:" + p.ClientID
	default:
		return ""
	}
}

// Acting returns the member session to forward to Stytch so that its RBAC decides what the caller
// may do; zero when the caller is not a member (a service acts with the project's own rights; a
// consumer user's session has no such header: consumer endpoints take it in the request).
func (p Principal) Acting() stytchclient.MemberSession {
	if p.Kind != KindMember {
		return stytchclient.MemberSession{}
	}
	return p.Session
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// From returns the caller the access interceptor resolved. It is a context value set only by the
// interceptor, never read from the wire; a call that did not pass the interceptor is anonymous
// with no credential.
func From(ctx context.Context) Principal {
	if p, ok := ctx.Value(principalKey{}).(Principal); ok {
		return p
	}
	return Principal{Kind: KindPublic}
}

// WithPrincipal returns ctx carrying p, for tests of handlers that run without the interceptor.
func WithPrincipal(ctx context.Context, p Principal) context.Context { return withPrincipal(ctx, p) }
