package idempotency_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/idempotency"
	"github.com/authsvc/authsvc/internal/redistest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"))
}

const send = b2bv1.OTPsService_EmailLoginOrSignup_FullMethodName

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// handler counts its calls and answers with a member ID per call, so that a replay is visible.
type handler struct {
	mu    sync.Mutex
	calls int
	fail  codes.Code
	// block, when set, holds the call until closed.
	block chan struct{}
	// started is signalled when a call begins.
	started chan struct{}
}

func (h *handler) handle(context.Context, any) (any, error) {
	h.mu.Lock()
	h.calls++
	n, fail, block, started := h.calls, h.fail, h.block, h.started
	h.mu.Unlock()
	if started != nil {
		started <- struct{}{}
	}
	if block != nil {
		<-block
	}
	if fail != codes.OK {
		return nil, status.Error(fail, "upstream said no")
	}
	return &b2bv1.OTPsServiceEmailLoginOrSignupResponse{MemberId: "member-" + strings.Repeat("x", n)}, nil
}

func (h *handler) count() int { h.mu.Lock(); defer h.mu.Unlock(); return h.calls }

func newInterceptor(t *testing.T, store idempotency.Store, clk *clock, caller string) grpc.UnaryServerInterceptor {
	t.Helper()
	i, err := idempotency.New(idempotency.Config{
		Store:   store,
		Applies: func(m string) bool { return m == send },
		Caller:  func(context.Context) string { return caller },
		Now:     clk.Now,
	})
	require.NoError(t, err)
	return i.UnaryServerInterceptor()
}

type serverStream struct {
	grpc.ServerTransportStream
	mu     sync.Mutex
	header metadata.MD
}

func (s *serverStream) Method() string { return send }

func (s *serverStream) SetHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = metadata.Join(s.header, md)
	return nil
}

func invoke(ctx context.Context, ic grpc.UnaryServerInterceptor, h *handler, method, key, email string) (*b2bv1.OTPsServiceEmailLoginOrSignupResponse, metadata.MD, error) {
	if key != "" {
		ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(idempotency.MetadataKey, key))
	}
	ss := &serverStream{}
	ctx = grpc.NewContextWithServerTransportStream(ctx, ss)
	resp, err := ic(ctx, &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: "org", EmailAddress: email}, &grpc.UnaryServerInfo{FullMethod: method}, h.handle)
	r, _ := resp.(*b2bv1.OTPsServiceEmailLoginOrSignupResponse)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return r, ss.header, err
}

func stores(t *testing.T, clk *clock) map[string]func(t *testing.T) idempotency.Store {
	t.Helper()
	return map[string]func(t *testing.T) idempotency.Store{
		"memory": func(*testing.T) idempotency.Store { return idempotency.NewMemoryStore(0, clk.Now) },
		"redis": func(t *testing.T) idempotency.Store {
			return idempotency.NewRedisStore(redistest.Start(t).Client(t))
		},
	}
}

func TestReplay(t *testing.T) {
	clk := &clock{t: time.Now()}
	for name, mk := range stores(t, clk) {
		t.Run(name, func(t *testing.T) {
			store := mk(t)
			ic := newInterceptor(t, store, clk, "service:c1")
			h := &handler{}
			first, hdr, err := invoke(t.Context(), ic, h, send, "k-1", "a@example.com")
			require.NoError(t, err)
			assert.Empty(t, hdr.Get(idempotency.ReplayedHeader))
			again, hdr, err := invoke(t.Context(), ic, h, send, "k-1", "a@example.com")
			require.NoError(t, err)
			assert.True(t, proto.Equal(first, again), "the first response is replayed")
			assert.Equal(t, []string{"true"}, hdr.Get(idempotency.ReplayedHeader))
			assert.Equal(t, 1, h.count())

			_, _, err = invoke(t.Context(), ic, h, send, "k-1", "b@example.com")
			assert.Equal(t, codes.InvalidArgument, status.Code(err), "same key, different request")
			assert.Equal(t, 1, h.count())

			// Another caller's identical key is another key.
			other := newInterceptor(t, store, clk, "service:c2")
			_, _, err = invoke(t.Context(), other, h, send, "k-1", "a@example.com")
			require.NoError(t, err)
			assert.Equal(t, 2, h.count())

			// Without a key, or on an RPC that does not honour keys, every call runs.
			for _, c := range []struct{ method, key string }{{send, ""}, {"/authsvc.b2b.v1.MembersService/Get", "k-1"}} {
				_, _, err = invoke(t.Context(), ic, h, c.method, c.key, "a@example.com")
				require.NoError(t, err)
			}
			assert.Equal(t, 4, h.count())
		})
	}
}

func TestFailureReleasesTheKey(t *testing.T) {
	clk := &clock{t: time.Now()}
	for name, mk := range stores(t, clk) {
		t.Run(name, func(t *testing.T) {
			ic := newInterceptor(t, mk(t), clk, "")
			h := &handler{fail: codes.Unavailable}
			_, _, err := invoke(t.Context(), ic, h, send, "k-2", "a@example.com")
			require.Equal(t, codes.Unavailable, status.Code(err))
			h.mu.Lock()
			h.fail = codes.OK
			h.mu.Unlock()
			_, hdr, err := invoke(t.Context(), ic, h, send, "k-2", "a@example.com")
			require.NoError(t, err, "the retry runs")
			assert.Empty(t, hdr.Get(idempotency.ReplayedHeader))
			assert.Equal(t, 2, h.count())
		})
	}
}

func TestConcurrentDuplicateIsAborted(t *testing.T) {
	clk := &clock{t: time.Now()}
	for name, mk := range stores(t, clk) {
		t.Run(name, func(t *testing.T) {
			ic := newInterceptor(t, mk(t), clk, "")
			h := &handler{block: make(chan struct{}), started: make(chan struct{}, 1)}
			done := make(chan error, 1)
			go func() {
				_, _, err := invoke(context.Background(), ic, h, send, "k-3", "a@example.com")
				done <- err
			}()
			<-h.started
			_, _, err := invoke(t.Context(), ic, h, send, "k-3", "a@example.com")
			assert.Equal(t, codes.Aborted, status.Code(err), "in flight")
			close(h.block)
			require.NoError(t, <-done)
			_, hdr, err := invoke(t.Context(), ic, h, send, "k-3", "a@example.com")
			require.NoError(t, err)
			assert.Equal(t, []string{"true"}, hdr.Get(idempotency.ReplayedHeader))
			assert.Equal(t, 1, h.count())
		})
	}
}

func TestExpiry(t *testing.T) {
	clk := &clock{t: time.Now()}
	ic := newInterceptor(t, idempotency.NewMemoryStore(0, clk.Now), clk, "")
	h := &handler{}
	_, _, err := invoke(t.Context(), ic, h, send, "k-4", "a@example.com")
	require.NoError(t, err)
	clk.Advance(idempotency.DefaultTTL - time.Second)
	_, _, err = invoke(t.Context(), ic, h, send, "k-4", "a@example.com")
	require.NoError(t, err)
	assert.Equal(t, 1, h.count(), "replayed within 24 h")
	clk.Advance(2 * time.Second)
	_, _, err = invoke(t.Context(), ic, h, send, "k-4", "a@example.com")
	require.NoError(t, err)
	assert.Equal(t, 2, h.count(), "runs again after 24 h")
}

func TestKeyValidation(t *testing.T) {
	clk := &clock{t: time.Now()}
	ic := newInterceptor(t, nil, clk, "")
	h := &handler{}
	for _, k := range []string{"has space", "ümlaut", strings.Repeat("a", 129), "semi;colon"} {
		_, _, err := invoke(t.Context(), ic, h, send, k, "a@example.com")
		assert.Equal(t, codes.InvalidArgument, status.Code(err), "%q", k)
	}
	for _, k := range []string{"a", "0f8fad5b-d9cb-469f-a165-70867728950e", "ns:op.1_2", strings.Repeat("a", 128)} {
		_, _, err := invoke(t.Context(), ic, h, send, k, "a@example.com")
		require.NoError(t, err, "%q", k)
	}
	ctx := metadata.NewIncomingContext(t.Context(), metadata.Pairs(idempotency.MetadataKey, "a", idempotency.MetadataKey, "b"))
	_, err := ic(ctx, &b2bv1.OTPsServiceEmailLoginOrSignupRequest{}, &grpc.UnaryServerInfo{FullMethod: send}, h.handle)
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "two keys")
}

// A response holding a secret (debug_redact) is never stored: the key is released.
func TestSecretsAreNotStored(t *testing.T) {
	clk := &clock{t: time.Now()}
	store := idempotency.NewMemoryStore(0, clk.Now)
	const method = b2bv1.DiscoveryService_CreateOrganization_FullMethodName
	i, err := idempotency.New(idempotency.Config{Store: store, Applies: func(string) bool { return true }, Now: clk.Now})
	require.NoError(t, err)
	calls := 0
	h := func(context.Context, any) (any, error) {
		calls++
		return &b2bv1.DiscoveryServiceCreateOrganizationResponse{MemberId: "m", SessionToken: "secret-token"}, nil
	}
	ctx := metadata.NewIncomingContext(t.Context(), metadata.Pairs(idempotency.MetadataKey, "k"))
	for range 2 {
		_, err := i.UnaryServerInterceptor()(ctx, &b2bv1.DiscoveryServiceCreateOrganizationRequest{IntermediateSessionToken: "ist"}, &grpc.UnaryServerInfo{FullMethod: method}, h)
		require.NoError(t, err)
	}
	assert.Equal(t, 2, calls, "not replayed: the response held a session token")
}

func TestRedisDownFailsClosed(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	clk := &clock{t: time.Now()}
	ic := newInterceptor(t, idempotency.NewRedisStore(c), clk, "")
	srv.Stop(t)
	h := &handler{}
	_, _, err := invoke(t.Context(), ic, h, send, "k-5", "a@example.com")
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Zero(t, h.count())
	_, _, err = invoke(t.Context(), ic, h, send, "", "a@example.com")
	require.NoError(t, err, "calls without a key are not affected")
}
