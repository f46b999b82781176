package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// paired is a W9 row whose authsvc class took via at p50 and the direct class direct, with cpuSec of
// authsvc CPU over 1000 calls through authsvc.
func paired(id string, via, direct time.Duration, cpuSec float64) *row {
	return &row{ID: id, Lat: Latencies{Count: 2000}, AuthsvcRequests: 1000, CPUSec: cpuSec, Classes: []classRow{
		{Name: "through authsvc", Lat: Latencies{Count: 1000, P50: via, P99: via}},
		{Name: "direct", Lat: Latencies{Count: 1000, P50: direct, P99: direct}},
	}}
}

func byTarget(vs []verdict, prefix string) verdict {
	for _, v := range vs {
		if strings.HasPrefix(v.Target, prefix) {
			return v
		}
	}
	return verdict{}
}

// The Stytch-bound targets: < 0.5 ms added at p50 over gRPC, < 0.8 ms over REST, < 300 µs of authsvc
// CPU per call over gRPC; each beside wave 1's figure.
func TestStytchBoundVerdicts(t *testing.T) {
	ms := time.Millisecond
	b := &bench{rowsByID: map[string]*row{
		"W9a": paired("W9a", 20*ms+499*time.Microsecond, 20*ms, 0.299), // just under both limits
		"W9b": paired("W9b", 20*ms+500*time.Microsecond, 20*ms, 0.250), // exactly the limit: missed
		"W9c": paired("W9c", 20*ms+790*time.Microsecond, 20*ms, 0.900),
		"W9d": paired("W9d", 21*ms, 20*ms, 0.400),
	}}
	get := func(id string) *row { return b.rowsByID[id] }
	vs := b.stytchBoundVerdicts(get)
	require.Len(t, vs, 6)

	w9a := byTarget(vs, "Sessions.Authenticate with a session token over gRPC adds < 0.5 ms")
	assert.Equal(t, met, w9a.Result)
	assert.Equal(t, wave1TokenGRPC, w9a.Wave1)
	assert.Equal(t, "p50 +0.50 ms (20.5 − 20.0; p99 20.5 vs 20.0)", w9a.Measured)
	assert.Contains(t, byTarget(vs, "Members.Get over gRPC adds < 0.5 ms").Result, "**MISSED** — by 0.00 ms")
	assert.Equal(t, met, byTarget(vs, "Sessions.Authenticate with a session token over REST adds < 0.8 ms").Result)
	w9d := byTarget(vs, "Members.Get over REST adds < 0.8 ms")
	assert.Contains(t, w9d.Result, "**MISSED** — by 0.20 ms, with authsvc spending 400 µs of CPU per call")
	assert.Equal(t, "not measured", w9d.Wave1)

	cpu := byTarget(vs, "authsvc CPU per Stytch-bound call over gRPC < 300 µs")
	assert.Equal(t, met, cpu.Result)
	assert.Equal(t, "W9a 299 µs, W9b 250 µs", cpu.Measured)
	assert.Equal(t, wave1CPUGRPC, cpu.Wave1)
	assert.Equal(t, information, byTarget(vs, "authsvc CPU per Stytch-bound call over REST").Result)

	b.rowsByID["W9a"] = paired("W9a", 20*ms, 20*ms, 0.350)
	cpu = byTarget(b.stytchBoundVerdicts(get), "authsvc CPU per Stytch-bound call over gRPC")
	assert.Equal(t, missed("by 50 µs (utime+stime over the workload, 10 ms ticks; see profiles/request-path.md)"), cpu.Result)

	delete(b.rowsByID, "W9c")
	assert.Equal(t, notMeasured, byTarget(b.stytchBoundVerdicts(get), "Sessions.Authenticate with a session token over REST").Result)
}

func TestRandomTokenVerdict(t *testing.T) {
	b := &bench{}
	assert.Equal(t, notMeasured, b.randomTokenVerdict().Result)

	b.randomTokens = &randomTokenResult{Sent: 300, Upstream: 30, Unauthenticated: 30, Exhausted: 270}
	v := b.randomTokenVerdict()
	assert.Equal(t, met, v.Result)
	assert.Equal(t, "30 Stytch calls; 30 answered UNAUTHENTICATED, 270 RESOURCE_EXHAUSTED without a call, 0 other", v.Measured)
	assert.Equal(t, wave1RandomTokens, v.Wave1)

	b.randomTokens = &randomTokenResult{Sent: 300, Upstream: 31, Unauthenticated: 31, Exhausted: 269}
	assert.Equal(t, missed("1 calls over the budget"), b.randomTokenVerdict().Result)

	b.randomTokens = &randomTokenResult{Sent: 300, Upstream: 30, Unauthenticated: 29, Exhausted: 270, Other: 1, FirstOther: "rpc error: code = Internal"}
	assert.Contains(t, b.randomTokenVerdict().Result, "1 of 300 tokens got another answer")
}

func TestAllocVerdictAndTable(t *testing.T) {
	dir := t.TempDir()
	micro := filepath.Join(dir, "micro.txt")
	budgetsFile := filepath.Join(dir, "budgets.txt")
	require.NoError(t, os.WriteFile(micro, []byte(`pkg: github.com/authsvc/authsvc/bench/allocs
BenchmarkRPC/SessionsService.Authenticate/jwt-2   1000  100 ns/op  22000 authsvc-B/op  264.2 authsvc-allocs/op  22000 B/op  264 allocs/op
BenchmarkRPC/MembersService.Get-2   1000  100 ns/op  28000 authsvc-B/op  375.4 authsvc-allocs/op  257 floor-allocs/op  56000 B/op  632 allocs/op
`), 0o600))
	require.NoError(t, os.WriteFile(budgetsFile, []byte("# budgets\nSessionsService.Authenticate/jwt 265 22400\nMembersService.Get 376 28352\n"), 0o600))
	b := &bench{cfg: config{microFile: micro, budgetsFile: budgetsFile}}
	v := b.allocVerdict()
	assert.Equal(t, met, v.Result)
	assert.Equal(t, "allocs/op measured / budget: SessionsService.Authenticate/jwt 264 / 265; MembersService.Get 375 / 376", v.Measured)
	assert.Equal(t, wave1AllocBudgets, v.Wave1)

	var out strings.Builder
	b.writeAllocTable(func(format string, a ...any) { fmt.Fprintf(&out, format, a...) })
	assert.Contains(t, out.String(), "| MembersService.Get | 376 | 375.4 | 28352 | 28000 | ok |")

	require.NoError(t, os.WriteFile(budgetsFile, []byte("SessionsService.Authenticate/jwt 200 22400\nMembersService.Get 376 28352\n"), 0o600))
	assert.Equal(t, missed("SessionsService.Authenticate/jwt OVER (allocs)"), b.allocVerdict().Result)

	b.cfg.microFile = ""
	assert.Equal(t, notMeasured, b.allocVerdict().Result)
}

// The report prints every target beside wave 1's figure.
func TestReportShowsWave1BesideEachTarget(t *testing.T) {
	dir := t.TempDir()
	b := &bench{
		cfg: config{out: filepath.Join(dir, "performance.md"), profileDir: dir, command: "make bench"}, started: time.Now(),
		rowsByID: map[string]*row{"W9a": paired("W9a", 21*time.Millisecond, 20*time.Millisecond, 0.3)},
	}
	b.rows = []row{*b.rowsByID["W9a"]}
	require.NoError(t, b.writeReport())
	report, err := os.ReadFile(b.cfg.out)
	require.NoError(t, err)
	assert.Contains(t, string(report), "| target | wave 1 | this run | result |")
	assert.Contains(t, string(report), "| "+wave1TokenGRPC+" | p50 +1.00 ms (21.0 − 20.0; p99 21.0 vs 20.0) | **MISSED**")
	assert.Contains(t, string(report), "| "+wave1JWTPacedHalf+" |  | NOT MEASURED |")
}
