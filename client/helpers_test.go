package client_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"github.com/authsvc/authsvc/client"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Full method names used by the tests.
const (
	mIssueToken      = "/authsvc.m2m.v1.M2MService/IssueToken"
	mMembersGet      = "/authsvc.b2b.v1.MembersService/Get"
	mLoginOrSignup   = "/authsvc.b2b.v1.MagicLinksService/LoginOrSignup"
	mAuthenticate    = "/authsvc.b2b.v1.SessionsService/Authenticate"
	mGetJWKS         = "/authsvc.b2b.v1.SessionsService/GetJWKS"
	sandboxOrg       = stytchemu.SandboxOrganizationID
	sandboxMember    = stytchemu.SandboxMemberID
	testEmailAddress = "ada@example.com"
)

// attempts is a client stats handler: it counts every attempt the client puts on the wire, per
// method (gRPC calls TagRPC and Begin once per attempt, retries included), and can run a hook when
// an attempt ends - before gRPC decides whether to retry it.
type attempts struct {
	mu    sync.Mutex
	n     map[string]int
	onEnd func(method string, attempt int, err error)
}

type methodKey struct{}

func newAttempts() *attempts { return &attempts{n: map[string]int{}} }

func (a *attempts) count(method string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n[method]
}

func (a *attempts) setOnEnd(f func(method string, attempt int, err error)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.onEnd = f
}

func (a *attempts) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, methodKey{}, info.FullMethodName)
}

func (a *attempts) HandleRPC(ctx context.Context, s stats.RPCStats) {
	method, _ := ctx.Value(methodKey{}).(string)
	switch s := s.(type) {
	case *stats.Begin:
		a.mu.Lock()
		a.n[method]++
		a.mu.Unlock()
	case *stats.End:
		a.mu.Lock()
		f, n := a.onEnd, a.n[method]
		a.mu.Unlock()
		if f != nil {
			f(method, n, s.Error)
		}
	}
}

func (*attempts) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (*attempts) HandleConn(context.Context, stats.ConnStats)                       {}

// allScopes are the scopes of every service-admitted authsvc RPC.
var allScopes = []string{"read:members", "write:members", "read:m2m_clients", "write:m2m_clients", "read:sessions", "write:sessions", "read:users", "read:organizations"}

// newClient dials env's authsvc the way an importing service would, counting attempts.
func newClient(t *testing.T, env *apptest.Env, opts ...client.Option) (*client.Client, *attempts) {
	t.Helper()
	a := newAttempts()
	base := []client.Option{
		client.WithInsecure(),
		client.WithClock(env.Emu.Now),
		client.WithDialOptions(grpc.WithStatsHandler(a)),
	}
	c, err := client.New(t.Context(), env.App.GRPCAddr(), append(base, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c, a
}

// m2mClient creates an M2M client in the emulator and returns the option that calls as it.
func m2mClient(t *testing.T, env *apptest.Env, scopes ...string) (client.Option, stytchemu.M2MClient) {
	t.Helper()
	mc, err := env.Emu.CreateM2MClient("client-test", scopes)
	require.NoError(t, err)
	return client.WithM2MCredentials(mc.ClientID, mc.ClientSecret), mc
}
