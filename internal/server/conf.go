package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/authsvc/authsvc/internal/config/setting"
)

// The variables of the server section.
const (
	EnvGRPCAddr      = "AUTHSVC_GRPC_ADDR"
	EnvHTTPAddr      = "AUTHSVC_HTTP_ADDR"
	EnvAdminAddr     = "AUTHSVC_ADMIN_ADDR"
	EnvTLSCertFile   = "AUTHSVC_TLS_CERT_FILE"
	EnvTLSKeyFile    = "AUTHSVC_TLS_KEY_FILE"
	EnvTLSClientCA   = "AUTHSVC_TLS_CLIENT_CA_FILE"
	EnvDrainDelay    = "AUTHSVC_DRAIN_DELAY"
	EnvShutdownGrace = "AUTHSVC_SHUTDOWN_GRACE"
)

// Default ports of the three listeners.
const (
	DefaultGRPCPort  = "9090"
	DefaultHTTPPort  = "8080"
	DefaultAdminPort = "9091"
)

// devListenHost is only quoted in usage texts: internal/config decides dev mode's defaults.
const devListenHost = "127.0.0.1"

// Conf is the server section of the configuration: where the servers listen, their TLS files and
// how they shut down; the fields of Config with the same names. Rules that depend on other
// sections live in internal/config: dev mode listens on loopback by default and refuses other
// addresses without AUTHSVC_DEV_LISTEN_PUBLIC, and production drains for 5s by default.
type Conf struct {
	// GRPCAddr, HTTPAddr and AdminAddr are the listen addresses, host:port with a port from 1 to
	// 65535. Port 0 (any free port) is refused like any port outside that range: clients, probes
	// and Services need a known port, and ":0" is more often a templating mistake than a wish.
	// Tests that want ephemeral ports set the fields after loading, outside user configuration.
	GRPCAddr, HTTPAddr, AdminAddr string
	// TLS of the gRPC and REST ports (the admin port stays plain: it is internal).
	TLS TLSConfig
	// DrainDelay is how long shutdown keeps serving, not ready, before the listeners close.
	DrainDelay time.Duration
	// ShutdownGrace bounds graceful shutdown before in-flight RPCs are cut.
	ShutdownGrace time.Duration
}

// ListenAddr is one listen setting: the variable that names it and the address.
type ListenAddr struct{ Env, Addr string }

// ListenAddrs lists the three listen settings.
func (c *Conf) ListenAddrs() []ListenAddr {
	return []ListenAddr{{EnvGRPCAddr, c.GRPCAddr}, {EnvHTTPAddr, c.HTTPAddr}, {EnvAdminAddr, c.AdminAddr}}
}

// Key implements setting.Section.
func (*Conf) Key() string { return "server" }

// Vars implements setting.Section.
func (c *Conf) Vars() []setting.Var {
	addr := func(dst *string) func(string) error {
		return func(s string) error {
			if s != "" { // empty keeps the default, as an empty variable does
				*dst = s
			}
			return nil
		}
	}
	file := func(dst *string) func(string) error {
		return func(s string) error { *dst = s; return nil }
	}
	return []setting.Var{
		{Env: EnvGRPCAddr, Flag: "grpc-addr", Usage: "gRPC listen address (default " + devListenHost + ":" + DefaultGRPCPort + " in dev mode, :" + DefaultGRPCPort + " otherwise)", Set: addr(&c.GRPCAddr)},
		{Env: EnvHTTPAddr, Flag: "http-addr", Usage: "REST gateway listen address (default " + devListenHost + ":" + DefaultHTTPPort + " in dev mode, :" + DefaultHTTPPort + " otherwise)", Set: addr(&c.HTTPAddr)},
		{Env: EnvAdminAddr, Flag: "admin-addr", Usage: "internal admin address for /metrics and pprof (default " + devListenHost + ":" + DefaultAdminPort + " in dev mode, :" + DefaultAdminPort + " otherwise)", Set: addr(&c.AdminAddr)},
		{Env: EnvTLSCertFile, Flag: "tls-cert-file", Usage: "PEM certificate (chain) served on the gRPC and REST ports; empty serves plain TCP", Set: file(&c.TLS.CertFile)},
		{Env: EnvTLSKeyFile, Flag: "tls-key-file", Usage: "PEM private key of AUTHSVC_TLS_CERT_FILE", Set: file(&c.TLS.KeyFile)},
		{Env: EnvTLSClientCA, Flag: "tls-client-ca-file", Usage: "PEM CA certificates; when set, gRPC clients must present a certificate they signed (mutual TLS)", Set: file(&c.TLS.ClientCAFile)},
		{Env: EnvDrainDelay, Flag: "drain-delay", Usage: "on shutdown, how long to keep serving with readiness failing before the listeners close (default: 5s when AUTHSVC_ENV=production, else 0)", Set: func(s string) error {
			if s == "" { // the default, which internal/config sets from AUTHSVC_ENV
				return nil
			}
			return duration(&c.DrainDelay, s, "5s")
		}},
		{Env: EnvShutdownGrace, Flag: "shutdown-grace", Default: "20s", Usage: "how long in-flight calls may finish on shutdown", Set: func(s string) error {
			return duration(&c.ShutdownGrace, s, "20s")
		}},
	}
}

func duration(dst *time.Duration, s, example string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a non-negative duration such as %s", s, example)
	}
	*dst = d
	return nil
}

// SetDefaults implements setting.Section: every interface on the default ports, plain TCP, no
// drain delay, 20s of grace.
func (c *Conf) SetDefaults() {
	*c = Conf{ShutdownGrace: 20 * time.Second}
	c.SetDefaultHost("")
}

// SetDefaultHost sets the three listen addresses to host with their default ports (internal/config
// calls it with 127.0.0.1 in dev mode, before the settings given apply).
func (c *Conf) SetDefaultHost(host string) {
	c.GRPCAddr = net.JoinHostPort(host, DefaultGRPCPort)
	c.HTTPAddr = net.JoinHostPort(host, DefaultHTTPPort)
	c.AdminAddr = net.JoinHostPort(host, DefaultAdminPort)
}

// Validate implements setting.Section. It loads the TLS files, so that a wrong path or a key that
// does not match its certificate fails at startup with the variable's name rather than at the
// first handshake (New loads them again to serve them).
func (c *Conf) Validate() error {
	for _, l := range c.ListenAddrs() {
		if err := checkListenAddr(l.Addr); err != nil {
			return setting.Named(l.Env, err)
		}
	}
	for _, d := range []struct {
		env string
		d   time.Duration
	}{{EnvDrainDelay, c.DrainDelay}, {EnvShutdownGrace, c.ShutdownGrace}} {
		if d.d < 0 {
			return fmt.Errorf("%s: %s is negative", d.env, d.d)
		}
	}
	return c.TLS.validate()
}

func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	// ParseUint, not Atoi: "+80" and " 80" are not ports. A service name such as "http", which
	// net.Listen would accept, is refused too: the port must be readable from the configuration.
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("port %q of %q is not a number from 1 to 65535", port, addr)
	}
	return nil
}

// Enabled reports whether the public ports serve TLS.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" }

func (t TLSConfig) validate() error {
	switch {
	case t.CertFile == "" && t.KeyFile != "":
		return errors.New(EnvTLSCertFile + ": required with " + EnvTLSKeyFile)
	case t.CertFile != "" && t.KeyFile == "":
		return errors.New(EnvTLSKeyFile + ": required with " + EnvTLSCertFile)
	case t.CertFile == "" && t.ClientCAFile != "":
		return errors.New(EnvTLSClientCA + ": mutual TLS needs " + EnvTLSCertFile + " and " + EnvTLSKeyFile)
	}
	if t.CertFile != "" {
		if _, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile); err != nil {
			// The error names files and parse failures, never key material.
			return fmt.Errorf("%s: cannot load %q with key %q: %w", EnvTLSCertFile, t.CertFile, t.KeyFile, err)
		}
	}
	if t.ClientCAFile != "" {
		pem, err := os.ReadFile(t.ClientCAFile)
		if err != nil {
			return fmt.Errorf("%s: cannot read %q: %w", EnvTLSClientCA, t.ClientCAFile, errors.Unwrap(err))
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s: %q holds no PEM certificate", EnvTLSClientCA, t.ClientCAFile)
		}
	}
	return nil
}
