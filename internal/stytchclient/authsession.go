package stytchclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// SessionVerifier checks a session JWT locally. *verify.Verifier implements
// it. Failures must wrap one of verify's reasons; only those for which
// verify.Refreshable is true (expired, too old) lead to a remote call.
type SessionVerifier interface {
	VerifySession(ctx context.Context, jwt string) (*verify.SessionClaims, error)
}

// DecisionPath says which path decided an AuthenticateSession call.
type DecisionPath string

// Decision paths.
const (
	// PathLocal: the JWT was verified (or rejected) in process; no call to Stytch.
	PathLocal DecisionPath = "local"
	// PathRemote: Stytch's sessions/authenticate decided.
	PathRemote DecisionPath = "remote"
)

// AuthenticateSessionParams asks whether a member session is valid. Set
// exactly one of SessionToken and SessionJWT.
type AuthenticateSessionParams struct {
	// SessionToken is opaque: only Stytch can check it, so it always goes remote.
	SessionToken string
	// SessionJWT is checked locally first.
	SessionJWT string
	// MaxTokenAge, when positive, sends a JWT whose iat is older than this
	// to Stytch even though it is still within exp: the one meaning of
	// "max token age" here and in verify (the official SDK gives 0 three
	// meanings in three methods). Zero means no per-call limit (the
	// verifier's own MaxTokenAge still applies).
	MaxTokenAge time.Duration
	// SessionDurationMinutes and SessionCustomClaims are sent when the call
	// goes remote (opaque token, expired or too-old JWT); Stytch then
	// extends the session. The local path never extends a session.
	SessionDurationMinutes int32
	SessionCustomClaims    Metadata
}

// AuthenticateSessionResult is the outcome of AuthenticateSession.
type AuthenticateSessionResult struct {
	// Path is the path that decided, on success and on failure.
	Path DecisionPath
	// Reason is verify.Reason of the local outcome ("ok", "expired",
	// "too_old", "bad_signature", ...), or "opaque_token" when a session
	// token skipped the local path.
	Reason string
	// Session is the member session, from the JWT claims (local) or from
	// Stytch (remote).
	Session MemberSessionInfo
	// Claims are the verified JWT claims (local path only; read-only).
	Claims *verify.SessionClaims
	// Member and Organization are returned by Stytch (remote path only).
	Member       *Member
	Organization *Organization
	// SessionToken and SessionJWT are Stytch's refreshed values (remote
	// path only). Hand the new JWT back to the caller's client.
	SessionToken string
	SessionJWT   string
}

// ErrTooManySessionArguments is returned when both or neither of
// SessionToken and SessionJWT are set, without a call to Stytch.
var ErrTooManySessionArguments = errors.New("stytchclient: set exactly one of SessionToken and SessionJWT")

// SessionAuthenticator checks member sessions local-first. It is separate
// from Client so that the JWKS cache (which needs Client.FetchJWKS) and the
// verifier can be built between the two without a construction cycle.
type SessionAuthenticator struct {
	client   *Client
	verifier SessionVerifier
	now      func() time.Time
	onRemote func(ctx context.Context, reason string, err error)
}

// SessionAuthenticatorOption adjusts a SessionAuthenticator.
type SessionAuthenticatorOption func(*SessionAuthenticator)

// WithRemoteObserver calls fn after every remote decision (Stytch's
// sessions/authenticate answered or failed) with the reason the check went
// remote ("opaque_token", "expired", "too_old", or the reason given to
// AuthenticateRemote) and Stytch's error (nil when
// the session is valid). Local decisions are the verifier's to report
// (verify.VerifierConfig.Observe), so each decision is reported once. For
// metrics: fn must be cheap and never sees a token.
func WithRemoteObserver(fn func(ctx context.Context, reason string, err error)) SessionAuthenticatorOption {
	return func(a *SessionAuthenticator) { a.onRemote = fn }
}

// NewSessionAuthenticator combines a client and a local verifier. now is
// the clock for MaxTokenAge (nil: time.Now); give it the verifier's clock.
func NewSessionAuthenticator(c *Client, v SessionVerifier, now func() time.Time, opts ...SessionAuthenticatorOption) *SessionAuthenticator {
	if now == nil {
		now = time.Now
	}
	a := &SessionAuthenticator{client: c, verifier: v, now: now}
	for _, o := range opts {
		o(a)
	}
	return a
}

// AuthenticateSession validates a member session.
//
// A JWT is verified locally. A valid, young-enough JWT is answered without
// any network call. Only a genuine JWT that is expired or older than
// MaxTokenAge goes to Stytch (which, while the session lives, answers with a
// fresh JWT). Forged, malformed, wrong-issuer/audience, unknown-key and
// revoked tokens are rejected locally — unlike the official SDK, junk never
// turns into upstream traffic. A session token always goes to Stytch.
//
// The result is non-nil even on error, with Path and Reason saying what
// decided; its other fields are set only on success. Local rejections wrap
// verify's reason errors (errors.Is(err, verify.ErrBadSignature), ...);
// remote ones are *Error.
func (a *SessionAuthenticator) AuthenticateSession(ctx context.Context, p AuthenticateSessionParams) (*AuthenticateSessionResult, error) {
	if (p.SessionToken == "") == (p.SessionJWT == "") {
		return &AuthenticateSessionResult{Path: PathLocal, Reason: "malformed"}, ErrTooManySessionArguments
	}
	if p.SessionToken != "" {
		return a.remote(ctx, p, "opaque_token")
	}

	claims, err := a.verifier.VerifySession(ctx, p.SessionJWT)
	if err == nil && p.MaxTokenAge > 0 && a.now().Sub(claims.IssuedAt) > p.MaxTokenAge {
		err = fmt.Errorf("issued %s ago, limit %s: %w",
			a.now().Sub(claims.IssuedAt).Round(time.Second), p.MaxTokenAge, verify.ErrTooOld)
	}
	reason := verify.Reason(err)
	switch {
	case err == nil:
		return &AuthenticateSessionResult{
			Path:    PathLocal,
			Reason:  reason,
			Session: sessionFromClaims(claims),
			Claims:  claims,
		}, nil
	case verify.Refreshable(err):
		return a.remote(ctx, p, reason)
	default:
		return &AuthenticateSessionResult{Path: PathLocal, Reason: reason},
			fmt.Errorf("stytchclient: session JWT rejected locally: %w", err)
	}
}

// AuthenticateRemote asks Stytch's sessions/authenticate with every parameter it takes (an
// authorization check, a session extension) and reports the decision to the remote observer
// with reason, a short fixed word saying why the check could not be answered locally. It is for
// callers that must reach Stytch whatever a JWT says; AuthenticateSession decides that itself.
// Going through here rather than Client.SessionsAuthenticate keeps every remote session
// decision counted in one place.
func (a *SessionAuthenticator) AuthenticateRemote(ctx context.Context, p SessionsAuthenticateParams, reason string) (*SessionsAuthenticateResult, error) {
	res, err := a.client.SessionsAuthenticate(ctx, p)
	if a.onRemote != nil {
		a.onRemote(ctx, reason, err)
	}
	return res, err
}

func (a *SessionAuthenticator) remote(ctx context.Context, p AuthenticateSessionParams, reason string) (*AuthenticateSessionResult, error) {
	res, err := a.AuthenticateRemote(ctx, SessionsAuthenticateParams{
		SessionToken:           p.SessionToken,
		SessionJWT:             p.SessionJWT,
		SessionDurationMinutes: p.SessionDurationMinutes,
		SessionCustomClaims:    p.SessionCustomClaims,
	}, reason)
	if err != nil {
		return &AuthenticateSessionResult{Path: PathRemote, Reason: reason}, err
	}
	return &AuthenticateSessionResult{
		Path:         PathRemote,
		Reason:       reason,
		Session:      res.MemberSession,
		Member:       &res.Member,
		Organization: &res.Organization,
		SessionToken: res.SessionToken,
		SessionJWT:   res.SessionJWT,
	}, nil
}

// sessionFromClaims presents JWT claims in the shape Stytch's session
// object has, so callers handle one type whichever path decided.
func sessionFromClaims(c *verify.SessionClaims) MemberSessionInfo {
	s := MemberSessionInfo{
		MemberSessionID:  c.SessionID,
		MemberID:         c.MemberID,
		StartedAt:        Timestamp{c.StartedAt},
		LastAccessedAt:   Timestamp{c.LastAccessedAt},
		ExpiresAt:        Timestamp{c.ExpiresAt},
		OrganizationID:   c.OrganizationID,
		OrganizationSlug: c.OrganizationSlug,
		Roles:            c.Roles,
		CustomClaims:     c.CustomClaims,
	}
	if len(c.AuthenticationFactors) > 0 {
		s.AuthenticationFactors = make([]AuthenticationFactor, 0, len(c.AuthenticationFactors))
		for _, f := range c.AuthenticationFactors {
			af := AuthenticationFactor{
				Type:                f.Type,
				DeliveryMethod:      f.DeliveryMethod,
				LastAuthenticatedAt: Timestamp{f.LastAuthenticatedAt},
				CreatedAt:           Timestamp{f.CreatedAt},
				UpdatedAt:           Timestamp{f.UpdatedAt},
			}
			if f.EmailFactor != nil {
				af.EmailFactor = &EmailFactor{EmailID: f.EmailFactor.EmailID, EmailAddress: f.EmailFactor.EmailAddress}
			}
			if f.PhoneNumberFactor != nil {
				af.PhoneNumberFactor = &PhoneNumberFactor{PhoneID: f.PhoneNumberFactor.PhoneID, PhoneNumber: f.PhoneNumberFactor.PhoneNumber}
			}
			s.AuthenticationFactors = append(s.AuthenticationFactors, af)
		}
	}
	return s
}
