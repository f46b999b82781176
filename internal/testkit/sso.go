package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// SSOIdentity is what the tester types into the emulator's stand-in IdP.
type SSOIdentity struct {
	Email, Name string
	Groups      []string
}

// SSOTamper, when set, rewrites the SAML Response (base64) before it is posted to the ACS URL.
type SSOTamper func(samlResponse string) string

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	formInput  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

func formOf(t testing.TB, page string) (string, url.Values) {
	t.Helper()
	m := formAction.FindStringSubmatch(page)
	require.NotNil(t, m, "no form in page: %s", page)
	v := url.Values{}
	for _, in := range formInput.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), v
}

// SSOSignIn plays the browser of an SSO sign-in against the emulator: it follows startURL's
// redirects to the stand-in IdP's login page, submits the form with who, and (SAML) posts the
// signed Response the IdP answers with to the connection's ACS URL, or (OIDC) follows the code
// back to the connection's redirect URL. It returns the last response's status and Location:
// on success the application's redirect URL with stytch_token_type=sso and the token. Every hop
// is real HTTP.
func SSOSignIn(t testing.TB, startURL string, who SSOIdentity, tamper SSOTamper) (int, *url.URL, string) {
	t.Helper()
	start, err := url.Parse(startURL)
	require.NoError(t, err)
	c := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != start.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	read := func(res *http.Response) string {
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		return string(b)
	}
	res, err := c.Get(startURL) //nolint:noctx,bodyclose // test helper; read closes the body
	require.NoError(t, err)
	page := read(res)
	require.Equal(t, http.StatusOK, res.StatusCode, "the IdP login page: %s", page)
	require.Contains(t, page, "stand-in identity provider")
	action, fields := formOf(t, page)
	fields.Set("email", who.Email)
	fields.Set("name", who.Name)
	fields.Set("groups", strings.Join(who.Groups, ","))
	target, err := res.Request.URL.Parse(action)
	require.NoError(t, err)
	res, err = c.PostForm(target.String(), fields) //nolint:noctx,bodyclose // test helper; read closes the body
	require.NoError(t, err)
	body := read(res)
	if strings.Contains(body, `id="SAMLResponseForm"`) { // SAML: post the signed Response to the ACS
		acs, v := formOf(t, body)
		if tamper != nil {
			v.Set("SAMLResponse", tamper(v.Get("SAMLResponse")))
		}
		res, err = c.PostForm(acs, v) //nolint:noctx,bodyclose // test helper; read closes the body
		require.NoError(t, err)
		body = read(res)
	}
	var loc *url.URL
	if l := res.Header.Get("Location"); l != "" {
		loc, err = url.Parse(l)
		require.NoError(t, err)
	}
	return res.StatusCode, loc, body
}

// RSAKeyPEM is a fresh RSA private key in PKCS#8 PEM, e.g. for a SAML connection's
// saml_encryption_private_key.
func RSAKeyPEM(t testing.TB) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// SelfSignedCertPEM is a fresh self-signed certificate in PEM whose key nobody keeps: an IdP
// certificate no stand-in IdP signs with.
func SelfSignedCertPEM(t testing.TB) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "another IdP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
