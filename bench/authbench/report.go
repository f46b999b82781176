package main

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// note records a remark for the report; safe from any goroutine.
func (b *bench) note(s string) {
	b.notesMu.Lock()
	defer b.notesMu.Unlock()
	b.notes = append(b.notes, s)
}

// machine describes where the run happened.
type machine struct {
	CPUs     int
	Model    string
	MemTotal string
	Kernel   string
	Go       string
	LoadAvg  string
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				if _, err := fmt.Sscan(strings.TrimSpace(v), &kb); err == nil {
					m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

// verdict is one target's outcome; Wave1 is the first wave's figure for it (wave1.go).
type verdict struct {
	Target, Wave1, Measured, Result string
}

const (
	met         = "**MET**"
	notMeasured = "NOT MEASURED"
	information = "information"
)

func missed(format string, a ...any) string { return "**MISSED** — " + fmt.Sprintf(format, a...) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// Targets of the Stytch-bound path (issue "Faster on the same path"): what authsvc may add at p50 to
// a Stytch call, and the CPU it may spend on one.
const (
	stytchOverheadGRPC = 500 * time.Microsecond
	stytchOverheadREST = 800 * time.Microsecond
	stytchCPUPerCall   = 300 * time.Microsecond
)

// targets evaluates the issues' targets against this run.
func (b *bench) targets() []verdict {
	get := func(id string) *row {
		r := b.rowsByID[id]
		if r == nil || r.Err != "" || r.Lat.Count == 0 || r.Lat.Errors > 0 {
			return nil
		}
		return r
	}
	var v []verdict

	w1, w2a, w2b, w2c, w2d := get("W1"), get("W2a"), get("W2b"), get("W2c"), get("W2d")
	v = append(v, throughputVerdict("Repeated valid JWT: ≥ 70% of the no-op baseline's throughput (W2b / W1)", wave1JWTThroughput, w2b, w1, 0.70))
	var t verdict

	// "p99 under 5 ms at 50 concurrent callers": 50 callers that never pause keep 50 requests in the
	// server, so at full speed latency is set by Little's law (callers / throughput), not by the work
	// per check. Both readings are reported: 50 callers paced below saturation (W2c, W2d) and at full
	// speed (W2b).
	for _, c := range []struct {
		r           *row
		what, wave1 string
	}{
		{w2d, "paced at 1000 rps (W2d)", wave1JWTPaced1000},
		{w2c, "paced at half the full-speed throughput (W2c)", wave1JWTPacedHalf},
		{w2b, "at full speed (W2b, closed loop)", wave1JWTFullSpeed},
	} {
		t = verdict{Target: "Repeated valid JWT: p99 < 5 ms at 50 concurrent callers, " + c.what, Wave1: c.wave1}
		if c.r == nil {
			t.Result = notMeasured
			v = append(v, t)
			continue
		}
		t.Measured = fmt.Sprintf("p99 %s ms at %.0f rps", fmtDur(c.r.Lat.P99), c.r.RPS)
		t.Result = met
		if c.r.Lat.P99 >= 5*time.Millisecond {
			t.Result = missed("by %.2f ms", ms(c.r.Lat.P99)-5)
			if c.r.PacedRPS == 0 {
				t.Result += fmt.Sprintf(": 50 requests always queued, so mean latency = 50 / throughput = %.1f ms at %.0f rps, with the load generator on the same %d cores", 50/c.r.RPS*1000, c.r.RPS, b.machine.CPUs)
			} else {
				t.Result += fmt.Sprintf(": p50 %s ms and p95 %s ms; authsvc (%.0f%% of a core, %s µs per check) and ghz share %d cores, and the last percent waits for the run queue and GC cycles (see profiles/request-path.md)",
					fmtDur(c.r.Lat.P50), fmtDur(c.r.Lat.P95), c.r.CPU, perRequestCPU(c.r), b.machine.CPUs)
				t.Result += floorNote(c.r, get("F2"))
			}
		}
		v = append(v, t)
	}

	v = append(v, noStytchCallsVerdict("JWT checks make zero calls to Stytch (emulator request counter around W2a–W2d)", wave1JWTNoStytch, w2a, w2b, w2c, w2d))

	v = append(v, consumerVerdicts(w1, get("C2a"), get("C2b"), get("C2c"))...)
	v = append(v, edgeVerdicts(get("E1"), get("E2"), get("E3"), get("F3"))...)
	v = append(v, throughputVerdict("RBAC: a session check with a local authorization_check (policy cached) within 10% of the plain check's throughput (R1 / R1p, same run)", "– (no RBAC)", get("R1"), get("R1p"), 0.90))

	w6a, w6b := get("W6a"), get("W6b")
	v = append(v, throughputVerdict("Session check over REST: ≥ 50% of its gRPC throughput (W6a / W6b)", wave1RESTRatio, w6a, w6b, 0.5))

	v = append(v, b.stytchBoundVerdicts(get)...)

	w5a, w5b := get("W5a"), get("W5b")
	t = verdict{Target: "M2M IssueToken on a cache hit: p50 < 1 ms (W5b: 10 callers at 1000 rps)", Wave1: wave1IssueTokenHit}
	if w5b != nil {
		t.Measured = fmt.Sprintf("p50 %s ms", fmtDur(w5b.Lat.P50))
		if w5a != nil {
			t.Measured += fmt.Sprintf(" (50 callers at full speed, W5a: p50 %s ms at %.0f rps)", fmtDur(w5a.Lat.P50), w5a.RPS)
		}
		t.Result = met
		if w5b.Lat.P50 >= time.Millisecond {
			t.Result = missed("by %.2f ms", ms(w5b.Lat.P50)-1)
		}
	} else {
		t.Result = notMeasured
	}
	v = append(v, t)

	t = verdict{Target: "Concurrent IssueToken misses for one client make one upstream call", Wave1: wave1Singleflight}
	if len(b.singleflight) > 0 {
		var parts []string
		ok := true
		for _, s := range b.singleflight {
			part := fmt.Sprintf("%d callers → %d token request(s), %d errors", s.Callers, s.Upstream, s.Errors)
			if s.FirstError != "" {
				part += fmt.Sprintf(" (%q)", s.FirstError)
			}
			parts = append(parts, part)
			ok = ok && s.Upstream == 1 && s.Errors == 0
		}
		t.Measured = strings.Join(parts, "; ")
		t.Result = met
		if !ok {
			t.Result = missed("see the counts")
		}
	} else {
		t.Result = notMeasured
	}
	v = append(v, t)

	if len(b.singleflightAdm) > 0 {
		s := b.singleflightAdm[0]
		t = verdict{
			Target:   "… the same with admission control on (`AUTHSVC_ADMISSION=on`, a fresh authsvc; not part of the issue's target)",
			Wave1:    wave1SingleflightAdm,
			Measured: fmt.Sprintf("%d callers → %d token request(s), %d refused (%q)", s.Callers, s.Upstream, s.Errors, s.FirstError),
			Result:   information,
		}
		if s.Errors > 0 {
			t.Result = "callers refused: see profiles/session-check.md, admission"
		}
		v = append(v, t)
	}

	v = append(v, b.soakVerdicts()...)

	t = verdict{Target: "SERVING within 500 ms of process start with Stytch unreachable", Wave1: wave1Startup}
	if len(b.startupUnreachable) > 0 {
		worst := slices.Max(b.startupUnreachable)
		var parts []string
		for _, d := range b.startupUnreachable {
			parts = append(parts, fmtDur(d))
		}
		t.Measured = fmt.Sprintf("%d runs: %s ms (worst %s ms)", len(parts), strings.Join(parts, ", "), fmtDur(worst))
		t.Result = met
		if worst >= 500*time.Millisecond {
			t.Result = missed("by %.0f ms", ms(worst)-500)
		}
	} else {
		t.Result = notMeasured
	}
	return append(v, t, b.revocationVerdict(), b.randomTokenVerdict(), b.allocVerdict())
}

// stytchBoundVerdicts are the targets of the paired Stytch-bound workloads (W9a–W9d): latency
// added at p50 over gRPC and REST, and authsvc's CPU per call.
func (b *bench) stytchBoundVerdicts(get func(string) *row) []verdict {
	var v []verdict
	for _, pair := range []struct {
		id, what, wave1 string
		limit           time.Duration
	}{
		{"W9a", "Sessions.Authenticate with a session token over gRPC", wave1TokenGRPC, stytchOverheadGRPC},
		{"W9b", "Members.Get over gRPC", wave1MemberGRPC, stytchOverheadGRPC},
		{"W9c", "Sessions.Authenticate with a session token over REST", wave1TokenREST, stytchOverheadREST},
		{"W9d", "Members.Get over REST", wave1MemberREST, stytchOverheadREST},
	} {
		t := verdict{
			Target: fmt.Sprintf("%s adds < %.1f ms at p50 over the Stytch client calling the emulator directly (%s: the two alternate in one driver)", pair.what, ms(pair.limit), pair.id),
			Wave1:  pair.wave1,
		}
		r := get(pair.id)
		if r == nil || len(r.Classes) != 2 {
			t.Result = notMeasured
			v = append(v, t)
			continue
		}
		via, direct := r.Classes[0].Lat, r.Classes[1].Lat
		add := via.P50 - direct.P50
		t.Measured = fmt.Sprintf("p50 %+.2f ms (%s − %s; p99 %s vs %s)", ms(add), fmtDur(via.P50), fmtDur(direct.P50), fmtDur(via.P99), fmtDur(direct.P99))
		t.Result = met
		if add >= pair.limit {
			t.Result = missed("by %.2f ms, with authsvc spending %s µs of CPU per call; see profiles/request-path.md", ms(add-pair.limit), perRequestCPU(r))
			if f9 := get("F9"); f9 != nil && len(f9.Classes) == 2 && pair.limit == stytchOverheadGRPC {
				fa := f9.Classes[0].Lat.P50 - f9.Classes[1].Lat.P50
				t.Result += fmt.Sprintf("; a bare grpc-go server in authsvc's place making the same Members.Get (F9) adds %+.2f ms (%s − %s) with %s µs of CPU per call", ms(fa), fmtDur(f9.Classes[0].Lat.P50), fmtDur(f9.Classes[1].Lat.P50), perRequestCPU(f9))
			}
		}
		v = append(v, t)
	}
	for _, c := range []struct {
		ids, what, wave1 string
		target           bool
	}{
		{"W9a,W9b", "over gRPC", wave1CPUGRPC, true},
		{"W9c,W9d", "over REST (not part of the issue's target)", wave1CPUREST, false},
	} {
		t := verdict{Target: fmt.Sprintf("authsvc CPU per Stytch-bound call %s < %.0f µs (%s)", c.what, float64(stytchCPUPerCall)/float64(time.Microsecond), c.ids), Wave1: c.wave1}
		var parts []string
		worst := -1.0
		for _, id := range strings.Split(c.ids, ",") {
			r := get(id)
			if r == nil || r.AuthsvcRequests == 0 {
				continue
			}
			us := r.CPUSec / float64(r.AuthsvcRequests) * 1e6
			worst = max(worst, us)
			parts = append(parts, fmt.Sprintf("%s %.0f µs", id, us))
		}
		switch {
		case len(parts) == 0:
			t.Result = notMeasured
		case !c.target:
			t.Measured, t.Result = strings.Join(parts, ", "), information
		case worst < float64(stytchCPUPerCall)/float64(time.Microsecond):
			t.Measured, t.Result = strings.Join(parts, ", "), met
		default:
			t.Measured = strings.Join(parts, ", ")
			t.Result = missed("by %.0f µs (utime+stime over the workload, 10 ms ticks; see profiles/request-path.md)", worst-float64(stytchCPUPerCall)/float64(time.Microsecond))
			if w4, f4 := get("W4"), get("F4"); w4 != nil && f4 != nil {
				t.Result += fmt.Sprintf("; under ghz's W4 load (10 callers, closed loop) authsvc spends %s µs per Members.Get and a bare grpc-go server making the same call with the same Stytch client %s µs (F4): the floor of this machine", perRequestCPU(w4), perRequestCPU(f4))
			}
		}
		v = append(v, t)
	}
	return v
}

// floorNote says, after a missed latency target of paced row r, what the same paced load gives on
// the bare grpc-go server (floor, F2 or F3); "" when the floor was not measured.
func floorNote(r, floor *row) string {
	if r == nil || floor == nil {
		return ""
	}
	return fmt.Sprintf("; a bare grpc-go server answering a no-op under the same ghz load (%s, %d rps): p50 %s ms, p95 %s ms, p99 %s ms, %s µs of CPU per call",
		floor.ID, floor.PacedRPS, fmtDur(floor.Lat.P50), fmtDur(floor.Lat.P95), fmtDur(floor.Lat.P99), perRequestCPU(floor))
}

// perRequestCPU is authsvc's CPU per request of r in microseconds, as text.
func perRequestCPU(r *row) string {
	n := cmp.Or(r.AuthsvcRequests, r.Lat.Count)
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", r.CPUSec/float64(n)*1e6)
}

func countOf(r *row) int {
	if r == nil {
		return 0
	}
	return r.Lat.Count
}

func (b *bench) soakVerdicts() []verdict {
	s := b.soak
	if s == nil || len(s.Samples) == 0 {
		return []verdict{{Target: "Soak (RSS < 100 MB, no growth after the first minute, goroutines back to baseline)", Wave1: wave1RSS, Result: notMeasured}}
	}
	var v []verdict
	peak := int64(0)
	for _, x := range s.Samples {
		peak = max(peak, x.RSS)
	}
	t := verdict{Target: fmt.Sprintf("RSS < 100 MB through the %s mixed run at %d callers", s.Duration, s.Concurrency), Wave1: wave1RSS, Measured: fmt.Sprintf("peak sampled VmRSS %.1f MB", mb(peak))}
	if w8 := b.rowsByID["W8"]; w8 != nil && w8.RSS > peak {
		t.Measured = fmt.Sprintf("peak VmRSS %.1f MB (sampled every 0.5 s)", mb(w8.RSS))
		peak = w8.RSS
	}
	t.Result = met
	if peak >= 100<<20 {
		t.Result = missed("by %.1f MB", mb(peak)-100)
	}
	v = append(v, t)

	// "No growth after the first minute": the largest RSS after the first minute may exceed the RSS at
	// one minute by at most 10% (GC cycles move RSS by a few MB either way).
	t = verdict{Target: "No RSS growth after the first minute (largest later sample ≤ 1.10 × the sample at 1 min)", Wave1: wave1RSSGrowth}
	var atMin int64 = -1
	var later int64
	for _, x := range s.Samples {
		if x.At >= time.Minute && atMin < 0 {
			atMin = x.RSS
			continue
		}
		if atMin >= 0 {
			later = max(later, x.RSS)
		}
	}
	if atMin > 0 {
		t.Measured = fmt.Sprintf("%.1f MB at 1 min, largest later %.1f MB (%+.1f%%)", mb(atMin), mb(later), (float64(later)/float64(atMin)-1)*100)
		t.Result = met
		if float64(later) > 1.10*float64(atMin) {
			t.Result = missed("grew %.1f MB after the first minute", mb(later-atMin))
		}
	} else {
		t.Result = notMeasured + " (run shorter than a minute)"
	}
	v = append(v, t)

	t = verdict{
		Target: "Goroutine count returns to its pre-load baseline after the soak",
		Wave1:  wave1Goroutines,
		Measured: fmt.Sprintf("idle after start %d; just before the soak %d; peak during %d; 1 s after the load %d; %s after %d",
			b.idleGoroutines, s.GoroutinesBefore, peakGoroutines(s.Samples), s.GoroutinesJustAfter, s.AfterWait, s.GoroutinesAfter),
	}
	switch {
	case s.GoroutinesAfter <= b.idleGoroutines:
		t.Result = met
	case s.GoroutinesAfter <= s.GoroutinesBefore:
		t.Result = fmt.Sprintf("%s against the pre-soak count; %d above the idle count of the start after %s (what is left is listed under the soak samples)",
			met, s.GoroutinesAfter-b.idleGoroutines, s.AfterWait)
	default:
		t.Result = missed("%d goroutines above the pre-soak count after %s", s.GoroutinesAfter-s.GoroutinesBefore, s.AfterWait)
	}
	return append(v, t)
}

// writeReport writes the Markdown report and the profile's text tables.
func (b *bench) writeReport() error {
	var w strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&w, format, a...) }
	p("# authsvc performance\n\n")
	p("Generated by `%s` (scripts/bench.sh → bench/authbench) in %s; regenerate it the same way, do not edit by hand.\n",
		b.cfg.command, time.Since(b.started).Round(time.Second))
	p("Analysis of the session-check CPU profile: [profiles/session-check.md](profiles/session-check.md); what the second wave changed on the request path, with each change's measured effect: [profiles/request-path.md](profiles/request-path.md).\n\n")
	if b.cfg.quick {
		p("> **QUICK MODE (BENCH_QUICK=1): tiny counts to smoke-test the harness. The numbers mean nothing.**\n\n")
	}
	if b.cfg.note != "" {
		p("> %s\n\n", b.cfg.note)
	}

	m := b.machine
	p("## Machine and setup\n\n")
	p("| | |\n|---|---|\n")
	p("| date | %s |\n", b.started.UTC().Format("2006-01-02 15:04 MST"))
	p("| CPU | %d × %s |\n", m.CPUs, m.Model)
	p("| memory | %s |\n", m.MemTotal)
	p("| kernel | Linux %s |\n", m.Kernel)
	p("| Go | %s |\n", m.Go)
	p("| load average at start | %s |\n", m.LoadAvg)
	p("| command | `%s` |\n", b.cfg.command)
	p("| authsvc settings from the environment | %s |\n\n", b.passedEnv())
	p("authsvc runs as its own binary (`CGO_ENABLED=0 go build -trimpath`, default settings, info-level JSON access log written to a file) ")
	p("against the standalone emulator (`cmd/stytchemu`), which adds **%s to every Stytch call** (the network to Stytch). ", b.cfg.latency)
	p("Everything — authsvc, the emulator, ghz/hey and this harness — shares the same %d cores over loopback, so every throughput figure is ", m.CPUs)
	p("what is left after the load generator took its share. ghz v0.120.0 uses %d HTTP/2 connections; hey 0.1.4 one HTTP/1.1 keep-alive connection per caller; ", grpcConns)
	p("the Go driver (`authbench`: mixed runs, soak, direct baseline) uses 4 gRPC connections. Closed loop: every caller sends its next request as soon as the previous one returns, ")
	p("so at full speed latency ≈ callers / throughput (Little's law). CPU is authsvc's utime+stime over the workload's wall time (100%% = one core), and per request (the cost of a request to authsvc alone, independent of the load generator's share; 10 ms tick resolution); RSS is authsvc's largest VmRSS sampled every 0.5 s.\n\n")
	p("Seeding: %d members with a live session each from a real magic-link login (every session JWT distinct), in %s before the latency was added. ", len(b.fixSessions()), b.fixtureTime.Round(time.Millisecond))
	p("authsvc reached SERVING %s ms after start with Stytch reachable.\n\n", fmtDur(b.startupReachable))

	p("## Results\n\n")
	p("| id | workload | tool | callers | requests | errors | throughput (rps) | p50 ms | p95 ms | p99 ms | authsvc CPU %% | authsvc CPU µs/request | authsvc RSS MB | Stytch calls |\n")
	p("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range b.rows {
		up := "–"
		if r.Upstream >= 0 {
			up = fmt.Sprint(r.Upstream)
		}
		callers := fmt.Sprint(r.Concurrency)
		if r.PacedRPS > 0 {
			callers += fmt.Sprintf(" @%d rps", r.PacedRPS)
		}
		perReq := "–"
		if n := cmp.Or(r.AuthsvcRequests, r.Lat.Count); n > 0 {
			perReq = fmt.Sprintf("%.0f", r.CPUSec/float64(n)*1e6)
		}
		p("| %s | %s | %s | %s | %d | %d | %.0f | %s | %s | %s | %.0f | %s | %.1f | %s |\n",
			r.ID, r.Name, r.Tool, callers, r.Lat.Count, r.Lat.Errors, r.RPS, fmtDur(r.Lat.P50), fmtDur(r.Lat.P95), fmtDur(r.Lat.P99), r.CPU, perReq, mb(r.RSS), up)
		for _, c := range r.Classes {
			p("| | ↳ %s | | | %d | %d | | %s | %s | %s | | | | |\n", c.Name, c.Lat.Count, c.Lat.Errors, fmtDur(c.Lat.P50), fmtDur(c.Lat.P95), fmtDur(c.Lat.P99))
		}
	}
	p("\n")
	for _, r := range b.rows {
		if r.Err != "" || r.Lat.Errors > 0 {
			p("- %s: %d errors; harness error: %q; first error: %q\n", r.ID, r.Lat.Errors, r.Err, r.Lat.FirstError)
		}
	}
	p("\nStytch calls = requests the emulator served on its Stytch endpoints during the workload (its `/emulator/requests` counter; `–` = not counted because the workload is Stytch-bound by design). ")
	p("W9a–W9d run the same Stytch client authsvc uses, in the harness process, straight at the emulator: the floor authsvc's Stytch-bound RPCs are compared with, over gRPC (W9a, W9b) and REST (W9c, W9d; one keep-alive HTTP/1.1 connection per caller). ")
	p("W2a sends every JWT once; W2b one JWT again and again (verified-token cache hits). C2a–C2c are the same for a consumer project's user session (authsvc.consumer.v1), against the same targets. E1–E3 are Envoy's ext_authz Check (envoy.service.auth.v3.Authorization/Check) against the bench rules (bench/authbench/edge.go): E1 a public rule (the no-op Check), E2 a member-session rule with one session JWT in the Authorization header, both at full speed in the same run, E3 E2's request paced at half of E2. ")
	p("F1–F4 and F9 are the floor (bench/authbench/floor.go): the same loads as W1, W2c, E3, W4 and W9b against a bare grpc-go server (default options, no interceptors, no logging or telemetry) that answers at once (F1–F3) or makes W4's Members.Get with authsvc's Stytch client (F4; F9 is W9b's pair with that server in authsvc's place); their CPU and RSS columns are that server's. What a W or E row costs beyond its F row is authsvc's own; the F row is the machine's, the kernel's, grpc-go's and ghz's.\n\n")

	p("## Targets\n\n")
	p("Each target with this run's figure and the first wave's (the report of 2026-11-22 07:40 UTC, quiet machine), side by side.\n\n")
	p("| target | wave 1 | this run | result |\n|---|---|---|---|\n")
	for _, t := range b.targets() {
		p("| %s | %s | %s | %s |\n", t.Target, t.Wave1, t.Measured, t.Result)
	}
	p("\n")

	b.writeAllocTable(p)

	if s := b.soak; s != nil {
		p("## Soak samples (W8)\n\n| t | VmRSS MB | goroutines |\n|--:|--:|--:|\n")
		p("| idle after start | | %d |\n", b.idleGoroutines)
		p("| before | | %d |\n", s.GoroutinesBefore)
		for _, x := range s.Samples {
			p("| %s | %.1f | %d |\n", x.At, mb(x.RSS), x.Goroutines)
		}
		p("| 1 s after | %.1f | %d |\n", mb(s.RSSAfter), s.GoroutinesJustAfter)
		p("| %s after | | %d |\n\n", s.AfterWait, s.GoroutinesAfter)
		if s.LeftOver != "" {
			p("Goroutines at the end of the wait (grouped by stack; the function each was started with): %s.\n\n", s.LeftOver)
		}
	}

	if b.cfg.microFile != "" {
		if mic, err := os.ReadFile(b.cfg.microFile); err == nil && len(mic) > 0 {
			p("## Micro-benchmarks (go test -bench, -benchmem)\n\n")
			p("Run by scripts/bench.sh before the load, on the same machine. The allocation benchmark of the hottest RPCs (bench/allocs, compared above with bench/budgets.txt); hot-path pieces in process: the interceptor chain (internal/server), ")
			p("the admission check (internal/admission), error mapping (internal/service); JWT verification and the verified-token cache are internal/stytchclient/verify's own benchmarks.\n\n")
			p("```\n%s```\n\n", mic)
		}
	}

	b.notesMu.Lock()
	notes := slices.Clone(b.notes)
	b.notesMu.Unlock()
	if len(notes) > 0 {
		p("## Notes from this run\n\n")
		for _, n := range notes {
			p("- %s\n", n)
		}
		p("\n")
	}

	if err := os.MkdirAll(filepath.Dir(b.cfg.out), 0o750); err != nil {
		return err
	}
	if err := os.WriteFile(b.cfg.out, []byte(w.String()), 0o644); err != nil { //nolint:gosec // a documentation file
		return err
	}
	for _, pr := range []struct{ top, file, what string }{
		{b.profileTop, "session-check.top.txt", fmt.Sprintf("the repeated-JWT load (W2b's shape: %d callers, ghz)", localConc)},
		{b.stytchProfileTop, "stytch-bound.top.txt", fmt.Sprintf("Stytch-bound load (Members.Get with an M2M token, %d callers, ghz, %s added to every Stytch call)", stytchConc, b.cfg.latency)},
	} {
		if pr.top == "" {
			continue
		}
		if err := os.MkdirAll(b.cfg.profileDir, 0o750); err != nil {
			return err
		}
		head := fmt.Sprintf("CPU profile of authsvc during %s, %d s, %s.\nGenerated by %s; findings in session-check.md and request-path.md.\n\n",
			pr.what, b.sz.profileSeconds, b.started.UTC().Format("2006-01-02"), b.cfg.command)
		if err := os.WriteFile(filepath.Join(b.cfg.profileDir, pr.file), []byte(head+pr.top), 0o644); err != nil { //nolint:gosec // a documentation file
			return err
		}
	}
	return nil
}

func (b *bench) fixSessions() []session {
	if b.fx == nil {
		return nil
	}
	return b.fx.Sessions
}

// passedEnv lists the AUTHSVC_* and OTEL_* settings the harness passed on to authsvc (values of
// secrets never reach here: the Stytch settings are the harness's own and not listed).
func (b *bench) passedEnv() string {
	var kv []string
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "AUTHSVC_") || strings.HasPrefix(e, "OTEL_") {
			kv = append(kv, "`"+e+"`")
		}
	}
	if len(kv) == 0 {
		return "none (defaults)"
	}
	slices.Sort(kv)
	return strings.Join(kv, ", ")
}

func peakGoroutines(samples []soakSample) int {
	n := 0
	for _, x := range samples {
		n = max(n, x.Goroutines)
	}
	return n
}

// consumerVerdicts holds the consumer session check (C2a–C2c) to the B2B check's targets: the
// consumer half must be as fast (issue 15). Wave 1 had no consumer API.
func consumerVerdicts(w1, c2a, c2b, c2c *row) []verdict {
	const wave1 = "– (no consumer API)"
	t := verdict{Target: "Consumer: repeated valid user JWT: p99 < 5 ms at 50 concurrent callers, paced at half the full-speed throughput (C2c)", Wave1: wave1}
	if c2c != nil {
		t.Measured = fmt.Sprintf("p99 %s ms at %.0f rps", fmtDur(c2c.Lat.P99), c2c.RPS)
		t.Result = met
		if c2c.Lat.P99 >= 5*time.Millisecond {
			t.Result = missed("by %.2f ms (p50 %s ms, p95 %s ms)", ms(c2c.Lat.P99)-5, fmtDur(c2c.Lat.P50), fmtDur(c2c.Lat.P95))
		}
	} else {
		t.Result = notMeasured
	}
	return []verdict{
		throughputVerdict("Consumer: repeated valid user JWT: ≥ 70% of the no-op baseline's throughput (C2b / W1)", wave1, c2b, w1, 0.70),
		t,
		noStytchCallsVerdict("Consumer: user JWT checks make zero calls to Stytch (the consumer project's request counter around C2a–C2c)", wave1, c2a, c2b, c2c),
	}
}

// throughputVerdict: r's throughput is at least min (a fraction) of base's.
func throughputVerdict(target, wave1 string, r, base *row, minRatio float64) verdict {
	t := verdict{Target: target, Wave1: wave1, Result: notMeasured}
	if r == nil || base == nil {
		return t
	}
	ratio := r.RPS / base.RPS
	t.Measured = fmt.Sprintf("%.0f / %.0f rps = %.0f%%", r.RPS, base.RPS, ratio*100)
	t.Result = met
	if ratio < minRatio {
		t.Result = missed("%.0f points short", (minRatio-ratio)*100)
	}
	return t
}

// noStytchCallsVerdict: the local checks of first and repeated (both required) and of the paced
// rows (counted when run) made no call to Stytch.
func noStytchCallsVerdict(target, wave1 string, first, repeated *row, paced ...*row) verdict {
	t := verdict{Target: target, Wave1: wave1, Result: notMeasured}
	if first == nil || repeated == nil || first.Upstream < 0 || repeated.Upstream < 0 {
		return t
	}
	n, checks := first.Upstream+repeated.Upstream, first.Lat.Count+repeated.Lat.Count
	for _, r := range paced {
		if r != nil && r.Upstream > 0 {
			n += r.Upstream
		}
		checks += countOf(r)
	}
	t.Measured = fmt.Sprintf("%d calls during %d checks", n, checks)
	t.Result = met
	if n != 0 {
		t.Result = missed("%d upstream calls", n)
	}
	return t
}
