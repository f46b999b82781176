package authn

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// Kind says what sort of caller a Principal is.
type Kind int

const (
	// KindMember is a member of an organization, authenticated by a session JWT.
	KindMember Kind = iota + 1
	// KindService is an M2M client (another service), authenticated by an access token.
	KindService
	// KindUser is a user of a Stytch consumer project, authenticated by a session JWT of that
	// project (see WithConsumerSessions).
	KindUser
)

// String returns "member", "service" or "user".
func (k Kind) String() string {
	switch k {
	case KindMember:
		return "member"
	case KindService:
		return "service"
	case KindUser:
		return "user"
	}
	return "unknown"
}

// MarshalText writes the kind's name, so a Principal reads well as JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Verifier says which path decided that a credential is valid.
type Verifier int

const (
	// VerifiedLocally: signature and claims checked against the cached keys, no network call.
	VerifiedLocally Verifier = iota + 1
	// VerifiedRemotely: authsvc was asked (an expired session JWT whose session is still alive).
	VerifiedRemotely
)

// String returns "local" or "remote".
func (v Verifier) String() string {
	switch v {
	case VerifiedLocally:
		return "local"
	case VerifiedRemotely:
		return "remote"
	}
	return "unknown"
}

// MarshalText writes "local" or "remote".
func (v Verifier) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// Principal is an authenticated caller. Member fields are set for [KindMember], user fields for
// [KindUser], service fields for [KindService]. It holds no credential, so it is safe to log (member
// and user IDs are pseudonymous IDs, not personal data).
type Principal struct {
	Kind Kind `json:"kind"`

	// MemberID, OrganizationID, OrganizationSlug, SessionID and Roles describe a member: the Stytch
	// member, the organization the session is for, the member session, and the RBAC role IDs the
	// member holds in that session (e.g. "stytch_member", "stytch_admin").
	MemberID         string `json:"member_id,omitempty"`
	OrganizationID   string `json:"organization_id,omitempty"`
	OrganizationSlug string `json:"organization_slug,omitempty"`
	// UserID describes a consumer user: the Stytch user. SessionID and Roles are then the user's
	// session and roles (e.g. "stytch_user"). (SessionID keeps its JSON name for either kind.)
	UserID    string   `json:"user_id,omitempty"`
	SessionID string   `json:"member_session_id,omitempty"`
	Roles     []string `json:"roles,omitempty"`

	// ClientID and Scopes describe a service: the M2M client and the scopes its token holds.
	ClientID string   `json:"client_id,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`

	// ExpiresAt is when the credential stops being accepted: the JWT's exp for a locally verified
	// token, the session's expiry for one verified by authsvc.
	ExpiresAt time.Time `json:"expires_at"`
	// VerifiedBy says which path decided.
	VerifiedBy Verifier `json:"verified_by"`

	// Factors are the factors a member's or user's session was authenticated with (see
	// [Principal.HasFactor] and [Rule.WithFactor]); none for a service.
	Factors []Factor `json:"factors,omitempty"`

	// checkedAt is when the credential was verified, the clock for HasFactor (zero: time.Now).
	checkedAt time.Time
	// policies decides a member's permissions (see RequirePermission); nil outside an
	// Authenticator.
	policies session.Policies
}

// HasRoles reports whether p is a member holding every one of roles.
func (p *Principal) HasRoles(roles ...string) bool {
	if p == nil || p.Kind != KindMember {
		return false
	}
	return hasAll(p.Roles, roles)
}

// HasUserRoles reports whether p is a consumer user holding every one of roles.
func (p *Principal) HasUserRoles(roles ...string) bool {
	if p == nil || p.Kind != KindUser {
		return false
	}
	return hasAll(p.Roles, roles)
}

func hasAll(have, roles []string) bool {
	for _, r := range roles {
		if !slices.Contains(have, r) {
			return false
		}
	}
	return true
}

// HasScopes reports whether p is a service whose token meets every one of scopes, by Stytch's
// scope rule: "action:resource" is met by the same action on the same resource or on "*".
func (p *Principal) HasScopes(scopes ...string) bool {
	if p == nil || p.Kind != KindService {
		return false
	}
	return verify.ScopesSatisfied(p.Scopes, scopes)
}

type principalKey struct{}

// PrincipalFrom returns the caller that the middleware or interceptor authenticated for ctx.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// NewContext returns ctx carrying p. The middleware calls it; handler tests call it to run a
// handler as a given caller without minting tokens.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// Rule admits a kind of caller; see [Members], [Users] and [Services]. The zero Rule admits nobody.
type Rule struct {
	kind       Kind
	needs      []string
	factors    []factorNeed    // see WithFactor
	permission *permissionNeed // see RequirePermission
}

// Members admits members who hold every one of roles (Stytch role IDs such as "stytch_admin"); with
// no roles, any member.
func Members(roles ...string) Rule { return Rule{kind: KindMember, needs: slices.Clone(roles)} }

// Users admits consumer users who hold every one of roles (Stytch role IDs); with no roles, any
// user. Only an Authenticator built WithConsumerSessions has users to admit.
func Users(roles ...string) Rule { return Rule{kind: KindUser, needs: slices.Clone(roles)} }

// Services admits services whose token holds every one of scopes (e.g. "read:orders"); with no
// scopes, any service.
func Services(scopes ...string) Rule { return Rule{kind: KindService, needs: slices.Clone(scopes)} }

// admits reports whether r admits p, and whether p is refused only for want of r's factors.
func (r Rule) admits(p *Principal) (ok, lacksFactor bool) {
	if !r.admitsKind(p) {
		return false, false
	}
	if !r.factorsHeld(p) {
		return false, true
	}
	return true, false
}

func (r Rule) admitsKind(p *Principal) bool {
	switch r.kind {
	case KindMember:
		return p.HasRoles(r.needs...)
	case KindUser:
		return p.HasUserRoles(r.needs...)
	case KindService:
		return p.HasScopes(r.needs...)
	}
	return false
}

// Authorize checks p against rules: nil when any rule admits p (or no rule is given and p is
// authenticated), an [*Error] that is [ErrUnauthenticated] when p is nil, and one that is
// [ErrPermissionDenied] otherwise (or [ErrUnavailable] when a [RequirePermission] rule needed the
// RBAC policy and it could not be fetched). Call it in a handler for checks that depend on the
// request; the returned error can be returned from a gRPC handler as is.
func Authorize(p *Principal, rules ...Rule) error {
	ctx, cancel := context.WithTimeout(context.Background(), policyWait)
	defer cancel()
	return authorize(ctx, p, rules)
}

func authorize(ctx context.Context, p *Principal, rules []Rule) error {
	if p == nil {
		return newError(ErrUnauthenticated, "no credentials", false)
	}
	if len(rules) == 0 {
		return nil
	}
	var (
		scopes      []string
		lacksFactor bool
		permErr     error // the refusal of a RequirePermission rule that otherwise admits p
	)
	for _, r := range rules {
		ok, lacks := r.admits(p)
		if ok {
			err := r.permitted(ctx, p)
			if err == nil {
				return nil
			}
			if permErr == nil || errors.Is(permErr, ErrUnavailable) {
				permErr = err
			}
			continue
		}
		lacksFactor = lacksFactor || lacks
		if r.kind == KindService && p.Kind == KindService {
			scopes = append(scopes, r.needs...)
		}
	}
	switch {
	case lacksFactor:
		return newError(ErrPermissionDenied, "session_factor_required", false)
	case permErr != nil:
		return permErr
	}
	e := newError(ErrPermissionDenied, "the caller is not admitted to this operation", false)
	e.scopes = scopes
	return e
}
