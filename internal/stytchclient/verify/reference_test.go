package verify

// This file keeps the implementation of claims decoding and parsing that
// preceded the one-pass decoder (golang-jwt's Parser, the payload decoded
// by encoding/json into a map of raw values, each decoded again), as the
// oracle of FuzzVerifyMatchesReference: the decoder must reject the same
// tokens for the same reasons and return the same claims.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// refParser is the Parser the verifier used, with its options.
func refParser(v *Verifier) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithAudience(v.projectID),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(v.now),
	)
}

// refParse is the previous Verifier.parse, on golang-jwt's Parser.
func refParse(ctx context.Context, v *Verifier, token string, kind tokenKind, now time.Time) (*cacheEntry, error) {
	claims := &refParsedClaims{v: v, kind: kind, now: now}
	e := &cacheEntry{}
	_, err := refParser(v).ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		// WithValidMethods already refused every other alg; this makes the
		// pin independent of parser options.
		if t.Method != jwt.SigningMethodRS256 {
			return nil, ErrBadSignature
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, ErrMalformed
		}
		if kind == kindSession && claims.session != nil && (claims.org != nil) == v.consumer {
			return nil, ErrWrongProjectType
		}
		key, err := v.keys.Key(ctx, kid)
		if err != nil {
			if !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrKeysNotLoaded) {
				// A KeySource of another make: its failure still means "no
				// key for this kid", never "malformed token".
				err = fmt.Errorf("%w: %w", ErrUnknownKey, err)
			}
			return nil, err
		}
		e.kid, e.key = kid, key
		return key, nil
	})
	if err != nil {
		return nil, &verifyError{kind: kind, reason: classify(err), cause: err}
	}
	e.exp, e.iat = claims.ExpiresAt.Time, claims.IssuedAt.Time
	switch kind {
	case kindSession:
		s, err := claims.sessionClaims(v.consumer)
		if err != nil {
			return nil, &verifyError{kind: kind, reason: ErrMalformed, cause: err}
		}
		e.session = s
	case kindM2M:
		e.m2m = claims.m2mClaims()
	}
	return e, nil
}

// refWireSession is the https://stytch.com/session claim as Stytch sends it.
type refWireSession struct {
	ID                    string             `json:"id"`
	StartedAt             string             `json:"started_at"`
	LastAccessedAt        string             `json:"last_accessed_at"`
	ExpiresAt             string             `json:"expires_at"`
	Attributes            *refWireAttributes `json:"attributes"`
	AuthenticationFactors []json.RawMessage  `json:"authentication_factors"`
	Roles                 []string           `json:"roles"`
}

type refWireAttributes struct {
	IPAddress string `json:"ip_address"`
	UserAgent string `json:"user_agent"`
}

type refWireOrganization struct {
	OrganizationID string `json:"organization_id"`
	Slug           string `json:"slug"`
}

// refParsedClaims is what golang-jwt decodes the payload into. Validate (the
// jwt.ClaimsValidator hook) adds our rules to the library's, so that all
// claim failures are collected together and classify can pick the one that
// matters most.
type refParsedClaims struct {
	jwt.RegisteredClaims
	session *refWireSession
	org     *refWireOrganization
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
func (c *refParsedClaims) UnmarshalJSON(b []byte) error {
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

func (c *refParsedClaims) addCustom(k string, raw json.RawMessage) error {
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
func (c *refParsedClaims) Validate() error {
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

// refParseTime reads an RFC 3339 time; empty means unset.
func refParseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s is not an RFC 3339 time", ErrMalformed, field)
	}
	return t, nil
}

func (c *refParsedClaims) sessionClaims(consumer bool) (*SessionClaims, error) {
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
	if c.org != nil {
		out.OrganizationID, out.OrganizationSlug = c.org.OrganizationID, c.org.Slug
	}
	if consumer {
		out.UserID = c.Subject
	} else {
		out.MemberID = c.Subject
	}
	if s.Attributes != nil {
		out.Attributes = SessionAttributes{IPAddress: s.Attributes.IPAddress, UserAgent: s.Attributes.UserAgent}
	}
	var err error
	if out.StartedAt, err = refParseTime("started_at", s.StartedAt); err != nil {
		return nil, err
	}
	if out.LastAccessedAt, err = refParseTime("last_accessed_at", s.LastAccessedAt); err != nil {
		return nil, err
	}
	if out.ExpiresAt, err = refParseTime("expires_at", s.ExpiresAt); err != nil {
		return nil, err
	}
	if len(s.AuthenticationFactors) > 0 {
		out.AuthenticationFactors = make([]AuthenticationFactor, 0, len(s.AuthenticationFactors))
		for _, raw := range s.AuthenticationFactors {
			f, err := refDecodeFactor(raw)
			if err != nil {
				return nil, err
			}
			out.AuthenticationFactors = append(out.AuthenticationFactors, f)
		}
	}
	return out, nil
}

func refDecodeFactor(raw json.RawMessage) (AuthenticationFactor, error) {
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
	if f.LastAuthenticatedAt, err = refParseTime("last_authenticated_at", lastAuthenticated); err != nil {
		return f, err
	}
	if f.CreatedAt, err = refParseTime("created_at", created); err != nil {
		return f, err
	}
	if f.UpdatedAt, err = refParseTime("updated_at", updated); err != nil {
		return f, err
	}
	return f, nil
}

func (c *refParsedClaims) m2mClaims() *M2MClaims {
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

// FuzzVerifyMatchesReference holds the one-pass claims decoder to the
// implementation it replaced (above): a token made of any header and any
// payload, signed by the project key or not (or any string at all), is
// rejected by both for the same reason or accepted by both with the same
// claims, as a session token and as an M2M token, by a B2B and by a consumer
// project's verifier.
func FuzzVerifyMatchesReference(f *testing.F) {
	clock := newTestClock()
	// A key of its own, 1024 bits so that signing each input stays cheap
	// (too short for JWKSCache, which both implementations share anyway).
	priv, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(f, err)
	keys := keySourceFunc(func(_ context.Context, kid string) (*rsa.PublicKey, error) {
		if kid != "ref-key" {
			return nil, ErrUnknownKey
		}
		return &priv.PublicKey, nil
	})
	verifiers := map[ProjectType]*Verifier{}
	for _, pt := range []ProjectType{ProjectB2B, ProjectConsumer} {
		verifiers[pt] = newVerifier(f, keys, clock, func(c *VerifierConfig) {
			c.CacheSize = -1
			c.BaseURL = "https://test.stytch.com"
			c.MaxTokenAge = time.Hour
			c.ProjectType = pt
		})
	}

	now := clock.Now()
	header := `{"alg":"RS256","kid":"ref-key","typ":"JWT"}`
	marshal := func(c jwt.MapClaims) string {
		b, err := json.Marshal(c)
		require.NoError(f, err)
		return string(b)
	}
	const (
		signed uint8 = iota
		badSignature
		wholeToken
	)
	for _, payload := range referenceSeedPayloads(now) {
		f.Add(header, payload, signed)
	}
	for _, c := range []jwt.MapClaims{sessionClaims(now), emulatorSessionClaims(now, 0), m2mClaims(now, "read:users write:users")} {
		f.Add(header, marshal(c), signed)
		f.Add(header, marshal(c), badSignature)
	}
	session := marshal(sessionClaims(now))
	for _, h := range []string{
		`{"alg":"RS256","kid":"other-key"}`, `{"alg":"HS256","kid":"ref-key"}`, `{"alg":"none"}`,
		`{"alg":"foo","kid":"ref-key"}`, `{"alg":5,"kid":"ref-key"}`, `{"alg":"RS256"}`, `{"alg":"RS256","kid":5}`,
		`{"alg":"RS256","kid":"ref-key","x":1e400}`, `{"alg":"RS256","kid":"ref-key","x":[1e400]}`,
		`{"alg":"RS256","kid":"ref-key","kid":null}`, `{"alg":"RS\u0032\u00356","kid":"ref-\u006bey"}`,
		`{"alg":"HS256","kid":"ref-key","alg":"RS256"}`, `{"ALG":"RS256","kid":"ref-key"}`,
		`null`, `[]`, `"RS256"`, `{"alg":"RS256","kid":"ref-key"} x`, `{"alg":"RS256",}`, ``,
	} {
		f.Add(h, session, signed)
	}
	for _, tok := range []string{"", "a.b.c", "a.b", "a.b.c.d", "e30.e30.", "e30.e30.AA", "eyJhbGciOiJIUzI1NiJ9.e30.\n"} {
		f.Add(tok, "", wholeToken)
	}

	f.Fuzz(func(t *testing.T, header, payload string, mode uint8) {
		tok := header
		if mode != wholeToken {
			input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
			digest := sha256.Sum256([]byte(input))
			sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, digest[:])
			require.NoError(t, err)
			if mode == badSignature {
				sig[len(sig)/2] ^= 1
			}
			tok = input + "." + base64.RawURLEncoding.EncodeToString(sig)
		}
		if len(tok) > MaxTokenBytes {
			return // refused before parsing, by both
		}
		for pt, v := range verifiers {
			for _, kind := range []tokenKind{kindSession, kindM2M} {
				got, gotErr := v.parse(t.Context(), tok, kind, clock.Now())
				want, wantErr := refParse(t.Context(), v, tok, kind, clock.Now())
				if Reason(gotErr) != Reason(wantErr) {
					t.Fatalf("%s %v: reason %q (%v), reference %q (%v)\ntoken %q\nheader %q\npayload %q",
						pt, kind, Reason(gotErr), gotErr, Reason(wantErr), wantErr, tok, header, payload)
				}
				if wantErr != nil {
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s %v: claims differ\ngot  %s\nwant %s\npayload %q", pt, kind, dump(got), dump(want), payload)
				}
			}
		}
	})
}

func dump(e *cacheEntry) string {
	return fmt.Sprintf("kid=%s exp=%v iat=%v session=%#v m2m=%#v", e.kid, e.exp, e.iat, e.session, e.m2m)
}

// referenceSeedPayloads are payloads at the edges of what the decoder must
// agree with encoding/json on: repeated names, nulls, escapes, names that
// differ only in case, numbers out of range, nesting, malformed JSON.
func referenceSeedPayloads(now time.Time) []string {
	iat, exp := now.Unix(), now.Add(5*time.Minute).Unix()
	base := fmt.Sprintf(`"iss":"stytch.com/%s","aud":["%s"],"sub":"member-1","iat":%d,"nbf":%d,"exp":%d`, testProject, testProject, iat, iat, exp)
	ts := now.Format(time.RFC3339)
	sess := func(body string) string {
		return fmt.Sprintf(`{%s,"https://stytch.com/session":{"id":"s-1","started_at":%q,%s}}`, base, ts, body)
	}
	factor := func(body string) string {
		return sess(`"authentication_factors":[` + body + `]`)
	}
	deep := strings.Repeat("[", 40) + "1" + strings.Repeat("]", 40)
	deepBad := strings.Repeat("[", 40) + "1e400" + strings.Repeat("]", 40)
	deepObj := strings.Repeat(`{"a":`, 40) + `"x"` + strings.Repeat("}", 40)
	return []string{
		sess(`"roles":["a","b"]`),
		sess(`"roles":["a","b","c"],"roles":["x"],"roles":[null,null,null]`),
		sess(`"roles":["a",null],"roles":[]`),
		sess(`"roles":[1]`), sess(`"roles":null`), sess(`"roles":"a"`),
		sess(`"attributes":{"ip_address":"a"},"attributes":{"user_agent":"b"}`),
		sess(`"attributes":{"ip_address":"a"},"attributes":null,"attributes":{"user_agent":"b"}`),
		sess(`"attributes":5`), sess(`"ATTRIBUTES":{"IP_ADDRESS":"a"}`),
		sess(`"ID":"s-2"`), sess(`"id":null`), sess(`"id":"s-1","Id":"s-3"`), sess(`"id":5`),
		sess(`"ſtarted_at":"2026-01-01T00:00:00Z"`), sess(`"\u017ftarted_at":"2026-01-01T00:00:00Z"`),
		sess(`"started_at":"yesterday"`), sess(`"expires_at":"2026-03-01T12:00:00.123456789+02:00"`),
		sess(`"authentication_factors":null`), sess(`"authentication_factors":[]`), sess(`"authentication_factors":{}`),
		factor(`null`), factor(`"x"`), factor(`5`), factor(`[]`), factor(`{}`),
		factor(`{"type":5}`), factor(`{"type":"a","type":null}`), factor(`{"type":5,"type":"b"}`),
		factor(`{"created_at":"bad"}`), factor(`{"created_at":"bad","created_at":"2026-01-01T00:00:00Z"}`),
		factor(`{"email_factor":{"email_id":"e","EMAIL_ADDRESS":"a@example.com"}}`),
		factor(`{"email_factor":{"email_id":"e"},"email_factor":null}`), factor(`{"email_factor":5}`),
		factor(`{"phone_number_factor":{"phone_id":"p","phone_number":"+1"},"Phone_number_factor":{}}`),
		factor(`{"oidc_sso_factor":{"id":"o"},"oidc_sso_factor":null}`), factor(`{"x_factor":1e400}`),
		factor(`{"x_factor":1e400,"x_factor":1}`), factor(`{"x_factor":[1,{"a":null}]}`), factor(`{"TYPE":"a","x":1e400}`),
		factor(`{"type":"magic_link"},{"type":"otp","phone_number_factor":{"phone_id":"p"}}`),
		fmt.Sprintf(`{%s,"https://stytch.com/session":null}`, base),
		fmt.Sprintf(`{%s,"https://stytch.com/session":5}`, base),
		fmt.Sprintf(`{%s,"https://stytch.com/session":{}}`, base),
		fmt.Sprintf(`{%s,"https://stytch.com/session":{"id":"s-1"},"https://stytch.com/session":{"started_at":"x"}}`, base),
		fmt.Sprintf(`{%s,"https://stytch.com/organization":{"organization_id":"o","SLUG":"s"},"https://stytch.com/session":{"id":"s"}}`, base),
		fmt.Sprintf(`{%s,"https://stytch.com/organization":[],"https://stytch.com/session":{"id":"s"}}`, base),
		fmt.Sprintf(`{%s,"https://stytch.com/other":1e400,"https://stytch.com/session":{"id":"s","x":1e400}}`, base),
		fmt.Sprintf(`{%s,"ISS":"x","Sub":"y","EXP":"z","scope":"a b","https://stytch.com/session":{"id":"s"}}`, base),
		fmt.Sprintf(`{%s,"scope":null,"n":null,"tier":1e400,"tier":2,"https://stytch.com/session":{"id":"s"}}`, base),
		fmt.Sprintf(`{%s,"tier":2,"tier":1e400,"https://stytch.com/session":{"id":"s"}}`, base),
		fmt.Sprintf(`{%s,"d":%s,"e":%s,"https://stytch.com/session":{"id":"s"}}`, base, deep, deepObj),
		fmt.Sprintf(`{%s,"d":%s,"https://stytch.com/session":{"id":"s"}}`, base, deepBad),
		fmt.Sprintf(`{%s,"s":"a\"b\\c\/d\u00e9\ud83d\ude00\ud800","u":"é","https://stytch.com/session":{"id":"s\u0031"}}`, base),
		fmt.Sprintf("{%s,\"bad\":\"\xff\xfe\",\"https://stytch.com/session\":{\"id\":\"s\xc3\"}}", base),
		fmt.Sprintf(`{%s,"i\u0073s":"stytch.com/other","https://stytch.com/session":{"id":"s"}}`, base),
		fmt.Sprintf(`{"iss":"stytch.com/%s","aud":"%s","sub":"m","iat":%d.5,"exp":"%d","nbf":null,"https://stytch.com/session":{"id":"s"}}`, testProject, testProject, iat, exp),
		fmt.Sprintf(`{"iss":"https://test.stytch.com","aud":["x","%s"],"sub":"m","iat":%d,"exp":%de0,"https://stytch.com/session":{"id":"s"}}`, testProject, iat-7200, exp),
		fmt.Sprintf(`{"iss":"stytch.com/%s","aud":[],"sub":"m","iat":%d,"exp":%d}`, testProject, iat, exp),
		fmt.Sprintf(`{"iss":"stytch.com/%s","aud":[null],"sub":"m","iat":%d,"exp":%d}`, testProject, iat, exp),
		fmt.Sprintf(`{"iss":"stytch.com/%s","aud":[1e400],"sub":"m","iat":%d,"exp":%d}`, testProject, iat, exp),
		fmt.Sprintf(`{"iss":"stytch.com/%s","aud":{"a":1},"sub":"m","iat":%d,"exp":1e400}`, testProject, iat),
		fmt.Sprintf(`{"iss":5,"aud":"%s","sub":"m","iat":%d,"exp":%d,"scope":"read:users"}`, testProject, iat, exp),
		fmt.Sprintf(`{"iss":"stytch.com/%s","aud":"%s","sub":"m","iat":%d,"exp":%d,"scope":5}`, testProject, testProject, iat, exp),
		fmt.Sprintf(`{"iss":"stytch.com/%s","aud":"%s","sub":"m","iat":%d,"exp":%d,"exp":-1,"scope":"a","scope":"b c"}`, testProject, testProject, iat, exp),
		fmt.Sprintf(` { "iss" : "stytch.com/%s" , "aud" : "%s" , "sub" : "m" , "iat" : %d , "exp" : %d , "scope" : "" } `, testProject, testProject, iat, exp),
		`null`, `[]`, `"x"`, `5`, `{}`, `{"a":1}x`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":tru}`, `{"a":"\x01"}`,
		`{"a":"\u12"}`, `{"a":"\q"}`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `{"a":[1 2]}`, `{`, `{"a":{"b":[}}`, "\ufeff{}",
	}
}
