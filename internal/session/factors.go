package session

import (
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// FactorRequirement is a step-up check: the session must hold a factor of
// this kind, authenticated recently enough ("a passkey within the last ten
// minutes"). It is decided from the session's authentication_factors, which
// a session JWT carries, so it never needs a call to Stytch.
type FactorRequirement struct {
	// Type is Stytch's factor type ("webauthn", "totp", "oauth", "password",
	// "magic_link", ...); empty matches any type.
	Type string
	// DeliveryMethod, when set, must match as well ("oauth_google",
	// "authenticator_app", "webauthn_registration", "sms", ...).
	DeliveryMethod string
	// Within, when positive, is how recently the factor must have been
	// authenticated (its last_authenticated_at); zero accepts any time
	// within the session.
	Within time.Duration
}

// reasonFactorRequired is Result.Reason (and the ErrorInfo reason) when a
// valid session lacks a required factor.
const reasonFactorRequired = "session_factor_required"

// String names the requirement for messages ("webauthn within 10m0s").
func (f FactorRequirement) String() string {
	s := f.Type
	if s == "" {
		s = "any factor"
	}
	if f.DeliveryMethod != "" {
		s += " (" + f.DeliveryMethod + ")"
	}
	if f.Within > 0 {
		s += " within " + f.Within.String()
	}
	return s
}

// SatisfiedBy reports whether a factor of type typ and delivery method delivery, last authenticated
// at last, meets f at now. It is the one rule for step-up checks: Sessions.Authenticate applies it
// here, and client/authn applies it to the factors of a session it verified itself.
func (f FactorRequirement) SatisfiedBy(typ, delivery string, last, now time.Time) bool {
	if f.Type != "" && typ != f.Type || f.DeliveryMethod != "" && delivery != f.DeliveryMethod {
		return false
	}
	return f.Within <= 0 || !last.IsZero() && now.Sub(last) <= f.Within
}

// requireFactors returns a PERMISSION_DENIED error naming the first
// requirement no factor satisfies: the caller is who they say, but must
// authenticate again with that factor (the ErrorInfo metadata says which, so
// a frontend can start the step-up). Factor names come from the request's
// validated enums and IDs, never from user data.
func requireFactors(have []stytchclient.AuthenticationFactor, want []FactorRequirement, now time.Time) error {
next:
	for _, f := range want {
		for i := range have {
			if f.SatisfiedBy(have[i].Type, have[i].DeliveryMethod, have[i].LastAuthenticatedAt.Time, now) {
				continue next
			}
		}
		md := map[string]string{"factor_type": f.Type}
		if f.DeliveryMethod != "" {
			md["delivery_method"] = f.DeliveryMethod
		}
		if f.Within > 0 {
			md["within_seconds"] = strconv.FormatInt(int64(f.Within/time.Second), 10)
		}
		return &rpcerr.Error{
			Code:     codes.PermissionDenied,
			Reason:   reasonFactorRequired,
			Message:  fmt.Sprintf("the session has no %s: authenticate again with it", f),
			Metadata: md,
		}
	}
	return nil
}

// factors are the session's authentication factors, a member's or a user's,
// whichever path decided.
func (r *Result) factors() []stytchclient.AuthenticationFactor {
	if len(r.Session.AuthenticationFactors) > 0 {
		return r.Session.AuthenticationFactors
	}
	out := make([]stytchclient.AuthenticationFactor, 0, len(r.UserSession.AuthenticationFactors))
	for i := range r.UserSession.AuthenticationFactors {
		out = append(out, r.UserSession.AuthenticationFactors[i].AuthenticationFactor)
	}
	return out
}
