package stytchemu

// B2B SSO connections (SAML, OIDC and external): the per-organization store
// and Stytch's admin routes under /v1/b2b/sso. The sign-in round trip (start,
// stand-in IdP, ACS/callback, sso/authenticate) is in sso_flow.go.
//
// Decisions where Stytch's reference is silent:
//   - A SAML connection is "pending" until it has an IdP entity ID, an IdP
//     SSO URL and at least one verification certificate; an OIDC connection
//     until it has issuer, client ID and secret, authorization, token and
//     JWKS URLs. Only active connections are listed in the organization's
//     sso_active_connections and can start a sign-in.
//   - The first connection created in an organization without a default
//     becomes its sso_default_connection_id; deleting the default clears it.
//   - Private keys sent in (signing_private_key, saml_encryption_private_key)
//     are never echoed back: encryption_private_keys[].private_key carries
//     "redacted:" and the key's SHA-256 fingerprint.

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/authsvc/authsvc/internal/rbac"
)

const (
	errSSOConnectionNotFound = "connection_not_found"
	errSSOCertNotFound       = "certificate_not_found"
	errSSOKeyNotFound        = "private_key_not_found"
	errInvalidX509           = "invalid_x509_certificate"
	errInvalidIdentityProv   = "invalid_identity_provider"
	errSSOMetadataURL        = "invalid_metadata_url"
	errRoleNotFound          = "role_not_found"

	ssoSAML     = "saml"
	ssoOIDC     = "oidc"
	ssoExternal = "external"
)

var identityProviders = []string{
	"classlink", "cyberark", "duo", "generic", "google-workspace", "jumpcloud", "keycloak", "miniorange",
	"microsoft-entra", "okta", "onelogin", "pingfederate", "rippling", "salesforce", "shibboleth",
}

type ssoRole struct {
	RoleID string `json:"role_id"`
}

type ssoGroupRole struct {
	RoleID string `json:"role_id"`
	Group  string `json:"group"`
}

type ssoCert struct {
	id     string
	pem    string
	issuer string
	cert   *x509.Certificate
	added  time.Time
}

func (c ssoCert) wire() obj {
	return obj{
		"certificate_id": c.id, "certificate": c.pem, "issuer": c.issuer,
		"created_at": rfc3339(c.added), "updated_at": rfc3339(c.added), "expires_at": rfc3339(c.cert.NotAfter),
	}
}

type ssoEncKey struct {
	id    string
	key   crypto.Signer
	print string
	added time.Time
}

// ssoConn is one connection of any kind; wire renders the kind's shape.
type ssoConn struct {
	kind             string
	OrganizationID   string
	ConnectionID     string
	DisplayName      string
	IdentityProvider string
	AttributeMapping map[string]any
	created          time.Time

	// SAML
	IdPEntityID, IdPSSOURL, ACSURL, AudienceURI      string
	AlternativeAudienceURI, NameIDFormat, AltACSURL  string
	IdPInitiatedAuthDisabled, AllowGatewayCallback   bool
	signing                                          []ssoCert
	signingKey                                       crypto.Signer
	verification                                     []ssoCert
	encKeys                                          []ssoEncKey
	connRoles                                        []ssoRole
	groupRoles                                       []ssoGroupRole
	RedirectURL, ClientID, ClientSecret, Issuer      string // OIDC
	AuthorizationURL, TokenURL, UserinfoURL, JWKSURL string
	CustomScopes                                     string
	ExternalOrganizationID, ExternalConnectionID     string // external
	sourceConnection                                 *ssoConn
}

func (c *ssoConn) status() string {
	switch c.kind {
	case ssoSAML:
		if c.IdPEntityID != "" && c.IdPSSOURL != "" && len(c.verification) > 0 {
			return statusActive
		}
	case ssoOIDC:
		if c.Issuer != "" && c.ClientID != "" && c.ClientSecret != "" && c.AuthorizationURL != "" && c.TokenURL != "" && c.JWKSURL != "" {
			return statusActive
		}
	default:
		return statusActive
	}
	return statusPending
}

func certsWire(cs []ssoCert) []obj {
	out := make([]obj, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.wire())
	}
	return out
}

func (c *ssoConn) wire() obj {
	base := obj{
		"organization_id": c.OrganizationID, "connection_id": c.ConnectionID, "status": c.status(),
		"display_name": c.DisplayName,
	}
	am := nonNilMap(c.AttributeMapping)
	switch c.kind {
	case ssoSAML:
		keys := make([]obj, 0, len(c.encKeys))
		for _, k := range c.encKeys {
			keys = append(keys, obj{"private_key_id": k.id, "private_key": "redacted:" + k.print, "created_at": rfc3339(k.added)})
		}
		base["idp_entity_id"] = c.IdPEntityID
		base["idp_sso_url"] = c.IdPSSOURL
		base["acs_url"] = c.ACSURL
		base["audience_uri"] = c.AudienceURI
		base["signing_certificates"] = certsWire(c.signing)
		base["verification_certificates"] = certsWire(c.verification)
		base["encryption_private_keys"] = keys
		base["saml_connection_implicit_role_assignments"] = nonNilSlice(c.connRoles)
		base["saml_group_implicit_role_assignments"] = nonNilSlice(c.groupRoles)
		base["alternative_audience_uri"] = c.AlternativeAudienceURI
		base["identity_provider"] = c.IdentityProvider
		base["nameid_format"] = c.NameIDFormat
		base["alternative_acs_url"] = c.AltACSURL
		base["idp_initiated_auth_disabled"] = c.IdPInitiatedAuthDisabled
		base["allow_gateway_callback"] = c.AllowGatewayCallback
		base["attribute_mapping"] = am
	case ssoOIDC:
		base["redirect_url"] = c.RedirectURL
		base["client_id"] = c.ClientID
		base["client_secret"] = c.ClientSecret
		base["issuer"] = c.Issuer
		base["authorization_url"] = c.AuthorizationURL
		base["token_url"] = c.TokenURL
		base["userinfo_url"] = c.UserinfoURL
		base["jwks_url"] = c.JWKSURL
		base["identity_provider"] = c.IdentityProvider
		base["custom_scopes"] = c.CustomScopes
		base["attribute_mapping"] = am
	default:
		base["external_organization_id"] = c.ExternalOrganizationID
		base["external_connection_id"] = c.ExternalConnectionID
		base["external_connection_implicit_role_assignments"] = nonNilSlice(c.connRoles)
		base["external_group_implicit_role_assignments"] = nonNilSlice(c.groupRoles)
	}
	return base
}

func ssoNotFound() *apiError {
	return newErr(http.StatusNotFound, errSSOConnectionNotFound, "SSO connection could not be found.")
}

// ssoOrg resolves the path's organization and the acting member, and checks
// the acting member's permission for action on stytch.sso.
func (e *Emulator) ssoOrg(rq *request, action string) (*organization, *apiError) {
	o, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := e.authorize(act, o.OrganizationID, "", rbac.ResourceSSO, action); aerr != nil {
		return nil, aerr
	}
	return o, nil
}

// ssoConnByPath resolves {connection_id} inside org, of kind when kind is set.
func (e *Emulator) ssoConnByPath(rq *request, o *organization, kind string) (*ssoConn, *apiError) {
	c, ok := byID(e.st.sso, rq.r.PathValue("connection_id"))
	if !ok || c.OrganizationID != o.OrganizationID || (kind != "" && c.kind != kind) {
		return nil, ssoNotFound()
	}
	return c, nil
}

// refreshSSO recomputes the organization's sso_active_connections.
func (e *Emulator) refreshSSO(o *organization, now time.Time) {
	act := []any{}
	for _, id := range e.st.ssoOrder {
		c := e.st.sso[id]
		if c.OrganizationID == o.OrganizationID && c.status() == statusActive {
			act = append(act, obj{"connection_id": c.ConnectionID, "display_name": c.DisplayName, "identity_provider": c.IdentityProvider})
		}
	}
	o.SSOActiveConnections = act
	o.UpdatedAt = rfc3339(now)
}

func (e *Emulator) addSSO(o *organization, c *ssoConn, now time.Time) {
	c.created = now
	e.st.sso[c.ConnectionID] = c
	e.st.ssoOrder = append(e.st.ssoOrder, c.ConnectionID)
	if o.SSODefaultConnectionID == "" {
		o.SSODefaultConnectionID = c.ConnectionID
	}
	e.refreshSSO(o, now)
}

func validIdP(p *string) *apiError {
	if p != nil && *p != "" && !slices.Contains(identityProviders, *p) {
		return badRequest("identity_provider must be one of %s.", strings.Join(identityProviders, ", ")).withType(errInvalidIdentityProv)
	}
	return nil
}

func (e *Emulator) ssoGetConnections(rq *request) (any, error) {
	o, aerr := e.ssoOrg(rq, "get")
	if aerr != nil {
		return nil, aerr
	}
	saml, oidc, ext := []obj{}, []obj{}, []obj{}
	for _, id := range e.st.ssoOrder {
		c := e.st.sso[id]
		if c.OrganizationID != o.OrganizationID {
			continue
		}
		switch c.kind {
		case ssoSAML:
			saml = append(saml, c.wire())
		case ssoOIDC:
			oidc = append(oidc, c.wire())
		default:
			ext = append(ext, c.wire())
		}
	}
	return obj{"saml_connections": saml, "oidc_connections": oidc, "external_connections": ext}, nil
}

func (e *Emulator) ssoDeleteConnection(rq *request) (any, error) {
	o, aerr := e.ssoOrg(rq, "delete")
	if aerr != nil {
		return nil, aerr
	}
	c, aerr := e.ssoConnByPath(rq, o, "")
	if aerr != nil {
		return nil, aerr
	}
	delete(e.st.sso, c.ConnectionID)
	e.st.ssoOrder = slices.DeleteFunc(e.st.ssoOrder, func(id string) bool { return id == c.ConnectionID })
	if o.SSODefaultConnectionID == c.ConnectionID {
		o.SSODefaultConnectionID = ""
	}
	o.SSOJITProvisioningAllowedConnections = slices.DeleteFunc(o.SSOJITProvisioningAllowedConnections,
		func(id string) bool { return id == c.ConnectionID })
	e.refreshSSO(o, rq.now)
	return obj{"connection_id": c.ConnectionID}, nil
}

type ssoCreateIn struct {
	DisplayName      string  `json:"display_name"`
	IdentityProvider *string `json:"identity_provider"`
}

func (in *ssoCreateIn) decode(rq *request) *apiError {
	if err := rq.decode(in); err != nil {
		return err
	}
	if err := validIdP(in.IdentityProvider); err != nil {
		return err
	}
	return nil
}

func (in *ssoCreateIn) idp() string {
	if in.IdentityProvider == nil || *in.IdentityProvider == "" {
		return "generic"
	}
	return *in.IdentityProvider
}

// ssoBase is the URL prefix the emulator's SSO endpoints are reached at: the
// Host the request came in on (tests reach the emulator on loopback).
func ssoBase(rq *request) string {
	scheme := "http"
	if rq.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + rq.r.Host
}

func (e *Emulator) ssoSAMLCreate(rq *request) (any, error) {
	o, aerr := e.ssoOrg(rq, "create")
	if aerr != nil {
		return nil, aerr
	}
	var in ssoCreateIn
	if err := in.decode(rq); err != nil {
		return nil, err
	}
	id := "saml-connection-test-" + newUUID()
	key, cert, err := e.ssoSigningCert(id, nil, rq.now)
	if err != nil {
		return nil, err
	}
	c := &ssoConn{
		kind: ssoSAML, OrganizationID: o.OrganizationID, ConnectionID: id, DisplayName: in.DisplayName,
		IdentityProvider: in.idp(), AttributeMapping: map[string]any{},
		ACSURL:      ssoBase(rq) + "/v1/b2b/sso/callback/" + id,
		AudienceURI: ssoBase(rq) + "/" + e.ProjectID() + "/" + id,
		signing:     []ssoCert{cert}, signingKey: key,
		NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
	}
	e.addSSO(o, c, rq.now)
	return obj{"connection": c.wire()}, nil
}

// ssoSigningCert makes the service provider's signing certificate for a SAML
// connection, from key or from a fresh RSA key.
func (e *Emulator) ssoSigningCert(connID string, key crypto.Signer, now time.Time) (crypto.Signer, ssoCert, *apiError) {
	if key == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, ssoCert{}, newErr(http.StatusInternalServerError, errInternal, "Could not generate a key.")
		}
		key = k
	}
	name := pkix.Name{CommonName: connID}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()), Subject: name, Issuer: name,
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, ssoCert{}, badRequest("signing_private_key cannot sign a certificate.")
	}
	cert, _ := x509.ParseCertificate(der)
	p := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return key, ssoCert{id: "saml-signing-certificate-test-" + newUUID(), pem: p, issuer: connID, cert: cert, added: now}, nil
}

func parseCertPEM(s string) (*x509.Certificate, *apiError) {
	b, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, badRequest("x509_certificate must be one PEM-encoded CERTIFICATE block.").withType(errInvalidX509)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, badRequest("x509_certificate is not a valid X.509 certificate.").withType(errInvalidX509)
	}
	return c, nil
}

func parseKeyPEM(field, s string) (crypto.Signer, *apiError) {
	b, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if b == nil {
		return nil, badRequest("%s must be a PEM-encoded private key.", field)
	}
	var k any
	var err error
	switch b.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	default:
		return nil, badRequest("%s must be a PEM-encoded RSA PRIVATE KEY or PRIVATE KEY.", field)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if err != nil || !ok {
		return nil, badRequest("%s must be an RSA private key.", field)
	}
	return rk, nil
}

func keyFingerprint(k crypto.Signer) string {
	der, _ := x509.MarshalPKIXPublicKey(k.Public())
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func (e *Emulator) addVerificationCert(c *ssoConn, p string, now time.Time) *apiError {
	cert, aerr := parseCertPEM(p)
	if aerr != nil {
		return aerr
	}
	issuer := cert.Issuer.CommonName
	if issuer == "" {
		issuer = cert.Issuer.String()
	}
	for _, v := range c.verification {
		if v.cert.Equal(cert) {
			return nil
		}
	}
	c.verification = append(c.verification, ssoCert{
		id: "saml-verification-key-test-" + newUUID(), pem: strings.TrimSpace(p) + "\n", issuer: issuer, cert: cert, added: now,
	})
	return nil
}

func (e *Emulator) ssoSAMLUpdate(rq *request) (any, error) {
	o, aerr := e.ssoOrg(rq, "update")
	if aerr != nil {
		return nil, aerr
	}
	c, aerr := e.ssoConnByPath(rq, o, ssoSAML)
	if aerr != nil {
		return nil, aerr
	}
	var in struct {
		IdPEntityID              *string         `json:"idp_entity_id"`
		DisplayName              *string         `json:"display_name"`
		AttributeMapping         map[string]any  `json:"attribute_mapping"`
		X509Certificate          *string         `json:"x509_certificate"`
		IdPSSOURL                *string         `json:"idp_sso_url"`
		ConnRoles                *[]ssoRole      `json:"saml_connection_implicit_role_assignments"`
		GroupRoles               *[]ssoGroupRole `json:"saml_group_implicit_role_assignments"`
		AlternativeAudienceURI   *string         `json:"alternative_audience_uri"`
		IdentityProvider         *string         `json:"identity_provider"`
		SigningPrivateKey        *string         `json:"signing_private_key"`
		NameIDFormat             *string         `json:"nameid_format"`
		AlternativeACSURL        *string         `json:"alternative_acs_url"`
		IdPInitiatedAuthDisabled *bool           `json:"idp_initiated_auth_disabled"`
		EncryptionPrivateKey     *string         `json:"saml_encryption_private_key"`
		AllowGatewayCallback     *bool           `json:"allow_gateway_callback"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if err := validIdP(in.IdentityProvider); err != nil {
		return nil, err
	}
	if err := e.validRoles(o, in.ConnRoles, in.GroupRoles); err != nil {
		return nil, err
	}
	if in.IdPSSOURL != nil && *in.IdPSSOURL != "" && !httpURL(*in.IdPSSOURL) {
		return nil, badRequest("idp_sso_url must be an absolute http(s) URL.")
	}
	// Everything that can fail is checked before anything changes.
	var signKey, encKey crypto.Signer
	if in.SigningPrivateKey != nil {
		if signKey, aerr = parseKeyPEM("signing_private_key", *in.SigningPrivateKey); aerr != nil {
			return nil, aerr
		}
	}
	if in.EncryptionPrivateKey != nil {
		if encKey, aerr = parseKeyPEM("saml_encryption_private_key", *in.EncryptionPrivateKey); aerr != nil {
			return nil, aerr
		}
	}
	if in.X509Certificate != nil {
		if _, aerr := parseCertPEM(*in.X509Certificate); aerr != nil {
			return nil, aerr
		}
	}
	if signKey != nil {
		k, cert, aerr := e.ssoSigningCert(c.ConnectionID, signKey, rq.now)
		if aerr != nil {
			return nil, aerr
		}
		c.signingKey, c.signing = k, []ssoCert{cert}
	}
	if encKey != nil {
		c.encKeys = append(c.encKeys, ssoEncKey{id: "saml-encryption-key-test-" + newUUID(), key: encKey, print: keyFingerprint(encKey), added: rq.now})
	}
	if in.X509Certificate != nil {
		_ = e.addVerificationCert(c, *in.X509Certificate, rq.now)
	}
	setStr := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setStr(&c.IdPEntityID, in.IdPEntityID)
	setStr(&c.DisplayName, in.DisplayName)
	setStr(&c.IdPSSOURL, in.IdPSSOURL)
	setStr(&c.AlternativeAudienceURI, in.AlternativeAudienceURI)
	setStr(&c.IdentityProvider, in.IdentityProvider)
	setStr(&c.NameIDFormat, in.NameIDFormat)
	setStr(&c.AltACSURL, in.AlternativeACSURL)
	if in.AttributeMapping != nil {
		c.AttributeMapping = in.AttributeMapping
	}
	if in.ConnRoles != nil {
		c.connRoles = *in.ConnRoles
	}
	if in.GroupRoles != nil {
		c.groupRoles = *in.GroupRoles
	}
	if in.IdPInitiatedAuthDisabled != nil {
		c.IdPInitiatedAuthDisabled = *in.IdPInitiatedAuthDisabled
	}
	if in.AllowGatewayCallback != nil {
		c.AllowGatewayCallback = *in.AllowGatewayCallback
	}
	e.refreshSSO(o, rq.now)
	return obj{"connection": c.wire()}, nil
}

func httpURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// validRoles checks that every implicitly assigned role exists in the
// project's policy or the organization's custom roles.
func (e *Emulator) validRoles(o *organization, conn *[]ssoRole, group *[]ssoGroupRole) *apiError {
	var ids []string
	if conn != nil {
		for _, r := range *conn {
			ids = append(ids, r.RoleID)
		}
	}
	if group != nil {
		for _, r := range *group {
			if r.Group == "" {
				return badRequest("A group implicit role assignment needs a group.")
			}
			ids = append(ids, r.RoleID)
		}
	}
	for _, id := range ids {
		if !e.policyFor(o).HasRole(id) {
			return badRequest("Role %q does not exist in the RBAC policy.", id).withType(errRoleNotFound)
		}
	}
	return nil
}

func (e *Emulator) ssoOIDCCreate(rq *request) (any, error) {
	o, aerr := e.ssoOrg(rq, "create")
	if aerr != nil {
		return nil, aerr
	}
	var in ssoCreateIn
	if err := in.decode(rq); err != nil {
		return nil, err
	}
	id := "oidc-connection-test-" + newUUID()
	c := &ssoConn{
		kind: ssoOIDC, OrganizationID: o.OrganizationID, ConnectionID: id, DisplayName: in.DisplayName,
		IdentityProvider: in.idp(), AttributeMapping: map[string]any{},
		RedirectURL: ssoBase(rq) + "/v1/b2b/sso/callback/" + id, CustomScopes: "",
	}
	e.addSSO(o, c, rq.now)
	return obj{"connection": c.wire()}, nil
}

func (e *Emulator) ssoOIDCUpdate(rq *request) (any, error) {
	o, aerr := e.ssoOrg(rq, "update")
	if aerr != nil {
		return nil, aerr
	}
	c, aerr := e.ssoConnByPath(rq, o, ssoOIDC)
	if aerr != nil {
		return nil, aerr
	}
	var in struct {
		DisplayName      *string        `json:"display_name"`
		ClientID         *string        `json:"client_id"`
		ClientSecret     *string        `json:"client_secret"`
		Issuer           *string        `json:"issuer"`
		AuthorizationURL *string        `json:"authorization_url"`
		TokenURL         *string        `json:"token_url"`
		UserinfoURL      *string        `json:"userinfo_url"`
		JWKSURL          *string        `json:"jwks_url"`
		IdentityProvider *string        `json:"identity_provider"`
		CustomScopes     *string        `json:"custom_scopes"`
		AttributeMapping map[string]any `json:"attribute_mapping"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if err := validIdP(in.IdentityProvider); err != nil {
		return nil, err
	}
	for name, v := range map[string]*string{
		"issuer": in.Issuer, "authorization_url": in.AuthorizationURL, "token_url": in.TokenURL,
		"userinfo_url": in.UserinfoURL, "jwks_url": in.JWKSURL,
	} {
		if v != nil && *v != "" && !httpURL(*v) {
			return nil, badRequest("%s must be an absolute http(s) URL.", name)
		}
	}
	for _, p := range []struct {
		dst *string
		v   *string
	}{
		{&c.DisplayName, in.DisplayName},
		{&c.ClientID, in.ClientID},
		{&c.ClientSecret, in.ClientSecret},
		{&c.Issuer, in.Issuer},
		{&c.AuthorizationURL, in.AuthorizationURL},
		{&c.TokenURL, in.TokenURL},
		{&c.UserinfoURL, in.UserinfoURL},
		{&c.JWKSURL, in.JWKSURL},
		{&c.IdentityProvider, in.IdentityProvider},
		{&c.CustomScopes, in.CustomScopes},
	} {
		if p.v != nil {
			*p.dst = *p.v
		}
	}
	if in.AttributeMapping != nil {
		c.AttributeMapping = in.AttributeMapping
	}
	e.refreshSSO(o, rq.now)
	return obj{"connection": c.wire(), "warning": ""}, nil
}

func (e *Emulator) ssoExternalCreate(rq *request) (any, error) {
	o, aerr := e.ssoOrg(rq, "create")
	if aerr != nil {
		return nil, aerr
	}
	var in struct {
		ExternalOrganizationID string         `json:"external_organization_id"`
		ExternalConnectionID   string         `json:"external_connection_id"`
		DisplayName            string         `json:"display_name"`
		ConnRoles              []ssoRole      `json:"connection_implicit_role_assignments"`
		GroupRoles             []ssoGroupRole `json:"group_implicit_role_assignments"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.ExternalOrganizationID == "" || in.ExternalConnectionID == "" {
		return nil, badRequest("external_organization_id and external_connection_id are required.")
	}
	src := e.st.findOrg(in.ExternalOrganizationID)
	if src == nil {
		return nil, orgNotFound()
	}
	srcConn, ok := byID(e.st.sso, in.ExternalConnectionID)
	if !ok || srcConn.OrganizationID != src.OrganizationID || srcConn.kind == ssoExternal {
		return nil, ssoNotFound()
	}
	if src.OrganizationID == o.OrganizationID {
		return nil, badRequest("An external connection must reference another organization's connection.")
	}
	if err := e.validRoles(o, &in.ConnRoles, &in.GroupRoles); err != nil {
		return nil, err
	}
	c := &ssoConn{
		kind: ssoExternal, OrganizationID: o.OrganizationID, ConnectionID: "external-connection-test-" + newUUID(),
		DisplayName: in.DisplayName, IdentityProvider: srcConn.IdentityProvider,
		ExternalOrganizationID: src.OrganizationID, ExternalConnectionID: srcConn.ConnectionID,
		connRoles: in.ConnRoles, groupRoles: in.GroupRoles, sourceConnection: srcConn,
	}
	e.addSSO(o, c, rq.now)
	return obj{"connection": c.wire()}, nil
}

func (e *Emulator) ssoExternalUpdate(rq *request) (any, error) {
	o, aerr := e.ssoOrg(rq, "update")
	if aerr != nil {
		return nil, aerr
	}
	c, aerr := e.ssoConnByPath(rq, o, ssoExternal)
	if aerr != nil {
		return nil, aerr
	}
	var in struct {
		DisplayName *string         `json:"display_name"`
		ConnRoles   *[]ssoRole      `json:"external_connection_implicit_role_assignments"`
		GroupRoles  *[]ssoGroupRole `json:"external_group_implicit_role_assignments"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if err := e.validRoles(o, in.ConnRoles, in.GroupRoles); err != nil {
		return nil, err
	}
	if in.DisplayName != nil {
		c.DisplayName = *in.DisplayName
	}
	if in.ConnRoles != nil {
		c.connRoles = *in.ConnRoles
	}
	if in.GroupRoles != nil {
		c.groupRoles = *in.GroupRoles
	}
	e.refreshSSO(o, rq.now)
	return obj{"connection": c.wire()}, nil
}

func (e *Emulator) ssoDeleteVerificationCert(rq *request) (any, error) {
	o, aerr := e.ssoOrg(rq, "update")
	if aerr != nil {
		return nil, aerr
	}
	c, aerr := e.ssoConnByPath(rq, o, ssoSAML)
	if aerr != nil {
		return nil, aerr
	}
	id := rq.r.PathValue("certificate_id")
	i := slices.IndexFunc(c.verification, func(v ssoCert) bool { return strings.EqualFold(v.id, id) })
	if i < 0 {
		return nil, newErr(http.StatusNotFound, errSSOCertNotFound, "Verification certificate could not be found.")
	}
	c.verification = slices.Delete(c.verification, i, i+1)
	e.refreshSSO(o, rq.now)
	return obj{"certificate_id": id}, nil
}

func (e *Emulator) ssoDeleteEncryptionKey(rq *request) (any, error) {
	o, aerr := e.ssoOrg(rq, "update")
	if aerr != nil {
		return nil, aerr
	}
	c, aerr := e.ssoConnByPath(rq, o, ssoSAML)
	if aerr != nil {
		return nil, aerr
	}
	id := rq.r.PathValue("private_key_id")
	i := slices.IndexFunc(c.encKeys, func(k ssoEncKey) bool { return strings.EqualFold(k.id, id) })
	if i < 0 {
		return nil, newErr(http.StatusNotFound, errSSOKeyNotFound, "Encryption private key could not be found.")
	}
	c.encKeys = slices.Delete(c.encKeys, i, i+1)
	return obj{"private_key_id": id}, nil
}
