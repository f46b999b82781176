package verify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SessionClaims is a verified session JWT: a B2B member's or, from a
// consumer project's verifier, a consumer user's. Values returned by
// [Verifier.VerifySession] may be shared with other callers through the
// verified-token cache: treat them, including slices and maps, as read-only.
type SessionClaims struct {
	// MemberID is the token's sub in a B2B project; empty in a consumer one.
	MemberID string
	// UserID is the token's sub in a consumer project; empty in a B2B one.
	UserID string
	// SessionID is the session's ID (https://stytch.com/session id).
	SessionID string
	// OrganizationID and OrganizationSlug come from
	// https://stytch.com/organization (B2B only).
	OrganizationID   string
	OrganizationSlug string
	// Roles are the member's or user's RBAC roles at issuance.
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

// wireSession is the https://stytch.com/session claim as Stytch sends it,
// decoded with encoding/json's struct semantics (field names matched
// case-insensitively, a repeated field decoded into what is there).
type wireSession struct {
	ID                    string
	StartedAt             string
	LastAccessedAt        string
	ExpiresAt             string
	Attributes            *SessionAttributes
	AuthenticationFactors []wireFactor
	Roles                 []string

	attributes SessionAttributes // storage for Attributes
}

func sessionField(d *jsonDecoder, s *wireSession, key string) error {
	switch foldMatch(key, "id", "started_at", "last_accessed_at", "expires_at", "attributes", "authentication_factors", "roles") {
	case 0:
		return d.str(&s.ID)
	case 1:
		return d.str(&s.StartedAt)
	case 2:
		return d.str(&s.LastAccessedAt)
	case 3:
		return d.str(&s.ExpiresAt)
	case 4:
		return decodeStruct(d, &s.Attributes, &s.attributes, attributesField)
	case 5:
		return d.factors(&s.AuthenticationFactors)
	case 6:
		return d.stringSlice(&s.Roles)
	}
	d.skip(false)
	return nil
}

func attributesField(d *jsonDecoder, a *SessionAttributes, key string) error {
	switch foldMatch(key, "ip_address", "user_agent") {
	case 0:
		return d.str(&a.IPAddress)
	case 1:
		return d.str(&a.UserAgent)
	}
	d.skip(false)
	return nil
}

// wireFactor is one authentication factor as Stytch sends it. Its keys
// match exactly (a factor was decoded as a map) and only the last of a
// repeated key counts. A factor that does not decode does not make the
// payload malformed: err is reported once the signature and the claims have
// been checked, as it always was.
type wireFactor struct {
	Type                string
	DeliveryMethod      string
	LastAuthenticatedAt string
	CreatedAt           string
	UpdatedAt           string
	EmailFactor         *EmailFactor
	PhoneNumberFactor   *PhoneNumberFactor
	Other               map[string]any
	err                 error
}

// factors decodes authentication_factors: null sets nil, an array replaces
// the factors (an empty one with an empty, non-nil slice).
func (d *jsonDecoder) factors(dst *[]wireFactor) error {
	switch d.peek() {
	case '[':
	case 'n':
		if d.null() {
			*dst = nil
			return nil
		}
		return d.typeError()
	default:
		return d.typeError()
	}
	out := (*dst)[:0]
	if out == nil {
		out = make([]wireFactor, 0, 2)
	}
	for ok := d.openArray(); ok; ok = d.more(']') {
		out = append(out, wireFactor{})
		d.factor(&out[len(out)-1])
	}
	if len(out) == 0 {
		out = []wireFactor{}
	}
	*dst = out
	return nil
}

func (d *jsonDecoder) factor(f *wireFactor) {
	switch d.peek() {
	case '{':
	case 'n':
		if d.null() {
			return
		}
		f.err = d.typeError()
		return
	default:
		f.err = fmt.Errorf("not an object: %w", d.typeError())
		return
	}
	var errs map[string]error
	for ok := d.openObject(); ok; ok = d.more('}') {
		key := d.key()
		trackKeyError(&errs, key, f.field(d, key))
	}
	for k, err := range errs {
		f.err = fmt.Errorf("%s: %w", k, err)
		break
	}
}

func (f *wireFactor) field(d *jsonDecoder, key string) error {
	switch key {
	case "type":
		f.Type = ""
		return d.str(&f.Type)
	case "delivery_method":
		f.DeliveryMethod = ""
		return d.str(&f.DeliveryMethod)
	case "last_authenticated_at":
		f.LastAuthenticatedAt = ""
		return d.str(&f.LastAuthenticatedAt)
	case "created_at":
		f.CreatedAt = ""
		return d.str(&f.CreatedAt)
	case "updated_at":
		f.UpdatedAt = ""
		return d.str(&f.UpdatedAt)
	case "email_factor":
		f.EmailFactor = nil
		return decodeStruct(d, &f.EmailFactor, nil, emailFactorField)
	case "phone_number_factor":
		f.PhoneNumberFactor = nil
		return decodeStruct(d, &f.PhoneNumberFactor, nil, phoneFactorField)
	}
	if !strings.HasSuffix(key, "_factor") {
		d.skip(false)
		return nil
	}
	// Keep the other factor kinds (google_oauth_factor, saml_sso_factor,
	// ...) without modelling each one.
	delete(f.Other, key)
	if len(f.Other) == 0 {
		f.Other = nil
	}
	v, err := d.decodeAny(0)
	if err != nil || v == nil {
		return err
	}
	if f.Other == nil {
		f.Other = make(map[string]any)
	}
	f.Other[key] = v
	return nil
}

func emailFactorField(d *jsonDecoder, e *EmailFactor, key string) error {
	switch foldMatch(key, "email_id", "email_address") {
	case 0:
		return d.str(&e.EmailID)
	case 1:
		return d.str(&e.EmailAddress)
	}
	d.skip(false)
	return nil
}

func phoneFactorField(d *jsonDecoder, p *PhoneNumberFactor, key string) error {
	switch foldMatch(key, "phone_id", "phone_number") {
	case 0:
		return d.str(&p.PhoneID)
	case 1:
		return d.str(&p.PhoneNumber)
	}
	d.skip(false)
	return nil
}

// wireOrganization is the https://stytch.com/organization claim (struct
// semantics).
type wireOrganization struct {
	OrganizationID string
	Slug           string
}

func organizationField(d *jsonDecoder, o *wireOrganization, key string) error {
	switch foldMatch(key, "organization_id", "slug") {
	case 0:
		return d.str(&o.OrganizationID)
	case 1:
		return d.str(&o.Slug)
	}
	d.skip(false)
	return nil
}

// decodeStruct decodes an object into the struct *dst points to, as
// encoding/json decodes into a pointer field: null sets nil, an object is
// decoded into the struct already there, or else into a new one (buf,
// zeroed, when given), field by field.
func decodeStruct[T any](d *jsonDecoder, dst **T, buf *T, field func(d *jsonDecoder, t *T, key string) error) error {
	switch d.peek() {
	case '{':
	case 'n':
		if d.null() {
			*dst = nil
			return nil
		}
		return d.typeError()
	default:
		return d.typeError()
	}
	if *dst == nil {
		if buf == nil {
			buf = new(T)
		} else {
			var zero T
			*buf = zero
		}
		*dst = buf
	}
	t := *dst
	var firstErr error
	for ok := d.openObject(); ok; ok = d.more('}') {
		if err := field(d, t, d.key()); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// trackKeyError keeps, per key, the error of the key's last occurrence: a
// JSON object decoded as a map keeps only the last value of a repeated key,
// so an earlier value's error does not count.
func trackKeyError(errs *map[string]error, key string, err error) {
	switch {
	case err != nil:
		if *errs == nil {
			*errs = make(map[string]error)
		}
		(*errs)[key] = err
	case *errs != nil:
		delete(*errs, key)
	}
}

// parsedClaims is the decoded payload. Validate (the jwt.ClaimsValidator
// hook) adds our rules to golang-jwt's, so that all claim failures are
// collected together and classify can pick the one that matters most.
type parsedClaims struct {
	jwt.RegisteredClaims
	session *wireSession
	org     *wireOrganization
	scope   *string
	custom  map[string]any
	// Storage for exp, nbf, iat, session and org, saving an allocation
	// each: the claims are copied out of parsedClaims once verified.
	dates      [3]jwt.NumericDate
	sessionBuf wireSession
	orgBuf     wireOrganization

	// Set before decoding.
	v    *Verifier
	kind tokenKind
	now  time.Time
}

// decode reads the payload in one pass: the registered claims, Stytch's
// claims and the rest (custom claims), each value decoded once into its
// final type. The payload is decoded as a map, as it always was: top-level
// names match exactly (encoding/json's struct decoding would also take
// "ISS" for "iss") and only the last of a repeated name counts. A null
// payload has no claims, which Validate then reports. Strings in the claims
// are cut from payload rather than copied one by one, so a cached entry
// keeps the payload (about the size of its claims) alive.
func (c *parsedClaims) decode(payload string) error {
	d := jsonDecoder{s: payload}
	switch d.peek() {
	case '{':
	case 'n':
		if d.null() {
			return d.end()
		}
		d.fail()
		return d.err
	default:
		d.skip(false)
		if err := d.end(); err != nil {
			return err
		}
		return fmt.Errorf("payload is not an object: %w", errJSONType)
	}
	var errs map[string]error
	for ok := d.openObject(); ok; ok = d.more('}') {
		key := d.key()
		trackKeyError(&errs, key, c.claim(&d, key))
	}
	if err := d.end(); err != nil {
		return err
	}
	for k, err := range errs {
		return fmt.Errorf("claim %q: %w", k, err)
	}
	return nil
}

// claim decodes the value of one top-level claim, replacing what an earlier
// occurrence of the name left.
func (c *parsedClaims) claim(d *jsonDecoder, key string) error {
	switch key {
	case "iss":
		c.Issuer = ""
		return d.str(&c.Issuer)
	case "sub":
		c.Subject = ""
		return d.str(&c.Subject)
	case "jti":
		c.ID = ""
		return d.str(&c.ID)
	case "aud":
		c.Audience = nil
		return d.audience(&c.Audience)
	case "exp":
		return d.numericDate(&c.ExpiresAt, &c.dates[0])
	case "nbf":
		return d.numericDate(&c.NotBefore, &c.dates[1])
	case "iat":
		return d.numericDate(&c.IssuedAt, &c.dates[2])
	case claimSession:
		c.session = nil
		return decodeStruct(d, &c.session, &c.sessionBuf, sessionField)
	case claimOrganization:
		c.org = nil
		return decodeStruct(d, &c.org, &c.orgBuf, organizationField)
	}
	if strings.HasPrefix(key, stytchClaimPrefix) {
		d.skip(false)
		return nil
	}
	v, err := d.decodeAny(0)
	if err != nil {
		return err
	}
	if key == "scope" {
		// Also a custom claim for session tokens; m2mClaims drops it.
		c.scope = nil
		switch s := v.(type) {
		case string:
			c.scope = &s
		case nil:
		default:
			return errJSONType
		}
	}
	if c.custom == nil {
		c.custom = make(map[string]any)
	}
	c.custom[key] = v
	return nil
}

// numericDate decodes exp, nbf or iat as golang-jwt's NumericDate does
// (null leaves it unset); whole seconds, by far the usual form, are read
// here and every other form by NumericDate itself. The value is stored in
// buf.
func (d *jsonDecoder) numericDate(dst **jwt.NumericDate, buf *jwt.NumericDate) error {
	*dst = nil
	if d.null() {
		return nil
	}
	c := d.peek()
	start := d.i
	if '0' <= c && c <= '9' {
		n := d.scanNumber()
		if d.failed() {
			return nil
		}
		// Up to 15 digits are exact in the float64 NumericDate goes through.
		if secs, err := strconv.ParseInt(n, 10, 64); err == nil && len(n) <= 15 {
			*buf = *jwt.NewNumericDate(time.Unix(secs, 0))
			*dst = buf
			return nil
		}
	} else if d.skip(false); d.failed() {
		return nil
	}
	if err := buf.UnmarshalJSON([]byte(d.s[start:d.i])); err != nil {
		return err //nolint:wrapcheck // a claim error, wrapped by the caller
	}
	*dst = buf
	return nil
}

// audience decodes aud as golang-jwt's ClaimStrings does: a string or an
// array of strings here, anything else by ClaimStrings itself.
func (d *jsonDecoder) audience(dst *jwt.ClaimStrings) error {
	c := d.peek()
	start := d.i
	switch c {
	case '"':
		raw, plain := d.scanString()
		if !d.failed() {
			*dst = jwt.ClaimStrings{stringValue(raw, plain)}
		}
		return nil
	case '[':
		var aud jwt.ClaimStrings
		allStrings := true
		for ok := d.openArray(); ok; ok = d.more(']') {
			if !allStrings || d.peek() != '"' {
				allStrings = false
				d.skip(false)
				continue
			}
			raw, plain := d.scanString()
			if !d.failed() {
				aud = append(aud, stringValue(raw, plain))
			}
		}
		if d.failed() {
			return nil
		}
		if allStrings {
			*dst = aud
			return nil
		}
	default:
		if d.skip(false); d.failed() {
			return nil
		}
	}
	return dst.UnmarshalJSON([]byte(d.s[start:d.i])) //nolint:wrapcheck // a claim error, wrapped by the caller
}

// decodeHeader reads a JOSE header as golang-jwt did (into a
// map[string]any, so any value that does not decode fails the header):
// alg and kid are returned when they are strings.
func decodeHeader(header string) (alg string, algIsString bool, kid string, err error) {
	d := jsonDecoder{s: header}
	switch d.peek() {
	case '{':
	case 'n':
		if d.null() {
			return "", false, "", d.end()
		}
		d.fail()
		return "", false, "", d.err
	default:
		d.skip(false)
		if err := d.end(); err != nil {
			return "", false, "", err
		}
		return "", false, "", fmt.Errorf("header is not an object: %w", errJSONType)
	}
	for ok := d.openObject(); ok; ok = d.more('}') {
		key := d.key()
		if key != "alg" && key != "kid" {
			if d.skip(true) && err == nil {
				err = errJSONNumber
			}
			continue
		}
		v, vErr := d.decodeAny(0)
		if vErr != nil && err == nil {
			err = vErr
		}
		s, isString := v.(string)
		if key == "alg" {
			alg, algIsString = s, isString
		} else {
			kid = s
		}
	}
	if endErr := d.end(); endErr != nil {
		return "", false, "", endErr
	}
	return alg, algIsString, kid, err
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

// timeParser reads RFC 3339 times (empty means unset), remembering the last
// one: a session and its factors carry the same instant several times.
type timeParser struct {
	last string
	t    time.Time
}

func (p *timeParser) parse(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if s == p.last {
		return p.t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s is not an RFC 3339 time", ErrMalformed, field)
	}
	p.last, p.t = s, t
	return t, nil
}

// Subject is the session's member ID (B2B) or user ID (consumer): the
// token's sub, whichever the project type.
func (c *SessionClaims) Subject() string {
	if c.UserID != "" {
		return c.UserID
	}
	return c.MemberID
}

// otherProject reports a session token of the other project type than the
// verifier's: the organization claim is what a B2B session JWT has and a
// consumer one lacks. A payload without a session claim is left to Validate,
// which finds it is no session token at all.
func (c *parsedClaims) otherProject(consumer bool) bool {
	return c.session != nil && (c.org != nil) == consumer
}

func (c *parsedClaims) sessionClaims(consumer bool) (*SessionClaims, error) {
	s := c.session
	out := &SessionClaims{
		SessionID:    s.ID,
		Roles:        s.Roles,
		Issuer:       c.Issuer,
		IssuedAt:     numericTime(c.IssuedAt),
		NotBefore:    numericTime(c.NotBefore),
		Expiry:       numericTime(c.ExpiresAt),
		CustomClaims: nilIfEmpty(c.custom),
	}
	if consumer {
		out.UserID = c.Subject
	} else {
		out.MemberID = c.Subject
	}
	if c.org != nil {
		out.OrganizationID, out.OrganizationSlug = c.org.OrganizationID, c.org.Slug
	}
	if s.Attributes != nil {
		out.Attributes = *s.Attributes
	}
	var (
		tp  timeParser
		err error
	)
	if out.StartedAt, err = tp.parse("started_at", s.StartedAt); err != nil {
		return nil, err
	}
	if out.LastAccessedAt, err = tp.parse("last_accessed_at", s.LastAccessedAt); err != nil {
		return nil, err
	}
	if out.ExpiresAt, err = tp.parse("expires_at", s.ExpiresAt); err != nil {
		return nil, err
	}
	if len(s.AuthenticationFactors) > 0 {
		out.AuthenticationFactors = make([]AuthenticationFactor, len(s.AuthenticationFactors))
		for i := range s.AuthenticationFactors {
			if err := s.AuthenticationFactors[i].convert(&out.AuthenticationFactors[i], &tp); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (w *wireFactor) convert(f *AuthenticationFactor, tp *timeParser) error {
	if w.err != nil {
		return fmt.Errorf("%w: authentication factor: %w", ErrMalformed, w.err)
	}
	*f = AuthenticationFactor{
		Type:              w.Type,
		DeliveryMethod:    w.DeliveryMethod,
		EmailFactor:       w.EmailFactor,
		PhoneNumberFactor: w.PhoneNumberFactor,
		Other:             w.Other,
	}
	var err error
	if f.LastAuthenticatedAt, err = tp.parse("last_authenticated_at", w.LastAuthenticatedAt); err != nil {
		return err
	}
	if f.CreatedAt, err = tp.parse("created_at", w.CreatedAt); err != nil {
		return err
	}
	if f.UpdatedAt, err = tp.parse("updated_at", w.UpdatedAt); err != nil {
		return err
	}
	return nil
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
