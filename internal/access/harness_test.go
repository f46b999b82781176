package access

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	_ "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1" // registers the rules under test
	_ "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/callmeta"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
	"github.com/authsvc/authsvc/internal/testkit/sessionkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// harness wires the emulator, Stytch client, JWKS cache, verifier and session authenticator exactly
// as production does, with the emulator's clock everywhere.
type harness struct {
	emu      *stytchemu.Server
	client   *stytchclient.Client
	verifier *verify.Verifier
	checker  *session.Checker
	acc      *Interceptor
	policies *stytchclient.PolicyCache // the project's RBAC policy, from the emulator
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	emu := testkit.Emulator(t, stytchemu.WithSandbox())
	client := testkit.Client(t, emu)
	checker := sessionkit.Checker(t, emu, client, sessionkit.JWKS(t, emu, client))
	h := &harness{emu: emu, client: client, verifier: checker.Verifier(), checker: checker}
	var err error
	h.policies, err = stytchclient.NewPolicyCache(stytchclient.PolicyCacheConfig{Source: client.PolicySource()})
	require.NoError(t, err)
	h.acc, err = New(Config{Checker: checker, Policies: h.policies, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return h
}

// member creates a member of org with roles and a live session.
func (h *harness) member(t *testing.T, org, email string, roles ...string) stytchemu.Session {
	t.Helper()
	return testkit.MemberSession(t, h.emu, org, stytchemu.MemberParams{Email: email, Roles: roles})
}

// m2m mints an access token for a new client holding scopes, signed by the emulator's current key
// with the claims its token endpoint uses.
func (h *harness) m2m(t *testing.T, scopes ...string) (token, clientID string) {
	t.Helper()
	c, err := h.emu.CreateM2MClient("caller", scopes)
	require.NoError(t, err)
	now := h.emu.Now()
	tok, err := h.emu.SignJWT(map[string]any{
		"iss": "stytch.com/" + h.emu.ProjectID(), "aud": []string{h.emu.ProjectID()}, "sub": c.ClientID,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scope": joinScopes(scopes),
	})
	require.NoError(t, err)
	return tok, c.ClientID
}

func joinScopes(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

// call is the outcome of one unary call through the interceptor.
type call struct {
	err       error
	reached   bool
	principal Principal
	acting    stytchclient.MemberSession
	fields    logging.Fields
}

// call runs the unary interceptor for method with req and incoming metadata md (key, value pairs).
// The session cookie keys stand for cookies the REST gateway forwarded (callmeta.Forwarded).
func (h *harness) call(t *testing.T, method string, req any, md ...string) call {
	t.Helper()
	in := metadata.Pairs(md...)
	ctx := metadata.NewIncomingContext(t.Context(), in)
	if tok, jwt := in.Get(callmeta.CookieSessionToken), in.Get(callmeta.CookieSessionJWT); len(tok)+len(jwt) > 0 {
		f := callmeta.Forwarded{}
		if len(tok) > 0 {
			f.SessionToken = tok[0]
		}
		if len(jwt) > 0 {
			f.SessionJWT = jwt[0]
		}
		ctx = callmeta.WithForwarded(ctx, f)
	}
	// The logging interceptor puts a fields holder in the context; the access interceptor adds to it.
	ctx = logging.InjectFields(ctx, logging.Fields{})
	var c call
	_, c.err = h.acc.Unary()(ctx, req, &grpc.UnaryServerInfo{FullMethod: method}, func(ctx context.Context, _ any) (any, error) {
		c.reached = true
		c.principal = From(ctx)
		c.acting = c.principal.Acting()
		return "ok", nil
	})
	c.fields = logging.ExtractFields(ctx)
	return c
}

// field returns the value of a log field added by the interceptor.
func (c call) field(key string) any {
	it := c.fields.Iterator()
	for it.Next() {
		if k, v := it.At(); k == key {
			return v
		}
	}
	return nil
}
