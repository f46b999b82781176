package client_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/client"
	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/apptest"
)

// TestMutualTLS runs authsvc with TLS and required client certificates and dials it with the
// transport options, M2M credentials included (they require transport security).
func TestMutualTLS(t *testing.T) {
	pki := newPKI(t)
	env := apptest.Start(t, apptest.WithEnv(map[string]string{
		"AUTHSVC_TLS_CERT_FILE":      pki.serverCert,
		"AUTHSVC_TLS_KEY_FILE":       pki.serverKey,
		"AUTHSVC_TLS_CLIENT_CA_FILE": pki.caFile,
	}))
	mc, err := env.Emu.CreateM2MClient("tls-client", []string{"read:members"})
	require.NoError(t, err)
	creds := client.WithM2MCredentials(mc.ClientID, mc.ClientSecret)
	get := func(c *client.Client) error {
		_, err := c.Members().Get(t.Context(), &b2bv1.MembersServiceGetRequest{OrganizationId: sandboxOrg, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: sandboxMember}})
		return err
	}
	dial := func(t *testing.T, opts ...client.Option) *client.Client {
		t.Helper()
		c, err := client.New(t.Context(), env.App.GRPCAddr(), append(opts, client.WithClock(env.Emu.Now), client.WithTimeout(5*time.Second))...)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, c.Close()) })
		return c
	}

	t.Run("client certificate and the CA: calls succeed", func(t *testing.T) {
		require.NoError(t, get(dial(t, client.WithMutualTLS(pki.client, pki.roots), creds)))
	})
	t.Run("TLS without a client certificate: refused", func(t *testing.T) {
		err := get(dial(t, client.WithTLS(&tls.Config{RootCAs: pki.roots, MinVersion: tls.VersionTLS12}), creds))
		assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	})
	t.Run("default transport (system roots) does not trust a private CA", func(t *testing.T) {
		err := get(dial(t, creds))
		assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	})
	t.Run("plain text to a TLS port fails", func(t *testing.T) {
		err := get(dial(t, client.WithInsecure(), creds))
		assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	})
}

type pki struct {
	caFile, serverCert, serverKey string
	roots                         *x509.CertPool
	client                        tls.Certificate
}

// newPKI makes a CA, a server certificate for 127.0.0.1 and a client certificate, in a temp dir.
func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	issue := func(serial int64, usage x509.ExtKeyUsage, ip net.IP) ([]byte, []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		if ip != nil {
			tmpl.IPAddresses = []net.IP{ip}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		kb, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	out := pki{caFile: write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))}
	sc, sk := issue(2, x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	out.serverCert, out.serverKey = write("server.pem", sc), write("server-key.pem", sk)
	cc, ck := issue(3, x509.ExtKeyUsageClientAuth, nil)
	out.client, err = tls.X509KeyPair(cc, ck)
	require.NoError(t, err)
	out.roots = x509.NewCertPool()
	out.roots.AddCert(ca)
	return out
}
