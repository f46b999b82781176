package server_test

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
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/server"
)

// testCA is a certificate authority for tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issue signs a leaf certificate for 127.0.0.1 usable for server and client authentication.
func (ca *testCA) issue(t *testing.T, name string) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	return c, certPEM, keyPEM
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

// serverTLS writes a server certificate signed by serverCA (and, when clientCA is set, the client
// CA) to files and returns the server's TLS configuration.
func serverTLS(t *testing.T, serverCA, clientCA *testCA) server.TLSConfig {
	t.Helper()
	dir := t.TempDir()
	_, certPEM, keyPEM := serverCA.issue(t, "authsvc")
	cfg := server.TLSConfig{CertFile: writeFile(t, dir, "tls.crt", certPEM), KeyFile: writeFile(t, dir, "tls.key", keyPEM)}
	if clientCA != nil {
		cfg.ClientCAFile = writeFile(t, dir, "clients.pem", clientCA.pem)
	}
	return cfg
}

func healthCheck(t *testing.T, addr string, creds credentials.TransportCredentials) error {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	require.NoError(t, err)
	defer conn.Close()
	_, err = healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	return err
}

// waitServing blocks until the server reports SERVING (Run sets it just after it starts serving).
func waitServing(t *testing.T, addr string, creds credentials.TransportCredentials) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	require.NoError(t, err)
	defer conn.Close()
	_ = watchServing(t, healthpb.NewHealthClient(conn))
}

func httpsGet(t *testing.T, url string, roots *x509.CertPool) (int, error) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	defer c.CloseIdleConnections()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func TestTLSOnBothPorts(t *testing.T) {
	serverCA := newCA(t, "server CA")
	r := start(t, server.Config{TLS: serverTLS(t, serverCA, nil)})
	trusting := credentials.NewTLS(&tls.Config{RootCAs: serverCA.pool(), MinVersion: tls.VersionTLS12})
	waitServing(t, r.srv.GRPCAddr(), trusting)

	require.NoError(t, healthCheck(t, r.srv.GRPCAddr(), trusting))
	assert.Equal(t, codes.Unavailable, status.Code(healthCheck(t, r.srv.GRPCAddr(), insecure.NewCredentials())), "plain text is refused")

	// /healthz goes through the gateway's own TLS connection to the gRPC port.
	code, err := httpsGet(t, "https://"+r.srv.HTTPAddr()+"/healthz", serverCA.pool())
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	_, err = httpsGet(t, "https://"+r.srv.HTTPAddr()+"/healthz", newCA(t, "other").pool())
	require.Error(t, err, "the REST port serves the configured certificate")

	// The admin port stays plain (cluster-internal).
	code, _ = get(t, "http://"+r.srv.AdminAddr()+"/debug/pprof/")
	assert.Equal(t, http.StatusOK, code)
}

func TestMutualTLSOnGRPC(t *testing.T) {
	serverCA, clientCA, rogueCA := newCA(t, "server CA"), newCA(t, "client CA"), newCA(t, "rogue CA")
	r := start(t, server.Config{TLS: serverTLS(t, serverCA, clientCA)})
	with := func(cert *tls.Certificate) credentials.TransportCredentials {
		c := &tls.Config{RootCAs: serverCA.pool(), MinVersion: tls.VersionTLS12}
		if cert != nil {
			c.Certificates = []tls.Certificate{*cert}
		}
		return credentials.NewTLS(c)
	}
	good, _, _ := clientCA.issue(t, "billing-service")
	rogue, _, _ := rogueCA.issue(t, "intruder")

	waitServing(t, r.srv.GRPCAddr(), with(&good))
	require.NoError(t, healthCheck(t, r.srv.GRPCAddr(), with(&good)))
	assert.Equal(t, codes.Unavailable, status.Code(healthCheck(t, r.srv.GRPCAddr(), with(nil))), "no client certificate")
	assert.Equal(t, codes.Unavailable, status.Code(healthCheck(t, r.srv.GRPCAddr(), with(&rogue))), "certificate of another CA")

	// Browsers have no client certificates: the REST port does not ask, and the gateway passes
	// mutual TLS with its in-memory loopback identity.
	code, err := httpsGet(t, "https://"+r.srv.HTTPAddr()+"/healthz", serverCA.pool())
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := server.New(t.Context(), server.Config{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		TLS: server.TLSConfig{CertFile: filepath.Join(dir, "missing.crt"), KeyFile: filepath.Join(dir, "missing.key")},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.crt")
}

// Responses served over TLS carry HSTS (error responses too); plain-HTTP ones never do, since a
// deployment serving plain HTTP terminates TLS in front of authsvc and sets it there.
func TestHSTSOnTLSResponsesOnly(t *testing.T) {
	serverCA := newCA(t, "server CA")
	secure := start(t, server.Config{TLS: serverTLS(t, serverCA, nil)})
	plain := start(t, server.Config{})
	waitServing(t, secure.srv.GRPCAddr(), credentials.NewTLS(&tls.Config{RootCAs: serverCA.pool(), MinVersion: tls.VersionTLS12}))
	waitServing(t, plain.srv.GRPCAddr(), insecure.NewCredentials())

	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: serverCA.pool(), MinVersion: tls.VersionTLS12}}}
	defer c.CloseIdleConnections()
	header := func(url string) (int, http.Header) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		require.NoError(t, err)
		resp, err := c.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/readyz": http.StatusOK, "/no/such/route": http.StatusNotFound} {
		code, h := header("https://" + secure.srv.HTTPAddr() + path)
		assert.Equal(t, want, code, path)
		assert.Equal(t, "max-age=31536000; includeSubDomains", h.Get("Strict-Transport-Security"), path)

		code, h = header("http://" + plain.srv.HTTPAddr() + path)
		assert.Equal(t, want, code, path)
		assert.Empty(t, h.Values("Strict-Transport-Security"), path)
	}
}
