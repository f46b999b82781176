package allocs_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/app"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// discard is io.Discard with its own type, so the log handler cannot special-case it: the access
// line is formatted as in production and thrown away.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// fixture is authsvc running as production wires it, against an emulator holding one organization,
// one member with a live session, and an M2M client allowed read:members.
type fixture struct {
	conn     *grpc.ClientConn
	httpURL  string
	http     *http.Client
	direct   *stytchclient.Client // the floor: Stytch calls made without authsvc
	orgID    string
	session  stytchemu.Session
	clientID string
	secret   string
	m2mToken string
}

func start(b *testing.B) *fixture {
	b.Helper()
	emu, err := stytchemu.Start(stytchemu.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(b, err)
	b.Cleanup(func() { _ = emu.Close() })

	// Not dev mode: authsvc is configured for a Stytch project that happens to be the emulator, as
	// the load harness (bench/authbench) runs it. Admission control stays on (production's chain);
	// none of the benchmarked RPCs spends a budget on success.
	env := map[string]string{
		"STYTCH_PROJECT_ID": emu.ProjectID(),
		"STYTCH_SECRET":     emu.Secret(),
		"STYTCH_BASE_URL":   emu.URL,
		"AUTHSVC_LOG_LEVEL": "info",
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(b, err)
	apptest.EphemeralPorts(cfg)
	a, err := app.New(b.Context(), cfg, app.Options{Version: "bench", LogOutput: discard{}})
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("authsvc shutdown: %v", err)
		}
	})
	require.NoError(b, a.WaitKeys(b.Context()))

	f := &fixture{httpURL: "http://" + a.HTTPAddr(), http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}
	b.Cleanup(f.http.CloseIdleConnections)
	f.conn, err = grpc.NewClient("passthrough:///"+a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(b, err)
	b.Cleanup(func() { _ = f.conn.Close() })
	f.direct, err = stytchclient.New(stytchclient.Config{ProjectID: emu.ProjectID(), Secret: emu.Secret(), BaseURL: emu.URL, Version: "bench-direct"})
	require.NoError(b, err)

	org, err := emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Bench Org"})
	require.NoError(b, err)
	f.orgID = org.ID
	m, err := emu.CreateMember(org.ID, stytchemu.MemberParams{Email: "ada@example.com"})
	require.NoError(b, err)
	f.session, err = emu.CreateSession(org.ID, m.ID, 0)
	require.NoError(b, err)
	cl, err := emu.CreateM2MClient("bench", []string{"read:members"})
	require.NoError(b, err)
	f.clientID, f.secret = cl.ClientID, cl.ClientSecret
	tok, err := m2mv1.NewM2MServiceClient(f.conn).IssueToken(b.Context(), &m2mv1.IssueTokenRequest{ClientId: cl.ClientID, ClientSecret: cl.ClientSecret})
	require.NoError(b, err)
	f.m2mToken = tok.GetAccessToken()
	return f
}

// rpc is one benchmarked call; floor, when set, is the same Stytch call made directly.
type rpc struct {
	name  string
	call  func(context.Context) error
	floor func(context.Context) error
}

func (f *fixture) rpcs() []rpc {
	sessions := b2bv1.NewSessionsServiceClient(f.conn)
	members := b2bv1.NewMembersServiceClient(f.conn)
	m2m := m2mv1.NewM2MServiceClient(f.conn)
	bearer := func(ctx context.Context) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+f.m2mToken)
	}
	restBody := fmt.Appendf(nil, `{"session_jwt":%q}`, f.session.JWT)
	return []rpc{
		// The most frequent call: a service or a browser checking a session it has seen before (the
		// verified-token cache answers; no call to Stytch).
		{name: "SessionsService.Authenticate/jwt", call: func(ctx context.Context) error {
			_, err := sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
				Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: f.session.JWT},
			})
			return err
		}},
		// The same JWT with an authorization check, decided locally from the cached RBAC policy
		// (Stytch's default policy: a member may act on itself).
		{name: "SessionsService.Authenticate/jwt_authorization_check", call: func(ctx context.Context) error {
			_, err := sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
				Credential:         &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: f.session.JWT},
				AuthorizationCheck: &b2bv1.AuthorizationCheck{OrganizationId: f.orgID, ResourceId: "stytch.self", Action: "update.info.name"},
			})
			return err
		}},
		// The same check from a browser: REST through the gateway, which dials the gRPC server.
		{name: "SessionsService.Authenticate/jwt_rest", call: func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.httpURL+"/v1/b2b/sessions/authenticate", bytes.NewReader(restBody))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := f.http.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			return nil
		}},
		// Services checking each other's M2M tokens (local verification, cached).
		{name: "M2MService.AuthenticateToken", call: func(ctx context.Context) error {
			_, err := m2m.AuthenticateToken(ctx, &m2mv1.AuthenticateTokenRequest{AccessToken: f.m2mToken, RequiredScopes: []string{"read:members"}})
			return err
		}},
		// Every service asking for its own token: answered from the token cache.
		{name: "M2MService.IssueToken/cache_hit", call: func(ctx context.Context) error {
			_, err := m2m.IssueToken(ctx, &m2mv1.IssueTokenRequest{ClientId: f.clientID, ClientSecret: f.secret})
			return err
		}},
		// The Stytch-bound pair of the load harness's W9 workloads.
		{name: "SessionsService.Authenticate/session_token", call: func(ctx context.Context) error {
			_, err := sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
				Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: f.session.Token},
			})
			return err
		}, floor: func(ctx context.Context) error {
			_, err := f.direct.SessionsAuthenticate(ctx, stytchclient.SessionsAuthenticateParams{SessionToken: f.session.Token})
			return err
		}},
		{name: "MembersService.Get", call: func(ctx context.Context) error {
			_, err := members.Get(bearer(ctx), &b2bv1.MembersServiceGetRequest{
				OrganizationId: f.orgID,
				Lookup:         &b2bv1.MembersServiceGetRequest_MemberId{MemberId: f.session.MemberID},
			})
			return err
		}, floor: func(ctx context.Context) error {
			_, err := f.direct.MemberGet(ctx, stytchclient.MemberGetParams{OrganizationID: f.orgID, MemberID: f.session.MemberID})
			return err
		}},
	}
}

// warmups is how many calls run before measuring: connections, lazily built descriptors, caches
// and pools reach their steady state.
const warmups = 200

// BenchmarkRPC measures allocations per call of authsvc's hottest RPCs; `make bench-check` runs it
// with a fixed count and compares authsvc-allocs/op with bench/budgets.txt (see doc.go).
func BenchmarkRPC(b *testing.B) {
	f := start(b)
	for _, r := range f.rpcs() {
		b.Run(r.name, func(b *testing.B) {
			ctx := context.Background()
			for range warmups {
				require.NoError(b, r.call(ctx))
				if r.floor != nil {
					require.NoError(b, r.floor(ctx))
				}
			}
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				if err := r.call(ctx); err != nil {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			n := float64(b.N)
			allocs := float64(after.Mallocs-before.Mallocs) / n
			bytes := float64(after.TotalAlloc-before.TotalAlloc) / n
			if r.floor != nil {
				fa, fb := measure(b, r.floor)
				b.ReportMetric(fa, "floor-allocs/op")
				allocs -= fa
				bytes -= fb
			}
			b.ReportMetric(allocs, "authsvc-allocs/op")
			b.ReportMetric(bytes, "authsvc-B/op")
		})
	}
}

// measure returns the allocations and bytes per call of fn over b.N calls, outside the timed part.
func measure(b *testing.B, fn func(context.Context) error) (allocs, bytes float64) {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range b.N {
		if err := fn(ctx); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	n := float64(b.N)
	return float64(after.Mallocs-before.Mallocs) / n, float64(after.TotalAlloc-before.TotalAlloc) / n
}
