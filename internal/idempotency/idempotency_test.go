package idempotency_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/idempotency"
	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"))
}

const send = b2bv1.OTPsService_EmailLoginOrSignup_FullMethodName

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

func newInterceptor(t *testing.T, store idempotency.Store, clk *testkit.Clock, caller string) grpc.UnaryServerInterceptor {
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

func stores(t *testing.T, clk *testkit.Clock) map[string]func(t *testing.T) idempotency.Store {
	t.Helper()
	return map[string]func(t *testing.T) idempotency.Store{
		"memory": func(*testing.T) idempotency.Store { return idempotency.NewMemoryStore(0, clk.Now) },
		"redis": func(t *testing.T) idempotency.Store {
			return idempotency.NewRedisStore(redistest.Start(t).Client(t))
		},
	}
}

func TestReplay(t *testing.T) {
	clk := testkit.NewClock(time.Now())
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
	clk := testkit.NewClock(time.Now())
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
	clk := testkit.NewClock(time.Now())
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
	clk := testkit.NewClock(time.Now())
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

// A present key is one value of 1 to 255 characters 0x21-0x7E; anything else is refused with
// INVALID_ARGUMENT naming the header and the metadata key, and the call does not run.
func TestKeyValidation(t *testing.T) {
	clk := testkit.NewClock(time.Now())
	ic := newInterceptor(t, nil, clk, "")
	h := &handler{}
	call := func(md metadata.MD) error {
		ctx := metadata.NewIncomingContext(t.Context(), md)
		_, err := ic(ctx, &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: "org", EmailAddress: "a@example.com"}, &grpc.UnaryServerInfo{FullMethod: send}, h.handle)
		return err
	}
	key := func(vals ...string) metadata.MD {
		md := metadata.MD{}
		md.Append(idempotency.MetadataKey, vals...)
		return md
	}
	for name, md := range map[string]metadata.MD{
		"space":           key("has space"),
		"non-ASCII":       key("ümlaut"),
		"control":         key("tab\there"),
		"DEL":             key("del\x7f"),
		"256 characters":  key(strings.Repeat("a", 256)),
		"empty":           key(""),
		"two values":      key("a", "b"),
		"binary":          {idempotency.BinaryMetadataKey: {"ümlaut"}},
		"binary ASCII":    {idempotency.BinaryMetadataKey: {"abc"}},
		"text and binary": {idempotency.MetadataKey: {"abc"}, idempotency.BinaryMetadataKey: {"ü"}},
		"two binary":      {idempotency.BinaryMetadataKey: {"\xff", "\xfe"}},
	} {
		err := call(md)
		require.Equal(t, codes.InvalidArgument, status.Code(err), name)
		assert.Contains(t, status.Convert(err).Message(), "Idempotency-Key", name)
		assert.Contains(t, status.Convert(err).Message(), "idempotency-key", name)
		assert.Equal(t, idempotency.ReasonKeyInvalid, reason(err), name)
		assert.NotContains(t, status.Convert(err).Message(), "ümlaut", "%s: the key is not echoed", name)
	}
	assert.Zero(t, h.count(), "no refused call ran")
	for _, k := range []string{"a", "0f8fad5b-d9cb-469f-a165-70867728950e", "ns:op.1_2", "semi;colon", `"quoted"`, "~!@#$%^&*()", strings.Repeat("a", 255)} {
		require.NoError(t, call(key(k)), "%q", k)
	}
	assert.Equal(t, 7, h.count())
}

func reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.GetReason()
		}
	}
	return ""
}

const createClient = m2mv1.M2MService_CreateClient_FullMethodName

// secretHandler answers CreateClient with a new secret per call, so that a replay is visible.
type secretHandler struct {
	mu    sync.Mutex
	calls int
}

func (h *secretHandler) handle(context.Context, any) (any, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	return &m2mv1.CreateClientResponse{
		M2MClient:    &m2mv1.Client{ClientId: fmt.Sprintf("m2m-client-%d", h.calls), ClientName: "svc"},
		ClientSecret: fmt.Sprintf("plaintext-secret-%d-%s", h.calls, strings.Repeat("s", 24)),
	}, nil
}

func (h *secretHandler) count() int { h.mu.Lock(); defer h.mu.Unlock(); return h.calls }

func callCreate(ctx context.Context, t *testing.T, ic grpc.UnaryServerInterceptor, h *secretHandler, key, name string) (*m2mv1.CreateClientResponse, error) {
	t.Helper()
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(idempotency.MetadataKey, key))
	ctx = grpc.NewContextWithServerTransportStream(ctx, &serverStream{})
	resp, err := ic(ctx, &m2mv1.CreateClientRequest{ClientName: name, Scopes: []string{"read:x"}}, &grpc.UnaryServerInfo{FullMethod: createClient}, h.handle)
	r, _ := resp.(*m2mv1.CreateClientResponse)
	return r, err
}

func newKeyed(t *testing.T, store idempotency.Store, keys string) grpc.UnaryServerInterceptor {
	t.Helper()
	cfg := idempotency.Config{Store: store, Applies: func(string) bool { return true }}
	if keys != "" {
		k, err := idempotency.ParseKeyring(keys)
		require.NoError(t, err)
		cfg.Keys = k
	}
	i, err := idempotency.New(cfg)
	require.NoError(t, err)
	return i.UnaryServerInterceptor()
}

func testKey(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, idempotency.KeySize))
}

// rawRecords returns every idempotency record in Redis as stored.
func rawRecords(t *testing.T, c *redis.Client) map[string]string {
	t.Helper()
	keys, err := c.Keys(t.Context(), "authsvc:idempotency:*").Result()
	require.NoError(t, err)
	out := map[string]string{}
	for _, k := range keys {
		v, err := c.Get(t.Context(), k).Result()
		require.NoError(t, err)
		out[k] = v
	}
	return out
}

// assertNoPlaintext checks a raw record for secret, as is and inside any base64 JSON string.
func assertNoPlaintext(t *testing.T, raw, secret string) {
	t.Helper()
	assert.NotContains(t, raw, secret)
	var fields map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &fields))
	for name, v := range fields {
		if s, ok := v.(string); ok {
			if b, err := base64.StdEncoding.DecodeString(s); err == nil {
				assert.NotContains(t, string(b), secret, "field %s", name)
			}
		}
	}
}

// A response that carries a secret (CreateClient's client_secret) is replayed, stored encrypted:
// in memory with the process's own key, in Redis with the configured key, never in the clear.
func TestSecretBearingReplays(t *testing.T) {
	for name, mk := range map[string]func(t *testing.T) (idempotency.Store, *redis.Client){
		"memory": func(*testing.T) (idempotency.Store, *redis.Client) { return idempotency.NewMemoryStore(0, nil), nil },
		"redis": func(t *testing.T) (idempotency.Store, *redis.Client) {
			c := redistest.Start(t).Client(t)
			return idempotency.NewRedisStore(c), c
		},
	} {
		t.Run(name, func(t *testing.T) {
			store, rdb := mk(t)
			keys := ""
			if rdb != nil {
				keys = "k1:" + testKey(1)
			}
			ic := newKeyed(t, store, keys)
			h := &secretHandler{}
			first, err := callCreate(t.Context(), t, ic, h, "k", "svc")
			require.NoError(t, err)
			again, err := callCreate(t.Context(), t, ic, h, "k", "svc")
			require.NoError(t, err)
			assert.True(t, proto.Equal(first, again), "the same client and secret are replayed")
			assert.Equal(t, 1, h.count())
			if rdb == nil {
				return
			}
			recs := rawRecords(t, rdb)
			require.Len(t, recs, 1)
			for _, raw := range recs {
				assertNoPlaintext(t, raw, first.GetClientSecret())
				assertNoPlaintext(t, raw, first.GetM2MClient().GetClientId())
				assert.Contains(t, raw, `"k":"k1"`, "the key ID is stored with the record")
			}
		})
	}
}

// With a shared store and no configured key, a secret-bearing RPC refuses an idempotency key
// before running (FAILED_PRECONDITION naming the header and the missing setting), rather than
// running again on every retry; other RPCs keep replaying, stored in the clear.
func TestSecretBearingRefusedWithoutKey(t *testing.T) {
	srv := redistest.Start(t)
	ic := newKeyed(t, idempotency.NewRedisStore(srv.Client(t)), "")
	h := &secretHandler{}
	_, err := callCreate(t.Context(), t, ic, h, "k", "svc")
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	assert.Contains(t, status.Convert(err).Message(), "Idempotency-Key")
	assert.Contains(t, status.Convert(err).Message(), "AUTHSVC_IDEMPOTENCY_KEYS")
	assert.Equal(t, idempotency.ReasonNotSupported, reason(err))
	assert.Zero(t, h.count())

	sends := &handler{}
	first, _, err := invoke(t.Context(), ic, sends, send, "k", "a@example.com")
	require.NoError(t, err)
	again, _, err := invoke(t.Context(), ic, sends, send, "k", "a@example.com")
	require.NoError(t, err)
	assert.True(t, proto.Equal(first, again))
	assert.Equal(t, 1, sends.count())
}

// Keys rotate without losing records: a record written with key A replays once the keyring is
// "B,A" (B now encrypts), and a record is unreadable, never replayed wrongly or run again, once
// its key is gone.
func TestKeyRotation(t *testing.T) {
	c := redistest.Start(t).Client(t)
	store := idempotency.NewRedisStore(c)
	a, b := "a:"+testKey(0xa), "b:"+testKey(0xb)
	h := &secretHandler{}

	first, err := callCreate(t.Context(), t, newKeyed(t, store, a), h, "k-a", "svc")
	require.NoError(t, err)

	rotated := newKeyed(t, store, b+"\n"+a)
	again, err := callCreate(t.Context(), t, rotated, h, "k-a", "svc")
	require.NoError(t, err)
	assert.True(t, proto.Equal(first, again), "a record written with A replays after B,A")
	assert.Equal(t, 1, h.count())

	_, err = callCreate(t.Context(), t, rotated, h, "k-b", "svc")
	require.NoError(t, err)
	var ids []string
	for _, raw := range rawRecords(t, c) {
		var rec struct {
			K string `json:"k"`
		}
		require.NoError(t, json.Unmarshal([]byte(raw), &rec))
		ids = append(ids, rec.K)
	}
	assert.ElementsMatch(t, []string{"a", "b"}, ids, "new records are encrypted with the first key")

	_, err = callCreate(t.Context(), t, newKeyed(t, store, b), h, "k-a", "svc")
	assert.Equal(t, codes.Internal, status.Code(err), "A was removed too early: %v", err)
	assert.Equal(t, 2, h.count(), "not run again")
}

// An encrypted record is bound to where it is stored: copied under another key it does not
// decrypt, so a Redis writer cannot hand one caller's stored response to another.
func TestRecordsAreBoundToTheirKey(t *testing.T) {
	c := redistest.Start(t).Client(t)
	ic := newKeyed(t, idempotency.NewRedisStore(c), "a:"+testKey(0xa))
	h := &secretHandler{}
	_, err := callCreate(t.Context(), t, ic, h, "k-1", "svc")
	require.NoError(t, err)
	before := rawRecords(t, c)
	_, err = callCreate(t.Context(), t, ic, h, "k-2", "svc")
	require.NoError(t, err)
	var first, second string
	for k, v := range rawRecords(t, c) {
		if _, ok := before[k]; ok {
			first = v
		} else {
			second = k
		}
	}
	require.NotEmpty(t, first)
	require.NotEmpty(t, second)
	require.NoError(t, c.Set(t.Context(), second, first, time.Hour).Err())
	_, err = callCreate(t.Context(), t, ic, h, "k-2", "svc")
	assert.Equal(t, codes.Internal, status.Code(err), "%v", err)
	assert.Equal(t, 2, h.count())
}

func TestRedisDownFailsClosed(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	clk := testkit.NewClock(time.Now())
	ic := newInterceptor(t, idempotency.NewRedisStore(c), clk, "")
	srv.Stop(t)
	h := &handler{}
	_, _, err := invoke(t.Context(), ic, h, send, "k-5", "a@example.com")
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Zero(t, h.count())
	_, _, err = invoke(t.Context(), ic, h, send, "", "a@example.com")
	require.NoError(t, err, "calls without a key are not affected")
}
