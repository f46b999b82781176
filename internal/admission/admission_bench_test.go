package admission

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
)

// BenchmarkAdmissionPaths covers what BenchmarkAdmissionCheck (bench_test.go: sends, checks and
// exempt RPCs within budget, memory and Redis) does not: a credential check that passes with the
// default budgets (IssueToken: reserve a failure slot, give it back) and a send refused with
// RetryInfo. In-memory store, handler doing nothing.
func BenchmarkAdmissionPaths(b *testing.B) {
	ok := func(context.Context, any) (any, error) { return &b2bv1.OTPsServiceEmailLoginOrSignupResponse{}, nil }
	cases := []struct {
		name   string
		policy Policy
		method string
		req    any
		want   codes.Code
	}{
		{
			"check_passes_issue_token", DefaultPolicy(), m2mv1.M2MService_IssueToken_FullMethodName,
			&m2mv1.IssueTokenRequest{ClientId: "m2m-client-test-1", ClientSecret: "s"}, codes.OK,
		},
		{
			"send_refused", DefaultPolicy(), b2bv1.MagicLinksService_LoginOrSignup_FullMethodName,
			&b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: "org", EmailAddress: "ada@example.com"}, codes.ResourceExhausted,
		},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			c, err := New(Config{Policy: tc.policy})
			if err != nil {
				b.Fatal(err)
			}
			intercept := c.UnaryServerInterceptor()
			ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("203.0.113.9"), 5000))})
			info := &grpc.UnaryServerInfo{FullMethod: tc.method}
			call := func() error {
				_, err := intercept(ctx, tc.req, info, ok)
				return err
			}
			// Spend the budget first where the case is the refusal.
			for range 100 {
				if err := call(); tc.want == codes.OK && err != nil {
					b.Fatalf("warm-up call refused: %v", err)
				}
			}
			if got := status.Code(call()); got != tc.want {
				b.Fatalf("code = %v, want %v", got, tc.want)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				_ = call()
			}
		})
	}
}
