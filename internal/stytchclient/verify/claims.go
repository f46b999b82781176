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

type wireFactor struct {
	Type                string `json:"type"`
	DeliveryMethod      string `json:"delivery_method"`
	LastAuthenticatedAt string `json:"last_authenticated_at"`
	CreatedAt           string `json:"created_at"`
	UpdatedAt           string `json:"updated_at"`
	EmailFactor         *struct {
		EmailID      string `json:"email_id"`
		EmailAddress string `json:"email_address"`
	} `json:"email_factor"`
	PhoneNumberFactor *struct {
		PhoneID     string `json:"phone_id"`
		PhoneNumber string `json:"phone_number"`
	} `json:"phone_number_factor"`
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
// (custom claims) from one payload. It runs on the miss path only.
func (c *parsedClaims) UnmarshalJSON(b []byte) error {
	var w struct {
		jwt.RegisteredClaims
		Session *wireSession      `json:"https://stytch.com/session"`
		Org     *wireOrganization `json:"https://stytch.com/organization"`
		Scope   *string           `json:"scope"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err //nolint:wrapcheck // golang-jwt wraps it as ErrTokenMalformed
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return err //nolint:wrapcheck // as above
	}
	for k := range all {
		switch k {
		case "iss", "aud", "sub", "iat", "nbf", "exp", "jti":
			delete(all, k)
		default:
			if strings.HasPrefix(k, stytchClaimPrefix) {
				delete(all, k)
			}
		}
	}
	c.RegisteredClaims = w.RegisteredClaims
	c.session, c.org, c.scope = w.Session, w.Org, w.Scope
	c.custom = all
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
	var w wireFactor
	if err := json.Unmarshal(raw, &w); err != nil {
		return AuthenticationFactor{}, fmt.Errorf("%w: authentication factor: %w", ErrMalformed, err)
	}
	f := AuthenticationFactor{Type: w.Type, DeliveryMethod: w.DeliveryMethod}
	var err error
	if f.LastAuthenticatedAt, err = parseTime("last_authenticated_at", w.LastAuthenticatedAt); err != nil {
		return f, err
	}
	if f.CreatedAt, err = parseTime("created_at", w.CreatedAt); err != nil {
		return f, err
	}
	if f.UpdatedAt, err = parseTime("updated_at", w.UpdatedAt); err != nil {
		return f, err
	}
	if w.EmailFactor != nil {
		f.EmailFactor = &EmailFactor{EmailID: w.EmailFactor.EmailID, EmailAddress: w.EmailFactor.EmailAddress}
	}
	if w.PhoneNumberFactor != nil {
		f.PhoneNumberFactor = &PhoneNumberFactor{PhoneID: w.PhoneNumberFactor.PhoneID, PhoneNumber: w.PhoneNumberFactor.PhoneNumber}
	}
	// Keep the other factor kinds (google_oauth_factor, saml_sso_factor, ...)
	// without modelling each one.
	var all map[string]any
	if err := json.Unmarshal(raw, &all); err != nil {
		return f, fmt.Errorf("%w: authentication factor: %w", ErrMalformed, err)
	}
	for k, v := range all {
		if k == "email_factor" || k == "phone_number_factor" || !strings.HasSuffix(k, "_factor") || v == nil {
			continue
		}
		if f.Other == nil {
			f.Other = make(map[string]any)
		}
		f.Other[k] = v
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
