package admission

import (
	"context"
	"net"
	"net/netip"
	"strings"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/authsvc/authsvc/internal/callmeta"
)

// maxForwardedHops bounds how much of a X-Forwarded-For chain is read: a client can send any
// number of entries, and only the right-most ones (appended by our own proxies) matter.
const maxForwardedHops = 16

// IPResolver finds the client IP of a call.
//
// A direct gRPC caller's IP is the connection's peer address. A call that passed through trusted
// proxies carries the chain of addresses: the REST gateway turns the HTTP request's
// X-Forwarded-For into that chain and appends the HTTP peer address (grpc-gateway does this
// itself), and asserts it on its own calls only (callmeta.Forwarded); a gRPC caller behind a
// configured proxy carries it in x-forwarded-for metadata. The chain is read from the right,
// skipping every hop that is trusted, and the first untrusted address is the client. Anything left
// of it was written by the client and is ignored, so a client cannot choose its own key.
//
// The gateway's own hop is trusted because only it can assert callmeta.Forwarded; a gRPC peer on
// loopback is not trusted by being on loopback. Further hops are trusted only when configured:
// list the load balancers, ingress proxies and sidecars in front of authsvc (127.0.0.1/32 for a
// sidecar proxy). With none, a REST client's IP is the HTTP peer address and every
// X-Forwarded-For entry the client sent is ignored.
type IPResolver struct {
	trusted []netip.Prefix
}

// NewIPResolver trusts the given proxy prefixes (and loopback).
func NewIPResolver(trusted []netip.Prefix) *IPResolver {
	return &IPResolver{trusted: append([]netip.Prefix(nil), trusted...)}
}

// isTrusted reports whether a is a configured proxy.
func (r *IPResolver) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the client's address; the zero Addr when the call has no usable peer.
func (r *IPResolver) ClientIP(ctx context.Context) netip.Addr {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return netip.Addr{}
	}
	client := parseHop(p.Addr.String())
	var chain []string
	if f, ok := callmeta.ForwardedFrom(ctx); ok {
		chain = f.ForwardedFor
	} else if client.IsValid() && r.isTrusted(client) {
		md, _ := metadata.FromIncomingContext(ctx)
		chain = md.Get("x-forwarded-for")
	} else {
		return client
	}
	hops := forwardedHops(chain)
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHop(hops[i])
		if !a.IsValid() {
			// A trusted hop forwarded garbage: stop at the last address we could trust.
			return client
		}
		client = a
		if !r.isTrusted(a) {
			return a
		}
	}
	return client
}

// forwardedHops splits x-forwarded-for values into hops, keeping at most the right-most
// maxForwardedHops.
func forwardedHops(values []string) []string {
	var hops []string
	for i := len(values) - 1; i >= 0 && len(hops) < maxForwardedHops; i-- {
		parts := strings.Split(values[i], ",")
		for j := len(parts) - 1; j >= 0 && len(hops) < maxForwardedHops; j-- {
			hops = append(hops, strings.TrimSpace(parts[j]))
		}
	}
	// hops is right-to-left; return it left-to-right.
	for i, j := 0, len(hops)-1; i < j; i, j = i+1, j-1 {
		hops[i], hops[j] = hops[j], hops[i]
	}
	return hops
}

// parseHop reads "ip", "ip:port" or "[ipv6]:port".
func parseHop(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap()
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap()
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.WithZone("").Unmap()
		}
	}
	return netip.Addr{}
}
