package stytchemu

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// setExternalAuth installs the trusted auth token profiles and the UserInfo
// endpoint of the configuration.
func (e *Emulator) setExternalAuth(cfg config) error {
	e.trusted = map[string]*TrustedAuthProfile{}
	for _, p := range cfg.trustedProfiles {
		if err := p.prepare(); err != nil {
			return err
		}
		if _, dup := e.trusted[p.ProfileID]; dup {
			return fmt.Errorf("stytchemu: trusted auth profile %q given twice", p.ProfileID)
		}
		e.trusted[p.ProfileID] = &p
	}
	e.userInfoURL = cfg.userInfoURL
	e.userInfo = &http.Client{Timeout: userInfoTimeout}
	return nil
}

// Trusted auth tokens (POST /v1/b2b/sessions/attest). Stytch keeps the
// profiles in its dashboard; the emulator takes them from its configuration
// (WithTrustedAuthProfiles, LoadTrustedAuthProfiles, cmd/stytchemu's
// -trusted-auth-profiles) and ships one example profile whose private key it
// holds, so a developer can mint a token for it (MintTrustedAuthToken, POST
// /emulator/trusted_auth_tokens).

// ExampleTrustedAuthProfileID is the profile ID of ExampleTrustedAuthProfile.
const ExampleTrustedAuthProfileID = "trusted-auth-token-profile-test-example"

// TrustedAuthProfile is a trusted auth token profile: which issuer's JWTs
// attest accepts, the keys they are signed with and which claims carry the
// member's attributes.
type TrustedAuthProfile struct {
	ProfileID string `json:"profile_id"`
	Issuer    string `json:"issuer"`
	Audience  string `json:"audience"`
	// PublicKeysPEM are PEM public keys (PKIX "PUBLIC KEY" or "RSA PUBLIC
	// KEY"); JWKS is an inline JSON Web Key Set. One of the two is required.
	PublicKeysPEM []string        `json:"public_keys_pem,omitempty"`
	JWKS          json.RawMessage `json:"jwks,omitempty"`
	// AttributeMapping names the claims that carry the member's email
	// address (default "email"), organization ID (default
	// "organization_id") and the token's ID (default "jti").
	AttributeMapping TrustedAuthAttributes `json:"attribute_mapping"`
	// CanJITProvision lets attest create the member in an organization
	// whose email JIT provisioning admits the email's domain.
	CanJITProvision bool `json:"can_jit_provision"`

	signer  *rsa.PrivateKey // only the example profile: it can mint its own tokens
	keyfunc jwt.Keyfunc
}

// TrustedAuthAttributes maps JWT claims to member attributes.
type TrustedAuthAttributes struct {
	EmailAddress   string `json:"email_address,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
	TokenID        string `json:"token_id,omitempty"`
}

func (a TrustedAuthAttributes) withDefaults() TrustedAuthAttributes {
	if a.EmailAddress == "" {
		a.EmailAddress = "email"
	}
	if a.OrganizationID == "" {
		a.OrganizationID = "organization_id"
	}
	if a.TokenID == "" {
		a.TokenID = "jti"
	}
	return a
}

// WithTrustedAuthProfiles adds trusted auth token profiles (B2B projects).
func WithTrustedAuthProfiles(ps ...TrustedAuthProfile) Option {
	return func(c *config) { c.trustedProfiles = append(c.trustedProfiles, ps...) }
}

// ExampleTrustedAuthProfile returns a profile with a fresh RSA key the
// emulator can also sign with: issuer "https://idp.example.com", audience
// "authsvc-dev", claims email / organization_id / jti, JIT provisioning on.
// Dev mode and cmd/stytchemu serve it.
func ExampleTrustedAuthProfile() (TrustedAuthProfile, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return TrustedAuthProfile{}, fmt.Errorf("stytchemu: example trusted auth profile key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return TrustedAuthProfile{}, fmt.Errorf("stytchemu: example trusted auth profile key: %w", err)
	}
	return TrustedAuthProfile{
		ProfileID:       ExampleTrustedAuthProfileID,
		Issuer:          "https://idp.example.com",
		Audience:        "authsvc-dev",
		PublicKeysPEM:   []string{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))},
		CanJITProvision: true,
		signer:          key,
	}, nil
}

// LoadTrustedAuthProfiles reads a JSON array of TrustedAuthProfile from path.
func LoadTrustedAuthProfiles(path string) ([]TrustedAuthProfile, error) {
	b, err := os.ReadFile(path) //nolint:gosec // an operator-chosen configuration file
	if err != nil {
		return nil, fmt.Errorf("stytchemu: trusted auth profiles: %w", err)
	}
	var ps []TrustedAuthProfile
	if err := json.Unmarshal(b, &ps); err != nil {
		return nil, fmt.Errorf("stytchemu: trusted auth profiles %s: %w", path, err)
	}
	for i := range ps {
		if err := ps[i].prepare(); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// prepare checks the profile and builds its key lookup.
func (p *TrustedAuthProfile) prepare() error {
	if p.keyfunc != nil {
		return nil
	}
	if p.ProfileID == "" || p.Issuer == "" || p.Audience == "" {
		return fmt.Errorf("stytchemu: trusted auth profile %q: profile_id, issuer and audience are required", p.ProfileID)
	}
	p.AttributeMapping = p.AttributeMapping.withDefaults()
	switch {
	case len(p.JWKS) > 0 && len(p.PublicKeysPEM) > 0:
		return fmt.Errorf("stytchemu: trusted auth profile %q: give jwks or public_keys_pem, not both", p.ProfileID)
	case len(p.JWKS) > 0:
		kf, err := keyfunc.NewJWKSetJSON(p.JWKS)
		if err != nil {
			return fmt.Errorf("stytchemu: trusted auth profile %q: jwks: %w", p.ProfileID, err)
		}
		p.keyfunc = kf.Keyfunc
	case len(p.PublicKeysPEM) > 0:
		set := jwt.VerificationKeySet{}
		for _, s := range p.PublicKeysPEM {
			k, err := parsePublicKeyPEM(s)
			if err != nil {
				return fmt.Errorf("stytchemu: trusted auth profile %q: %w", p.ProfileID, err)
			}
			set.Keys = append(set.Keys, k)
		}
		p.keyfunc = func(*jwt.Token) (any, error) { return set, nil }
	default:
		return fmt.Errorf("stytchemu: trusted auth profile %q: jwks or public_keys_pem is required", p.ProfileID)
	}
	return nil
}

func parsePublicKeyPEM(s string) (jwt.VerificationKey, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("public key is not PEM")
	}
	if b.Type == "RSA PUBLIC KEY" {
		k, err := x509.ParsePKCS1PublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return k, nil
}

// trustedTokenMethods are the asymmetric algorithms attest accepts: a
// trusted issuer publishes public keys, so a symmetric (HS*) or "none"
// token is never valid; golang-jwt also checks that the key fits the method.
var trustedTokenMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// trustedTokenLeeway is the clock skew allowed on exp, nbf and iat.
const trustedTokenLeeway = 30 * time.Second

// MintTrustedAuthToken signs a token for a profile whose private key the
// emulator holds (the example profile) for email, with organizationID in
// the mapped claim when not empty, valid for ttl (default 5 minutes).
func (e *Emulator) MintTrustedAuthToken(profileID, email, organizationID string, ttl time.Duration) (string, error) {
	e.mu.Lock()
	p, ok := e.trusted[profileID]
	now := e.clock.Now()
	e.mu.Unlock()
	switch {
	case !ok:
		return "", fmt.Errorf("stytchemu: no trusted auth profile %q", profileID)
	case p.signer == nil:
		return "", fmt.Errorf("stytchemu: trusted auth profile %q: the emulator holds no private key for it", profileID)
	case !validEmail(email):
		return "", errors.New("stytchemu: MintTrustedAuthToken: not a valid email address")
	}
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	claims := jwt.MapClaims{
		"iss": p.Issuer, "aud": p.Audience, "sub": email,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
		p.AttributeMapping.EmailAddress: email,
		p.AttributeMapping.TokenID:      "trusted-token-" + newUUID(),
	}
	if organizationID != "" {
		claims[p.AttributeMapping.OrganizationID] = organizationID
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(p.signer)
	if err != nil {
		return "", fmt.Errorf("stytchemu: sign trusted auth token: %w", err)
	}
	return s, nil
}

// handleMintTrustedAuthToken: POST /emulator/trusted_auth_tokens
// {"profile_id", "email_address", "organization_id", "ttl": "5m"} → {"token"}.
func (e *Emulator) handleMintTrustedAuthToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ProfileID      string `json:"profile_id"`
		EmailAddress   string `json:"email_address"`
		OrganizationID string `json:"organization_id"`
		TTL            string `json:"ttl"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body must be JSON"})
		return
	}
	if in.ProfileID == "" {
		in.ProfileID = ExampleTrustedAuthProfileID
	}
	var ttl time.Duration
	if in.TTL != "" {
		var err error
		if ttl, err = time.ParseDuration(in.TTL); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "ttl must be a Go duration"})
			return
		}
	}
	tok, err := e.MintTrustedAuthToken(in.ProfileID, in.EmailAddress, in.OrganizationID, ttl)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "profile_id": in.ProfileID})
}

// verifyTrustedToken checks a trusted auth token against its profile:
// signature (asymmetric algorithms only), iss, aud, exp (required), nbf and
// iat, with a small leeway.
func verifyTrustedToken(p *TrustedAuthProfile, raw string, now time.Time) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, p.keyfunc,
		jwt.WithValidMethods(trustedTokenMethods),
		jwt.WithIssuer(p.Issuer), jwt.WithAudience(p.Audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(trustedTokenLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		return nil, fmt.Errorf("trusted auth token: %w", err)
	}
	return claims, nil
}

func errInvalidTrustedToken() *apiError {
	return newErr(http.StatusUnauthorized, errInvalidTrustedTok, "The trusted auth token could not be verified against the profile (signature, issuer, audience, expiry or claims).")
}

func claimString(c jwt.MapClaims, name string) string {
	s, _ := c[name].(string)
	return strings.TrimSpace(s)
}

// sessionsAttest: POST /v1/b2b/sessions/attest.
func (e *Emulator) sessionsAttest(rq *request) (any, error) {
	var in struct {
		ProfileID              string         `json:"profile_id"`
		Token                  string         `json:"token"`
		OrganizationID         string         `json:"organization_id"`
		SessionDurationMinutes *int           `json:"session_duration_minutes"`
		SessionCustomClaims    map[string]any `json:"session_custom_claims"`
		SessionToken           string         `json:"session_token"`
		SessionJWT             string         `json:"session_jwt"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.ProfileID == "" || in.Token == "" {
		return nil, badRequest("profile_id and token are required.")
	}
	if in.SessionToken != "" && in.SessionJWT != "" {
		return nil, newErr(http.StatusBadRequest, errTooManySessionArgs, "Only one of session_token or session_jwt may be passed.")
	}
	if _, aerr := sessionDuration(in.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	p, ok := e.trusted[in.ProfileID]
	if !ok {
		return nil, newErr(http.StatusNotFound, errTrustedProfileNotFound, "No trusted auth token profile with this profile_id.")
	}
	claims, err := verifyTrustedToken(p, in.Token, rq.now)
	if err != nil {
		e.logger.Debug("attest refused", "profile_id", p.ProfileID, "reason", err.Error())
		return nil, errInvalidTrustedToken()
	}
	am := p.AttributeMapping
	email, tokenID := claimString(claims, am.EmailAddress), claimString(claims, am.TokenID)
	if !validEmail(email) || tokenID == "" {
		return nil, errInvalidTrustedToken()
	}
	orgRef := claimString(claims, am.OrganizationID)
	switch {
	case orgRef == "" && in.OrganizationID == "":
		return nil, badRequest("organization_id is required when the token has no organization claim.")
	case orgRef == "":
		orgRef = in.OrganizationID
	case in.OrganizationID != "":
		if o := e.st.findOrg(in.OrganizationID); o == nil || o != e.st.findOrg(orgRef) {
			return nil, badRequest("organization_id does not match the token's organization claim.")
		}
	}
	org, aerr := e.orgByField(orgRef)
	if aerr != nil {
		return nil, aerr
	}
	// A token attests once: a replayed token (same issuer and token ID) is refused.
	used := p.ProfileID + "\x00" + tokenID
	if _, seen := e.st.usedTrustedTokens[used]; seen {
		return nil, errInvalidTrustedToken()
	}
	m := e.st.memberByEmail(org.OrganizationID, email)
	if m == nil {
		// JIT provisioning needs the organization claim in the token (Stytch's rule) and a
		// profile and organization that allow it.
		if !p.CanJITProvision || claimString(claims, am.OrganizationID) == "" || !jitEligible(org, email) {
			return nil, memberNotFound()
		}
		if m, aerr = e.createMember(org, memberInput{EmailAddress: email}, statusActive, rq.now); aerr != nil {
			return nil, aerr
		}
	}
	e.st.usedTrustedTokens[used] = rq.now
	e.activate(m, rq.now)
	ts := rfc3339(rq.now)
	f := factor{
		Type: "trusted_auth_token", DeliveryMethod: "trusted_token_exchange",
		LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		TrustedAuthTokenFactor: &trustedAuthTokenFactor{TokenID: tokenID},
	}
	return e.sessionFor(rq, org, m, f, sessionArgs{
		SessionToken: in.SessionToken, SessionJWT: in.SessionJWT,
		SessionDurationMinutes: in.SessionDurationMinutes, SessionCustomClaims: in.SessionCustomClaims,
	})
}

// sessionFor finishes attest, migrate and impersonation: the factor is a
// full login (these answers carry no intermediate session), added to the
// passed session when it is the member's, else on a new session. The caller
// activates the member where the factor proves its email.
func (e *Emulator) sessionFor(rq *request, org *organization, m *member, f factor, args sessionArgs) (obj, error) {
	d, aerr := sessionDuration(args.SessionDurationMinutes)
	if aerr != nil {
		return nil, aerr
	}
	var ss *memberSession
	if args.SessionToken != "" || args.SessionJWT != "" {
		cur, aerr := e.resolveSession(args.SessionToken, args.SessionJWT, rq.now)
		if aerr != nil {
			return nil, aerr
		}
		if cur.memberID == m.MemberID {
			ss = cur
		}
	}
	if ss != nil {
		ss.factors = addFactors(ss.factors, f)
		ss.lastAccessedAt = rq.now
		if args.SessionDurationMinutes != nil {
			ss.expiresAt = rq.now.Add(d)
		}
		if ss.customClaims, aerr = mergeClaims(ss.customClaims, args.SessionCustomClaims); aerr != nil {
			return nil, aerr
		}
	} else {
		cc, aerr := mergeClaims(nil, args.SessionCustomClaims)
		if aerr != nil {
			return nil, aerr
		}
		ss = e.newSession(m, []factor{f}, d, cc, rq.now)
	}
	res, err := e.sessionResult(ss, rq.now)
	if err != nil {
		return nil, err
	}
	res["member_id"] = m.MemberID
	res["member"] = e.st.render(m)
	res["organization"] = org
	return res, nil
}
