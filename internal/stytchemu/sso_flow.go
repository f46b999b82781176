package stytchemu

// The SSO sign-in round trip, with no network beyond the emulator itself:
//
//  1. GET /v1/public/sso/start?connection_id=&public_token=&login_redirect_url=
//     [&signup_redirect_url=][&pkce_code_challenge=] (or organization_id= instead of
//     connection_id: the organization's sso_default_connection_id) redirects the browser to the
//     connection's IdP: a SAML AuthnRequest (HTTP-Redirect binding) to idp_sso_url, or an OIDC
//     authorization request to authorization_url.
//  2. The stand-in IdP served under /emulator/idp/ asks for an email address (and optionally a
//     name and groups) and answers: SAML with a Response signed by its own key (HTTP-POST binding
//     to the connection's acs_url), OIDC with a code sent to the connection's redirect_url.
//  3. The callback /v1/b2b/sso/callback/{connection_id} verifies the answer for real: the SAML
//     signature against the connection's verification certificates (crewjam/saml), the audience,
//     destination and InResponseTo; or, for OIDC, exchanges the code at token_url with the client
//     secret and verifies the ID token's signature (jwks_url), issuer, audience and nonce. It then
//     redirects to the login redirect URL with stytch_token_type=sso&token=….
//  4. POST /v1/b2b/sso/authenticate redeems the token once (within ten minutes, with the PKCE
//     verifier when a challenge was given) and logs the member in like every primary factor
//     (authflow.go). An unknown email becomes a member when the organization's
//     sso_jit_provisioning allows it for the connection (ALL_ALLOWED, or RESTRICTED with the
//     connection in sso_jit_provisioning_allowed_connections), named from the attribute mapping.
//
// The stand-in IdP's key and certificate are made once per emulator; its metadata is at
// /emulator/idp/saml/metadata, so PUT …/saml/…/url with that URL configures a connection for it.
// The attribute mapping names IdP attributes for email, full_name (or first_name and last_name)
// and groups; the stand-in IdP sends the attributes email, name and groups (and the NameID is the
// email address), which is what an empty mapping defaults to.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/crewjam/saml"
	"github.com/golang-jwt/jwt/v5"
)

// SSOStartTemplate is the endpoint template of the SSO start redirect.
const SSOStartTemplate = "GET /v1/public/sso/start"

const (
	errSSOTokenNotFound    = "sso_token_not_found" //nolint:gosec // G101: an error type name, not a credential
	errSSOJITNotAllowed    = "sso_jit_provisioning_not_allowed"
	errSSOConnInactive     = "sso_connection_not_active"
	errSSOVerification     = "sso_verification_failed"
	errMissingEmailMapping = "missing_email_attribute"

	ssoStateTTL = 10 * time.Minute
	ssoTokenTTL = 10 * time.Minute
	idpFetchTTL = 5 * time.Second
)

// ssoIdentity is what the IdP asserted about the person.
type ssoIdentity struct {
	email, name, externalID string
	groups                  []string
	attrs                   map[string]any
}

// ssoState is a started sign-in, keyed by the SAML RelayState or OIDC state.
type ssoState struct {
	connID, requestID, nonce  string
	pkce, loginURL, signupURL string
	expiresAt                 time.Time
}

// ssoToken is a verified sign-in waiting for sso/authenticate.
type ssoToken struct {
	connID    string
	id        ssoIdentity
	pkce      string
	expiresAt time.Time
}

// ssoRegistration links a member to a connection (the member's sso_registrations).
type ssoRegistration struct {
	connectionID, externalID, registrationID string
	attributes                               map[string]any
	groups                                   []string
}

// standInIdP is the emulator's IdP: one key, one certificate, issued codes and access tokens.
type standInIdP struct {
	once  sync.Once
	key   *rsa.PrivateKey
	cert  *x509.Certificate
	kid   string
	mu    sync.Mutex
	codes map[string]idpGrant // OIDC authorization code -> grant
	atoks map[string]idpGrant // access token -> grant
}

type idpGrant struct {
	clientID, redirectURI, nonce string
	who                          ssoIdentity
	expiresAt                    time.Time
}

func (p *standInIdP) init() {
	p.once.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("stytchemu: rsa key: " + err.Error())
		}
		name := pkix.Name{CommonName: "stytchemu stand-in IdP"}
		now := time.Now()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: name, Issuer: name,
			NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			panic("stytchemu: certificate: " + err.Error())
		}
		p.cert, _ = x509.ParseCertificate(der)
		p.key = k
		sum := sha256.Sum256(der)
		p.kid = hex.EncodeToString(sum[:8])
		p.codes, p.atoks = map[string]idpGrant{}, map[string]idpGrant{}
	})
}

// IdPCertificatePEM is the stand-in IdP's signing certificate, for a SAML connection's
// x509_certificate.
func (e *Emulator) IdPCertificatePEM() string {
	e.idp.init()
	return string(pemCert(e.idp.cert.Raw))
}

func pemCert(der []byte) []byte {
	var b bytes.Buffer
	b.WriteString("-----BEGIN CERTIFICATE-----\n")
	s := base64.StdEncoding.EncodeToString(der)
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	b.WriteString(s + "\n-----END CERTIFICATE-----\n")
	return b.Bytes()
}

// SSOCallbackPath is the path of every connection's ACS URL (SAML) and redirect URL (OIDC).
const SSOCallbackPath = "/v1/b2b/sso/callback/{connection_id}"

// IdP URLs relative to the emulator's base URL (scheme://host).
const (
	IdPSAMLMetadataPath = "/emulator/idp/saml/metadata"
	IdPSAMLSSOPath      = "/emulator/idp/saml/sso"
	IdPOIDCIssuerPath   = "/emulator/idp/oidc"
)

func baseOf(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (e *Emulator) samlIdP(r *http.Request) *saml.IdentityProvider {
	e.idp.init()
	base := baseOf(r)
	meta, _ := url.Parse(base + IdPSAMLMetadataPath)
	sso, _ := url.Parse(base + IdPSAMLSSOPath)
	return &saml.IdentityProvider{
		Key: e.idp.key, Signer: e.idp.key, Certificate: e.idp.cert, MetadataURL: *meta, SSOURL: *sso,
		ServiceProviderProvider: ssoSPProvider{e}, SessionProvider: ssoLoginForm{},
		AssertionMaker: ssoAssertionMaker{},
	}
}

func (e *Emulator) handleIdPMetadata(w http.ResponseWriter, r *http.Request) {
	e.samlIdP(r).ServeMetadata(w, r)
}

func (e *Emulator) handleIdPSSO(w http.ResponseWriter, r *http.Request) {
	e.samlIdP(r).ServeSSO(w, r)
}

// ssoSPProvider finds the SAML connection whose audience URI issued a request.
type ssoSPProvider struct{ e *Emulator }

func (p ssoSPProvider) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	p.e.mu.Lock()
	defer p.e.mu.Unlock()
	for _, cid := range p.e.st.ssoOrder {
		c := p.e.st.sso[cid]
		if c.kind == ssoSAML && (c.AudienceURI == id || (c.AlternativeAudienceURI != "" && c.AlternativeAudienceURI == id)) {
			return c.samlSP().Metadata(), nil
		}
	}
	return nil, os.ErrNotExist
}

var idpLoginPage = template.Must(template.New("idp").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stand-in identity provider (stytchemu)</title></head>
<body>
<h1>Sign in at the stand-in identity provider</h1>
<p>Served by the Stytch emulator for {{.For}}. Name the account to sign in as.</p>
<form method="post" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<p><label>Email <input type="email" name="email" required></label></p>
<p><label>Name <input type="text" name="name"></label></p>
<p><label>Groups (comma-separated) <input type="text" name="groups"></label></p>
<p><button type="submit">Sign in</button></p>
</form>
</body></html>
`))

func renderLogin(w http.ResponseWriter, action, forWhat string, hidden map[string]string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = idpLoginPage.Execute(w, map[string]any{"Action": action, "For": forWhat, "Hidden": hidden})
}

func formIdentity(r *http.Request) (ssoIdentity, bool) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	if r.Method != http.MethodPost || !validEmail(email) {
		return ssoIdentity{}, false
	}
	var groups []string
	for g := range strings.SplitSeq(r.PostFormValue("groups"), ",") {
		if g = strings.TrimSpace(g); g != "" {
			groups = append(groups, g)
		}
	}
	return ssoIdentity{email: email, name: strings.TrimSpace(r.PostFormValue("name")), groups: groups}, true
}

// ssoLoginForm is the stand-in IdP's login: a form on GET, the identity on its POST.
type ssoLoginForm struct{}

func (ssoLoginForm) GetSession(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	who, ok := formIdentity(r)
	if !ok {
		renderLogin(w, IdPSAMLSSOPath, req.ServiceProviderMetadata.EntityID, map[string]string{
			"SAMLRequest": base64.StdEncoding.EncodeToString(req.RequestBuffer), "RelayState": req.RelayState,
		})
		return nil
	}
	s := &saml.Session{
		ID: randToken(16), CreateTime: time.Now().UTC(), ExpireTime: time.Now().UTC().Add(time.Hour),
		Index: randToken(8), NameID: who.email, UserEmail: who.email, UserCommonName: who.name, Groups: who.groups,
		CustomAttributes: []saml.Attribute{
			{Name: "email", NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", Values: []saml.AttributeValue{{Type: "xs:string", Value: who.email}}},
			{Name: "name", NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", Values: []saml.AttributeValue{{Type: "xs:string", Value: who.name}}},
		},
	}
	if len(who.groups) > 0 {
		a := saml.Attribute{Name: "groups", NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"}
		for _, g := range who.groups {
			a.Values = append(a.Values, saml.AttributeValue{Type: "xs:string", Value: g})
		}
		s.CustomAttributes = append(s.CustomAttributes, a)
	}
	return s
}

// ssoAssertionMaker is crewjam's default assertion with the NameID in the
// unspecified format the connection asks for.
type ssoAssertionMaker struct{}

func (ssoAssertionMaker) MakeAssertion(req *saml.IdpAuthnRequest, s *saml.Session) error {
	return saml.DefaultAssertionMaker{}.MakeAssertion(req, s)
}

// samlSP is the connection as a crewjam service provider.
func (c *ssoConn) samlSP() *saml.ServiceProvider {
	acs, _ := url.Parse(c.ACSURL)
	meta, _ := url.Parse(c.AudienceURI)
	sp := &saml.ServiceProvider{
		EntityID: c.AudienceURI, AcsURL: *acs, MetadataURL: *meta,
		AuthnNameIDFormat: saml.NameIDFormat(c.NameIDFormat),
	}
	// No sp.Key/Certificate: the metadata would then ask the IdP to encrypt to the signing
	// certificate; assertions are decrypted with the connection's encryption private keys.
	for _, k := range c.encKeys {
		if rk, ok := k.key.(*rsa.PrivateKey); ok {
			sp.DecryptionKeys = append(sp.DecryptionKeys, rk)
		}
	}
	idp := &saml.IDPSSODescriptor{SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{
		ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol",
	}}}
	for _, v := range c.verification {
		idp.KeyDescriptors = append(idp.KeyDescriptors, saml.KeyDescriptor{Use: "signing", KeyInfo: saml.KeyInfo{
			X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(v.cert.Raw)}}},
		}})
	}
	idp.SingleSignOnServices = []saml.Endpoint{{Binding: saml.HTTPRedirectBinding, Location: c.IdPSSOURL}}
	sp.IDPMetadata = &saml.EntityDescriptor{EntityID: c.IdPEntityID, IDPSSODescriptors: []saml.IDPSSODescriptor{*idp}}
	return sp
}

// ssoSAMLUpdateByURL serves PUT …/saml/{organization_id}/connections/{connection_id}/url: the
// IdP's metadata is fetched (five seconds at most) and sets idp_entity_id, idp_sso_url (the
// HTTP-Redirect binding's location) and a verification certificate.
func (e *Emulator) ssoSAMLUpdateByURL(rq *request) (any, error) {
	o, aerr := e.ssoOrg(rq, "update")
	if aerr != nil {
		return nil, aerr
	}
	c, aerr := e.ssoConnByPath(rq, o, ssoSAML)
	if aerr != nil {
		return nil, aerr
	}
	var in struct {
		MetadataURL string `json:"metadata_url"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if !httpURL(in.MetadataURL) {
		return nil, badRequest("metadata_url must be an absolute http(s) URL.").withType(errSSOMetadataURL)
	}
	// The fetch runs without the state lock: the metadata may be the emulator's own IdP.
	e.mu.Unlock()
	md, err := fetchMetadata(rq.r.Context(), in.MetadataURL)
	e.mu.Lock()
	if err != nil {
		return nil, badRequest("metadata_url could not be read as SAML IdP metadata: %s", err).withType(errSSOMetadataURL)
	}
	if e.st.sso[c.ConnectionID] != c {
		return nil, ssoNotFound()
	}
	if len(md.IDPSSODescriptors) == 0 {
		return nil, badRequest("The metadata describes no identity provider.").withType(errSSOMetadataURL)
	}
	d := md.IDPSSODescriptors[0]
	sso := ""
	for _, s := range d.SingleSignOnServices {
		if s.Binding == saml.HTTPRedirectBinding {
			sso = s.Location
		}
	}
	if sso == "" {
		return nil, badRequest("The metadata has no HTTP-Redirect single sign-on service.").withType(errSSOMetadataURL)
	}
	var certs []string
	for _, kd := range d.KeyDescriptors {
		if kd.Use != "" && kd.Use != "signing" {
			continue
		}
		for _, x := range kd.KeyInfo.X509Data.X509Certificates {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(x.Data), ""))
			if err != nil {
				return nil, badRequest("The metadata holds a certificate that is not base64.").withType(errInvalidX509)
			}
			certs = append(certs, string(pemCert(der)))
		}
	}
	if len(certs) == 0 {
		return nil, badRequest("The metadata holds no signing certificate.").withType(errInvalidX509)
	}
	for _, p := range certs {
		if _, aerr := parseCertPEM(p); aerr != nil {
			return nil, aerr
		}
	}
	for _, p := range certs {
		_ = e.addVerificationCert(c, p, rq.now)
	}
	c.IdPEntityID, c.IdPSSOURL = md.EntityID, sso
	e.refreshSSO(o, rq.now)
	return obj{"connection": c.wire()}, nil
}

func fetchMetadata(ctx context.Context, u string) (*saml.EntityDescriptor, error) {
	ctx, cancel := context.WithTimeout(ctx, idpFetchTTL)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, errors.New("bad URL")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, errors.New("request failed")
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, errors.New("read failed")
	}
	var md saml.EntityDescriptor
	if err := xml.Unmarshal(b, &md); err != nil {
		return nil, errors.New("not an EntityDescriptor")
	}
	return &md, nil
}

// ssoStart serves GET /v1/public/sso/start.
func (e *Emulator) ssoStart(rq *request) (any, error) {
	q := rq.r.URL.Query()
	if q.Get("public_token") != e.PublicToken() {
		return nil, newErr(http.StatusUnauthorized, errInvalidPublicToken, "public_token is missing or is not this project's public token.")
	}
	id := q.Get("connection_id")
	if id == "" {
		o := e.st.findOrg(q.Get("organization_id"))
		if o == nil || o.SSODefaultConnectionID == "" {
			return nil, badRequest("connection_id is required when the organization has no default SSO connection.")
		}
		id = o.SSODefaultConnectionID
	}
	c, ok := byID(e.st.sso, id)
	if !ok {
		return nil, ssoNotFound()
	}
	if c.kind == ssoExternal && c.sourceConnection != nil {
		c = c.sourceConnection
	}
	if c.status() != statusActive {
		return nil, badRequest("The SSO connection is not active: it lacks its IdP settings.").withType(errSSOConnInactive)
	}
	st := &ssoState{connID: id, expiresAt: rq.now.Add(ssoStateTTL)}
	var aerr *apiError
	if st.loginURL, aerr = absoluteURL("login_redirect_url", q.Get("login_redirect_url"), e.redirectURL); aerr != nil {
		return nil, aerr
	}
	if st.signupURL, aerr = absoluteURL("signup_redirect_url", q.Get("signup_redirect_url"), e.redirectURL); aerr != nil {
		return nil, aerr
	}
	if ch := q.Get("pkce_code_challenge"); ch != "" {
		if !pkceChallengeRE.MatchString(ch) {
			return nil, badRequest("pkce_code_challenge must be the base64url SHA-256 of the code verifier (43 characters).").withType(errInvalidCodeChallenge)
		}
		st.pkce = ch
	}
	e.pruneSSO(rq.now)
	state := randToken(24)
	var loc string
	if c.kind == ssoSAML {
		sp := c.samlSP()
		req, err := sp.MakeAuthenticationRequest(c.IdPSSOURL, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
		if err != nil {
			return nil, badRequest("The SAML connection cannot make an authentication request.")
		}
		u, err := req.Redirect(state, sp)
		if err != nil {
			return nil, badRequest("The SAML connection cannot make an authentication request.")
		}
		st.requestID, loc = req.ID, u.String()
	} else {
		st.nonce = randToken(16)
		scopes := append([]string{"openid", "email", "profile"}, strings.Fields(strings.ReplaceAll(c.CustomScopes, ",", " "))...)
		v := url.Values{
			"response_type": {"code"}, "client_id": {c.ClientID}, "redirect_uri": {c.RedirectURL},
			"scope": {strings.Join(slices.Compact(scopes), " ")}, "state": {state}, "nonce": {st.nonce},
		}
		sep := "?"
		if strings.Contains(c.AuthorizationURL, "?") {
			sep = "&"
		}
		loc = c.AuthorizationURL + sep + v.Encode()
	}
	e.st.ssoStates[state] = st
	return rawReply{status: http.StatusFound, location: loc}, nil
}

func (e *Emulator) pruneSSO(now time.Time) {
	for k, s := range e.st.ssoStates {
		if !now.Before(s.expiresAt) {
			delete(e.st.ssoStates, k)
		}
	}
	for k, t := range e.st.ssoTokens {
		if !now.Before(t.expiresAt) {
			delete(e.st.ssoTokens, k)
		}
	}
}

// handleSSOCallback serves the connections' ACS URL (SAML, POST) and redirect URL (OIDC, GET).
// Failures are answered as Stytch JSON errors; the person's browser shows them.
func (e *Emulator) handleSSOCallback(w http.ResponseWriter, r *http.Request) {
	reply, aerr := e.ssoCallback(r)
	if aerr != nil {
		writeAPIError(w, "request-id-test-"+newUUID(), aerr)
		return
	}
	reply.write(w)
}

func (e *Emulator) ssoCallback(r *http.Request) (rawReply, *apiError) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return rawReply{}, badRequest("The callback's form could not be read.")
	}
	stateKey := r.Form.Get("RelayState")
	if r.Method == http.MethodGet {
		stateKey = r.Form.Get("state")
	}
	e.mu.Lock()
	now := e.clock.Now()
	st, ok := e.st.ssoStates[stateKey]
	if ok {
		delete(e.st.ssoStates, stateKey) // a started sign-in is finished once, right or wrong
	}
	var c *ssoConn
	if ok && now.Before(st.expiresAt) {
		c = e.st.sso[st.connID]
		if c != nil && c.kind == ssoExternal {
			c = c.sourceConnection
		}
	}
	var sp *saml.ServiceProvider
	var oc ssoConn
	if c != nil {
		if c.kind == ssoSAML {
			sp = c.samlSP()
		}
		oc = *c
	}
	e.mu.Unlock()
	if c == nil || (c.ConnectionID != r.PathValue("connection_id")) {
		return rawReply{}, badRequest("The SSO sign-in is unknown, expired, already finished or for another connection.").withType(errSSOVerification)
	}
	var who ssoIdentity
	var err error
	switch {
	case oc.kind == ssoSAML && r.Method == http.MethodPost:
		who, err = samlIdentity(sp, r, st.requestID, oc.AttributeMapping)
	case oc.kind == ssoOIDC && r.Method == http.MethodGet:
		if e := r.Form.Get("error"); e != "" {
			return rawReply{}, badRequest("The identity provider refused the sign-in.").withType(errSSOVerification)
		}
		who, err = oidcIdentity(r.Context(), &oc, r.Form.Get("code"), st.nonce)
	default:
		return rawReply{}, newErr(http.StatusMethodNotAllowed, errBadRequest, "Wrong method for this connection's callback.")
	}
	if err != nil {
		return rawReply{}, badRequest("The identity provider's answer did not verify: %s.", err).withType(errSSOVerification)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now = e.clock.Now()
	tok := randToken(44)
	e.st.ssoTokens[tok] = &ssoToken{connID: st.connID, id: who, pkce: st.pkce, expiresAt: now.Add(ssoTokenTTL)}
	target := st.loginURL
	if m := e.st.memberByEmail(e.st.sso[st.connID].OrganizationID, who.email); m == nil && st.signupURL != "" {
		target = st.signupURL
	}
	return rawReply{status: http.StatusFound, location: withQuery(target, url.Values{"stytch_token_type": {"sso"}, "token": {tok}})}, nil
}

func withQuery(u string, v url.Values) string {
	if strings.Contains(u, "?") {
		return u + "&" + v.Encode()
	}
	return u + "?" + v.Encode()
}

// mapped reads the attribute mapping's name for key, defaulting to def.
func mapped(m map[string]any, key, def string) string {
	if s, ok := m[key].(string); ok && s != "" {
		return s
	}
	return def
}

// identityFrom applies the attribute mapping to the IdP's attributes.
func identityFrom(attrs map[string][]string, mapping map[string]any, fallbackEmail, subject string) (ssoIdentity, error) {
	first := func(k string) string {
		if v := attrs[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	who := ssoIdentity{externalID: subject, attrs: map[string]any{}}
	for k, v := range attrs {
		if len(v) == 1 {
			who.attrs[k] = v[0]
		} else {
			who.attrs[k] = slices.Clone(v)
		}
	}
	who.email = first(mapped(mapping, "email", "email"))
	if who.email == "" {
		who.email = fallbackEmail
	}
	if !validEmail(who.email) {
		return ssoIdentity{}, errors.New("no email address in the mapped email attribute")
	}
	who.name = first(mapped(mapping, "full_name", "name"))
	if who.name == "" {
		who.name = strings.TrimSpace(first(mapped(mapping, "first_name", "first_name")) + " " + first(mapped(mapping, "last_name", "last_name")))
	}
	who.groups = attrs[mapped(mapping, "groups", "groups")]
	return who, nil
}

func samlIdentity(sp *saml.ServiceProvider, r *http.Request, requestID string, mapping map[string]any) (ssoIdentity, error) {
	a, err := sp.ParseResponse(r, []string{requestID})
	if err != nil {
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) && ire.PrivateErr != nil {
			return ssoIdentity{}, errors.New("invalid SAML response")
		}
		return ssoIdentity{}, errors.New("invalid SAML response")
	}
	attrs := map[string][]string{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			for _, v := range at.Values {
				attrs[at.Name] = append(attrs[at.Name], v.Value)
			}
		}
	}
	nameID := ""
	if a.Subject != nil && a.Subject.NameID != nil {
		nameID = a.Subject.NameID.Value
	}
	return identityFrom(attrs, mapping, nameID, nameID)
}

func oidcIdentity(ctx context.Context, c *ssoConn, code, nonce string) (ssoIdentity, error) {
	ctx, cancel := context.WithTimeout(ctx, idpFetchTTL)
	defer cancel()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURL}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ssoIdentity{}, errors.New("token request failed")
	}
	defer func() { _ = resp.Body.Close() }()
	var tr struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tr) != nil || tr.IDToken == "" {
		return ssoIdentity{}, errors.New("the token endpoint refused the code")
	}
	jreq, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.JWKSURL, nil)
	jresp, err := http.DefaultClient.Do(jreq)
	if err != nil {
		return ssoIdentity{}, errors.New("JWKS request failed")
	}
	defer func() { _ = jresp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(jresp.Body, 1<<20))
	if err != nil || jresp.StatusCode != http.StatusOK {
		return ssoIdentity{}, errors.New("JWKS could not be read")
	}
	kf, err := keyfunc.NewJWKSetJSON(raw)
	if err != nil {
		return ssoIdentity{}, errors.New("JWKS is not a JWK set")
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(tr.IDToken, claims, kf.Keyfunc,
		jwt.WithValidMethods([]string{"RS256", "ES256"}), jwt.WithIssuer(c.Issuer), jwt.WithAudience(c.ClientID),
		jwt.WithExpirationRequired())
	if err != nil {
		return ssoIdentity{}, errors.New("the ID token did not verify")
	}
	if n, _ := claims["nonce"].(string); n != nonce {
		return ssoIdentity{}, errors.New("the ID token's nonce does not match")
	}
	attrs := map[string][]string{}
	for k, v := range claims {
		switch x := v.(type) {
		case string:
			attrs[k] = []string{x}
		case []any:
			for _, i := range x {
				if s, ok := i.(string); ok {
					attrs[k] = append(attrs[k], s)
				}
			}
		}
	}
	sub, _ := claims["sub"].(string)
	return identityFrom(attrs, c.AttributeMapping, "", sub)
}

// The stand-in IdP's OIDC side: authorize (form), token, JWKS, userinfo and discovery.

func (e *Emulator) handleIdPAuthorize(w http.ResponseWriter, r *http.Request) {
	e.idp.init()
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	redirect := r.Form.Get("redirect_uri")
	if r.Form.Get("response_type") != "code" || r.Form.Get("client_id") == "" || !httpURL(redirect) {
		http.Error(w, "response_type=code, client_id and an absolute redirect_uri are required", http.StatusBadRequest)
		return
	}
	if !e.registeredOIDCRedirect(r.Form.Get("client_id"), redirect) {
		http.Error(w, "redirect_uri is not the redirect URL of an OIDC connection with this client_id", http.StatusBadRequest)
		return
	}
	who, ok := formIdentity(r)
	if !ok {
		hidden := map[string]string{}
		for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce"} {
			hidden[k] = r.Form.Get(k)
		}
		renderLogin(w, IdPOIDCIssuerPath+"/authorize", r.Form.Get("client_id"), hidden)
		return
	}
	code := randToken(32)
	e.idp.mu.Lock()
	e.idp.codes[code] = idpGrant{
		clientID: r.Form.Get("client_id"), redirectURI: redirect, nonce: r.Form.Get("nonce"), who: who,
		expiresAt: time.Now().Add(time.Minute),
	}
	e.idp.mu.Unlock()
	//nolint:gosec // G710: redirect is a registered redirect URL (registeredOIDCRedirect above)
	http.Redirect(w, r, withQuery(redirect, url.Values{"code": {code}, "state": {r.Form.Get("state")}}), http.StatusFound)
}

// registeredOIDCRedirect reports whether an OIDC connection with this client ID has this redirect
// URL: the stand-in IdP returns codes only to a relying party's registered redirect URL, as a real
// IdP does, so it is no open redirect.
func (e *Emulator) registeredOIDCRedirect(clientID, redirect string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.st.sso {
		if c.kind == ssoOIDC && c.ClientID == clientID && c.RedirectURL == redirect {
			return true
		}
	}
	return false
}

func oidcSubject(email string) string {
	sum := sha256.Sum256([]byte("sso\x00" + strings.ToLower(email)))
	return hex.EncodeToString(sum[:12])
}

func (e *Emulator) handleIdPToken(w http.ResponseWriter, r *http.Request) {
	e.idp.init()
	fail := func(code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"error":%q}`, code)
	}
	if err := r.ParseForm(); err != nil {
		fail("invalid_request")
		return
	}
	clientID, secret, ok := r.BasicAuth()
	if ok {
		clientID, _ = url.QueryUnescape(clientID)
		secret, _ = url.QueryUnescape(secret)
	} else {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	code := r.PostForm.Get("code")
	e.idp.mu.Lock()
	g, found := e.idp.codes[code]
	delete(e.idp.codes, code)
	e.idp.mu.Unlock()
	if r.PostForm.Get("grant_type") != "authorization_code" || !found || time.Now().After(g.expiresAt) ||
		g.clientID != clientID || g.redirectURI != r.PostForm.Get("redirect_uri") {
		fail("invalid_grant")
		return
	}
	// The stand-in IdP accepts the client secret the connection holds: it checks one was sent.
	if secret == "" {
		fail("invalid_client")
		return
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": baseOf(r) + IdPOIDCIssuerPath, "aud": clientID, "sub": oidcSubject(g.who.email),
		"email": g.who.email, "email_verified": true, "name": g.who.name, "nonce": g.nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	if len(g.who.groups) > 0 {
		claims["groups"] = g.who.groups
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = e.idp.kid
	idt, err := t.SignedString(e.idp.key)
	if err != nil {
		fail("server_error")
		return
	}
	at := randToken(32)
	e.idp.mu.Lock()
	g.expiresAt = now.Add(time.Hour)
	e.idp.atoks[at] = g
	e.idp.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 3600, "id_token": idt})
}

func (e *Emulator) handleIdPJWKS(w http.ResponseWriter, _ *http.Request) {
	e.idp.init()
	pub := e.idp.key.PublicKey
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": e.idp.kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func (e *Emulator) handleIdPUserinfo(w http.ResponseWriter, r *http.Request) {
	at, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	e.idp.mu.Lock()
	g, ok := e.idp.atoks[at]
	e.idp.mu.Unlock()
	if !ok || time.Now().After(g.expiresAt) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"sub": oidcSubject(g.who.email), "email": g.who.email, "name": g.who.name})
}

func (e *Emulator) handleIdPDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := baseOf(r) + IdPOIDCIssuerPath
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
		"jwks_uri": iss + "/jwks", "userinfo_endpoint": iss + "/userinfo", "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

// ssoAuthenticate serves POST /v1/b2b/sso/authenticate.
func (e *Emulator) ssoAuthenticate(rq *request) (any, error) {
	var in struct {
		SSOToken         string `json:"sso_token"`
		PKCECodeVerifier string `json:"pkce_code_verifier"`
		sessionArgs
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.SSOToken == "" {
		return nil, badRequest("sso_token is required.")
	}
	e.pruneSSO(rq.now)
	t, ok := e.st.ssoTokens[in.SSOToken]
	if !ok {
		return nil, newErr(http.StatusNotFound, errSSOTokenNotFound, "The SSO token is unknown, expired or already used.")
	}
	if t.pkce != "" && !pkceMatches(in.PKCECodeVerifier, t.pkce) {
		return nil, badRequest("pkce_code_verifier does not match the pkce_code_challenge of the sign-in.").withType(errPKCEMismatch)
	}
	if t.pkce == "" && in.PKCECodeVerifier != "" {
		return nil, badRequest("pkce_code_verifier was sent but the sign-in started without a pkce_code_challenge.").withType(errPKCEMismatch)
	}
	delete(e.st.ssoTokens, in.SSOToken) // single use, also when what follows fails
	c := e.st.sso[t.connID]
	if c == nil {
		return nil, ssoNotFound()
	}
	org := e.st.orgs[c.OrganizationID]
	if org == nil {
		return nil, orgNotFound()
	}
	m := e.st.memberByEmail(org.OrganizationID, t.id.email)
	if m == nil {
		if !ssoJITAllowed(org, c.ConnectionID) {
			return nil, newErr(http.StatusForbidden, errSSOJITNotAllowed, "The organization does not provision new members through this SSO connection.")
		}
		nm, aerr := e.createMember(org, memberInput{EmailAddress: t.id.email, Name: t.id.name}, statusActive, rq.now)
		if aerr != nil {
			return nil, aerr
		}
		m = nm
	}
	if m.Status == statusDeleted {
		return nil, newErr(http.StatusNotFound, errMemberNotFound, "Member could not be found.")
	}
	regID := ""
	i := slices.IndexFunc(m.ssoRegs, func(r ssoRegistration) bool { return r.connectionID == c.ConnectionID })
	if i < 0 {
		regID = "member-registration-test-" + newUUID()
		m.ssoRegs = append(m.ssoRegs, ssoRegistration{connectionID: c.ConnectionID, registrationID: regID})
		i = len(m.ssoRegs) - 1
	}
	reg := &m.ssoRegs[i]
	regID = reg.registrationID
	reg.externalID, reg.attributes, reg.groups = t.id.externalID, t.id.attrs, t.id.groups
	ts := rfc3339(rq.now)
	f := factor{Type: "sso", DeliveryMethod: "sso_" + c.kind, LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts}
	sf := &ssoFactor{ID: regID, ProviderID: c.ConnectionID, ExternalID: t.id.externalID}
	if c.kind == ssoOIDC {
		f.OIDCSSOFactor = sf
	} else {
		f.SAMLSSOFactor = sf
	}
	res, err := e.completeAuth(rq, org, m, f, in.sessionArgs)
	if err != nil {
		return nil, err
	}
	res["reset_session"] = false
	return res, nil
}

// ssoJITAllowed applies the organization's sso_jit_provisioning to a connection.
func ssoJITAllowed(org *organization, connID string) bool {
	switch org.SSOJITProvisioning {
	case allAllowed:
		return true
	case restricted:
		return slices.ContainsFunc(org.SSOJITProvisioningAllowedConnections, func(id string) bool { return strings.EqualFold(id, connID) })
	}
	return false
}

// ssoFactor is the saml_sso_factor / oidc_sso_factor of a session's authentication factor.
type ssoFactor struct {
	ID         string `json:"id"`
	ProviderID string `json:"provider_id"`
	ExternalID string `json:"external_id"`
}
