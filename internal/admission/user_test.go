package admission

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	accessv1 "github.com/authsvc/authsvc/gen/go/authsvc/access/v1"
	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/access"
)

// Consumer user budgets. The consumer API's messages are not linked here, so a B2B request's
// string field (member_id) stands for a user ID field: the key part reads any string field.

func TestUserFieldKeyPartIsTheLowerCaseUserID(t *testing.T) {
	key, err := keyOf([]*accessv1.KeyPart{{Part: &accessv1.KeyPart_UserField{UserField: "member_id"}}})
	require.NoError(t, err)
	ci := &callInfo{ip: netip.MustParseAddr("203.0.113.9")}
	for _, spelling := range []string{"user-test-0a1b-CDEF", "USER-TEST-0A1B-cdef", "user-test-0a1b-cdef"} {
		got, ok := key.extract(t.Context(), (&b2bv1.OTPsServiceSmsAuthenticateRequest{MemberId: spelling}).ProtoReflect(), ci)
		assert.True(t, ok)
		assert.Equal(t, "user-test-0a1b-cdef", got, "every spelling of one user is one budget")
	}
	_, ok := key.extract(t.Context(), (&b2bv1.OTPsServiceSmsAuthenticateRequest{}).ProtoReflect(), ci)
	assert.False(t, ok, "no user named: the budget is skipped")

	_, err = keyOf([]*accessv1.KeyPart{{}})
	require.Error(t, err, "a part with no kind is still refused")
	require.NoError(t, key.check(b2bv1.File_authsvc_b2b_v1_otps_proto.Messages().ByName("OTPsServiceSmsAuthenticateRequest")))
	require.Error(t, key.check(b2bv1.File_authsvc_b2b_v1_otps_proto.Messages().ByName("OTPsServiceEmailLoginOrSignupRequest")), "a missing field is refused")
}

// runAs is run with the caller the access interceptor would have put in the context.
func runAs(t *testing.T, c *Controller, p access.Principal, cl call, code codes.Code) error {
	t.Helper()
	ctx := peer.NewContext(access.WithPrincipal(t.Context(), p), &peer.Peer{Addr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(cl.ip), 5000))})
	_, err := c.UnaryServerInterceptor()(ctx, cl.req, &grpc.UnaryServerInfo{FullMethod: cl.method}, func(context.Context, any) (any, error) {
		if code != codes.OK {
			return nil, status.Error(code, "handler")
		}
		return &b2bv1.OTPsServiceSmsAuthenticateResponse{}, nil
	})
	return err
}

// A user caller has a per-caller budget of its own (keyed by its user ID, as the access layer names
// it), and a user_field budget counts one user in every spelling.
func TestUserCallerAndUserFieldBudgets(t *testing.T) {
	clk := newClock()
	method := b2bv1.OTPsService_SmsAuthenticate_FullMethodName
	p := DefaultPolicy()
	p.SendPerCaller = Rate{Events: 2, Per: time.Hour}
	p.CheckFailuresPerTarget = Failures{Max: 2, Window: time.Hour}
	c, err := New(Config{
		Now: clk.Now, Policy: p,
		Caller: func(ctx context.Context) string { return access.From(ctx).CallerKey() },
		Table: Table{method: Rule{Limits: []Apply{
			{Limit: LimitSendCaller, Key: ByCaller()},
			{Limit: LimitCheckFailuresTarget, Key: ByUser("member_id")},
		}}},
	})
	require.NoError(t, err)
	uma := access.Principal{Kind: access.KindUser, UserID: "user-test-uma"}
	ugo := access.Principal{Kind: access.KindUser, UserID: "user-test-ugo"}
	about := func(user, ip string) call {
		return call{method, &b2bv1.OTPsServiceSmsAuthenticateRequest{MemberId: user, Code: "123456"}, ip}
	}

	require.NoError(t, runAs(t, c, uma, about("user-test-a", "198.51.100.1"), codes.OK))
	require.NoError(t, runAs(t, c, uma, about("user-test-b", "198.51.100.2"), codes.OK))
	err = runAs(t, c, uma, about("user-test-c", "198.51.100.3"), codes.OK)
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "uma's third call, from any IP, about anyone")
	require.NoError(t, runAs(t, c, ugo, about("user-test-c", "198.51.100.3"), codes.OK), "another user has a budget of its own")

	anon := access.Principal{Kind: access.KindPublic}
	for _, spelling := range []string{"user-test-target", "USER-TEST-TARGET"} {
		err := runAs(t, c, anon, about(spelling, "198.51.100.4"), codes.Unauthenticated)
		require.Equal(t, codes.Unauthenticated, status.Code(err))
	}
	err = runAs(t, c, anon, about("User-Test-Target", "198.51.100.5"), codes.OK)
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "two failures for one user, in two spellings, lock the third")
}
