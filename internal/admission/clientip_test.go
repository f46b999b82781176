package admission_test

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/callmeta"
)

func callFrom(peerAddr string, xff ...string) context.Context {
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: net.TCPAddrFromAddrPort(netip.MustParseAddrPort(peerAddr))})
	if len(xff) > 0 {
		md := metadata.MD{}
		for _, v := range xff {
			md.Append("x-forwarded-for", v)
		}
		ctx = metadata.NewIncomingContext(ctx, md)
	}
	return ctx
}

// restFrom is a call the REST gateway of this process made (over loopback), asserting the HTTP
// request's X-Forwarded-For chain with the HTTP peer appended, as the gateway-trust step records it.
func restFrom(xff ...string) context.Context {
	return callmeta.WithForwarded(callFrom("127.0.0.1:40000"), callmeta.Forwarded{ForwardedFor: xff})
}

func TestClientIP(t *testing.T) {
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:1::/48")}
	for name, tc := range map[string]struct {
		trusted []netip.Prefix
		ctx     context.Context
		want    string
	}{
		"direct gRPC caller":                      {lb, callFrom("203.0.113.9:5000"), "203.0.113.9"},
		"direct caller's X-Forwarded-For ignored": {lb, callFrom("203.0.113.9:5000", "198.51.100.1"), "203.0.113.9"},
		// REST: the gateway dials over loopback and appends the HTTP peer.
		"REST, browser directly":                {nil, restFrom("203.0.113.9"), "203.0.113.9"},
		"REST, spoofed header, no trusted LB":   {nil, restFrom("1.2.3.4, 203.0.113.9"), "203.0.113.9"},
		"REST through a trusted LB":             {lb, restFrom("203.0.113.9, 10.1.2.3"), "203.0.113.9"},
		"REST through a trusted LB, spoof left": {lb, restFrom("1.2.3.4, 203.0.113.9, 10.1.2.3"), "203.0.113.9"},
		"REST, untrusted hop in the middle":     {lb, restFrom("203.0.113.9, 198.51.100.7, 10.1.2.3"), "198.51.100.7"},
		"several header lines":                  {lb, restFrom("1.2.3.4", "203.0.113.9, 10.1.2.3"), "203.0.113.9"},
		"ports and brackets":                    {lb, restFrom("[2001:db8:2::5]:443, 10.1.2.3:80"), "2001:db8:2::5"},
		"garbage behind a trusted hop":          {lb, restFrom("not-an-ip, 10.1.2.3"), "10.1.2.3"},
		"all hops trusted":                      {lb, restFrom("10.9.9.9, 10.1.2.3"), "10.9.9.9"},
		"local sidecar, not configured":         {lb, restFrom("1.2.3.4, 127.0.0.1"), "127.0.0.1"},
		"local sidecar, configured":             {[]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, restFrom("1.2.3.4, 127.0.0.1"), "1.2.3.4"},
		// Only the gateway asserts a chain: a gRPC caller on loopback is not the gateway.
		"loopback gRPC caller's X-Forwarded-For ignored": {nil, callFrom("127.0.0.1:40000", "203.0.113.9"), "127.0.0.1"},
		"trusted proxy as gRPC peer":                     {lb, callFrom("10.1.2.3:5000", "203.0.113.9"), "203.0.113.9"},
		"loopback caller without a header":               {nil, callFrom("127.0.0.1:40000"), "127.0.0.1"},
		"IPv4-mapped peer":                               {nil, callFrom("[::ffff:203.0.113.9]:5000"), "203.0.113.9"},
		"no peer":                                        {nil, context.Background(), "invalid IP"},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, admission.NewIPResolver(tc.trusted).ClientIP(tc.ctx).String())
		})
	}
}
