package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SessionClaims is a verified B2B member session JWT. Values returned by
// [Verifier.VerifySession] may be shared with other callers through the
// verified-token cache: treat them, including slices and maps, as read-only.
type SessionClaims struct {
	// MemberID is the token's sub.
	MemberID string
	// SessionID is the member session's ID (https://stytch.com/session id).
	SessionID string
	// OrganizationID and OrganizationSlug come from
	// https://stytch.com/organization.
	OrganizationID   string
	OrganizationSlug string
	// Roles are the member's RBAC roles at issuance.
	Roles []string
	// AuthenticationFactors are the factors the session was authenticated with.
	AuthenticationFactors []AuthenticationFactor
	// Attributes are the session's client attributes.
	Attributes SessionAttributes
	// StartedAt, LastAccessedAt and ExpiresAt describe the session (not the
	// JWT): ExpiresAt is when the session ends, usually long after Expiry.
	StartedAt      time.Time
	LastAccessedAt time.Time
	ExpiresAt      time.Time
	// CustomClaims are every top-level claim except iss, aud, sub, iat, nbf,
	// exp, jti and those starting https://stytch.com/. Nil when none.
	CustomClaims map[string]any
	// Issuer is the token's iss.
	Issuer string
	// IssuedAt, NotBefore and Expiry are the JWT's own iat, nbf and exp.
	// NotBefore is zero when the token has no nbf.
	IssuedAt  time.Time
	NotBefore time.Time
	Expiry    time.Time
}

// SessionAttributes are the client attributes Stytch records on a session.
type SessionAttributes struct {
	IPAddress string
	UserAgent string
}

// AuthenticationFactor is one factor a session was authenticated with.
// EmailFactor and PhoneNumberFactor are decoded; any other *_factor object
// (OAuth, SSO, ...) is kept in Other by its JSON name, decoded generically.
// Email addresses and phone numbers here are personal data: never log them.
type AuthenticationFactor struct {
	// Type is e.g. "magic_link", "email_otp", "otp", "sso".
	Type string
	// DeliveryMethod is e.g. "email", "sms", "sso_saml".
	DeliveryMethod      string
	LastAuthenticatedAt time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
	EmailFactor         *EmailFactor
	PhoneNumberFactor   *PhoneNumberFactor
	Other               map[string]any
}

// EmailFactor identifies the email used by a factor.
type EmailFactor struct {
	EmailID      string
	EmailAddress string
}

// PhoneNumberFactor identifies the phone number used by a factor.
type PhoneNumberFactor struct {
	PhoneID     string
	PhoneNumber string
}

// M2MClaims is a verified M2M access token. Values returned by
// [Verifier.VerifyM2M] may be shared through the verified-token cache: treat
// them as read-only.
type M2MClaims struct {
	// ClientID is the token's sub, the M2M client.
	ClientID string
	// Scopes is the scope claim split on spaces.
	Scopes []string
	// CustomClaims are every top-level claim except iss, aud, sub, iat, nbf,
	// exp, jti, scope and those starting https://stytch.com/. Nil when none.
	CustomClaims map[string]any
	// Issuer is the token's iss.
	Issuer string
	// IssuedAt, NotBefore and Expiry are the JWT's iat, nbf and exp.
	IssuedAt  time.Time
	NotBefore time.Time
	Expiry    time.Time
}

const (
	claimSession      = "https://stytch.com/session"
	claimOrganization = "https://stytch.com/organization"
	stytchClaimPrefix = "https://stytch.com/"
)

type tokenKind uint8

const (
	kindSession tokenKind = iota + 1
	kindM2M
)

func (k tokenKind) String() string {
	if k == kindM2M {
		return "m2m token"
	}
	return "session token"
}

// wireSession is the https://stytch.com/session claim as Stytch sends it.
type wireSession struct {
	ID                    string            `json:"id"`
	StartedAt             string            `json:"started_at"`
	LastAccessedAt        string            `json:"last_accessed_at"`
	ExpiresAt             string            `json:"expires_at"`
	Attributes            *wireAttributes   `json:"attributes"`
	AuthenticationFactors []json.RawMessage `json:"authentication_factors"`
	Roles                 []string          `json:"roles"`
}

type wireAttributes struct {
	IPAddress string `json:"ip_address"`
	UserAgent string `json:"user_agent"`
}

type wireOrganization struct {
	OrganizationID string `json:"organization_id"`
	Slug           string `json:"slug"`
}

// parsedClaims is what golang-jwt decodes the payload into. Validate (the
// jwt.ClaimsValidator hook) adds our rules to the library's, so that all
// claim failures are collected together and classify can pick the one that
// matters most.
type parsedClaims struct {
	jwt.RegisteredClaims
	session *wireSession
	org     *wireOrganization
	scope   *string
	custom  map[string]any

	// Set before parsing.
	v    *Verifier
	kind tokenKind
	now  time.Time
}

// UnmarshalJSON decodes the registered claims, Stytch's claims and the rest
// (custom claims) in one pass over the payload's top-level keys, each value
// decoded once into its final type. Key names match exactly (encoding/json's
// struct decoding would also take "ISS" for "iss"). Errors are wrapped by
// golang-jwt as ErrTokenMalformed.
func (c *parsedClaims) UnmarshalJSON(b []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err //nolint:wrapcheck // see above
	}
	for k, raw := range all {
		var err error
		switch k {
		case "iss":
			err = json.Unmarshal(raw, &c.Issuer)
		case "sub":
			err = json.Unmarshal(raw, &c.Subject)
		case "aud":
			err = json.Unmarshal(raw, &c.Audience)
		case "exp":
			err = json.Unmarshal(raw, &c.ExpiresAt)
		case "nbf":
			err = json.Unmarshal(raw, &c.NotBefore)
		case "iat":
			err = json.Unmarshal(raw, &c.IssuedAt)
		case "jti":
			err = json.Unmarshal(raw, &c.ID)
		case claimSession:
			err = json.Unmarshal(raw, &c.session)
		case claimOrganization:
			err = json.Unmarshal(raw, &c.org)
		case "scope":
			err = json.Unmarshal(raw, &c.scope)
			if err == nil {
				// Also a custom claim for session tokens; m2mClaims drops it.
				err = c.addCustom(k, raw)
			}
		default:
			if !strings.HasPrefix(k, stytchClaimPrefix) {
				err = c.addCustom(k, raw)
			}
		}
		if err != nil {
			return fmt.Errorf("claim %q: %w", k, err)
		}
	}
	return nil
}

func (c *parsedClaims) addCustom(k string, raw json.RawMessage) error {
	var val any
	if err := json.Unmarshal(raw, &val); err != nil {
		return err //nolint:wrapcheck // wrapped by the caller
	}
	if c.custom == nil {
		c.custom = make(map[string]any)
	}
	c.custom[k] = val
	return nil
}

// Validate implements jwt.ClaimsValidator: golang-jwt checks exp, nbf, iat
// (when present) and aud; this adds what it cannot express.
func (c *parsedClaims) Validate() error {
	var errs []error
	if c.IssuedAt == nil {
		// jwt.WithIssuedAt only checks iat when present.
		errs = append(errs, fmt.Errorf("%w: iat is required", ErrMalformed))
	}
	if c.Subject == "" {
		errs = append(errs, fmt.Errorf("%w: sub is required", ErrMalformed))
	}
	switch {
	case c.Issuer == "":
		errs = append(errs, fmt.Errorf("%w: iss is required", ErrMalformed))
	case !c.v.issuerOK(c.Issuer):
		errs = append(errs, ErrWrongIssuer)
	}
	switch c.kind {
	case kindSession:
		if c.session == nil || c.session.ID == "" {
			errs = append(errs, fmt.Errorf("%w: not a session token", ErrMalformed))
		}
	case kindM2M:
		if c.session != nil || c.scope == nil {
			errs = append(errs, fmt.Errorf("%w: not an M2M access token", ErrMalformed))
		}
	}
	if c.v.maxAge > 0 && c.IssuedAt != nil && c.now.Sub(c.IssuedAt.Time) > c.v.maxAge {
		errs = append(errs, ErrTooOld)
	}
	return errors.Join(errs...)
}

func numericTime(d *jwt.NumericDate) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.Time
}

// parseTime reads an RFC 3339 time; empty means unset.
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s is not an RFC 3339 time", ErrMalformed, field)
	}
	return t, nil
}

func (c *parsedClaims) sessionClaims() (*SessionClaims, error) {
	s := c.session
	out := &SessionClaims{
		MemberID:     c.Subject,
		SessionID:    s.ID,
		Roles:        s.Roles,
		Issuer:       c.Issuer,
		IssuedAt:     numericTime(c.IssuedAt),
		NotBefore:    numericTime(c.NotBefore),
		Expiry:       numericTime(c.ExpiresAt),
		CustomClaims: nilIfEmpty(c.custom),
	}
	if c.org != nil {
		out.OrganizationID, out.OrganizationSlug = c.org.OrganizationID, c.org.Slug
	}
	if s.Attributes != nil {
		out.Attributes = SessionAttributes{IPAddress: s.Attributes.IPAddress, UserAgent: s.Attributes.UserAgent}
	}
	var err error
	if out.StartedAt, err = parseTime("started_at", s.StartedAt); err != nil {
		return nil, err
	}
	if out.LastAccessedAt, err = parseTime("last_accessed_at", s.LastAccessedAt); err != nil {
		return nil, err
	}
	if out.ExpiresAt, err = parseTime("expires_at", s.ExpiresAt); err != nil {
		return nil, err
	}
	if len(s.AuthenticationFactors) > 0 {
		out.AuthenticationFactors = make([]AuthenticationFactor, 0, len(s.AuthenticationFactors))
		for _, raw := range s.AuthenticationFactors {
			f, err := decodeFactor(raw)
			if err != nil {
				return nil, err
			}
			out.AuthenticationFactors = append(out.AuthenticationFactors, f)
		}
	}
	return out, nil
}

func decodeFactor(raw json.RawMessage) (AuthenticationFactor, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return AuthenticationFactor{}, fmt.Errorf("%w: authentication factor: %w", ErrMalformed, err)
	}
	var (
		f                                   AuthenticationFactor
		lastAuthenticated, created, updated string
		err                                 error
	)
	for k, v := range all {
		switch k {
		case "type":
			err = json.Unmarshal(v, &f.Type)
		case "delivery_method":
			err = json.Unmarshal(v, &f.DeliveryMethod)
		case "last_authenticated_at":
			err = json.Unmarshal(v, &lastAuthenticated)
		case "created_at":
			err = json.Unmarshal(v, &created)
		case "updated_at":
			err = json.Unmarshal(v, &updated)
		case "email_factor":
			var w *struct {
				EmailID      string `json:"email_id"`
				EmailAddress string `json:"email_address"`
			}
			if err = json.Unmarshal(v, &w); err == nil && w != nil {
				f.EmailFactor = &EmailFactor{EmailID: w.EmailID, EmailAddress: w.EmailAddress}
			}
		case "phone_number_factor":
			var w *struct {
				PhoneID     string `json:"phone_id"`
				PhoneNumber string `json:"phone_number"`
			}
			if err = json.Unmarshal(v, &w); err == nil && w != nil {
				f.PhoneNumberFactor = &PhoneNumberFactor{PhoneID: w.PhoneID, PhoneNumber: w.PhoneNumber}
			}
		default:
			// Keep the other factor kinds (google_oauth_factor,
			// saml_sso_factor, ...) without modelling each one.
			if !strings.HasSuffix(k, "_factor") {
				continue
			}
			var val any
			if err = json.Unmarshal(v, &val); err == nil && val != nil {
				if f.Other == nil {
					f.Other = make(map[string]any)
				}
				f.Other[k] = val
			}
		}
		if err != nil {
			return f, fmt.Errorf("%w: authentication factor %s: %w", ErrMalformed, k, err)
		}
	}
	if f.LastAuthenticatedAt, err = parseTime("last_authenticated_at", lastAuthenticated); err != nil {
		return f, err
	}
	if f.CreatedAt, err = parseTime("created_at", created); err != nil {
		return f, err
	}
	if f.UpdatedAt, err = parseTime("updated_at", updated); err != nil {
		return f, err
	}
	return f, nil
}

func (c *parsedClaims) m2mClaims() *M2MClaims {
	delete(c.custom, "scope")
	return &M2MClaims{
		ClientID:     c.Subject,
		Scopes:       strings.Fields(*c.scope),
		CustomClaims: nilIfEmpty(c.custom),
		Issuer:       c.Issuer,
		IssuedAt:     numericTime(c.IssuedAt),
		NotBefore:    numericTime(c.NotBefore),
		Expiry:       numericTime(c.ExpiresAt),
	}
}

func nilIfEmpty(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	return m
}
