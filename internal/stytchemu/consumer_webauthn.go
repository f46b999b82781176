package stytchemu

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Consumer WebAuthn (POST /v1/webauthn/...): passkeys and security keys. The ceremony is
// go-webauthn's, run for real: the challenge a start call issued (once, for 5 minutes), the
// origin, the RP ID hash, the attestation (none, packed, and the other formats the library
// verifies), the signature with the registered public key, and the signature counter (a counter
// that does not increase is refused as a cloned authenticator). This file is the HTTP half: who
// the ceremony belongs to, and what Stytch answers.
//
// Allowed origins: https://{domain} (the domain of the start request is the RP ID), and the
// origin of the project's redirect URL (Stytch's authorized domains; WithRedirectURL) when its
// host is the domain or one of its subdomains, so http://localhost:3000 works for domain
// localhost by default; WithAuthorizedOrigins adds more (dev mode: its console's origin).

// WebAuthn error types, as Stytch's error reference names them.
const (
	errInvalidPublicKeyCredential = "invalid_public_key_credential"
	errUnableToAuthWebAuthn       = "unable_to_auth_webauthn_registration"
)

// webauthnCeremonyTTL is how long a start call's challenge is accepted (the options' timeout).
const webauthnCeremonyTTL = 5 * time.Minute

// webauthnReg is a registered credential. Its wire map is the same map as the user's factor
// record, so a rename shows in the user object; the registration is live only while the user
// still holds that factor (Users.Delete<Factor> removes it).
type webauthnReg struct {
	id     string
	userID string
	domain string
	handle []byte // the user handle the credential was created for
	cred   webauthn.Credential
	wire   obj
}

// webauthnCeremony is a started registration or login, keyed by its challenge.
type webauthnCeremony struct {
	create    bool
	domain    string
	userID    string // empty: a discoverable (passkey) login
	handle    []byte
	userAgent string
	authType  string
	session   webauthn.SessionData
	expiresAt time.Time
}

type webauthnStore struct {
	regs       map[string]*webauthnReg      // by registration ID
	ceremonies map[string]*webauthnCeremony // by challenge (base64url)
}

func newWebAuthnStore() *webauthnStore {
	return &webauthnStore{regs: map[string]*webauthnReg{}, ceremonies: map[string]*webauthnCeremony{}}
}

// waUser is a user as go-webauthn sees it: a handle, names and the credentials of one domain.
type waUser struct {
	handle      []byte
	name        string
	displayName string
	creds       []webauthn.Credential
}

func (w *waUser) WebAuthnID() []byte                         { return w.handle }
func (w *waUser) WebAuthnName() string                       { return w.name }
func (w *waUser) WebAuthnDisplayName() string                { return w.displayName }
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

// liveReg returns the registration id when its user still holds it.
func (e *Emulator) liveReg(id string) (*webauthnReg, *user) {
	r, ok := byID(e.cs.webauthn.regs, id)
	if !ok {
		return nil, nil
	}
	u := e.cs.users[r.userID]
	if u == nil || !slices.ContainsFunc(u.factors, func(f seededFactor) bool { return f.kind == FactorWebAuthn && f.id == r.id }) {
		return nil, nil
	}
	return r, u
}

// regsOf lists u's live registrations for domain (all domains when domain is empty).
func (e *Emulator) regsOf(u *user, domain string) []*webauthnReg {
	var out []*webauthnReg
	for _, f := range u.factors {
		if f.kind != FactorWebAuthn {
			continue
		}
		if r, ok := e.cs.webauthn.regs[f.id]; ok && (domain == "" || r.domain == domain) {
			out = append(out, r)
		}
	}
	return out
}

func credsOf(regs []*webauthnReg) []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(regs))
	for _, r := range regs {
		out = append(out, r.cred)
	}
	return out
}

// webauthnOrigins are the origins a ceremony for domain accepts (see the file comment).
func (e *Emulator) webauthnOrigins(domain string) []string {
	out := []string{"https://" + domain}
	for _, u := range append([]string{e.redirectURL}, e.origins...) {
		if ru, err := url.Parse(u); err == nil && ru.Host != "" {
			if h := ru.Hostname(); h == domain || strings.HasSuffix(h, "."+domain) {
				if o := ru.Scheme + "://" + ru.Host; !slices.Contains(out, o) {
					out = append(out, o)
				}
			}
		}
	}
	return out
}

// relyingParty is go-webauthn for one RP ID.
func (e *Emulator) relyingParty(domain string) (*webauthn.WebAuthn, *apiError) {
	if domain == "" {
		return nil, badRequest("domain is required.")
	}
	if err := protocol.ValidateRPID(domain); err != nil || strings.ContainsAny(domain, ":/") {
		return nil, badRequest("domain must be a host name, without scheme or port.")
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID: domain, RPDisplayName: domain, RPOrigins: e.webauthnOrigins(domain),
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: webauthnCeremonyTTL, TimeoutUVD: webauthnCeremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: webauthnCeremonyTTL, TimeoutUVD: webauthnCeremonyTTL},
		},
	})
	if err != nil {
		return nil, badRequest("domain is not a valid relying party ID.")
	}
	return wa, nil
}

// userLabel is the name Stytch puts in the options by default: the user's name, email or phone.
func userLabel(u *user) string {
	if n := strings.TrimSpace(strings.Join([]string{u.name.FirstName, u.name.LastName}, " ")); n != "" {
		return n
	}
	if len(u.emails) > 0 {
		return u.emails[0].Email
	}
	if len(u.phones) > 0 {
		return u.phones[0].PhoneNumber
	}
	return u.id
}

// optionsJSON is the options as the JSON string Stytch returns. Without base64url encoding the
// binary IDs (user.id, the credential IDs) are standard base64, as Stytch sends them to the
// webauthn-json library; the challenge stays base64url either way.
func optionsJSON(v any, urlEncoding bool) (string, error) {
	b, err := json.Marshal(v)
	if err != nil || urlEncoding {
		return string(b), err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	std := func(s any) any {
		str, _ := s.(string)
		raw, err := base64.RawURLEncoding.DecodeString(str)
		if err != nil {
			return s
		}
		return base64.StdEncoding.EncodeToString(raw)
	}
	if u, ok := m["user"].(map[string]any); ok {
		u["id"] = std(u["id"])
	}
	for _, k := range []string{"excludeCredentials", "allowCredentials"} {
		list, _ := m[k].([]any)
		for _, c := range list {
			if cm, ok := c.(map[string]any); ok {
				cm["id"] = std(cm["id"])
			}
		}
	}
	b, err = json.Marshal(m)
	return string(b), err
}

func (e *Emulator) startCeremony(challenge string, c *webauthnCeremony, now time.Time) {
	for k, old := range e.cs.webauthn.ceremonies {
		if !now.Before(old.expiresAt) {
			delete(e.cs.webauthn.ceremonies, k)
		}
	}
	c.expiresAt = now.Add(webauthnCeremonyTTL)
	e.cs.webauthn.ceremonies[challenge] = c
}

// takeCeremony returns and forgets the live ceremony of challenge: a challenge is answered once.
func (e *Emulator) takeCeremony(challenge string, create bool, now time.Time) *webauthnCeremony {
	c, ok := e.cs.webauthn.ceremonies[challenge]
	if !ok {
		return nil
	}
	delete(e.cs.webauthn.ceremonies, challenge)
	if c.create != create || !now.Before(c.expiresAt) {
		return nil
	}
	return c
}

func unableToAuthWebAuthn() *apiError {
	return newErr(http.StatusUnauthorized, errUnableToAuthWebAuthn, "WebAuthn registration could not be authenticated.")
}

func invalidPublicKeyCredential() *apiError {
	return newErr(http.StatusBadRequest, errInvalidPublicKeyCredential, "Invalid public key credential. Please confirm you're passing a correctly formatted public key credential.")
}

func webauthnFactorOf(r *webauthnReg, userAgent string, now time.Time) factor {
	ts := rfc3339(now)
	return factor{
		Type: "webauthn", DeliveryMethod: "webauthn_registration", LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		WebAuthnFactor: &webauthnFactor{WebAuthnRegistrationID: r.id, Domain: r.domain, UserAgent: userAgent},
	}
}

// POST /v1/webauthn/register/start.
func (e *Emulator) webauthnRegisterStart(rq *request) (any, error) {
	var in struct {
		UserID              string `json:"user_id"`
		Domain              string `json:"domain"`
		UserAgent           string `json:"user_agent"`
		AuthenticatorType   string `json:"authenticator_type"`
		Passkey             bool   `json:"return_passkey_credential_options"`
		OverrideID          string `json:"override_id"`
		OverrideName        string `json:"override_name"`
		OverrideDisplayName string `json:"override_display_name"`
		URLEncoding         bool   `json:"use_base64_url_encoding"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.AuthenticatorType != "" && in.AuthenticatorType != string(protocol.Platform) && in.AuthenticatorType != string(protocol.CrossPlatform) {
		return nil, badRequest("authenticator_type must be platform or cross-platform.")
	}
	wa, aerr := e.relyingParty(in.Domain)
	if aerr != nil {
		return nil, aerr
	}
	u := e.cs.findUser(in.UserID)
	if u == nil {
		return nil, userNotFound()
	}
	wu := &waUser{handle: []byte(u.id), name: userLabel(u), creds: credsOf(e.regsOf(u, in.Domain))}
	if in.OverrideID != "" {
		wu.handle = []byte(in.OverrideID)
	}
	if in.OverrideName != "" {
		wu.name = in.OverrideName
	}
	wu.displayName = wu.name
	if in.OverrideDisplayName != "" {
		wu.displayName = in.OverrideDisplayName
	}
	sel := protocol.AuthenticatorSelection{
		AuthenticatorAttachment: protocol.AuthenticatorAttachment(in.AuthenticatorType),
		ResidentKey:             protocol.ResidentKeyRequirementDiscouraged,
		UserVerification:        protocol.VerificationDiscouraged,
	}
	if in.Passkey {
		sel.ResidentKey, sel.RequireResidentKey, sel.UserVerification = protocol.ResidentKeyRequirementRequired, protocol.ResidentKeyRequired(), protocol.VerificationPreferred
	}
	creation, sess, err := wa.BeginRegistration(wu,
		webauthn.WithAuthenticatorSelection(sel),
		webauthn.WithExclusions(webauthn.Credentials(wu.creds).CredentialDescriptors()))
	if err != nil {
		return nil, badRequest("The registration options could not be built; check override_id (1 to 64 bytes).")
	}
	opts, err := optionsJSON(creation.Response, in.URLEncoding)
	if err != nil {
		return nil, err
	}
	e.startCeremony(sess.Challenge, &webauthnCeremony{
		create: true, domain: in.Domain, userID: u.id, handle: wu.handle,
		userAgent: in.UserAgent, authType: in.AuthenticatorType, session: *sess,
	}, rq.now)
	return obj{"user_id": u.id, "public_key_credential_creation_options": opts}, nil
}

// POST /v1/webauthn/register.
func (e *Emulator) webauthnRegister(rq *request) (any, error) {
	var in struct {
		UserID              string `json:"user_id"`
		PublicKeyCredential string `json:"public_key_credential"`
		userSessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkSessionArgs(in.userSessionArgs); aerr != nil {
		return nil, aerr
	}
	u := e.cs.findUser(in.UserID)
	if u == nil {
		return nil, userNotFound()
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(in.PublicKeyCredential))
	if err != nil {
		return nil, invalidPublicKeyCredential()
	}
	ss, aerr := e.prepareUserSession(u, in.userSessionArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	c := e.takeCeremony(parsed.Response.CollectedClientData.Challenge, true, rq.now)
	if c == nil || c.userID != u.id {
		return nil, unableToAuthWebAuthn()
	}
	wa, aerr := e.relyingParty(c.domain)
	if aerr != nil {
		return nil, aerr
	}
	cred, err := wa.CreateCredential(&waUser{handle: c.handle}, c.session, parsed)
	if err != nil {
		return nil, unableToAuthWebAuthn()
	}
	for _, r := range e.cs.webauthn.regs {
		if live, _ := e.liveReg(r.id); live != nil && bytes.Equal(r.cred.ID, cred.ID) {
			return nil, invalidPublicKeyCredential() // a credential is registered once
		}
	}
	r := &webauthnReg{id: "webauthn-registration-test-" + newUUID(), userID: u.id, domain: c.domain, handle: c.handle, cred: *cred}
	r.wire = obj{
		"webauthn_registration_id": r.id, "domain": c.domain, "user_agent": c.userAgent,
		"verified": true, "authenticator_type": c.authType, "name": "",
	}
	e.cs.webauthn.regs[r.id] = r
	u.factors = append(u.factors, seededFactor{kind: FactorWebAuthn, id: r.id, wire: r.wire})
	res, err := e.finishUserAuth(u, ss, webauthnFactorOf(r, c.userAgent, rq.now), in.userSessionArgs, rq.now)
	if err != nil {
		return nil, err
	}
	delete(res, "reset_sessions")
	res["webauthn_registration_id"] = r.id
	return res, nil
}

// POST /v1/webauthn/authenticate/start.
func (e *Emulator) webauthnAuthenticateStart(rq *request) (any, error) {
	var in struct {
		Domain      string `json:"domain"`
		UserID      string `json:"user_id"`
		Passkey     bool   `json:"return_passkey_credential_options"`
		URLEncoding bool   `json:"use_base64_url_encoding"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	wa, aerr := e.relyingParty(in.Domain)
	if aerr != nil {
		return nil, aerr
	}
	uv := protocol.VerificationDiscouraged
	if in.Passkey {
		uv = protocol.VerificationPreferred
	}
	c := &webauthnCeremony{domain: in.Domain}
	var (
		assertion *protocol.CredentialAssertion
		sess      *webauthn.SessionData
		err       error
	)
	if in.UserID == "" {
		assertion, sess, err = wa.BeginDiscoverableLogin(webauthn.WithUserVerification(uv))
	} else {
		u := e.cs.findUser(in.UserID)
		if u == nil {
			return nil, userNotFound()
		}
		regs := e.regsOf(u, in.Domain)
		if len(regs) == 0 {
			return nil, newErr(http.StatusNotFound, errWebAuthnNotFound, "The user has no WebAuthn registration for this domain.")
		}
		c.userID = u.id
		assertion, sess, err = wa.BeginLogin(&waUser{handle: regs[0].handle, creds: credsOf(regs)}, webauthn.WithUserVerification(uv))
	}
	if err != nil {
		return nil, err
	}
	opts, err := optionsJSON(assertion.Response, in.URLEncoding)
	if err != nil {
		return nil, err
	}
	c.session = *sess
	e.startCeremony(sess.Challenge, c, rq.now)
	return obj{"user_id": c.userID, "public_key_credential_request_options": opts}, nil
}

// POST /v1/webauthn/authenticate.
func (e *Emulator) webauthnAuthenticate(rq *request) (any, error) {
	var in struct {
		PublicKeyCredential string `json:"public_key_credential"`
		userSessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if aerr := checkSessionArgs(in.userSessionArgs); aerr != nil {
		return nil, aerr
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(in.PublicKeyCredential))
	if err != nil {
		return nil, invalidPublicKeyCredential()
	}
	c := e.takeCeremony(parsed.Response.CollectedClientData.Challenge, false, rq.now)
	if c == nil {
		return nil, unableToAuthWebAuthn()
	}
	var r *webauthnReg
	var u *user
	for id, cand := range e.cs.webauthn.regs {
		if cand.domain == c.domain && bytes.Equal(cand.cred.ID, parsed.RawID) {
			r, u = e.liveReg(id)
			break
		}
	}
	if r == nil || (c.userID != "" && c.userID != u.id) {
		return nil, unableToAuthWebAuthn()
	}
	ss, aerr := e.prepareUserSession(u, in.userSessionArgs, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	wu := &waUser{handle: r.handle, creds: credsOf(e.regsOf(u, c.domain))}
	wa, aerr := e.relyingParty(c.domain)
	if aerr != nil {
		return nil, aerr
	}
	var cred *webauthn.Credential
	if c.userID == "" {
		cred, err = wa.ValidateDiscoverableLogin(func(_, handle []byte) (webauthn.User, error) {
			if !bytes.Equal(handle, r.handle) {
				return nil, errors.New("user handle does not match the credential")
			}
			return wu, nil
		}, c.session, parsed)
	} else {
		cred, err = wa.ValidateLogin(wu, c.session, parsed)
	}
	if err != nil || cred.Authenticator.CloneWarning {
		// CloneWarning: the signature counter did not increase, so another copy of the
		// credential has signed since: refused as a clone.
		return nil, unableToAuthWebAuthn()
	}
	r.cred.Authenticator.SignCount = cred.Authenticator.SignCount
	r.cred.Flags = cred.Flags
	res, err := e.finishUserAuth(u, ss, webauthnFactorOf(r, wireString(r.wire["user_agent"]), rq.now), in.userSessionArgs, rq.now)
	if err != nil {
		return nil, err
	}
	delete(res, "reset_sessions")
	res["webauthn_registration_id"] = r.id
	return res, nil
}

// wireString reads a string member of a wire object.
func wireString(v any) string {
	s, _ := v.(string)
	return s
}

// PUT /v1/webauthn/{webauthn_registration_id}.
func (e *Emulator) webauthnUpdate(rq *request) (any, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.Name == "" {
		return nil, badRequest("name is required.")
	}
	r, _ := e.liveReg(rq.r.PathValue("webauthn_registration_id"))
	if r == nil {
		return nil, newErr(http.StatusNotFound, errWebAuthnNotFound, "WebAuthn registration could not be found.")
	}
	r.wire["name"] = in.Name
	return obj{"webauthn_registration": r.wire}, nil
}

// GET /v1/webauthn/credentials/{user_id}/{domain}.
func (e *Emulator) webauthnListCredentials(rq *request) (any, error) {
	u, aerr := e.pathUser(rq)
	if aerr != nil {
		return nil, aerr
	}
	out := []obj{}
	for _, r := range e.regsOf(u, rq.r.PathValue("domain")) {
		out = append(out, obj{
			"credential_id":            base64.RawURLEncoding.EncodeToString(r.cred.ID),
			"webauthn_registration_id": r.id,
			"type":                     "public-key",
			"public_key":               base64.StdEncoding.EncodeToString(r.cred.PublicKey),
		})
	}
	return obj{"credentials": out}, nil
}
