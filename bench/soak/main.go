// Command soak plays a schedule of faults (Stytch slow, failing, rate limiting, resetting and down;
// Redis killed; a replica SIGTERMed) against two authsvc replicas, one redis-server and the Stytch
// emulator, all real processes on loopback, under a bounded mixed workload, and checks authsvc's
// promises in every phase. `make soak` runs it; docs/reliability.md has the command and a table.
// The process, setup and driver code is bench/internal/harness, shared with bench/authbench.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/bench/internal/harness"
	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		stop()
		os.Exit(1) //nolint:gocritic // stop() already ran
	}
}

type config struct {
	authsvcBin, emuBin, redisBin, workDir, out string
	short, verbose                             bool
	down                                       time.Duration
	concurrency                                int
}

// phase is one step of the fault schedule: fault runs for the phase's duration (its context ends
// with the phase) and the emulator's faults are cleared after it.
type phase struct {
	name  string
	dur   time.Duration
	fault func(ctx context.Context, s *soak)
}

// The cross-replica revocation bound: a replica refuses a session another replica revoked as soon as
// Redis pub/sub delivers the revocation, and one that is not subscribed rechecks after 1 s (README,
// Scaling). The revoking replica refuses it at once.
const otherReplicaBound = time.Second

// redisGrace is how long after redis-server is back a revocation made while it was down may still be
// accepted by the other replica: the revoking replica writes it again in the background and the
// other resubscribes (README, Scaling: "until then only the revoking replica refuses the session").
const redisGrace = 5 * time.Second

func run(ctx context.Context, args []string) error {
	var c config
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.StringVar(&c.authsvcBin, "authsvc", ".cache/soak/bin/authsvc", "authsvc binary")
	fs.StringVar(&c.emuBin, "stytchemu", ".cache/soak/bin/stytchemu", "stytchemu binary")
	fs.StringVar(&c.redisBin, "redis-server", "redis-server", "redis-server binary")
	fs.StringVar(&c.workDir, "work", ".cache/soak/run", "scratch directory (logs, Redis data)")
	fs.StringVar(&c.out, "out", "", "also write the Markdown table to this file")
	fs.BoolVar(&c.short, "short", false, "about a minute in all (6 s phases): for iterating, numbers indicative only")
	fs.DurationVar(&c.down, "down", 0, "how long Stytch is down (default 1m, -short 6s)")
	fs.IntVar(&c.concurrency, "c", 16, "concurrent callers of the mixed workload")
	fs.BoolVar(&c.verbose, "v", false, "print one error message per request kind and code at the end of each phase")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_ = os.RemoveAll(c.workDir)
	if err := os.MkdirAll(c.workDir, 0o750); err != nil {
		return err
	}
	s := &soak{cfg: c}
	defer s.cleanup()
	started := time.Now()
	if err := s.start(ctx); err != nil {
		return err
	}
	results, err := s.play(ctx, schedule(c))
	if err != nil {
		return err
	}
	tbl := table(results)
	fmt.Print("\n" + tbl)
	if c.out != "" {
		if err := os.WriteFile(c.out, []byte(tbl), 0o600); err != nil {
			return err
		}
	}
	fails := verdict(results, defaultTolerance)
	fmt.Printf("\nsoak: %d phases in %s\n", len(results), time.Since(started).Round(time.Second))
	if len(fails) > 0 {
		return errors.New("promises broken:\n  " + strings.Join(fails, "\n  "))
	}
	fmt.Println("soak: every promise held")
	return nil
}

// schedule is the fault schedule: ≤ 10 minutes by default, about one with -short.
func schedule(c config) []phase {
	d, long := 50*time.Second, 60*time.Second
	if c.short {
		d, long = 6*time.Second, 6*time.Second
	}
	down := long
	if c.down > 0 {
		down = c.down
	}
	return []phase{
		{name: "baseline", dur: d},
		{name: "Stytch slow (200 ms, 3 calls a second 2 s)", dur: d, fault: slowStytch},
		{name: "Stytch 5xx bursts (25 calls every 3 s)", dur: d, fault: bursts(map[string]any{"status": 503, "times": 25}, map[string]any{"status": 500, "times": 25})},
		{name: "Stytch 429 + Retry-After 1 s (25 calls every 3 s)", dur: d, fault: bursts(map[string]any{"status": 429, "retry_after": "1s", "times": 25})},
		{name: "Stytch connection resets (25 calls every 3 s)", dur: d, fault: bursts(map[string]any{"reset": true, "times": 25})},
		{name: "Stytch down (every call reset)", dur: down, fault: stytchDown},
		{name: "Redis killed (SIGKILL) and restarted at half time", dur: long, fault: killRedis},
		{name: "replica B SIGTERMed and restarted", dur: long, fault: restartReplica},
		{name: "recovery", dur: long},
	}
}

// replica is one authsvc process and its addresses.
type replica struct {
	name                          string
	proc                          *harness.Proc
	grpcAddr, httpAddr, adminAddr string
	starts                        int
}

type soak struct {
	cfg                       config
	emu                       *harness.Proc
	emuURL, projectID, secret string
	redis                     *harness.Proc
	redisAddr                 string
	replicas                  [2]*replica
	lb                        *grpc.ClientConn    // round robin over both replicas, as a client of the fleet
	direct                    [2]*grpc.ClientConn // one replica each, for the revocation checks
	fx                        *harness.Fixture
	pool                      *harness.JWTPool
	loadSessions              int
	revokeNext                atomic.Int64
	sendSeq                   atomic.Int64
	redisDown                 atomic.Int64 // unix nanos until which the other replica may miss revocations; 0: Redis up
	revokeMu                  sync.Mutex
	phaseEnd                  atomic.Int64 // unix nanos: answers after it were cut by the phase's end

	mu    sync.Mutex
	rec   *phaseRec
	sends map[string]int // recipient → phase index
	phase int
}

// phaseRec accumulates one phase's counts while it runs.
type phaseRec struct {
	outcomes                        map[string]int
	firstErr                        map[string]string // "kind code" → one message (-v)
	clientInput5xx                  int
	revocations, accepted, declared int
}

func (s *soak) record(f func(r *phaseRec)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.rec)
}

func (s *soak) cleanup() {
	for _, cn := range append([]*grpc.ClientConn{s.lb}, s.direct[:]...) {
		if cn != nil {
			_ = cn.Close()
		}
	}
	for _, r := range s.replicas {
		if r != nil && r.proc != nil {
			_ = r.proc.Stop()
		}
	}
	if s.redis != nil {
		_ = s.redis.Stop()
	}
	if s.emu != nil {
		_ = s.emu.Stop()
	}
}

func (s *soak) start(ctx context.Context) error {
	ports, err := harness.FreePorts(ctx, 8)
	if err != nil {
		return err
	}
	s.projectID = "project-test-00000000-0000-4000-8000-" + fmt.Sprintf("%012d", time.Now().UnixNano()%1e12)
	s.secret = fmt.Sprintf("secret-test-soak%d", time.Now().UnixNano())
	emuAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	s.emuURL = "http://" + emuAddr
	s.emu, err = harness.StartProc("stytchemu", s.cfg.emuBin,
		[]string{"-addr", emuAddr, "-project-id", s.projectID, "-secret", s.secret, "-seed-sandbox=false"},
		nil, filepath.Join(s.cfg.workDir, "stytchemu.log"))
	if err != nil {
		return err
	}
	if err := harness.WaitEmulator(ctx, s.emuURL, s.emu); err != nil {
		return err
	}
	s.redisAddr = fmt.Sprintf("127.0.0.1:%d", ports[1])
	if err := s.startRedis(ctx); err != nil {
		return err
	}
	// Sessions: the first loadSessions serve the load, each of the rest is revoked once.
	s.loadSessions = 20
	revocations := 40
	if !s.cfg.short {
		revocations = 200
	}
	fmt.Println("soak: seeding the emulator")
	if s.fx, err = harness.NewFixture(ctx, s.emuURL, s.projectID, s.secret, s.loadSessions+revocations); err != nil {
		return fmt.Errorf("seed the emulator: %w", err)
	}
	s.pool = &harness.JWTPool{}
	if err := s.pool.Refresh(ctx, s.fx, s.fx.Sessions[:s.loadSessions]); err != nil {
		return err
	}
	for i := range s.replicas {
		s.replicas[i] = &replica{
			name:      replicaName(i),
			grpcAddr:  fmt.Sprintf("127.0.0.1:%d", ports[2+3*i]),
			httpAddr:  fmt.Sprintf("127.0.0.1:%d", ports[3+3*i]),
			adminAddr: fmt.Sprintf("127.0.0.1:%d", ports[4+3*i]),
		}
		if err := s.startReplica(ctx, s.replicas[i]); err != nil {
			return err
		}
		if s.direct[i], err = grpc.NewClient("passthrough:///"+s.replicas[i].grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
			return err
		}
	}
	// The load reaches the fleet as a gRPC client should (README, Scaling): round robin over every
	// replica's address, so a replica that goes away stops getting calls once its connection drops.
	r := manual.NewBuilderWithScheme("soak")
	r.InitialState(resolver.State{Addresses: []resolver.Address{{Addr: s.replicas[0].grpcAddr}, {Addr: s.replicas[1].grpcAddr}}})
	s.lb, err = grpc.NewClient("soak:///fleet", grpc.WithResolvers(r), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`))
	return err
}

func (s *soak) startRedis(ctx context.Context) error {
	_, port, _ := net.SplitHostPort(s.redisAddr)
	dir := filepath.Join(s.cfg.workDir, "redis")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	// An append-only file, as a managed Redis keeps: restarted after the kill it comes back with what
	// it had acknowledged, so idempotency records and revocations survive. everysec (Redis's default)
	// rather than always: a killed process loses nothing the kernel already has (only a machine crash
	// could lose the last second), and fsync on every write makes Redis slower than authsvc's 100 ms
	// request-path I/O timeout on this shared machine's disk.
	var err error
	s.redis, err = harness.StartProc("redis-server", s.cfg.redisBin,
		[]string{"--port", port, "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--protected-mode", "no"},
		nil, filepath.Join(s.cfg.workDir, fmt.Sprintf("redis-%d.log", time.Now().UnixNano())))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if err := s.redis.Alive(); err != nil {
			return err
		}
		if redisPing(ctx, s.redisAddr) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("redis-server did not answer PING within 10s")
}

func redisPing(ctx context.Context, addr string) bool {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// admissionLimits raises the per-IP budgets: every call of the soak comes from one loopback address,
// so authsvc's per-IP limits would refuse most of the load with 429 and hide what the faults do. The
// per-email send budget stays as it is (every send goes to a new address), and so do the Redis-down
// policies (sends closed, checks local), which the Redis phase exercises.
const admissionLimits = "send_ip=1000000/1m,check_ip=1000000/1m,check_failures_ip=1000000/10m,check_failures_target=1000000/10m,session_remote_failures_ip=1000000/10m,session_remote_failures_caller=1000000/10m"

func (s *soak) startReplica(ctx context.Context, r *replica) error {
	r.starts++
	env := []string{
		"STYTCH_PROJECT_ID=" + s.projectID,
		"STYTCH_SECRET=" + s.secret,
		"STYTCH_BASE_URL=" + s.emuURL,
		"AUTHSVC_GRPC_ADDR=" + r.grpcAddr,
		"AUTHSVC_HTTP_ADDR=" + r.httpAddr,
		"AUTHSVC_ADMIN_ADDR=" + r.adminAddr,
		"AUTHSVC_REDIS_URL=redis://" + s.redisAddr + "/0",
		"AUTHSVC_ADMISSION=on",
		"AUTHSVC_ADMISSION_LIMITS=" + admissionLimits,
		"AUTHSVC_LOG_LEVEL=warn",
	}
	start := time.Now()
	var err error
	r.proc, err = harness.StartProc("authsvc-"+r.name, s.cfg.authsvcBin, nil, env,
		filepath.Join(s.cfg.workDir, fmt.Sprintf("authsvc-%s-%d.log", r.name, r.starts)))
	if err != nil {
		return err
	}
	_, err = harness.WaitServing(ctx, r.grpcAddr, start, 20*time.Second, r.proc)
	return err
}

// play runs the phases in order, each under the mixed load, and collects their results.
func (s *soak) play(ctx context.Context, phases []phase) ([]phaseResult, error) {
	s.sends = map[string]int{}
	results := make([]phaseResult, 0, len(phases))
	// Session JWTs live 5 minutes: refresh the load's pool every 2 minutes, directly at the emulator
	// (a refresh that meets a fault keeps the previous JWTs).
	refreshCtx, stopRefresh := context.WithCancel(ctx)
	defer stopRefresh()
	go func() {
		t := time.NewTicker(2 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-refreshCtx.Done():
				return
			case <-t.C:
				if err := s.pool.Refresh(refreshCtx, s.fx, s.fx.Sessions[:s.loadSessions]); err != nil && refreshCtx.Err() == nil {
					fmt.Println("soak: JWT refresh failed (previous JWTs kept):", err)
				}
			}
		}
	}()
	for i, p := range phases {
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
		fmt.Printf("soak: phase %d/%d %s (%s)\n", i+1, len(phases), p.name, p.dur)
		s.mu.Lock()
		s.rec, s.phase = &phaseRec{outcomes: map[string]int{}, firstErr: map[string]string{}}, i
		s.phaseEnd.Store(time.Now().Add(p.dur).UnixNano())
		s.mu.Unlock()
		calls0, err := harness.UpstreamCount(ctx, s.emuURL, "*", "")
		if err != nil {
			return results, fmt.Errorf("emulator request count: %w", err)
		}
		phaseCtx, endPhase := context.WithTimeout(ctx, p.dur)
		var wg sync.WaitGroup
		if p.fault != nil {
			wg.Go(func() { p.fault(phaseCtx, s) })
		}
		wg.Go(func() { s.revocations(phaseCtx) })
		ops := s.ops()
		res := harness.Drive(ctx, harness.DriveSpec{
			Concurrency: s.cfg.concurrency, Total: 1 << 40, MaxDuration: p.dur,
			Ops: ops, ClassOf: func(i int64) int { return int(i % int64(len(ops))) },
			PerCallTimeout: 5 * time.Second,
		})
		endPhase()
		wg.Wait()
		if err := harness.EmuControl(ctx, http.MethodDelete, s.emuURL+"/emulator/faults", nil, nil); err != nil {
			return results, fmt.Errorf("clear faults: %w", err)
		}
		calls1, err := harness.UpstreamCount(ctx, s.emuURL, "*", "")
		if err != nil {
			return results, fmt.Errorf("emulator request count: %w", err)
		}
		s.mu.Lock()
		rec := s.rec
		s.mu.Unlock()
		pr := phaseResult{
			Name: p.name, Duration: p.dur, Outcomes: rec.outcomes, P50: res.All.P50, P99: res.All.P99,
			StytchCalls: calls1 - calls0, Revocations: rec.revocations, RevokedAccepted: rec.accepted,
			RevokedAcceptedDeclared: rec.declared, ClientInput5xx: rec.clientInput5xx,
		}
		for _, r := range s.replicas {
			pr.Replicas = append(pr.Replicas, sample(ctx, r))
		}
		results = append(results, pr)
		if s.cfg.verbose {
			for _, k := range slices.Sorted(maps.Keys(rec.firstErr)) {
				fmt.Printf("soak:     %s: %s\n", k, rec.firstErr[k])
			}
		}
		fmt.Printf("soak:   %d requests, error rate %.1f%%, p50 %s ms, p99 %s ms, %d Stytch calls\n",
			pr.requests(), 100*pr.errorRate(), fmtMS(pr.P50), fmtMS(pr.P99), pr.StytchCalls)
	}
	if err := s.countDuplicates(ctx, results); err != nil {
		return results, err
	}
	return results, nil
}

func sample(ctx context.Context, r *replica) replicaSample {
	rss, err1 := harness.RSSBytes(r.proc.PID())
	g, err2 := harness.Goroutines(ctx, r.adminAddr)
	return replicaSample{RSS: rss, Goroutines: g, OK: err1 == nil && err2 == nil}
}

// countDuplicates reads the emulator's outbox once and counts, per phase, the soak's recipients with
// more than one message. Only counts are kept: no address or token is printed.
func (s *soak) countDuplicates(ctx context.Context, results []phaseResult) error {
	var box struct {
		Messages []struct {
			To string `json:"to"`
		} `json:"messages"`
	}
	if err := harness.EmuControl(ctx, http.MethodGet, s.emuURL+"/emulator/outbox", nil, &box); err != nil {
		return fmt.Errorf("read the outbox: %w", err)
	}
	per := map[string]int{}
	for _, m := range box.Messages {
		per[strings.ToLower(m.To)]++
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for to, i := range s.sends {
		results[i].Sends++
		if per[to] > 1 {
			results[i].DuplicateSends++
		}
	}
	return nil
}

// ops are the mixed workload's request kinds, picked in turn: session JWT checks (3 in 10), opaque
// session token checks, magic-link sends with idempotency keys, wrong OTP codes, member reads and M2M
// tokens (1 in 10 each), and requests with invalid input (1 in 10), which must never get a server
// error.
func (s *soak) ops() []harness.Op {
	return []harness.Op{
		s.jwtCheck, s.tokenCheck, s.send, s.jwtCheck, s.codeCheck, s.memberGet, s.jwtCheck, s.m2mToken, s.badInput, s.tokenCheck,
	}
}

// outcome records the final answer of a request of the given kind and passes the error on to the
// driver. A request cut by the end of the phase is not counted (the driver drops it too).
func (s *soak) outcome(kind string, err error) error {
	if err != nil && time.Now().UnixNano() >= s.phaseEnd.Load() {
		return err
	}
	code := status.Code(err)
	s.record(func(r *phaseRec) {
		r.outcomes[code.String()]++
		if k := kind + " " + code.String(); err != nil && r.firstErr[k] == "" {
			r.firstErr[k] = status.Convert(err).Message()
		}
	})
	return err
}

func (s *soak) session(i int64) harness.Session {
	return s.fx.Sessions[int(i%int64(s.loadSessions))]
}

func (s *soak) jwtCheck(ctx context.Context, i int64) error {
	_, err := b2bv1.NewSessionsServiceClient(s.lb).Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
		Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: s.pool.Get(i)},
	})
	return s.outcome("jwtCheck", err)
}

func (s *soak) tokenCheck(ctx context.Context, i int64) error {
	_, err := b2bv1.NewSessionsServiceClient(s.lb).Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
		Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: s.session(i).Token},
	})
	return s.outcome("tokenCheck", err)
}

// retryable are the codes a client retries a send on, with the same idempotency key.
func retryable(c codes.Code) bool {
	switch c { //nolint:exhaustive // the others are final
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted, codes.Internal, codes.Unknown:
		return true
	}
	return false
}

// send asks for a magic link to a new address with an idempotency key, as a careful client does:
// on an error that may be transient it retries with the same key (up to 3 attempts), and one send in
// four is repeated once more after a success, as a client that lost the answer would. Either way the
// address must get one email at most.
func (s *soak) send(ctx context.Context, _ int64) error {
	n := s.sendSeq.Add(1)
	to := fmt.Sprintf("soak-%07d@example.com", n)
	key := fmt.Sprintf("soak-send-%d-%d", time.Now().UnixNano(), n)
	s.mu.Lock()
	s.sends[to] = s.phase
	s.mu.Unlock()
	req := &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: s.fx.OrgID, EmailAddress: to}
	call := func() error {
		_, err := b2bv1.NewMagicLinksServiceClient(s.lb).LoginOrSignup(metadata.AppendToOutgoingContext(ctx, "idempotency-key", key), req)
		return err
	}
	var err error
	for attempt := range 3 {
		if err = call(); err == nil || !retryable(status.Code(err)) || ctx.Err() != nil {
			break
		}
		if attempt < 2 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if err == nil && n%4 == 0 {
		err = call()
	}
	return s.outcome("send", err)
}

// codeCheck sends a wrong OTP code for a member's address: the answer is a refusal, never a session.
func (s *soak) codeCheck(ctx context.Context, i int64) error {
	_, err := b2bv1.NewOTPsServiceClient(s.lb).EmailAuthenticate(ctx, &b2bv1.OTPsServiceEmailAuthenticateRequest{
		OrganizationId: s.fx.OrgID, EmailAddress: fmt.Sprintf("bench-%06d@example.com", i%int64(s.loadSessions)), Code: "000000",
	})
	if err == nil {
		err = status.Error(codes.Internal, "soak: a wrong OTP code was accepted")
	}
	return s.outcome("codeCheck", err)
}

func (s *soak) bearer(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.fx.M2MToken)
}

func (s *soak) memberGet(ctx context.Context, i int64) error {
	_, err := b2bv1.NewMembersServiceClient(s.lb).Get(s.bearer(ctx), &b2bv1.MembersServiceGetRequest{
		OrganizationId: s.fx.OrgID,
		Lookup:         &b2bv1.MembersServiceGetRequest_MemberId{MemberId: s.session(i).MemberID},
	})
	return s.outcome("memberGet", err)
}

func (s *soak) m2mToken(ctx context.Context, _ int64) error {
	_, err := m2mv1.NewM2MServiceClient(s.lb).IssueToken(ctx, &m2mv1.IssueTokenRequest{ClientId: s.fx.ClientID, ClientSecret: s.fx.ClientSecret})
	return s.outcome("m2mToken", err)
}

// badInput sends a request authsvc can refuse without Stytch or Redis: a malformed session JWT, a
// send with an invalid idempotency key, or a send to an invalid address. A server error (or a
// success) for one of them is counted against the phase.
func (s *soak) badInput(ctx context.Context, i int64) error {
	var err error
	switch (i / 10) % 3 {
	case 0:
		_, err = b2bv1.NewSessionsServiceClient(s.lb).Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
			Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: "not.a.jwt"},
		})
	case 1:
		_, err = b2bv1.NewMagicLinksServiceClient(s.lb).LoginOrSignup(metadata.AppendToOutgoingContext(ctx, "idempotency-key", "bad key"),
			&b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: s.fx.OrgID, EmailAddress: "soak-bad-key@example.com"})
	default:
		_, err = b2bv1.NewMagicLinksServiceClient(s.lb).LoginOrSignup(ctx,
			&b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: s.fx.OrgID, EmailAddress: fmt.Sprintf("not-an-address-%d", i)})
	}
	if unexplained(status.Code(err)) || err == nil {
		s.record(func(r *phaseRec) { r.clientInput5xx++ })
	}
	return s.outcome(fmt.Sprintf("badInput%d", (i/10)%3), err)
}

// unexplained reports the server errors that blame nothing but the request: 500 and 501 (Internal,
// Unknown, DataLoss, Unimplemented). Unavailable and DeadlineExceeded (503, 504) say a dependency or
// the server is failing and the call may be retried; a request with invalid input can get one when
// it meets an outage before its input is checked (admission runs first), which is not caused by the
// input, so they are reported among the outcomes and not counted here.
func unexplained(c codes.Code) bool {
	switch c { //nolint:exhaustive // the others are 2xx, 4xx, 503 or 504
	case codes.Internal, codes.Unknown, codes.Unimplemented, codes.DataLoss:
		return true
	}
	return false
}

// revocations revokes one unused session every second (every 3 s in the full run) through replica A
// and checks its JWT on both replicas for the next 2 s: replica A must refuse it at once, replica B
// within otherReplicaBound (or, while Redis is down, within redisGrace of its return).
func (s *soak) revocations(ctx context.Context) {
	every := 3 * time.Second
	if s.cfg.short {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		k := s.loadSessions + int(s.revokeNext.Add(1)-1)
		if k >= len(s.fx.Sessions) {
			return
		}
		sess := s.fx.Sessions[k]
		wg.Go(func() { s.revokeAndCheck(context.WithoutCancel(ctx), sess) })
	}
}

func (s *soak) revokeAndCheck(ctx context.Context, sess harness.Session) {
	// Whether Redis took the revocation at once: replica A counts the revocations it could not write
	// (authsvc_revocation_store_errors_total{op="revoke"}); it then writes them again in the
	// background, and until then only A refuses the session (README, Scaling). The revocations are
	// made one at a time so that the counter's change belongs to this one.
	s.revokeMu.Lock()
	before, err1 := revokeStoreErrors(ctx, s.replicas[0].adminAddr)
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err := b2bv1.NewSessionsServiceClient(s.direct[0]).Revoke(rctx, &b2bv1.SessionsServiceRevokeRequest{
		Target: &b2bv1.SessionsServiceRevokeRequest_SessionJwt{SessionJwt: sess.JWT},
	})
	cancel()
	after, err2 := revokeStoreErrors(ctx, s.replicas[0].adminAddr)
	s.revokeMu.Unlock()
	if err != nil {
		return // not revoked (Stytch or replica A failing): nothing to check
	}
	notStored := err1 != nil || err2 != nil || after > before
	revoked := time.Now()
	s.record(func(r *phaseRec) { r.revocations++ })
	for time.Since(revoked) < 2*time.Second {
		for i, cn := range s.direct {
			started := time.Now()
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := b2bv1.NewSessionsServiceClient(cn).Authenticate(cctx, &b2bv1.SessionsServiceAuthenticateRequest{
				Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: sess.JWT},
			})
			cancel()
			if err != nil {
				continue
			}
			after := started.Sub(revoked).Round(time.Millisecond)
			switch {
			case i == 0:
				fmt.Printf("soak:   replica A accepted a session it had revoked, %s after the revocation\n", after)
				s.record(func(r *phaseRec) { r.accepted++ })
			case started.Sub(revoked) <= otherReplicaBound:
				// within the bound
			case notStored || (s.redisDown.Load() != 0 && started.UnixNano() < s.redisDown.Load()):
				s.record(func(r *phaseRec) { r.declared++ })
			default:
				fmt.Printf("soak:   replica B accepted a session revoked on A, %s after the revocation\n", after)
				s.record(func(r *phaseRec) { r.accepted++ })
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Faults.

func addFault(ctx context.Context, s *soak, f map[string]any) {
	f["pattern"] = "*"
	if err := harness.EmuControl(ctx, http.MethodPost, s.emuURL+"/emulator/faults", f, nil); err != nil && ctx.Err() == nil {
		fmt.Println("soak: add fault:", err)
	}
}

// slowStytch delays every Stytch call by 200 ms, and 3 calls a second by 2 s: the slow fault is put
// first each second, since the emulator applies the first matching fault.
func slowStytch(ctx context.Context, s *soak) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		_ = harness.EmuControl(ctx, http.MethodDelete, s.emuURL+"/emulator/faults", nil, nil)
		addFault(ctx, s, map[string]any{"latency": "2s", "times": 3})
		addFault(ctx, s, map[string]any{"latency": "200ms"})
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// bursts installs one of faults (in turn) every 3 s; each applies to the next 25 Stytch calls.
func bursts(faults ...map[string]any) func(ctx context.Context, s *soak) {
	return func(ctx context.Context, s *soak) {
		t := time.NewTicker(3 * time.Second)
		defer t.Stop()
		for n := 0; ; n++ {
			f := map[string]any{}
			for k, v := range faults[n%len(faults)] {
				f[k] = v
			}
			addFault(ctx, s, f)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
}

// stytchDown resets every Stytch connection for the whole phase: no answer at all, as when Stytch or
// the way to it is down.
func stytchDown(ctx context.Context, s *soak) {
	addFault(ctx, s, map[string]any{"reset": true})
	<-ctx.Done()
}

// killRedis kills redis-server with SIGKILL, waits half the phase and starts it again on the same
// port and data directory.
func killRedis(ctx context.Context, s *soak) {
	// Until redisGrace after the restart the other replica may miss revocations (declared).
	s.redisDown.Store(time.Now().Add(24 * time.Hour).UnixNano())
	s.redis.Kill()
	deadline, _ := ctx.Deadline()
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(deadline) / 2):
	}
	if err := s.startRedis(context.WithoutCancel(ctx)); err != nil {
		fmt.Println("soak: restart redis-server:", err)
		return
	}
	s.redisDown.Store(time.Now().Add(redisGrace).UnixNano())
}

// restartReplica SIGTERMs replica B, waits for it to exit, and starts it again on the same ports.
func restartReplica(ctx context.Context, s *soak) {
	r := s.replicas[1]
	t0 := time.Now()
	if err := r.proc.Stop(); err != nil {
		fmt.Println("soak: replica B stop:", err)
	}
	fmt.Printf("soak:   replica B exited %s after SIGTERM\n", time.Since(t0).Round(time.Millisecond))
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
	}
	t0 = time.Now()
	if err := s.startReplica(context.WithoutCancel(ctx), r); err != nil {
		fmt.Println("soak: replica B restart:", err)
		return
	}
	fmt.Printf("soak:   replica B serving %s after its restart\n", time.Since(t0).Round(time.Millisecond))
}

// revokeStoreErrors reads authsvc_revocation_store_errors_total{op="revoke"} from a replica's
// Prometheus endpoint (0 until the first error).
func revokeStoreErrors(ctx context.Context, adminAddr string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+adminAddr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	return parseRevokeStoreErrors(bufio.NewScanner(resp.Body))
}

func parseRevokeStoreErrors(sc *bufio.Scanner) (float64, error) {
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var total float64
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "authsvc_revocation_store_errors_total{") || !strings.Contains(line, `op="revoke"`) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, err
		}
		total += v
	}
	return total, sc.Err()
}
