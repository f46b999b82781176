package config

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Dev mode binds loopback only: it serves /dev/outbox (live login tokens and codes), an
// unauthenticated /dev/m2m/clients and the dev console at /dev/ (which shows both), which must not
// reach the network by accident. A deployment
// with Stytch credentials listens on every interface, as a container must (internal/server's
// defaults).
const devListenHost = "127.0.0.1"

// devListenPublicEnv is the opt-in that lets dev mode listen beyond loopback.
const devListenPublicEnv = "AUTHSVC_DEV_LISTEN_PUBLIC"

// checkDevListen refuses, in dev mode without the opt-in, a listen address that is not loopback.
// internal/server has checked the addresses' form.
func (c *Config) checkDevListen() error {
	if !c.DevMode() || c.DevListenPublic {
		return nil
	}
	for _, l := range c.Server.ListenAddrs() {
		if !isLoopback(l.Addr) {
			return fmt.Errorf("%s: %q is not a loopback address, and dev mode serves login tokens at /dev/outbox "+
				"unauthenticated M2M client creation at /dev/m2m/clients and the dev console at /dev/; listen on 127.0.0.1 or set %s=true",
				l.Env, l.Addr, devListenPublicEnv)
		}
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
	for _, l := range c.Server.ListenAddrs() {
		if !isLoopback(l.Addr) {
			out = append(out, l.Env+"="+l.Addr)
		}
	}
	return out
}
