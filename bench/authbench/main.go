package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "authbench:", err)
		stop()
		os.Exit(1) //nolint:gocritic // stop() already ran
	}
}

// config holds the harness's flags.
type config struct {
	authsvcBin, emuBin, ghz, hey string
	workDir, out, profileDir     string
	microFile, command, note     string
	budgetsFile                  string
	quick, hold                  bool
	latency                      time.Duration
}

// sizes are the request counts and bounds of one run (full or quick).
type sizes struct {
	distinctJWTs   int
	fast           int // requests of a CPU-bound (local) workload
	stytchBound    int // requests of a Stytch-bound workload
	mixed          int
	soak           time.Duration
	soakSample     time.Duration
	profileSeconds int
	startupRuns    int
	fastBound      time.Duration
	settle         time.Duration // how long to wait for goroutines after the soak
}

func sizesFor(quick bool) sizes {
	if quick {
		return sizes{
			distinctJWTs: 200, fast: 2000, stytchBound: 200, mixed: 2000,
			soak: 20 * time.Second, soakSample: 5 * time.Second, profileSeconds: 2, startupRuns: 2,
			fastBound: time.Minute, settle: 15 * time.Second,
		}
	}
	return sizes{
		distinctJWTs: 4000, fast: 40000, stytchBound: 2000, mixed: 30000,
		soak: 5 * time.Minute, soakSample: 10 * time.Second, profileSeconds: 10, startupRuns: 5,
		fastBound: 90 * time.Second, settle: 100 * time.Second,
	}
}

func run(ctx context.Context, args []string) error {
	var c config
	fs := flag.NewFlagSet("authbench", flag.ContinueOnError)
	fs.StringVar(&c.authsvcBin, "authsvc", ".cache/bench/bin/authsvc", "authsvc binary")
	fs.StringVar(&c.emuBin, "stytchemu", ".cache/bench/bin/stytchemu", "stytchemu binary")
	fs.StringVar(&c.ghz, "ghz", ".cache/bin/ghz", "ghz binary")
	fs.StringVar(&c.hey, "hey", "hey", "hey binary")
	fs.StringVar(&c.workDir, "work", ".cache/bench/run", "scratch directory (logs, ghz reports, profiles)")
	fs.StringVar(&c.out, "out", "docs/performance.md", "Markdown report to write")
	fs.StringVar(&c.profileDir, "profile-dir", "docs/profiles", "where the CPU profile's text summary goes")
	fs.StringVar(&c.microFile, "micro", "", "go test -bench output to include in the report")
	fs.StringVar(&c.budgetsFile, "budgets", "bench/budgets.txt", "allocation budgets to compare bench/allocs' results in the micro output with")
	fs.StringVar(&c.command, "command", "make bench", "the command that produced the report, as printed in it")
	fs.StringVar(&c.note, "note", "", "a note printed at the top of the report (for example: machine shared)")
	fs.BoolVar(&c.quick, "quick", false, "tiny counts: a smoke test of the harness, numbers meaningless")
	fs.DurationVar(&c.latency, "stytch-latency", 20*time.Millisecond, "latency added to every emulated Stytch call")
	profileSecs := fs.Int("profile-seconds", 0, "length of the CPU profile (0: 10 s, quick 2 s)")
	requests := fs.Int("requests", 0, "requests per local (CPU-bound) workload; 0: 40000, quick 2000")
	only := fs.String("only", "", "comma-separated workload IDs (W1,W2b,...) and steps (profile, stytch-profile, misses, startup, random-tokens) to run; empty runs everything")
	fs.BoolVar(&c.hold, "hold", false, "seed the emulator, start authsvc, print the addresses and a session JWT, and wait for ^C (for profiling by hand)")
	floorAddr := fs.String("floor", "", "serve the floor server (a bare grpc-go server, floor.go) on this address instead of benchmarking; the harness starts itself this way")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *floorAddr != "" {
		return serveFloor(ctx, *floorAddr)
	}
	if err := os.MkdirAll(c.workDir, 0o750); err != nil {
		return err
	}
	b := &bench{cfg: c, sz: sizesFor(c.quick), started: time.Now(), machine: describeMachine()}
	if *only != "" {
		b.only = map[string]bool{}
		for _, id := range strings.Split(*only, ",") {
			b.only[strings.TrimSpace(id)] = true
		}
	}
	if *requests > 0 {
		b.sz.fast = *requests
	}
	if *profileSecs > 0 {
		b.sz.profileSeconds = *profileSecs
	}
	runErr := b.run(ctx)
	if c.hold {
		return runErr
	}
	if runErr != nil {
		b.note("The run stopped early: " + runErr.Error())
	}
	if err := b.writeReport(); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Printf("authbench: wrote %s in %s\n", c.out, time.Since(b.started).Round(time.Second))
	return runErr
}

// row is one workload's measured result.
type row struct {
	ID, Name, Tool string
	Concurrency    int
	PacedRPS       int
	Lat            Latencies
	RPS            float64
	CPU            float64 // authsvc CPU, percent of one core
	CPUSec         float64 // authsvc CPU seconds (user+system) during the workload
	// AuthsvcRequests is how many of the requests went to authsvc, when not all (paired runs).
	AuthsvcRequests int
	RSS             int64 // authsvc's largest RSS during the workload
	// Floor: the workload runs against the floor server (floor.go), whose CPU and RSS are recorded
	// instead of authsvc's.
	Floor    bool
	Upstream int64 // emulator requests during the workload; -1 when not counted
	// UpstreamProject is the emulator project whose requests Upstream counts; empty: the B2B one.
	UpstreamProject string
	Err             string
	Classes         []classRow
}

type classRow struct {
	Name string
	Lat  Latencies
}

// bench is one run of the harness.
type bench struct {
	cfg     config
	sz      sizes
	started time.Time
	machine machine

	emu, svc           *proc
	floor              *proc  // the floor server while F1–F4 and F9 run
	floorAddr          string // its gRPC address
	emuURL             string
	grpcAddr, httpAddr string
	adminAddr          string
	projectID, secret  string
	// consumerID and consumerSecret are the emulator's consumer project, which authsvc also fronts.
	consumerID, consumerSecret string
	fx                         *fixture
	conns                      []*grpc.ClientConn
	startupReachable           time.Duration
	rows                       []row
	notesMu                    sync.Mutex
	notes                      []string
	singleflight               []sfResult
	// singleflightAdm is the same check against an authsvc with admission control on.
	singleflightAdm    []sfResult
	randomTokens       *randomTokenResult // nil: not run
	soak               *soakResult
	startupUnreachable []time.Duration
	profileTop         string
	stytchProfileTop   string // the same during Stytch-bound load (Members.Get)
	fixtureTime        time.Duration
	rowsByID           map[string]*row
	only               map[string]bool // nil: everything (-only)
	idleGoroutines     int             // after start, connections open, before any load
}

type sfResult struct {
	Callers    int
	Upstream   int64
	Errors     int
	FirstError string
}

func (b *bench) run(ctx context.Context) (err error) {
	defer b.cleanup()
	if err := b.startEmulator(ctx); err != nil {
		return err
	}
	t0 := time.Now()
	b.fx, err = newFixture(ctx, b.emuURL, b.projectID, b.secret, b.sz.distinctJWTs)
	if err != nil {
		return fmt.Errorf("seed the emulator: %w", err)
	}
	b.fixtureTime = time.Since(t0)
	if err := b.writeEdgeRules(); err != nil {
		return fmt.Errorf("edge rules: %w", err)
	}
	if err := setLatency(ctx, b.emuURL, b.cfg.latency); err != nil {
		return fmt.Errorf("emulator latency: %w", err)
	}
	if err := b.startAuthsvc(ctx); err != nil {
		return err
	}
	if err := b.dialConns(grpcConns); err != nil {
		return err
	}
	if b.cfg.hold {
		fmt.Printf("emulator %s\nauthsvc grpc %s http %s admin %s (pid %d)\nsession_jwt %s\nsession_token %s\nm2m_token %s\norganization_id %s member_id %s\n",
			b.emuURL, b.grpcAddr, b.httpAddr, b.adminAddr, b.svc.PID(), b.fx.Sessions[0].JWT, b.fx.Sessions[0].Token, b.fx.M2MToken, b.fx.OrgID, b.fx.Sessions[0].MemberID)
		<-ctx.Done()
		return nil
	}
	b.sanity(ctx)
	// The idle baseline: authsvc serving, the driver's connections open, no load yet.
	time.Sleep(time.Second)
	if n, err := goroutines(ctx, b.adminAddr); err == nil {
		b.idleGoroutines = n
	}
	b.workloads(ctx)
	if b.want("W8") {
		b.soakRun(ctx)
	}
	for _, cn := range b.conns {
		_ = cn.Close()
	}
	b.conns = nil
	if err := b.svc.Stop(); err != nil {
		b.note("authsvc stop: " + err.Error())
	}
	b.svc = nil
	if b.want("startup") {
		b.startupRuns(ctx)
	}
	if b.want("misses") {
		b.missesWithAdmission(ctx)
	}
	if b.want("random-tokens") {
		b.randomTokenRun(ctx)
	}
	return ctx.Err()
}

func (b *bench) cleanup() {
	for _, cn := range b.conns {
		_ = cn.Close()
	}
	if b.svc != nil {
		_ = b.svc.Stop()
	}
	if b.floor != nil {
		_ = b.floor.Stop()
	}
	if b.emu != nil {
		_ = b.emu.Stop()
	}
}

func randHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

func (b *bench) startEmulator(ctx context.Context) error {
	ports, err := freePorts(ctx, 1)
	if err != nil {
		return err
	}
	r := randHex(16)
	b.projectID = fmt.Sprintf("project-test-%s-%s-%s-%s-%s", r[0:8], r[8:12], r[12:16], r[16:20], r[20:32])
	b.secret = "secret-test-" + randHex(18)
	r = randHex(16)
	b.consumerID = fmt.Sprintf("project-test-%s-%s-%s-%s-%s", r[0:8], r[8:12], r[12:16], r[16:20], r[20:32])
	b.consumerSecret = "secret-test-" + randHex(18)
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	b.emuURL = "http://" + addr
	b.emu, err = startProc("stytchemu", b.cfg.emuBin,
		[]string{"-addr", addr, "-project-id", b.projectID, "-secret", b.secret, "-consumer-project-id", b.consumerID, "-consumer-secret", b.consumerSecret, "-seed-sandbox=false"},
		nil, filepath.Join(b.cfg.workDir, "stytchemu.log"))
	if err != nil {
		return err
	}
	return waitEmulator(ctx, b.emuURL, b.emu)
}

// authsvcEnv is authsvc's environment: the Stytch project on the emulator, loopback addresses, and any
// AUTHSVC_* / OTEL_* variables and Go runtime settings of the harness's own environment (so
// `AUTHSVC_X=... make bench` reaches authsvc), the addresses always winning.
func (b *bench) authsvcEnv(baseURL, grpcAddr, httpAddr, adminAddr string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if v, ok := strings.CutPrefix(kv, goRuntimePrefix); ok {
			env = append(env, v)
		} else if passedOn(kv) {
			env = append(env, kv)
		}
	}
	return append(env,
		"STYTCH_PROJECT_ID="+b.projectID,
		"STYTCH_SECRET="+b.secret,
		"STYTCH_BASE_URL="+baseURL,
		"STYTCH_CONSUMER_PROJECT_ID="+b.consumerID,
		"STYTCH_CONSUMER_SECRET="+b.consumerSecret,
		"STYTCH_CONSUMER_BASE_URL="+baseURL,
		"AUTHSVC_GRPC_ADDR="+grpcAddr,
		"AUTHSVC_HTTP_ADDR="+httpAddr,
		"AUTHSVC_ADMIN_ADDR="+adminAddr,
		"AUTHSVC_EDGE_RULES="+filepath.Join(b.cfg.workDir, edgeRulesFile),
	)
}

func (b *bench) startAuthsvc(ctx context.Context) error {
	ports, err := freePorts(ctx, 3)
	if err != nil {
		return err
	}
	b.grpcAddr = fmt.Sprintf("127.0.0.1:%d", ports[0])
	b.httpAddr = fmt.Sprintf("127.0.0.1:%d", ports[1])
	b.adminAddr = fmt.Sprintf("127.0.0.1:%d", ports[2])
	start := time.Now()
	b.svc, err = startProc("authsvc", b.cfg.authsvcBin, nil,
		b.authsvcEnv(b.emuURL, b.grpcAddr, b.httpAddr, b.adminAddr), filepath.Join(b.cfg.workDir, "authsvc.log"))
	if err != nil {
		return err
	}
	b.startupReachable, err = waitServing(ctx, b.grpcAddr, start, 15*time.Second, b.svc)
	return err
}

func (b *bench) dialConns(n int) error {
	for range n {
		cn, err := grpc.NewClient("passthrough:///"+b.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		b.conns = append(b.conns, cn)
	}
	return nil
}

func (b *bench) conn(i int64) *grpc.ClientConn { return b.conns[int(i%int64(len(b.conns)))] }

// goRuntimePrefix passes Go runtime settings to the benchmarked authsvc only, not to the harness:
// AUTHSVC_GO_GOMAXPROCS=1 runs authsvc with GOMAXPROCS=1.
const goRuntimePrefix = "AUTHSVC_GO_"

// passedOn reports whether the environment entry kv is handed to the benchmarked authsvc as is: its
// own settings (AUTHSVC_*) and OpenTelemetry's (OTEL_*).
func passedOn(kv string) bool {
	return strings.HasPrefix(kv, "AUTHSVC_") || strings.HasPrefix(kv, "OTEL_")
}

// bearer adds the M2M token that service RPCs (Members.Get: read:members) require.
func (b *bench) bearer(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+b.fx.M2MToken)
}

// Request builders shared by the Go driver and (as JSON) by ghz.
func (b *bench) jwtCheck(ctx context.Context, i int64, jwt string) error {
	_, err := b2bv1.NewSessionsServiceClient(b.conn(i)).Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
		Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: jwt},
	})
	return err
}

func (b *bench) tokenCheck(ctx context.Context, i int64) error {
	s := b.fx.Sessions[int(i%int64(b.stytchSessions()))]
	_, err := b2bv1.NewSessionsServiceClient(b.conn(i)).Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
		Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: s.Token},
	})
	return err
}

func (b *bench) memberGet(ctx context.Context, i int64) error {
	s := b.fx.Sessions[int(i%int64(b.stytchSessions()))]
	_, err := b2bv1.NewMembersServiceClient(b.conn(i)).Get(b.bearer(ctx), &b2bv1.MembersServiceGetRequest{
		OrganizationId: b.fx.OrgID,
		Lookup:         &b2bv1.MembersServiceGetRequest_MemberId{MemberId: s.MemberID},
	})
	return err
}

// stytchSessions is how many sessions the Stytch-bound workloads rotate through.
func (b *bench) stytchSessions() int { return min(len(b.fx.Sessions), 100) }

// sanity sends each benchmarked RPC once, so a broken wiring shows as one clear note instead of a
// table of errors.
func (b *bench) sanity(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	checks := []struct {
		name string
		call func() error
	}{
		{"SessionsService.GetJWKS", func() error {
			_, err := b2bv1.NewSessionsServiceClient(b.conns[0]).GetJWKS(ctx, &b2bv1.SessionsServiceGetJWKSRequest{})
			return err
		}},
		{"SessionsService.Authenticate (JWT)", func() error { return b.jwtCheck(ctx, 0, b.fx.Sessions[0].JWT) }},
		{"SessionsService.Authenticate (token)", func() error { return b.tokenCheck(ctx, 0) }},
		{"MembersService.Get", func() error { return b.memberGet(ctx, 0) }},
		{"M2MService.IssueToken", func() error {
			_, err := m2mv1.NewM2MServiceClient(b.conns[0]).IssueToken(ctx, &m2mv1.IssueTokenRequest{ClientId: b.fx.ClientID, ClientSecret: b.fx.ClientSecret})
			return err
		}},
		{"M2MService.AuthenticateToken", func() error {
			_, err := m2mv1.NewM2MServiceClient(b.conns[0]).AuthenticateToken(ctx, &m2mv1.AuthenticateTokenRequest{AccessToken: b.fx.M2MToken, RequiredScopes: []string{"read:members"}})
			return err
		}},
	}
	// Connect every driver connection and the gateway's own connection now, so that the idle
	// goroutine baseline taken after sanity already counts these long-lived connections.
	for i, cn := range b.conns {
		checks = append(checks, struct {
			name string
			call func() error
		}{fmt.Sprintf("health on driver connection %d", i), func() error {
			_, err := healthpb.NewHealthClient(cn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
			return err
		}})
	}
	checks = append(checks, struct {
		name string
		call func() error
	}{"GET /healthz (REST gateway → gRPC health)", func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.httpAddr+"/healthz", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil
	}})
	for _, ch := range checks {
		if err := ch.call(); err != nil {
			b.note(fmt.Sprintf("Sanity check before the load: %s failed: %v", ch.name, err))
		}
	}
}

// measure runs fn as workload id and records authsvc's CPU and RSS and the emulator's request count
// around it.
func (b *bench) measure(ctx context.Context, r row, countUpstream bool, fn func() (Latencies, float64, error)) *row {
	if !b.want(r.ID) {
		return &row{ID: r.ID}
	}
	fmt.Printf("authbench: %-4s %s ...\n", r.ID, r.Name)
	target := b.svc
	if r.Floor {
		target = b.floor
	}
	pid := target.PID()
	r.Upstream = -1
	var up0 int64
	if countUpstream {
		up0, _ = upstreamCount(ctx, b.emuURL, "*", r.UpstreamProject)
	}
	ticks0, _ := cpuTicks(pid)
	s := sampleRSS(pid, 500*time.Millisecond)
	t0 := time.Now()
	lat, rps, err := fn()
	wall := time.Since(t0)
	ticks1, _ := cpuTicks(pid)
	r.RSS = s.Stop()
	if countUpstream {
		up1, uerr := upstreamCount(ctx, b.emuURL, "*", r.UpstreamProject)
		if uerr == nil {
			r.Upstream = up1 - up0
		}
	}
	r.Lat, r.RPS = lat, rps
	r.CPUSec = float64(ticks1-ticks0) / clockTicks
	if wall > 0 {
		r.CPU = r.CPUSec / wall.Seconds() * 100
	}
	if err != nil {
		r.Err = err.Error()
	}
	if aerr := target.Alive(); aerr != nil {
		r.Err = strings.TrimSpace(r.Err + " " + aerr.Error())
	}
	fmt.Printf("authbench: %-4s %.0f rps, p50 %s ms, p99 %s ms, errors %d %s\n", r.ID, r.RPS, fmtDur(r.Lat.P50), fmtDur(r.Lat.P99), r.Lat.Errors, r.Err)
	b.rows = append(b.rows, r)
	if b.rowsByID == nil {
		b.rowsByID = map[string]*row{}
	}
	p := &b.rows[len(b.rows)-1]
	b.rowsByID[r.ID] = p
	return p
}

func (b *bench) ghz(ctx context.Context, name string, r ghzRun) func() (Latencies, float64, error) {
	return b.ghzAt(ctx, b.grpcAddr, name, r)
}

// ghzAt is ghz against the gRPC server at addr (authsvc's, or the floor server's).
func (b *bench) ghzAt(ctx context.Context, addr, name string, r ghzRun) func() (Latencies, float64, error) {
	return func() (Latencies, float64, error) {
		if r.Bound == 0 {
			r.Bound = b.sz.fastBound
		}
		if r.Connections == 0 {
			r.Connections = grpcConns
		}
		return runGHZ(ctx, b.cfg.ghz, b.cfg.workDir, name, addr, r)
	}
}

func (b *bench) driven(ctx context.Context, s driveSpec, names []string, into *row) func() (Latencies, float64, error) {
	return func() (Latencies, float64, error) {
		res := drive(ctx, s)
		if len(names) > 1 {
			for i, n := range names {
				into.Classes = append(into.Classes, classRow{Name: n, Lat: res.Classes[i]})
			}
		}
		return res.All, res.RPS(), nil
	}
}

const (
	callJWKS     = "authsvc.b2b.v1.SessionsService/GetJWKS"
	callAuth     = "authsvc.b2b.v1.SessionsService/Authenticate"
	callUserAuth = "authsvc.consumer.v1.SessionsService/Authenticate"
	callMember   = "authsvc.b2b.v1.MembersService/Get"
	callIssue    = "authsvc.m2m.v1.M2MService/IssueToken"
	callAuthTok  = "authsvc.m2m.v1.M2MService/AuthenticateToken"
	localConc    = 50
	stytchConc   = 10
	patternToken = "POST /v1/public/{project_id}/oauth2/token" //nolint:gosec // an endpoint template, not a credential
	// grpcConns is how many HTTP/2 connections the Go driver and ghz spread their callers over.
	grpcConns = 4
)

func (b *bench) workloads(ctx context.Context) {
	fx, sz := b.fx, b.sz
	// Warm-up, not recorded: connections, reflection, lazily built descriptors.
	_, _, _ = b.ghz(ctx, "warmup", ghzRun{Call: callJWKS, Data: map[string]any{}, Concurrency: 10, Total: 2000})()

	b.measure(ctx, row{ID: "W1", Name: "No-op baseline: SessionsService.GetJWKS (authsvc's JWKS copy, no Stytch call)", Tool: "ghz", Concurrency: localConc}, true,
		b.ghz(ctx, "w1-noop", ghzRun{Call: callJWKS, Data: map[string]any{}, Concurrency: localConc, Total: sz.fast}))

	first := make([]map[string]string, len(fx.Sessions))
	for i, s := range fx.Sessions {
		first[i] = map[string]string{"session_jwt": s.JWT}
	}
	b.measure(ctx, row{ID: "W2a", Name: "Sessions.Authenticate, valid JWT, first sight (every JWT distinct)", Tool: "ghz", Concurrency: localConc}, true,
		b.ghz(ctx, "w2a-jwt-first", ghzRun{Call: callAuth, Data: first, Concurrency: localConc, Total: len(first)}))

	repeated := map[string]string{"session_jwt": fx.Sessions[0].JWT}
	w2b := b.measure(ctx, row{ID: "W2b", Name: "Sessions.Authenticate, valid JWT, repeated (one JWT)", Tool: "ghz", Concurrency: localConc}, true,
		b.ghz(ctx, "w2b-jwt-repeated", ghzRun{Call: callAuth, Data: repeated, Concurrency: localConc, Total: sz.fast}))
	if w2b.RPS > 0 {
		pace := int(w2b.RPS / 2)
		b.measure(ctx, row{ID: "W2c", Name: fmt.Sprintf("Sessions.Authenticate, repeated JWT, paced at half of W2b (%d rps)", pace), Tool: "ghz", Concurrency: localConc, PacedRPS: pace}, true,
			b.ghz(ctx, "w2c-jwt-paced", ghzRun{Call: callAuth, Data: repeated, Concurrency: localConc, Total: max(pace*8, 200), RPS: pace}))
		// The same 50 callers at a fixed, lighter rate: where the p99 target holds on this machine.
		b.measure(ctx, row{ID: "W2d", Name: "Sessions.Authenticate, repeated JWT, paced at 1000 rps", Tool: "ghz", Concurrency: localConc, PacedRPS: 1000}, true,
			b.ghz(ctx, "w2d-jwt-paced-1000", ghzRun{Call: callAuth, Data: repeated, Concurrency: localConc, Total: min(8000, sz.fast), RPS: 1000}))
	}
	b.authorizationWorkloads(ctx, repeated)
	if b.want("profile") {
		b.profile(ctx, repeated, w2b.RPS)
	}
	b.consumerWorkloads(ctx)
	b.edgeWorkloads(ctx)

	b.measure(ctx, row{ID: "W3", Name: "Sessions.Authenticate, session token (Stytch-bound)", Tool: "ghz", Concurrency: stytchConc}, false,
		b.ghz(ctx, "w3-token", ghzRun{Call: callAuth, Data: b.tokenData(), Concurrency: stytchConc, Total: sz.stytchBound}))
	b.measure(ctx, row{ID: "W4", Name: "Members.Get by member ID (Stytch-bound, M2M Bearer read:members)", Tool: "ghz", Concurrency: stytchConc}, false,
		b.ghz(ctx, "w4-member-get", ghzRun{Call: callMember, Data: b.memberData(), Metadata: map[string]string{"authorization": "Bearer " + fx.M2MToken}, Concurrency: stytchConc, Total: sz.stytchBound}))

	b.pairedWorkloads(ctx)
	if b.want("stytch-profile") {
		b.stytchProfile(ctx)
	}

	issue := map[string]string{"client_id": fx.ClientID, "client_secret": fx.ClientSecret}
	b.measure(ctx, row{ID: "W5a", Name: "M2M IssueToken, cache hit", Tool: "ghz", Concurrency: localConc}, true,
		b.ghz(ctx, "w5a-issue", ghzRun{Call: callIssue, Data: issue, Concurrency: localConc, Total: sz.fast}))
	b.measure(ctx, row{ID: "W5b", Name: "M2M IssueToken, cache hit, paced at 1000 rps", Tool: "ghz", Concurrency: stytchConc, PacedRPS: 1000}, true,
		b.ghz(ctx, "w5b-issue-paced", ghzRun{Call: callIssue, Data: issue, Concurrency: stytchConc, Total: min(5000, sz.fast), RPS: 1000}))
	b.measure(ctx, row{ID: "W5c", Name: "M2M AuthenticateToken (local verification, scope read:members)", Tool: "ghz", Concurrency: localConc}, true,
		b.ghz(ctx, "w5c-authtoken", ghzRun{Call: callAuthTok, Data: map[string]any{"access_token": fx.M2MToken, "required_scopes": []string{"read:members"}}, Concurrency: localConc, Total: sz.fast}))
	if b.want("misses") {
		b.concurrentMisses(ctx, 3, &b.singleflight)
	}

	// Fresh JWTs for the rest (Stytch session JWTs live 5 minutes).
	pool := &jwtPool{}
	if err := pool.Refresh(ctx, fx, fx.Sessions[:b.stytchSessions()]); err != nil {
		b.note("JWT refresh: " + err.Error())
		return
	}
	body := fmt.Appendf(nil, `{"session_jwt":%q}`, pool.Get(0))
	b.measure(ctx, row{ID: "W6a", Name: "REST POST /v1/b2b/sessions/authenticate, repeated JWT", Tool: "hey", Concurrency: localConc}, true,
		func() (Latencies, float64, error) {
			return runHey(ctx, b.cfg.hey, b.cfg.workDir, "w6a-rest", heyRun{URL: "http://" + b.httpAddr + "/v1/b2b/sessions/authenticate", Body: body, Concurrency: localConc, Total: sz.fast, Bound: sz.fastBound})
		})
	b.measure(ctx, row{ID: "W6b", Name: "gRPC Sessions.Authenticate, same JWT, same run (for the REST ratio)", Tool: "ghz", Concurrency: localConc}, true,
		b.ghz(ctx, "w6b-grpc", ghzRun{Call: callAuth, Data: map[string]string{"session_jwt": pool.Get(0)}, Concurrency: localConc, Total: sz.fast}))

	w7 := &row{}
	r7 := b.measure(ctx, row{ID: "W7", Name: "Mixed: 90% JWT checks (100 sessions), 5% session-token checks, 5% Members.Get", Tool: "authbench", Concurrency: localConc}, false,
		b.driven(ctx, b.mixedSpec(pool, localConc, int64(sz.mixed), 2*time.Minute), mixedNames, w7))
	r7.Classes = w7.Classes

	b.floorWorkloads(ctx, b.rowsByID["W2c"], b.rowsByID["E3"])
}

var mixedNames = []string{"JWT check", "session token (Stytch)", "Members.Get (Stytch)"}

func (b *bench) mixedSpec(pool *jwtPool, conc int, total int64, bound time.Duration) driveSpec {
	return driveSpec{
		Concurrency: conc, Total: total, MaxDuration: bound,
		Ops: []op{
			func(ctx context.Context, i int64) error { return b.jwtCheck(ctx, i, pool.Get(i)) },
			b.tokenCheck,
			b.memberGet,
		},
		ClassOf: func(i int64) int {
			if i%10 != 9 {
				return 0
			}
			return 1 + int((i/10)%2)
		},
	}
}

func (b *bench) tokenData() []map[string]string {
	out := make([]map[string]string, b.stytchSessions())
	for i := range out {
		out[i] = map[string]string{"session_token": b.fx.Sessions[i].Token}
	}
	return out
}

func (b *bench) memberData() []map[string]string {
	out := make([]map[string]string, b.stytchSessions())
	for i := range out {
		out[i] = map[string]string{"organization_id": b.fx.OrgID, "member_id": b.fx.Sessions[i].MemberID}
	}
	return out
}

// concurrentMisses sends 50 simultaneous IssueToken calls for a client authsvc has never seen and
// counts the token requests that reached the emulator (the target: one).
func (b *bench) concurrentMisses(ctx context.Context, rounds int, into *[]sfResult) {
	const callers = 50
	for round := range rounds {
		id, secret, err := b.fx.NewM2MClient(ctx, fmt.Sprintf("authbench-miss-%d-%d", len(*into), round))
		if err != nil {
			b.note("concurrent-miss client: " + err.Error())
			return
		}
		up0, err0 := upstreamCount(ctx, b.emuURL, patternToken, "")
		gate := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		errs, first := 0, ""
		for i := range callers {
			wg.Go(func() {
				<-gate
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				_, err := m2mv1.NewM2MServiceClient(b.conn(int64(i))).IssueToken(cctx, &m2mv1.IssueTokenRequest{ClientId: id, ClientSecret: secret})
				if err != nil {
					mu.Lock()
					errs++
					if first == "" {
						first = err.Error()
					}
					mu.Unlock()
				}
			})
		}
		close(gate)
		wg.Wait()
		up1, err1 := upstreamCount(ctx, b.emuURL, patternToken, "")
		if err := errors.Join(err0, err1); err != nil {
			b.note("concurrent-miss count: " + err.Error())
			return
		}
		*into = append(*into, sfResult{Callers: callers, Upstream: up1 - up0, Errors: errs, FirstError: first})
	}
}

// profile captures a CPU profile of authsvc during a repeated-JWT load (not one of the measured
// runs, so the profiler's overhead stays out of the table) and keeps pprof's top tables.
func (b *bench) profile(ctx context.Context, repeated map[string]string, rps float64) {
	total := int(max(rps, 2000) * float64(b.sz.profileSeconds+3))
	b.profileTop = b.profileDuring(ctx, "session-check", ghzRun{Call: callAuth, Data: repeated, Concurrency: localConc, Total: total})
}

// stytchProfile does the same during Stytch-bound load: Members.Get at the W9 concurrency.
func (b *bench) stytchProfile(ctx context.Context) {
	total := 600 * (b.sz.profileSeconds + 3) // more than 10 callers of 20 ms calls can send
	b.stytchProfileTop = b.profileDuring(ctx, "stytch-bound", ghzRun{
		Call: callMember, Data: b.memberData(), Metadata: map[string]string{"authorization": "Bearer " + b.fx.M2MToken},
		Concurrency: stytchConc, Total: total,
	})
}

// profileDuring runs load with ghz, fetches a CPU profile of authsvc from the admin port while it
// runs, and returns pprof's flat and cumulative top tables ("" on failure, with a note).
func (b *bench) profileDuring(ctx context.Context, name string, load ghzRun) string {
	secs := b.sz.profileSeconds
	load.Bound = time.Duration(secs+60) * time.Second
	done := make(chan error, 1)
	go func() {
		_, _, err := b.ghz(ctx, name+"-profile-load", load)()
		done <- err
	}()
	time.Sleep(time.Second)
	path := filepath.Join(b.cfg.workDir, name+".cpu.pprof")
	err := fetch(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", b.adminAddr, secs), path)
	if lerr := <-done; lerr != nil {
		b.note(name + " profile load: " + lerr.Error())
	}
	if err != nil {
		b.note(name + " CPU profile: " + err.Error())
		return ""
	}
	var sb strings.Builder
	for _, extra := range [][]string{{"-top", "-nodecount=35"}, {"-top", "-cum", "-nodecount=45"}} {
		args := append([]string{"tool", "pprof"}, extra...)
		args = append(args, b.cfg.authsvcBin, path)
		out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput() //nolint:gosec // go tool pprof on the harness's own files
		if err != nil {
			b.note("pprof: " + err.Error())
			return ""
		}
		fmt.Fprintf(&sb, "$ go tool pprof %s authsvc %s.cpu.pprof\n%s\n", strings.Join(extra, " "), name, out)
	}
	return sb.String()
}

func fetch(ctx context.Context, url, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", req.URL.Path, resp.StatusCode)
	}
	f, err := os.Create(path) //nolint:gosec // under the harness's work directory
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// startupRuns times SERVING after process start with Stytch unreachable (a closed loopback port).
func (b *bench) startupRuns(ctx context.Context) {
	for i := range b.sz.startupRuns {
		ports, err := freePorts(ctx, 4)
		if err != nil {
			b.note("startup run: " + err.Error())
			return
		}
		dead := fmt.Sprintf("http://127.0.0.1:%d", ports[3]) // nothing listens there
		g := fmt.Sprintf("127.0.0.1:%d", ports[0])
		start := time.Now()
		p, err := startProc("authsvc-unreachable", b.cfg.authsvcBin, nil,
			b.authsvcEnv(dead, g, fmt.Sprintf("127.0.0.1:%d", ports[1]), fmt.Sprintf("127.0.0.1:%d", ports[2])),
			filepath.Join(b.cfg.workDir, "authsvc-unreachable-"+strconv.Itoa(i)+".log"))
		if err != nil {
			b.note("startup run: " + err.Error())
			return
		}
		d, err := waitServing(ctx, g, start, 15*time.Second, p)
		_ = p.Stop()
		if err != nil {
			b.note("startup run: " + err.Error())
			return
		}
		b.startupUnreachable = append(b.startupUnreachable, d)
	}
}

// missesWithAdmission repeats the concurrent-miss check against a fresh authsvc with admission
// control on (the load runs have it off): IssueToken spends a per-client failure budget whose
// attempts are reserved while they are in flight.
func (b *bench) missesWithAdmission(ctx context.Context) {
	b.withFreshAuthsvc(ctx, "authsvc-admission-on", []string{"AUTHSVC_ADMISSION=on"}, func() {
		b.concurrentMisses(ctx, 1, &b.singleflightAdm)
	})
}

// withFreshAuthsvc starts another authsvc against the same emulator, with env added to its
// environment, and runs fn with the driver's connections (b.conns, b.grpcAddr) pointing at it; the
// load authsvc's connections are restored afterwards.
func (b *bench) withFreshAuthsvc(ctx context.Context, name string, env []string, fn func()) {
	if ctx.Err() != nil || b.fx == nil {
		return
	}
	ports, err := freePorts(ctx, 3)
	if err != nil {
		b.note(name + " run: " + err.Error())
		return
	}
	g := fmt.Sprintf("127.0.0.1:%d", ports[0])
	env = append(b.authsvcEnv(b.emuURL, g, fmt.Sprintf("127.0.0.1:%d", ports[1]), fmt.Sprintf("127.0.0.1:%d", ports[2])), env...)
	p, err := startProc(name, b.cfg.authsvcBin, nil, env, filepath.Join(b.cfg.workDir, name+".log"))
	if err != nil {
		b.note(name + " run: " + err.Error())
		return
	}
	defer func() { _ = p.Stop() }()
	if _, err := waitServing(ctx, g, time.Now(), 15*time.Second, p); err != nil {
		b.note(name + " run: " + err.Error())
		return
	}
	saved := b.conns
	b.conns = nil
	defer func() {
		for _, cn := range b.conns {
			_ = cn.Close()
		}
		b.conns = saved
	}()
	grpcAddr := b.grpcAddr
	b.grpcAddr = g
	defer func() { b.grpcAddr = grpcAddr }()
	if err := b.dialConns(grpcConns); err != nil {
		b.note(name + " run: " + err.Error())
		return
	}
	fn()
}

// want reports whether the workload or step id is selected (-only).
func (b *bench) want(id string) bool { return b.only == nil || b.only[id] }
