package admission

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/redistest"
)

type call struct {
	method string
	req    any
	ip     string
}

// run sends one call through the interceptor to a handler answering with code, and reports
// whether the handler ran.
func run(t *testing.T, c *Controller, cl call, code codes.Code) (bool, error) {
	t.Helper()
	ip := cl.ip
	if ip == "" {
		ip = "203.0.113.9"
	}
	ctx := peer.NewContext(t.Context(), &peer.Peer{Addr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 5000))})
	ran := false
	_, err := c.UnaryServerInterceptor()(ctx, cl.req, &grpc.UnaryServerInfo{FullMethod: cl.method}, func(context.Context, any) (any, error) {
		ran = true
		if code != codes.OK {
			return nil, status.Error(code, "handler")
		}
		return &b2bv1.OTPsServiceEmailLoginOrSignupResponse{}, nil
	})
	return ran, err
}

func retryDelay(t *testing.T, err error) time.Duration {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	t.Fatalf("no RetryInfo in %v", err)
	return 0
}

func sendTo(email, ip string) call {
	return call{b2bv1.OTPsService_EmailLoginOrSignup_FullMethodName, &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: "org", EmailAddress: email}, ip}
}

func smsCheck(member, ip string) call {
	return call{b2bv1.OTPsService_SmsAuthenticate_FullMethodName, &b2bv1.OTPsServiceSmsAuthenticateRequest{OrganizationId: "org", MemberId: member, Code: "123456"}, ip}
}

func TestSendBudgets(t *testing.T) {
	clk := newClock()
	c, err := New(Config{Now: clk.Now})
	require.NoError(t, err)

	for i := range 5 {
		ran, err := run(t, c, sendTo("a@example.com", ""), codes.OK)
		require.NoError(t, err, "send %d", i+1)
		require.True(t, ran)
	}
	ran, err := run(t, c, sendTo("A+again@example.com", "198.51.100.1"), codes.OK)
	require.Equal(t, codes.ResourceExhausted, status.Code(err))
	assert.False(t, ran, "refused before the handler")
	assert.Equal(t, 2*time.Minute, retryDelay(t, err))

	ran, err = run(t, c, sendTo("b@example.com", ""), codes.OK)
	require.NoError(t, err, "another address has its own budget")
	assert.True(t, ran)

	// The per-IP budget: 60 per minute from one address, over any recipients.
	for i := range 54 { // 6 spent above
		_, err := run(t, c, sendTo(string(rune('a'+i%26))+"-"+string(rune('a'+i/26))+"@x.example", ""), codes.OK)
		require.NoError(t, err, "send %d", i)
	}
	_, err = run(t, c, sendTo("fresh@example.com", ""), codes.OK)
	require.Equal(t, codes.ResourceExhausted, status.Code(err))
	_, err = run(t, c, sendTo("fresh@example.com", "198.51.100.2"), codes.OK)
	require.NoError(t, err, "the refused call spent nothing of fresh@'s budget")
}

func TestPhonePrefixBudget(t *testing.T) {
	p := DefaultPolicy()
	p.SendPerPhonePrefix = Rate{Events: 2, Per: time.Hour}
	c, err := New(Config{Policy: p})
	require.NoError(t, err)
	sms := func(phone, ip string) call {
		return call{b2bv1.OTPsService_SmsSend_FullMethodName, &b2bv1.OTPsServiceSmsSendRequest{
			OrganizationId: "org", MemberId: "m-" + phone, MfaPhoneNumber: phone,
			Credential: &b2bv1.OTPsServiceSmsSendRequest_IntermediateSessionToken{IntermediateSessionToken: "ist"},
		}, ip}
	}
	_, err = run(t, c, sms("+882130000001", "198.51.100.1"), codes.OK)
	require.NoError(t, err)
	_, err = run(t, c, sms("+882130000002", "198.51.100.2"), codes.OK)
	require.NoError(t, err)
	_, err = run(t, c, sms("+882130000003", "198.51.100.3"), codes.OK)
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "a third number in the same range, from a third IP")
	_, err = run(t, c, sms("+447700900001", "198.51.100.4"), codes.OK)
	require.NoError(t, err, "another range")
}

// Only failed checks spend the failure budget; successes and authsvc's or Stytch's own failures
// give the reserved attempt back.
func TestFailureBudgetCountsFailuresOnly(t *testing.T) {
	clk := newClock()
	c, err := New(Config{Now: clk.Now})
	require.NoError(t, err)
	for _, code := range []codes.Code{codes.OK, codes.Unavailable, codes.Internal, codes.DeadlineExceeded, codes.Canceled, codes.OK, codes.ResourceExhausted} {
		_, err := run(t, c, smsCheck("m1", ""), code)
		require.Equal(t, code, status.Code(err))
	}
	for i := range 5 {
		ran, err := run(t, c, smsCheck("m1", ""), codes.Unauthenticated)
		require.Equal(t, codes.Unauthenticated, status.Code(err), "failure %d", i+1)
		require.True(t, ran)
	}
	ran, err := run(t, c, smsCheck("m1", "198.51.100.9"), codes.OK)
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "locked whatever the IP")
	assert.False(t, ran)
	assert.Equal(t, 10*time.Minute, retryDelay(t, err))

	ran, err = run(t, c, smsCheck("m2", ""), codes.NotFound)
	require.Equal(t, codes.NotFound, status.Code(err), "another member is not locked")
	assert.True(t, ran)

	clk.Advance(10 * time.Minute)
	_, err = run(t, c, smsCheck("m1", ""), codes.OK)
	require.NoError(t, err, "the window has passed")
}

func TestMethodsOutsideTheTablePass(t *testing.T) {
	c, err := New(Config{})
	require.NoError(t, err)
	for range 200 {
		ran, err := run(t, c, call{"/grpc.health.v1.Health/Check", nil, ""}, codes.OK)
		require.NoError(t, err)
		require.True(t, ran)
	}
}

// With the shared store down, each class follows its fail mode.
func TestFailModes(t *testing.T) {
	srv := redistest.Start(t)
	clk := newClock()
	rdb := openRedis(t, srv.URL(), clk.Now)
	srv.Stop(t)

	for name, tc := range map[string]struct {
		mode     FailMode
		call     call
		wantCode codes.Code // of the first call
		limited  bool       // whether the 6th failure is refused
	}{
		"sends closed":  {FailClosed, sendTo("a@example.com", ""), codes.Unavailable, false},
		"sends open":    {FailOpen, sendTo("a@example.com", ""), codes.OK, false},
		"sends local":   {FailLocal, sendTo("a@example.com", ""), codes.OK, true},
		"checks open":   {FailOpen, smsCheck("m1", ""), codes.OK, false},
		"checks local":  {FailLocal, smsCheck("m1", ""), codes.OK, true},
		"checks closed": {FailClosed, smsCheck("m1", ""), codes.Unavailable, false},
	} {
		t.Run(name, func(t *testing.T) {
			p := DefaultPolicy()
			p.SendsOnStoreError, p.ChecksOnStoreError = tc.mode, tc.mode
			var logs bytes.Buffer
			c, err := New(Config{Policy: p, Store: NewRedisStore(rdb), Now: clk.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			require.NoError(t, err)
			handlerCode := codes.OK
			if tc.call.method == b2bv1.OTPsService_SmsAuthenticate_FullMethodName {
				handlerCode = codes.Unauthenticated
			}
			_, err = run(t, c, tc.call, handlerCode)
			if tc.wantCode == codes.OK {
				require.Equal(t, handlerCode, status.Code(err))
			} else {
				require.Equal(t, tc.wantCode, status.Code(err))
				return
			}
			for range 4 {
				_, err = run(t, c, tc.call, handlerCode)
				require.Equal(t, handlerCode, status.Code(err))
			}
			_, err = run(t, c, tc.call, handlerCode)
			if tc.limited {
				assert.Equal(t, codes.ResourceExhausted, status.Code(err), "per-replica limits still hold")
			} else {
				assert.Equal(t, handlerCode, status.Code(err))
			}
			assert.Contains(t, logs.String(), "shared store unavailable")
			assert.Equal(t, 1, bytes.Count(logs.Bytes(), []byte("shared store unavailable")), "logging is rate limited")
		})
	}
}

// IssueToken counts failures after the fact: 50 concurrent calls for one client (a service
// starting its workers) are all admitted; five wrong secrets lock that client from that IP only.
func TestIssueTokenCountsFailuresAfter(t *testing.T) {
	c, err := New(Config{})
	require.NoError(t, err)
	issue := func(ip string) call {
		return call{m2mv1.M2MService_IssueToken_FullMethodName, &m2mv1.IssueTokenRequest{ClientId: "client-1", ClientSecret: "secret"}, ip}
	}
	release := make(chan struct{})
	started := make(chan struct{}, 50)
	errs := make(chan error, 50)
	for range 50 {
		go func() {
			ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: net.TCPAddrFromAddrPort(netip.MustParseAddrPort("203.0.113.9:5000"))})
			_, err := c.UnaryServerInterceptor()(ctx, issue("").req, &grpc.UnaryServerInfo{FullMethod: issue("").method}, func(context.Context, any) (any, error) {
				started <- struct{}{}
				<-release
				return &m2mv1.IssueTokenResponse{}, nil
			})
			errs <- err
		}()
	}
	for range 50 {
		<-started // every call reached the handler while the others were in flight
	}
	close(release)
	for range 50 {
		require.NoError(t, <-errs)
	}

	for range 5 {
		_, err := run(t, c, issue(""), codes.Unauthenticated)
		require.Equal(t, codes.Unauthenticated, status.Code(err))
	}
	ran, err := run(t, c, issue(""), codes.OK)
	require.Equal(t, codes.ResourceExhausted, status.Code(err))
	assert.False(t, ran)
	_, err = run(t, c, issue("198.51.100.1"), codes.OK)
	require.NoError(t, err, "the same client from another IP is not locked out")
}
