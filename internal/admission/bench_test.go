package admission

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/redistest"
)

// BenchmarkAdmissionCheck is the interceptor's cost per admitted call, handler doing nothing, with
// budgets in memory and in a real redis-server on loopback:
//   - send: EmailLoginOrSignup, three budgets spent (IP, caller skipped, email);
//   - check: SmsAuthenticate that succeeds: attempts per IP, a per-member failure reservation given
//     back, a peek at the per-IP failure count;
//   - exempt: Sessions.Authenticate, one map lookup.
//
// Budgets are set high so that every call is admitted; each iteration uses a new email or member so
// that keys vary as in production.
func BenchmarkAdmissionCheck(b *testing.B) {
	huge := Rate{Events: 1 << 30, Per: time.Hour}
	p := DefaultPolicy()
	p.SendPerIP, p.SendPerEmail, p.CheckPerIP = huge, huge, huge

	stores := map[string]func(b *testing.B) Store{
		"memory": func(*testing.B) Store { return NewMemoryStore(0, nil) },
		"redis": func(b *testing.B) Store {
			return NewRedisStore(openRedis(b, redistest.Start(b).URL(), nil))
		},
	}
	var n atomic.Int64
	cases := []struct {
		name   string
		method string
		req    func() any
	}{
		{"send", b2bv1.OTPsService_EmailLoginOrSignup_FullMethodName, func() any {
			return &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: "org", EmailAddress: fmt.Sprintf("user%d@example.com", n.Add(1))}
		}},
		{"check", b2bv1.OTPsService_SmsAuthenticate_FullMethodName, func() any {
			return &b2bv1.OTPsServiceSmsAuthenticateRequest{OrganizationId: "org", MemberId: fmt.Sprintf("member-%d", n.Add(1)), Code: "123456"}
		}},
		{"exempt", b2bv1.SessionsService_Authenticate_FullMethodName, func() any {
			return &b2bv1.SessionsServiceAuthenticateRequest{}
		}},
	}
	ok := func(context.Context, any) (any, error) { return nil, nil }
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("203.0.113.9"), 5000))})
	for _, store := range []string{"memory", "redis"} {
		b.Run(store, func(b *testing.B) {
			c, err := New(Config{Policy: p, Store: stores[store](b)})
			if err != nil {
				b.Fatal(err)
			}
			intercept := c.UnaryServerInterceptor()
			for _, tc := range cases {
				info := &grpc.UnaryServerInfo{FullMethod: tc.method}
				b.Run(tc.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := intercept(ctx, tc.req(), info, ok); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run(tc.name+"_parallel", func(b *testing.B) {
					b.ReportAllocs()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if _, err := intercept(ctx, tc.req(), info, ok); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			}
		})
	}
}
