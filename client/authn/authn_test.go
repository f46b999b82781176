package authn_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/client"
	"github.com/authsvc/authsvc/client/authn"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	sandboxOrg    = stytchemu.SandboxOrganizationID
	sandboxMember = stytchemu.SandboxMemberID // holds stytch_admin
	mAuthenticate = "/authsvc.b2b.v1.SessionsService/Authenticate"
)

// calls counts the attempts the authenticator's client puts on the wire to authsvc.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

type methodKey struct{}

func (c *calls) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, methodKey{}, info.FullMethodName)
}

func (c *calls) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.Begin); ok {
		m, _ := ctx.Value(methodKey{}).(string)
		c.mu.Lock()
		c.n[m]++
		c.mu.Unlock()
	}
}
func (*calls) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (*calls) HandleConn(context.Context, stats.ConnStats)                       {}

func (c *calls) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// since returns the calls made after snapshot before.
func (c *calls) since(before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range c.snapshot() {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// fixture is authsvc in process, an Authenticator built on the public client, and a service
// protected by it over both HTTP and gRPC.
type fixture struct {
	env   *apptest.Env
	calls *calls
	auth  *authn.Authenticator
}

func newFixture(t *testing.T, opts ...authn.Option) *fixture {
	t.Helper()
	env := apptest.Start(t)
	cs := &calls{n: map[string]int{}}
	c, err := client.New(t.Context(), env.App.GRPCAddr(), client.WithInsecure(), client.WithClock(env.Emu.Now),
		client.WithDialOptions(grpc.WithStatsHandler(cs)))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	a, err := authn.New(t.Context(), c, append([]authn.Option{authn.WithProjectID(env.Emu.ProjectID()), authn.WithClock(env.Emu.Now)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, a.Close()) })
	require.NoError(t, a.WaitReady(t.Context()))
	return &fixture{env: env, calls: cs, auth: a}
}

// result is what the protected endpoint answered, in gRPC terms for both transports.
type result struct {
	code      codes.Code
	challenge string // WWW-Authenticate (HTTP only)
	principal *authn.Principal
}

type transport struct {
	name string
	// serve returns a function that calls the protected endpoint with token (as a cookie when
	// asked; gRPC has none and sends it as metadata).
	serve func(t *testing.T, a *authn.Authenticator, rules []authn.Rule) func(token string, cookie bool) result
}

var transports = []transport{
	{"http", serveHTTP},
	{"grpc", serveGRPC},
}

func serveHTTP(t *testing.T, a *authn.Authenticator, rules []authn.Rule) func(string, bool) result {
	t.Helper()
	var mu sync.Mutex
	var seen *authn.Principal
	srv := httptest.NewServer(a.Middleware(rules...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.PrincipalFrom(r.Context())
		mu.Lock()
		seen = p
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})))
	t.Cleanup(srv.Close)
	return func(token string, cookie bool) result {
		mu.Lock()
		seen = nil
		mu.Unlock()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/orders", nil)
		require.NoError(t, err)
		switch {
		case token == "":
		case cookie:
			req.AddCookie(&http.Cookie{Name: authn.SessionJWTCookie, Value: token})
		default:
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		var body struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if resp.StatusCode != http.StatusOK {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			if token != "" {
				require.NotContains(t, body.Message, token, "the token must not be echoed")
			}
		}
		_ = resp.Body.Close()
		mu.Lock()
		defer mu.Unlock()
		code := map[int]codes.Code{200: codes.OK, 401: codes.Unauthenticated, 403: codes.PermissionDenied, 503: codes.Unavailable}[resp.StatusCode]
		if code != codes.OK {
			assert.Equal(t, int(code), body.Code, "JSON code matches the HTTP status")
		}
		return result{code: code, challenge: resp.Header.Get("WWW-Authenticate"), principal: seen}
	}
}

func serveGRPC(t *testing.T, a *authn.Authenticator, rules []authn.Rule) func(string, bool) result {
	t.Helper()
	var mu sync.Mutex
	var seen *authn.Principal
	capture := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		p, _ := authn.PrincipalFrom(ctx)
		mu.Lock()
		seen = p
		mu.Unlock()
		return h(ctx, req)
	}
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(a.UnaryServerInterceptor(rules...), capture))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	hc := healthpb.NewHealthClient(conn)
	return func(token string, _ bool) result {
		mu.Lock()
		seen = nil
		mu.Unlock()
		ctx := t.Context()
		if token != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
		}
		_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil && token != "" {
			require.NotContains(t, err.Error(), token, "the token must not be echoed")
		}
		mu.Lock()
		defer mu.Unlock()
		return result{code: status.Code(err), principal: seen}
	}
}

func TestMiddleware(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t)
			emu := f.env.Emu
			bob, err := emu.CreateMember(sandboxOrg, stytchemu.MemberParams{Email: "bob@example.com", Name: "Bob"})
			require.NoError(t, err)
			orders, err := emu.CreateM2MClient("orders", []string{"read:orders"})
			require.NoError(t, err)
			m2mToken := func(t *testing.T) string { return issueToken(t, f.env, orders) }
			adminJWT := func(t *testing.T) string {
				s, err := emu.CreateSession(sandboxOrg, sandboxMember, time.Hour)
				require.NoError(t, err)
				return s.JWT
			}
			bobJWT := func(t *testing.T) string {
				s, err := emu.CreateSession(sandboxOrg, bob.ID, time.Hour)
				require.NoError(t, err)
				return s.JWT
			}

			tests := []struct {
				name      string
				rules     []authn.Rule
				token     func(t *testing.T) string
				cookie    bool
				want      codes.Code
				wantCalls map[string]int
				check     func(t *testing.T, r result)
			}{
				{
					name: "valid session JWT: principal, no call to authsvc", token: adminJWT, want: codes.OK,
					check: func(t *testing.T, r result) {
						require.NotNil(t, r.principal)
						assert.Equal(t, authn.KindMember, r.principal.Kind)
						assert.Equal(t, sandboxMember, r.principal.MemberID)
						assert.Equal(t, sandboxOrg, r.principal.OrganizationID)
						assert.NotEmpty(t, r.principal.SessionID)
						assert.Contains(t, r.principal.Roles, "stytch_admin")
						assert.Equal(t, authn.VerifiedLocally, r.principal.VerifiedBy)
					},
				},
				{
					name: "valid M2M token: principal, no call to authsvc", token: m2mToken, want: codes.OK,
					rules: []authn.Rule{authn.Services("read:orders")},
					check: func(t *testing.T, r result) {
						require.NotNil(t, r.principal)
						assert.Equal(t, authn.KindService, r.principal.Kind)
						assert.Equal(t, orders.ClientID, r.principal.ClientID)
						assert.Equal(t, []string{"read:orders"}, r.principal.Scopes)
					},
				},
				{name: "member with the required role", token: adminJWT, rules: []authn.Rule{authn.Members("stytch_admin")}, want: codes.OK},
				{name: "member without the required role: denied", token: bobJWT, rules: []authn.Rule{authn.Members("stytch_admin")}, want: codes.PermissionDenied},
				{name: "service without the required scope: denied", token: m2mToken, rules: []authn.Rule{authn.Services("write:orders")}, want: codes.PermissionDenied},
				{name: "service where only members are admitted: denied", token: m2mToken, rules: []authn.Rule{authn.Members()}, want: codes.PermissionDenied},
				{name: "member where only services are admitted: denied", token: bobJWT, rules: []authn.Rule{authn.Services("read:orders")}, want: codes.PermissionDenied},
				{name: "either rule admits", token: bobJWT, rules: []authn.Rule{authn.Services("read:orders"), authn.Members()}, want: codes.OK},
				{name: "no credentials", token: func(*testing.T) string { return "" }, want: codes.Unauthenticated},
				{name: "garbage", token: func(*testing.T) string { return "not-a-jwt" }, want: codes.Unauthenticated},
				{name: "forged: signature altered", token: func(t *testing.T) string { return tamper(t, adminJWT(t)) }, want: codes.Unauthenticated},
				{name: "forged: re-signed with another key under a known kid", token: func(t *testing.T) string { return resign(t, adminJWT(t)) }, want: codes.Unauthenticated},
				{name: "forged: alg none", token: func(t *testing.T) string { return algNone(t, adminJWT(t)) }, want: codes.Unauthenticated},
				{
					name: "another project's token", want: codes.Unauthenticated,
					token: func(t *testing.T) string {
						now := emu.Now()
						tok, err := emu.SignJWT(map[string]any{
							"iss": "stytch.com/project-test-other", "aud": []string{"project-test-other"}, "sub": orders.ClientID,
							"scope": "read:orders", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
						})
						require.NoError(t, err)
						return tok
					},
				},
			}
			if tr.name == "http" {
				tests = append(tests, struct {
					name      string
					rules     []authn.Rule
					token     func(t *testing.T) string
					cookie    bool
					want      codes.Code
					wantCalls map[string]int
					check     func(t *testing.T, r result)
				}{name: "session JWT in the stytch_session_jwt cookie", token: adminJWT, cookie: true, want: codes.OK})
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					call := tr.serve(t, f.auth, tt.rules)
					token := tt.token(t)
					before := f.calls.snapshot()
					r := call(token, tt.cookie)
					assert.Equal(t, tt.want, r.code)
					want := tt.wantCalls
					if want == nil {
						want = map[string]int{}
					}
					assert.Equal(t, want, f.calls.since(before), "calls to authsvc")
					if tt.want == codes.OK {
						assert.NotNil(t, r.principal)
					} else {
						assert.Nil(t, r.principal, "the handler must not run")
					}
					if tr.name == "http" {
						checkChallenge(t, tt.want, token, r.challenge)
					}
					if tt.check != nil {
						tt.check(t, r)
					}
				})
			}

			// Last, because it moves the clock.
			t.Run("expired JWT of a live session: one call to authsvc, principal set", func(t *testing.T) {
				call := tr.serve(t, f.auth, nil)
				s, err := emu.CreateSession(sandboxOrg, sandboxMember, time.Hour)
				require.NoError(t, err)
				emu.Advance(10 * time.Minute) // session JWTs live 5 minutes; the session 60
				before := f.calls.snapshot()
				r := call(s.JWT, false)
				assert.Equal(t, codes.OK, r.code)
				assert.Equal(t, map[string]int{mAuthenticate: 1}, f.calls.since(before))
				require.NotNil(t, r.principal)
				assert.Equal(t, authn.VerifiedRemotely, r.principal.VerifiedBy)
				assert.Equal(t, sandboxMember, r.principal.MemberID)
				assert.Equal(t, s.ID, r.principal.SessionID)
				assert.Contains(t, r.principal.Roles, "stytch_admin")
			})
			t.Run("expired JWT of an ended session: one call, refused", func(t *testing.T) {
				call := tr.serve(t, f.auth, nil)
				s, err := emu.CreateSession(sandboxOrg, sandboxMember, 6*time.Minute)
				require.NoError(t, err)
				emu.Advance(10 * time.Minute)
				before := f.calls.snapshot()
				r := call(s.JWT, false)
				assert.Equal(t, codes.Unauthenticated, r.code)
				assert.Equal(t, map[string]int{mAuthenticate: 1}, f.calls.since(before))
			})
		})
	}
}

func checkChallenge(t *testing.T, code codes.Code, token, challenge string) {
	t.Helper()
	switch code {
	case codes.Unauthenticated:
		assert.True(t, strings.HasPrefix(challenge, `Bearer realm="authsvc"`), "challenge %q", challenge)
		assert.Equal(t, token != "", strings.Contains(challenge, `error="invalid_token"`), "challenge %q", challenge)
	case codes.PermissionDenied:
		assert.Contains(t, challenge, `error="insufficient_scope"`)
	default:
		assert.Empty(t, challenge)
	}
}

// Without WithProjectID, New asks authsvc which project it fronts (GetJWKS names it), so a service
// with no M2M credentials of its own can protect itself with nothing but authsvc's address.
func TestProjectLearnedFromAuthsvc(t *testing.T) {
	env := apptest.Start(t)
	c, err := client.New(t.Context(), env.App.GRPCAddr(), client.WithInsecure(), client.WithClock(env.Emu.Now))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })

	a, err := authn.New(t.Context(), c, authn.WithClock(env.Emu.Now))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, a.Close()) })
	require.NoError(t, a.WaitReady(t.Context()))

	s, err := env.Emu.CreateSession(sandboxOrg, sandboxMember, time.Hour)
	require.NoError(t, err)
	p, err := a.Authenticate(t.Context(), s.JWT)
	require.NoError(t, err, "verifies only if the learned project matches the JWT's aud and iss")
	assert.Equal(t, sandboxMember, p.MemberID)

	t.Run("with authsvc unreachable and no project ID New fails, naming the option", func(t *testing.T) {
		lis, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := lis.Addr().String()
		require.NoError(t, lis.Close()) // nothing listens there now
		bare, err := client.New(t.Context(), addr, client.WithInsecure())
		require.NoError(t, err)
		defer func() { require.NoError(t, bare.Close()) }()
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		_, err = authn.New(ctx, bare)
		require.ErrorContains(t, err, "WithProjectID")
	})
}

func TestAuthorize(t *testing.T) {
	member := &authn.Principal{Kind: authn.KindMember, Roles: []string{"stytch_member", "editor"}}
	service := &authn.Principal{Kind: authn.KindService, Scopes: []string{"read:*", "write:orders"}}
	tests := []struct {
		name  string
		p     *authn.Principal
		rules []authn.Rule
		want  error
	}{
		{"nobody", nil, nil, authn.ErrUnauthenticated},
		{"any caller", member, nil, nil},
		{"member role held", member, []authn.Rule{authn.Members("editor")}, nil},
		{"member role missing", member, []authn.Rule{authn.Members("editor", "stytch_admin")}, authn.ErrPermissionDenied},
		{"wildcard scope", service, []authn.Rule{authn.Services("read:orders")}, nil},
		{"scope missing", service, []authn.Rule{authn.Services("delete:orders")}, authn.ErrPermissionDenied},
		{"zero rule admits nobody", service, []authn.Rule{{}}, authn.ErrPermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := authn.Authorize(tt.p, tt.rules...)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
			st, ok := status.FromError(err)
			require.True(t, ok)
			assert.NotEqual(t, codes.Unknown, st.Code())
		})
	}
}

// issueToken gets an M2M access token for mc through authsvc, as the calling service would.
func issueToken(t *testing.T, env *apptest.Env, mc stytchemu.M2MClient) string {
	t.Helper()
	c, err := client.New(t.Context(), env.App.GRPCAddr(), client.WithInsecure(), client.WithClock(env.Emu.Now),
		client.WithM2MCredentials(mc.ClientID, mc.ClientSecret))
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close()) }()
	tok, err := c.AccessToken(t.Context())
	require.NoError(t, err)
	return tok
}

// tamper flips one bit in the signature.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	sig[len(sig)/2] ^= 0x01
	parts[2] = base64.RawURLEncoding.EncodeToString(sig)
	return strings.Join(parts, ".")
}

// resign signs the token's exact claims with a fresh key, keeping the genuine kid.
func resign(t *testing.T, token string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	require.NoError(t, err)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	forged := jwt.NewWithClaims(jwt.SigningMethodRS256, parsed.Claims)
	forged.Header["kid"] = parsed.Header["kid"]
	s, err := forged.SignedString(key)
	require.NoError(t, err)
	return s
}

// algNone keeps header kid and claims but declares no signature.
func algNone(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(hdr, &h))
	h["alg"] = "none"
	hb, err := json.Marshal(h)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(hb) + "." + parts[1] + "."
}

// WithConsumerSessions against a real authsvc: the consumer project is learned from authsvc's
// consumer GetJWKS, a user's session JWT verifies locally against the keys authsvc serves, a forged
// one does not, and the member and user rules keep the two kinds apart.
func TestConsumerSessionsThroughAuthsvc(t *testing.T) {
	env := apptest.Start(t)
	require.NotNil(t, env.Consumer)
	c, err := client.New(t.Context(), env.App.GRPCAddr(), client.WithInsecure(), client.WithClock(env.Emu.Now))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	a, err := authn.New(t.Context(), c, authn.WithClock(env.Emu.Now), authn.WithConsumerSessions(""))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, a.Close()) })
	require.NoError(t, a.WaitReady(t.Context()))

	us, err := env.Consumer.CreateUserSession(stytchemu.SandboxUserID, time.Hour)
	require.NoError(t, err)
	p, err := a.Authenticate(t.Context(), us.JWT)
	require.NoError(t, err, "verifies only if the learned consumer project matches the JWT's aud and iss")
	assert.Equal(t, authn.KindUser, p.Kind)
	assert.Equal(t, stytchemu.SandboxUserID, p.UserID)
	assert.Equal(t, authn.VerifiedLocally, p.VerifiedBy)
	require.NoError(t, authn.Authorize(p, authn.Users()))
	require.Error(t, authn.Authorize(p, authn.Members()), "a user is not a member")

	ms, err := env.Emu.CreateSession(sandboxOrg, sandboxMember, time.Hour)
	require.NoError(t, err)
	mp, err := a.Authenticate(t.Context(), ms.JWT)
	require.NoError(t, err)
	assert.Equal(t, authn.KindMember, mp.Kind)
	require.Error(t, authn.Authorize(mp, authn.Users()), "a member is not a user")

	// Once the JWT has expired, authsvc's consumer Sessions.Authenticate answers, factors included:
	// a step-up rule decides the same on the remote path.
	env.Consumer.Advance(6 * time.Minute)
	env.Emu.Advance(6 * time.Minute)
	rp, err := a.Authenticate(t.Context(), us.JWT)
	require.NoError(t, err)
	assert.Equal(t, authn.VerifiedRemotely, rp.VerifiedBy)
	require.Len(t, rp.Factors, 1)
	assert.Equal(t, authn.Factor{Type: "magic_link", DeliveryMethod: "email", LastAuthenticatedAt: rp.Factors[0].LastAuthenticatedAt}, rp.Factors[0])
	assert.WithinDuration(t, env.Emu.Now().Add(-6*time.Minute), rp.Factors[0].LastAuthenticatedAt, time.Second, "when the user signed in")
	require.NoError(t, authn.Authorize(rp, authn.Users().WithFactor("magic_link", 10*time.Minute)))
	require.ErrorIs(t, authn.Authorize(rp, authn.Users().WithFactor("webauthn", 0)), authn.ErrPermissionDenied)

	parts := strings.Split(us.JWT, ".")
	require.Len(t, parts, 3)
	forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString([]byte("not the signature"))
	_, err = a.Authenticate(t.Context(), forged)
	assert.ErrorIs(t, err, authn.ErrUnauthenticated)
}
