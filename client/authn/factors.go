package authn

import (
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// Factor is one factor a session was authenticated with, in Stytch's terms.
type Factor struct {
	// Type is e.g. "magic_link", "otp", "password", "oauth", "totp", "webauthn", "crypto", "sso".
	Type string `json:"type"`
	// DeliveryMethod is e.g. "email", "sms", "oauth_google", "authenticator_app",
	// "webauthn_registration".
	DeliveryMethod string `json:"delivery_method,omitempty"`
	// LastAuthenticatedAt is when the caller last proved this factor.
	LastAuthenticatedAt time.Time `json:"last_authenticated_at"`
}

// HasFactor reports whether p is a member or user whose session holds a factor of type typ (Stytch's
// name, e.g. "webauthn") authenticated within the last within before p was authenticated; within 0
// accepts any time in the session. Services hold no factors.
func (p *Principal) HasFactor(typ string, within time.Duration) bool {
	if p == nil || p.Kind == KindService {
		return false
	}
	now := p.checkedAt
	if now.IsZero() {
		now = time.Now()
	}
	need := session.FactorRequirement{Type: typ, Within: within}
	return typ != "" && slices.ContainsFunc(p.Factors, func(f Factor) bool {
		return need.SatisfiedBy(f.Type, f.DeliveryMethod, f.LastAuthenticatedAt, now)
	})
}

// factorNeed is one factor a Rule requires.
type factorNeed struct {
	typ    string
	within time.Duration
}

// WithFactor narrows r to callers whose session holds a factor of type typ (Stytch's name:
// "webauthn", "totp", "password", "oauth", ...) authenticated within the last within (0: at any
// time in the session), a step-up check such as
//
//	authn.Users().WithFactor("webauthn", 10*time.Minute)
//
// decided from the session JWT with no call to authsvc. A caller that the rule would admit but for
// the factor is refused with PERMISSION_DENIED and the reason "session_factor_required", so a
// frontend knows to ask for that factor again. Services have no factors: a Services rule narrowed
// this way admits nobody.
func (r Rule) WithFactor(typ string, within time.Duration) Rule {
	r.factors = append(slices.Clone(r.factors), factorNeed{typ: typ, within: within})
	return r
}

func (r Rule) factorsHeld(p *Principal) bool {
	for _, f := range r.factors {
		if !p.HasFactor(f.typ, f.within) {
			return false
		}
	}
	return true
}

func factorsFromClaims(in []verify.AuthenticationFactor) []Factor {
	if len(in) == 0 {
		return nil
	}
	out := make([]Factor, 0, len(in))
	for _, f := range in {
		out = append(out, Factor{Type: f.Type, DeliveryMethod: f.DeliveryMethod, LastAuthenticatedAt: f.LastAuthenticatedAt})
	}
	return out
}

func factorsFromSession(in []stytchclient.AuthenticationFactor) []Factor {
	if len(in) == 0 {
		return nil
	}
	out := make([]Factor, 0, len(in))
	for i := range in {
		out = append(out, Factor{Type: in[i].Type, DeliveryMethod: in[i].DeliveryMethod, LastAuthenticatedAt: in[i].LastAuthenticatedAt.Time})
	}
	return out
}

// protoFactor is an AuthenticationFactor of either authsvc API (b2bv1 or consumerv1).
type protoFactor[E interface{ String() string }] interface {
	GetType() E
	GetDeliveryMethod() string
	GetLastAuthenticatedAt() *timestamppb.Timestamp
}

// factorsFromProto reads the factors of authsvc's answer in Stytch's shape. authsvc's factor type
// enums are Stytch's type names upper-cased behind AUTHENTICATION_FACTOR_TYPE_ (MAGIC_LINK is
// "magic_link", RECOVERY_CODES "recovery_codes"), so the name is the enum's, lower-cased; an
// unknown type (UNSPECIFIED) keeps an empty name and matches no rule.
func factorsFromProto[E interface{ String() string }, F protoFactor[E]](in []F) []stytchclient.AuthenticationFactor {
	if len(in) == 0 {
		return nil
	}
	out := make([]stytchclient.AuthenticationFactor, 0, len(in))
	for _, f := range in {
		typ := strings.ToLower(strings.TrimPrefix(f.GetType().String(), "AUTHENTICATION_FACTOR_TYPE_"))
		if typ == "unspecified" {
			typ = ""
		}
		af := stytchclient.AuthenticationFactor{Type: typ, DeliveryMethod: f.GetDeliveryMethod()}
		if ts := f.GetLastAuthenticatedAt(); ts != nil {
			af.LastAuthenticatedAt = stytchclient.Timestamp{Time: ts.AsTime()}
		}
		out = append(out, af)
	}
	return out
}

func userFactors(in []stytchclient.UserAuthenticationFactor) []Factor {
	if len(in) == 0 {
		return nil
	}
	out := make([]Factor, 0, len(in))
	for i := range in {
		af := &in[i].AuthenticationFactor
		out = append(out, Factor{Type: af.Type, DeliveryMethod: af.DeliveryMethod, LastAuthenticatedAt: af.LastAuthenticatedAt.Time})
	}
	return out
}

func asUserFactors(in []stytchclient.AuthenticationFactor) []stytchclient.UserAuthenticationFactor {
	if len(in) == 0 {
		return nil
	}
	out := make([]stytchclient.UserAuthenticationFactor, 0, len(in))
	for _, f := range in {
		out = append(out, stytchclient.UserAuthenticationFactor{AuthenticationFactor: f})
	}
	return out
}
