package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"
)

// TLSConfig turns on TLS for the gRPC and REST ports. The admin port stays plain TCP: it serves
// metrics and pprof to the cluster only and is never exposed (NetworkPolicy).
type TLSConfig struct {
	// CertFile and KeyFile are the PEM certificate chain and key served on both ports.
	CertFile, KeyFile string
	// ClientCAFile, when set, requires every gRPC client to present a certificate signed by one of
	// these CAs (mutual TLS for service callers). The REST port never asks for client certificates.
	ClientCAFile string
}

// loopbackServerName is the server name the REST gateway asks for when it dials the gRPC server. It
// is not a DNS name (.invalid, RFC 2606) and selects the in-memory loopback certificate.
const loopbackServerName = "gateway.authsvc.invalid"

// tlsSetup is the TLS configuration of the three parties: the gRPC server, the REST server, and the
// gateway's connection to the gRPC server.
//
// How the gateway gets through TLS and mutual TLS on its own (in-memory) connection: at startup authsvc
// makes a throwaway key and self-signed certificate that never leave memory. The gRPC server serves
// that certificate to a client asking for loopbackServerName (everyone else gets the configured
// certificate), and, with mutual TLS, accepts it as a client certificate next to the configured
// client CAs. The gateway trusts only that certificate and presents it. So REST traffic passes the
// same TLS handshake, interceptors and client authentication as any gRPC caller, without a
// plain-text side door: a separate loopback-only plain listener would admit anything else sharing
// the pod's network namespace (sidecars) without a client certificate.
type tlsSetup struct {
	grpc    *tls.Config
	http    *tls.Config
	gateway *tls.Config
}

func newTLSSetup(cfg TLSConfig, now time.Time) (*tlsSetup, error) {
	if cfg.CertFile == "" || cfg.KeyFile == "" {
		return nil, errors.New("TLS: both CertFile and KeyFile are required")
	}
	served, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS: load certificate %q and key %q: %w", cfg.CertFile, cfg.KeyFile, err)
	}
	loop, err := loopbackCertificate(now)
	if err != nil {
		return nil, err
	}
	loopPool := x509.NewCertPool()
	loopPool.AddCert(loop.Leaf)

	g := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName == loopbackServerName {
				return &loop, nil
			}
			return &served, nil
		},
	}
	if cfg.ClientCAFile != "" {
		pem, err := os.ReadFile(cfg.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("TLS: read client CA file %q: %w", cfg.ClientCAFile, err)
		}
		cas := x509.NewCertPool()
		if !cas.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS: client CA file %q holds no PEM certificate", cfg.ClientCAFile)
		}
		cas.AddCert(loop.Leaf)
		g.ClientAuth = tls.RequireAndVerifyClientCert
		g.ClientCAs = cas
	}
	return &tlsSetup{
		grpc: g,
		http: &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{served}},
		gateway: &tls.Config{
			MinVersion:   tls.VersionTLS13,
			ServerName:   loopbackServerName,
			RootCAs:      loopPool,
			Certificates: []tls.Certificate{loop},
		},
	}, nil
}

// loopbackCertificate makes the gateway's throwaway identity: a P-256 key and a self-signed
// certificate for loopbackServerName, valid for both server and client authentication, for far
// longer than any process lives.
func loopbackCertificate(now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("TLS: loopback key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("TLS: loopback serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: loopbackServerName},
		DNSNames:              []string{loopbackServerName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("TLS: loopback certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("TLS: loopback certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
