package main

import (
	"bufio"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// healthy is a phase that keeps every promise.
func healthy(name string) phaseResult {
	return phaseResult{
		Name: name, Duration: time.Second, Outcomes: map[string]int{"OK": 90, "Unavailable": 10},
		Sends: 10, Revocations: 3,
		Replicas: []replicaSample{{RSS: 100 << 20, Goroutines: 100, OK: true}, {RSS: 100 << 20, Goroutines: 100, OK: true}},
	}
}

func TestVerdictPassesHealthyRun(t *testing.T) {
	assert.Empty(t, verdict([]phaseResult{healthy("baseline"), healthy("recovery")}, defaultTolerance))
}

func TestVerdictFailsEachBrokenPromise(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *phaseResult)
		want   string
	}{
		{"a duplicate send", func(p *phaseResult) { p.DuplicateSends = 1 }, "1 duplicate send(s)"},
		{"a revoked session accepted beyond the bound", func(p *phaseResult) { p.RevokedAccepted = 2 }, "2 check(s) accepted a revoked session"},
		{"a server error for client input", func(p *phaseResult) { p.ClientInput5xx = 1 }, "1 server error(s) for invalid client input"},
		{"no request at all", func(p *phaseResult) { p.Outcomes = map[string]int{} }, "no request completed"},
		{"RSS growth beyond the tolerance", func(p *phaseResult) { p.Replicas[1].RSS = 200 << 20 }, "replica B: RSS grew from 100.0 MiB to 200.0 MiB (limit 164.0 MiB)"},
		{"goroutine growth beyond the tolerance", func(p *phaseResult) { p.Replicas[0].Goroutines = 201 }, "replica A: goroutines grew from 100 to 201 (limit 200)"},
		{"a replica not sampled", func(p *phaseResult) { p.Replicas[0].OK = false }, "replica A: not sampled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			last := healthy("recovery")
			tc.mutate(&last)
			fails := verdict([]phaseResult{healthy("baseline"), healthy("Stytch down"), last}, defaultTolerance)
			require.Len(t, fails, 1)
			assert.Contains(t, fails[0], tc.want)
		})
	}
}

func TestVerdictToleratesGrowthWithinBounds(t *testing.T) {
	last := healthy("recovery")
	last.Replicas[0].RSS = 164 << 20    // first + 64 MiB (more than 1.5×)
	last.Replicas[1].Goroutines = 200   // 1.5 × 100 + 50
	last.RevokedAcceptedDeclared = 5    // declared: the other replica before Redis took the revocation
	last.Outcomes["Unavailable"] = 1000 // a fault's errors are measured, not a broken promise
	assert.Empty(t, verdict([]phaseResult{healthy("baseline"), last}, defaultTolerance))
}

func TestErrorRateCountsRetryLaterAnswersOnly(t *testing.T) {
	p := phaseResult{Outcomes: map[string]int{"OK": 6, "Unauthenticated": 2, "Unavailable": 1, "ResourceExhausted": 1}}
	assert.InDelta(t, 0.2, p.errorRate(), 1e-9)
	assert.Zero(t, phaseResult{}.errorRate())
}

func TestTableHasOneRowPerPhase(t *testing.T) {
	p := healthy("baseline")
	p.Replicas[1].OK = false
	out := table([]phaseResult{p, healthy("recovery")})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4)
	assert.Contains(t, lines[2], "| baseline | 1s | OK 90, Unavailable 10 | 10.0% |")
	assert.Contains(t, lines[2], "| 100 / – | 100 / – |")
}

func TestParseRevokeStoreErrors(t *testing.T) {
	metrics := `# HELP authsvc_revocation_store_errors_total x
authsvc_revocation_store_errors_total{op="check",otel_scope_name="x"} 7
authsvc_revocation_store_errors_total{op="revoke",otel_scope_name="x"} 3
authsvc_revocation_store_errors_total{op="revoke_retry",otel_scope_name="x"} 9
`
	v, err := parseRevokeStoreErrors(bufio.NewScanner(strings.NewReader(metrics)))
	require.NoError(t, err)
	assert.InDelta(t, 3.0, v, 1e-9)
	v, err = parseRevokeStoreErrors(bufio.NewScanner(strings.NewReader("")))
	require.NoError(t, err)
	assert.Zero(t, v)
}

func TestScheduleIsBounded(t *testing.T) {
	total := func(c config) time.Duration {
		var d time.Duration
		for _, p := range schedule(c) {
			d += p.dur
		}
		return d
	}
	assert.LessOrEqual(t, total(config{}), 9*time.Minute, "the default run, with seeding and restarts, stays within 10 minutes")
	assert.LessOrEqual(t, total(config{short: true}), time.Minute)
	assert.Equal(t, total(config{})-50*time.Second, total(config{down: 10 * time.Second}), "-down sets the Stytch-down phase (1 minute by default)")
}
