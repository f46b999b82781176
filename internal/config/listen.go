package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Default listen addresses. Dev mode binds loopback only: it serves /dev/outbox (live login tokens
// and codes) and an unauthenticated /dev/m2m/clients, which must not reach the network by accident.
// A deployment with Stytch credentials listens on every interface, as a container must.
const (
	defaultGRPCPort  = "9090"
	defaultHTTPPort  = "8080"
	defaultAdminPort = "9091"
	devListenHost    = "127.0.0.1"
)

// devListenPublicEnv is the opt-in that lets dev mode listen beyond loopback.
const devListenPublicEnv = "AUTHSVC_DEV_LISTEN_PUBLIC"

// listenRaw holds the text of the listen settings until dev mode is known.
type listenRaw struct{ grpc, http, admin, devPublic string }

func (r *listenRaw) settings() []setting {
	return []setting{
		{"AUTHSVC_GRPC_ADDR", "grpc-addr", "", "gRPC listen address (default " + devListenHost + ":" + defaultGRPCPort + " in dev mode, :" + defaultGRPCPort + " otherwise)", &r.grpc, false},
		{"AUTHSVC_HTTP_ADDR", "http-addr", "", "REST gateway listen address (default " + devListenHost + ":" + defaultHTTPPort + " in dev mode, :" + defaultHTTPPort + " otherwise)", &r.http, false},
		{"AUTHSVC_ADMIN_ADDR", "admin-addr", "", "internal admin address for /metrics and pprof (default " + devListenHost + ":" + defaultAdminPort + " in dev mode, :" + defaultAdminPort + " otherwise)", &r.admin, false},
		{devListenPublicEnv, "dev-listen-public", "false", "let dev mode listen on non-loopback addresses, exposing /dev/outbox (login tokens) and /dev/m2m/clients to the network", &r.devPublic, true},
	}
}

// listenAddr is one listen setting: the variable that names it and the address.
type listenAddr struct{ env, addr string }

func (c *Config) listenAddrs() []listenAddr {
	return []listenAddr{{"AUTHSVC_GRPC_ADDR", c.GRPCAddr}, {"AUTHSVC_HTTP_ADDR", c.HTTPAddr}, {"AUTHSVC_ADMIN_ADDR", c.AdminAddr}}
}

// loadListen applies the mode-dependent defaults and validates the addresses. Port 0 (any free
// port) is refused like any port outside 1-65535: clients, probes and Services need a known port,
// and ":0" is more often a templating mistake than a wish. Tests that want ephemeral ports set the
// Config fields after Load (internal/apptest), outside user configuration.
func (c *Config) loadListen(r listenRaw) error {
	var err error
	if c.DevListenPublic, err = strconv.ParseBool(r.devPublic); err != nil {
		return fmt.Errorf("%s: %q is not a boolean", devListenPublicEnv, r.devPublic)
	}
	host := ""
	if c.DevMode() {
		host = devListenHost
	}
	orDefault := func(v, port string) string {
		if v == "" {
			return net.JoinHostPort(host, port)
		}
		return v
	}
	c.GRPCAddr = orDefault(r.grpc, defaultGRPCPort)
	c.HTTPAddr = orDefault(r.http, defaultHTTPPort)
	c.AdminAddr = orDefault(r.admin, defaultAdminPort)
	for _, l := range c.listenAddrs() {
		if err := checkListenAddr(l.addr); err != nil {
			return fmt.Errorf("%s: %w", l.env, err)
		}
	}
	if c.DevMode() && !c.DevListenPublic {
		for _, l := range c.listenAddrs() {
			if !isLoopback(l.addr) {
				return fmt.Errorf("%s: %q is not a loopback address, and dev mode serves login tokens at /dev/outbox "+
					"and unauthenticated M2M client creation at /dev/m2m/clients; listen on 127.0.0.1 or set %s=true",
					l.env, l.addr, devListenPublicEnv)
			}
		}
	}
	return nil
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

// isLoopback reports whether addr (host:port, already checked) listens on loopback only. An empty
// host or an unspecified address listens everywhere; a host name other than localhost may resolve
// to anything.
func isLoopback(addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// ExposedDevAddrs lists, in dev mode, the listen settings whose address is not loopback (possible
// only with AUTHSVC_DEV_LISTEN_PUBLIC), as "VARIABLE=address"; nil otherwise. cmd/authsvc warns
// with it at startup.
func (c *Config) ExposedDevAddrs() []string {
	if !c.DevMode() {
		return nil
	}
	var out []string
	for _, l := range c.listenAddrs() {
		if !isLoopback(l.addr) {
			out = append(out, l.env+"="+l.addr)
		}
	}
	return out
}
