package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLS configures TLS on the gRPC and REST ports (the admin port stays plain: it is internal).
type TLS struct {
	// CertFile and KeyFile hold the PEM certificate chain and key both public ports serve. Empty:
	// plain TCP (TLS terminated by a mesh or load balancer).
	CertFile, KeyFile string
	// ClientCAFile, when set, turns on mutual TLS on the gRPC port: every gRPC client must present a
	// certificate signed by one of these CAs. The REST port is unaffected (browsers have no client
	// certificates).
	ClientCAFile string
}

// Enabled reports whether the public ports serve TLS.
func (t TLS) Enabled() bool { return t.CertFile != "" }

type tlsRaw struct{ cert, key, clientCA string }

func (r *tlsRaw) settings() []setting {
	return []setting{
		{"AUTHSVC_TLS_CERT_FILE", "tls-cert-file", "", "PEM certificate (chain) served on the gRPC and REST ports; empty serves plain TCP", &r.cert, false},
		{"AUTHSVC_TLS_KEY_FILE", "tls-key-file", "", "PEM private key of AUTHSVC_TLS_CERT_FILE", &r.key, false},
		{"AUTHSVC_TLS_CLIENT_CA_FILE", "tls-client-ca-file", "", "PEM CA certificates; when set, gRPC clients must present a certificate they signed (mutual TLS)", &r.clientCA, false},
	}
}

// loadTLS validates the TLS settings by loading them, so that a wrong path or a key that does not
// match its certificate fails at startup with the variable's name rather than at the first
// handshake.
func (c *Config) loadTLS(r tlsRaw) error {
	switch {
	case r.cert == "" && r.key != "":
		return errors.New("AUTHSVC_TLS_CERT_FILE: required with AUTHSVC_TLS_KEY_FILE")
	case r.cert != "" && r.key == "":
		return errors.New("AUTHSVC_TLS_KEY_FILE: required with AUTHSVC_TLS_CERT_FILE")
	case r.cert == "" && r.clientCA != "":
		return errors.New("AUTHSVC_TLS_CLIENT_CA_FILE: mutual TLS needs AUTHSVC_TLS_CERT_FILE and AUTHSVC_TLS_KEY_FILE")
	}
	if r.cert != "" {
		if _, err := tls.LoadX509KeyPair(r.cert, r.key); err != nil {
			// The error names files and parse failures, never key material.
			return fmt.Errorf("AUTHSVC_TLS_CERT_FILE: cannot load %q with key %q: %w", r.cert, r.key, err)
		}
	}
	if r.clientCA != "" {
		pem, err := os.ReadFile(r.clientCA)
		if err != nil {
			return fmt.Errorf("AUTHSVC_TLS_CLIENT_CA_FILE: cannot read %q: %w", r.clientCA, errors.Unwrap(err))
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return fmt.Errorf("AUTHSVC_TLS_CLIENT_CA_FILE: %q holds no PEM certificate", r.clientCA)
		}
	}
	c.TLS = TLS{CertFile: r.cert, KeyFile: r.key, ClientCAFile: r.clientCA}
	return nil
}
