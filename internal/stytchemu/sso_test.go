package stytchemu_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

func put(path string, body any) call { return call{method: http.MethodPut, path: path, body: body} }

func del(path string) call { return call{method: http.MethodDelete, path: path} }

// samlConnection creates a SAML connection in org configured for the emulator's stand-in IdP
// through its metadata URL, with mapping.
func (w *world) samlConnection(t *testing.T, orgID string, mapping map[string]any) map[string]any {
	t.Helper()
	cr := w.h.do(post("/v1/b2b/sso/saml/"+orgID, map[string]any{"display_name": "Okta", "identity_provider": "okta"}))
	require.Equal(t, http.StatusOK, cr.status, "%s", cr.raw)
	conn := cr.obj("connection")
	id := conn["connection_id"].(string)
	assert.Equal(t, "pending", conn["status"])
	assert.True(t, strings.HasPrefix(id, "saml-connection-test-"))
	ur := w.h.do(put("/v1/b2b/sso/saml/"+orgID+"/connections/"+id+"/url", map[string]any{"metadata_url": w.h.url + stytchemu.IdPSAMLMetadataPath}))
	require.Equal(t, http.StatusOK, ur.status, "%s", ur.raw)
	conn = ur.obj("connection")
	assert.Equal(t, "active", conn["status"])
	assert.Equal(t, w.h.url+stytchemu.IdPSAMLSSOPath, conn["idp_sso_url"])
	if mapping != nil {
		up := w.h.do(put("/v1/b2b/sso/saml/"+orgID+"/connections/"+id, map[string]any{"attribute_mapping": mapping}))
		require.Equal(t, http.StatusOK, up.status, "%s", up.raw)
		conn = up.obj("connection")
	}
	return conn
}

// oidcConnection creates an OIDC connection in org pointed at the stand-in IdP.
func (w *world) oidcConnection(t *testing.T, orgID string) map[string]any {
	t.Helper()
	cr := w.h.do(post("/v1/b2b/sso/oidc/"+orgID, map[string]any{"display_name": "Entra"}))
	require.Equal(t, http.StatusOK, cr.status, "%s", cr.raw)
	id := cr.obj("connection")["connection_id"].(string)
	iss := w.h.url + stytchemu.IdPOIDCIssuerPath
	up := w.h.do(put("/v1/b2b/sso/oidc/"+orgID+"/connections/"+id, map[string]any{
		"client_id": "client-1", "client_secret": "s3cret-value", "issuer": iss,
		"authorization_url": iss + "/authorize", "token_url": iss + "/token", "userinfo_url": iss + "/userinfo",
		"jwks_url": iss + "/jwks", "identity_provider": "microsoft-entra",
	}))
	require.Equal(t, http.StatusOK, up.status, "%s", up.raw)
	require.Equal(t, "active", up.obj("connection")["status"])
	return up.obj("connection")
}

func (w *world) ssoStart(connID string, extra url.Values) string {
	v := url.Values{"public_token": {w.h.emu.PublicToken()}, "login_redirect_url": {oauthLoginURL}}
	if connID != "" {
		v.Set("connection_id", connID)
	}
	for k, vs := range extra {
		v[k] = vs
	}
	return w.h.url + "/v1/public/sso/start?" + v.Encode()
}

func TestSSOAdminRoutes(t *testing.T) {
	w := newWorld(t)
	org := w.orgA.ID

	// A stytch_member may not create connections; a stytch_admin may.
	denied := w.h.do(asMember(post("/v1/b2b/sso/saml/"+org, map[string]any{}), w.userSes))
	assert.Equal(t, http.StatusForbidden, denied.status, "%s", denied.raw)
	assert.Equal(t, "session_authorization_error", denied.str("error_type"))
	bad := w.h.do(post("/v1/b2b/sso/saml/"+org, map[string]any{"identity_provider": "nope"}))
	assert.Equal(t, http.StatusBadRequest, bad.status)
	assert.Equal(t, "invalid_identity_provider", bad.str("error_type"))

	saml := w.samlConnection(t, org, map[string]any{"email": "email", "full_name": "name"})
	samlID := saml["connection_id"].(string)
	require.Len(t, saml["verification_certificates"], 1)
	require.Len(t, saml["signing_certificates"], 1)

	// Update: an invalid certificate changes nothing; roles must exist.
	badCert := w.h.do(put("/v1/b2b/sso/saml/"+org+"/connections/"+samlID, map[string]any{"x509_certificate": "junk", "display_name": "X"}))
	assert.Equal(t, "invalid_x509_certificate", badCert.str("error_type"))
	badRole := w.h.do(put("/v1/b2b/sso/saml/"+org+"/connections/"+samlID, map[string]any{
		"saml_connection_implicit_role_assignments": []any{map[string]any{"role_id": "no-such-role"}},
	}))
	assert.Equal(t, http.StatusBadRequest, badRole.status)
	up := w.h.do(asMember(put("/v1/b2b/sso/saml/"+org+"/connections/"+samlID, map[string]any{
		"display_name": "Okta SSO", "saml_connection_implicit_role_assignments": []any{map[string]any{"role_id": stytchemu.RoleAdmin}},
	}), w.adminSes))
	require.Equal(t, http.StatusOK, up.status, "%s", up.raw)
	assert.Equal(t, "Okta SSO", up.obj("connection")["display_name"])

	oidc := w.oidcConnection(t, org)
	oidcID := oidc["connection_id"].(string)
	assert.Equal(t, "s3cret-value", oidc["client_secret"])

	// External: a connection of another organization.
	ext := w.h.do(post("/v1/b2b/sso/external/"+w.orgB.ID, map[string]any{
		"external_organization_id": org, "external_connection_id": samlID, "display_name": "Acme's Okta",
	}))
	require.Equal(t, http.StatusOK, ext.status, "%s", ext.raw)
	extID := ext.obj("connection")["connection_id"].(string)
	extUp := w.h.do(put("/v1/b2b/sso/external/"+w.orgB.ID+"/connections/"+extID, map[string]any{"display_name": "Renamed"}))
	require.Equal(t, http.StatusOK, extUp.status, "%s", extUp.raw)
	assert.Equal(t, "Renamed", extUp.obj("connection")["display_name"])
	missing := w.h.do(post("/v1/b2b/sso/external/"+w.orgB.ID, map[string]any{"external_organization_id": org, "external_connection_id": "saml-connection-test-nope"}))
	assert.Equal(t, http.StatusNotFound, missing.status)

	list := w.h.do(get("/v1/b2b/sso/" + org))
	require.Equal(t, http.StatusOK, list.status, "%s", list.raw)
	assert.Len(t, list.body["saml_connections"], 1)
	assert.Len(t, list.body["oidc_connections"], 1)
	assert.Empty(t, list.body["external_connections"])

	o := w.h.do(get("/v1/b2b/organizations/" + org)).obj("organization")
	assert.Equal(t, samlID, o["sso_default_connection_id"], "the first connection becomes the default")
	assert.Len(t, o["sso_active_connections"], 2)

	// Encryption key: added, shown redacted, deleted.
	keyPEM := testkit.RSAKeyPEM(t)
	kr := w.h.do(put("/v1/b2b/sso/saml/"+org+"/connections/"+samlID, map[string]any{"saml_encryption_private_key": keyPEM}))
	require.Equal(t, http.StatusOK, kr.status, "%s", kr.raw)
	keys := kr.obj("connection")["encryption_private_keys"].([]any)
	require.Len(t, keys, 1)
	k := keys[0].(map[string]any)
	assert.NotContains(t, k["private_key"], "PRIVATE KEY")
	assert.NotContains(t, string(kr.raw), strings.Split(keyPEM, "\n")[1])
	kd := w.h.do(del("/v1/b2b/sso/saml/" + org + "/connections/" + samlID + "/encryption_private_keys/" + k["private_key_id"].(string)))
	require.Equal(t, http.StatusOK, kd.status, "%s", kd.raw)
	assert.Equal(t, k["private_key_id"], kd.str("private_key_id"))

	// Deleting the only verification certificate makes the connection pending again.
	certID := saml["verification_certificates"].([]any)[0].(map[string]any)["certificate_id"].(string)
	cd := w.h.do(del("/v1/b2b/sso/saml/" + org + "/connections/" + samlID + "/verification_certificates/" + certID))
	require.Equal(t, http.StatusOK, cd.status, "%s", cd.raw)
	assert.Equal(t, certID, cd.str("certificate_id"))
	again := w.h.do(del("/v1/b2b/sso/saml/" + org + "/connections/" + samlID + "/verification_certificates/" + certID))
	assert.Equal(t, http.StatusNotFound, again.status)
	after := w.h.do(get("/v1/b2b/sso/" + org)).body["saml_connections"].([]any)[0].(map[string]any)
	assert.Equal(t, "pending", after["status"])

	// Delete: the connection is gone and no longer the default; another org's ID is not found.
	wrongOrg := w.h.do(del("/v1/b2b/sso/" + w.orgB.ID + "/connections/" + oidcID))
	assert.Equal(t, http.StatusNotFound, wrongOrg.status)
	assert.Equal(t, "connection_not_found", wrongOrg.str("error_type"))
	dr := w.h.do(del("/v1/b2b/sso/" + org + "/connections/" + samlID))
	require.Equal(t, http.StatusOK, dr.status, "%s", dr.raw)
	assert.Equal(t, samlID, dr.str("connection_id"))
	o = w.h.do(get("/v1/b2b/organizations/" + org)).obj("organization")
	assert.Empty(t, o["sso_default_connection_id"])
	nf := w.h.do(get("/v1/b2b/sso/org-test-nope"))
	assert.Equal(t, http.StatusNotFound, nf.status)
}

func TestSSOSAMLRoundTripWithJIT(t *testing.T) {
	w := newWorld(t)
	conn := w.samlConnection(t, w.orgA.ID, nil) // the default mapping: email, name, groups
	id := conn["connection_id"].(string)
	up := w.h.do(put("/v1/b2b/sso/saml/"+w.orgA.ID+"/connections/"+id, map[string]any{
		"saml_group_implicit_role_assignments": []any{map[string]any{"role_id": stytchemu.RoleAdmin, "group": "admins"}},
	}))
	require.Equal(t, http.StatusOK, up.status, "%s", up.raw)
	verifier, challenge := pkcePair()

	status, back, body := testkit.SSOSignIn(t, w.ssoStart(id, url.Values{"pkce_code_challenge": {challenge}}),
		testkit.SSOIdentity{Email: "newbie@acme.test", Name: "New Bie", Groups: []string{"admins"}}, nil)
	require.Equal(t, http.StatusFound, status, body)
	assert.Equal(t, "sso", back.Query().Get("stytch_token_type"))
	tok := back.Query().Get("token")

	// PKCE: a wrong verifier is refused and does not burn the token.
	wrong := w.h.do(post("/v1/b2b/sso/authenticate", map[string]any{"sso_token": tok, "pkce_code_verifier": strings.Repeat("x", 50)}))
	assert.Equal(t, http.StatusBadRequest, wrong.status)
	assert.Equal(t, "pkce_mismatch", wrong.str("error_type"))

	ar := w.h.do(post("/v1/b2b/sso/authenticate", map[string]any{"sso_token": tok, "pkce_code_verifier": verifier, "session_duration_minutes": 60}))
	require.Equal(t, http.StatusOK, ar.status, "%s", ar.raw)
	assert.Equal(t, true, ar.body["member_authenticated"])
	assert.NotEmpty(t, ar.str("session_token"))
	m := ar.obj("member")
	assert.Equal(t, "newbie@acme.test", m["email_address"])
	assert.Equal(t, "New Bie", m["name"], "the name comes from the mapped attribute")
	assert.Equal(t, true, m["is_admin"], "the group's implicit role")
	regs := m["sso_registrations"].([]any)
	require.Len(t, regs, 1)
	assert.Equal(t, id, regs[0].(map[string]any)["connection_id"])
	assert.Equal(t, []string{"sso/sso_saml"}, factorTypes(ar))

	// Single use.
	reuse := w.h.do(post("/v1/b2b/sso/authenticate", map[string]any{"sso_token": tok, "pkce_code_verifier": verifier}))
	assert.Equal(t, http.StatusNotFound, reuse.status)
	assert.Equal(t, "sso_token_not_found", reuse.str("error_type"))
}

func TestSSOSAMLBadSignatureRefused(t *testing.T) {
	w := newWorld(t)
	conn := w.samlConnection(t, w.orgA.ID, nil)
	tamper := func(resp string) string {
		raw, err := base64.StdEncoding.DecodeString(resp)
		require.NoError(t, err)
		forged := strings.ReplaceAll(string(raw), "mallory@acme.test", "admin@acme.test")
		require.NotEqual(t, string(raw), forged)
		return base64.StdEncoding.EncodeToString([]byte(forged))
	}
	status, back, body := testkit.SSOSignIn(t, w.ssoStart(conn["connection_id"].(string), nil),
		testkit.SSOIdentity{Email: "mallory@acme.test"}, tamper)
	assert.Equal(t, http.StatusBadRequest, status, body)
	assert.Nil(t, back)
	assert.Contains(t, body, "sso_verification_failed")

	// A certificate other than the IdP's: the genuine Response does not verify either.
	other := w.h.do(post("/v1/b2b/sso/saml/"+w.orgA.ID, map[string]any{}))
	oid := other.obj("connection")["connection_id"].(string)
	up := w.h.do(put("/v1/b2b/sso/saml/"+w.orgA.ID+"/connections/"+oid, map[string]any{
		"idp_entity_id": w.h.url + stytchemu.IdPSAMLMetadataPath, "idp_sso_url": w.h.url + stytchemu.IdPSAMLSSOPath,
		"x509_certificate": testkit.SelfSignedCertPEM(t),
	}))
	require.Equal(t, http.StatusOK, up.status, "%s", up.raw)
	status, _, body = testkit.SSOSignIn(t, w.ssoStart(oid, nil), testkit.SSOIdentity{Email: "user@acme.test"}, nil)
	assert.Equal(t, http.StatusBadRequest, status, body)
}

func TestSSOOIDCRoundTrip(t *testing.T) {
	w := newWorld(t)
	conn := w.oidcConnection(t, w.orgA.ID)
	status, back, body := testkit.SSOSignIn(t, w.ssoStart(conn["connection_id"].(string), nil),
		testkit.SSOIdentity{Email: "user@acme.test", Name: "Existing"}, nil)
	require.Equal(t, http.StatusFound, status, body)
	ar := w.h.do(post("/v1/b2b/sso/authenticate", map[string]any{"sso_token": back.Query().Get("token")}))
	require.Equal(t, http.StatusOK, ar.status, "%s", ar.raw)
	assert.Equal(t, w.user.ID, ar.str("member_id"), "an existing member signs in")
	assert.Equal(t, []string{"sso/sso_oidc"}, factorTypes(ar))
}

func TestSSOMFARequiredGetsIntermediateSession(t *testing.T) {
	w := newWorld(t)
	conn := w.oidcConnection(t, w.orgB.ID)
	_, back, body := testkit.SSOSignIn(t, w.ssoStart(conn["connection_id"].(string), nil), testkit.SSOIdentity{Email: "user@acme.test"}, nil)
	require.NotNil(t, back, body)
	ar := w.h.do(post("/v1/b2b/sso/authenticate", map[string]any{"sso_token": back.Query().Get("token")}))
	require.Equal(t, http.StatusOK, ar.status, "%s", ar.raw)
	assert.Equal(t, false, ar.body["member_authenticated"])
	assert.NotEmpty(t, ar.str("intermediate_session_token"))
}

func TestSSOJITAndStartRefusals(t *testing.T) {
	w := newWorld(t)
	conn := w.samlConnection(t, w.orgA.ID, nil)
	id := conn["connection_id"].(string)
	ur := w.h.do(put("/v1/b2b/organizations/"+w.orgA.ID, map[string]any{"sso_jit_provisioning": "NOT_ALLOWED"}))
	require.Equal(t, http.StatusOK, ur.status, "%s", ur.raw)
	_, back, body := testkit.SSOSignIn(t, w.ssoStart(id, nil), testkit.SSOIdentity{Email: "stranger@acme.test"}, nil)
	require.NotNil(t, back, body)
	ar := w.h.do(post("/v1/b2b/sso/authenticate", map[string]any{"sso_token": back.Query().Get("token")}))
	assert.Equal(t, http.StatusForbidden, ar.status, "%s", ar.raw)
	assert.Equal(t, "sso_jit_provisioning_not_allowed", ar.str("error_type"))

	// RESTRICTED with this connection allowed provisions again.
	ur = w.h.do(put("/v1/b2b/organizations/"+w.orgA.ID, map[string]any{"sso_jit_provisioning": "RESTRICTED", "sso_jit_provisioning_allowed_connections": []string{id}}))
	require.Equal(t, http.StatusOK, ur.status, "%s", ur.raw)
	_, back, _ = testkit.SSOSignIn(t, w.ssoStart("", url.Values{"organization_id": {w.orgA.ID}}), testkit.SSOIdentity{Email: "stranger@acme.test"}, nil)
	require.NotNil(t, back)
	ar = w.h.do(post("/v1/b2b/sso/authenticate", map[string]any{"sso_token": back.Query().Get("token")}))
	assert.Equal(t, http.StatusOK, ar.status, "%s", ar.raw)

	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for name, u := range map[string]string{
		"wrong public token": w.ssoStart(id, url.Values{"public_token": {"public-token-test-nope"}}),
		"unknown connection": w.ssoStart("saml-connection-test-nope", nil),
		"bad challenge":      w.ssoStart(id, url.Values{"pkce_code_challenge": {"short"}}),
	} {
		res, err := c.Get(u) //nolint:noctx // test
		require.NoError(t, err, name)
		_ = res.Body.Close()
		assert.GreaterOrEqual(t, res.StatusCode, 400, name)
	}
}
