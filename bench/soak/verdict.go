package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// replicaSample is one replica's state at the end of a phase.
type replicaSample struct {
	RSS        int64
	Goroutines int
	// OK is false when the replica could not be sampled (down at that moment).
	OK bool
}

// phaseResult is what one phase of the soak measured.
type phaseResult struct {
	Name     string
	Duration time.Duration
	// Outcomes counts the load's final answers by gRPC code name ("OK", "Unavailable", ...).
	Outcomes map[string]int
	P50, P99 time.Duration
	// StytchCalls is the emulator's request count during the phase.
	StytchCalls int64
	// Sends are the sends started in the phase; DuplicateSends the recipients among them with more
	// than one message in the emulator's outbox.
	Sends, DuplicateSends int
	// Revocations is how many sessions were revoked in the phase and then checked on both replicas;
	// RevokedAccepted counts checks that accepted one beyond the bound; RevokedAcceptedDeclared counts
	// acceptances by the other replica while Redis was down, which docs/reliability.md declares.
	Revocations, RevokedAccepted, RevokedAcceptedDeclared int
	// ClientInput5xx counts requests with invalid input answered with a server error.
	ClientInput5xx int
	// Replicas is each replica's RSS and goroutines at the end of the phase.
	Replicas []replicaSample
}

// retryLater are the answers that ask the client to come back (HTTP 409, 429, 5xx): what a fault
// turns requests into. The refusals the workload asks for on purpose (a wrong code, a malformed
// JWT: Unauthenticated, InvalidArgument) are not errors of the service.
var retryLater = []string{"Aborted", "ResourceExhausted", "Unavailable", "DeadlineExceeded", "Internal", "Unknown", "DataLoss", "Unimplemented"}

// errorRate is the share of requests answered with one of retryLater.
func (p phaseResult) errorRate() float64 {
	total, bad := 0, 0
	for code, n := range p.Outcomes {
		total += n
		if slices.Contains(retryLater, code) {
			bad += n
		}
	}
	if total == 0 {
		return 0
	}
	return float64(bad) / float64(total)
}

func (p phaseResult) requests() int {
	total := 0
	for _, n := range p.Outcomes {
		total += n
	}
	return total
}

// tolerance bounds the growth of a replica between the first and the last phase (see
// docs/reliability.md for why these numbers).
type tolerance struct {
	// RSSFactor and RSSSlack: the last RSS may be at most max(first*RSSFactor, first+RSSSlack).
	RSSFactor float64
	RSSSlack  int64
	// GoroutineFactor and GoroutineSlack: at most first*GoroutineFactor + GoroutineSlack.
	GoroutineFactor float64
	GoroutineSlack  int
}

var defaultTolerance = tolerance{RSSFactor: 1.5, RSSSlack: 64 << 20, GoroutineFactor: 1.5, GoroutineSlack: 50}

// verdict lists every broken promise of a run: a duplicate send, a revoked session accepted beyond
// the bound, a server error for invalid input, a phase without any request, or a replica whose RSS
// or goroutines grew beyond tol from the first phase to the last. Empty: the run passed.
func verdict(phases []phaseResult, tol tolerance) []string {
	var fails []string
	for _, p := range phases {
		if p.DuplicateSends > 0 {
			fails = append(fails, fmt.Sprintf("%s: %d duplicate send(s) despite idempotency keys", p.Name, p.DuplicateSends))
		}
		if p.RevokedAccepted > 0 {
			fails = append(fails, fmt.Sprintf("%s: %d check(s) accepted a revoked session beyond the bound", p.Name, p.RevokedAccepted))
		}
		if p.ClientInput5xx > 0 {
			fails = append(fails, fmt.Sprintf("%s: %d server error(s) for invalid client input", p.Name, p.ClientInput5xx))
		}
		if p.requests() == 0 {
			fails = append(fails, p.Name+": no request completed (the load did not run)")
		}
	}
	if len(phases) < 2 {
		return fails
	}
	first, last := phases[0], phases[len(phases)-1]
	for i := range min(len(first.Replicas), len(last.Replicas)) {
		a, b := first.Replicas[i], last.Replicas[i]
		name := replicaName(i)
		if !a.OK || !b.OK {
			fails = append(fails, fmt.Sprintf("replica %s: not sampled in the first or the last phase", name))
			continue
		}
		if limit := max(int64(float64(a.RSS)*tol.RSSFactor), a.RSS+tol.RSSSlack); b.RSS > limit {
			fails = append(fails, fmt.Sprintf("replica %s: RSS grew from %s to %s (limit %s)", name, mib(a.RSS), mib(b.RSS), mib(limit)))
		}
		if limit := int(float64(a.Goroutines)*tol.GoroutineFactor) + tol.GoroutineSlack; b.Goroutines > limit {
			fails = append(fails, fmt.Sprintf("replica %s: goroutines grew from %d to %d (limit %d)", name, a.Goroutines, b.Goroutines, limit))
		}
	}
	return fails
}

func replicaName(i int) string { return string("ABCDEFGH"[i%8]) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// table renders the phases as a Markdown table.
func table(phases []phaseResult) string {
	var sb strings.Builder
	sb.WriteString("| Phase | Duration | Requests by outcome | Error rate (409/429/5xx) | p50 ms | p99 ms | Stytch calls | Sends / duplicates | Revocations / accepted beyond bound (declared: B before Redis took it) | 5xx for client input | RSS A / B (MiB) | Goroutines A / B |\n")
	sb.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range phases {
		codes := slices.Sorted(maps.Keys(p.Outcomes))
		parts := make([]string, 0, len(codes))
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%s %d", c, p.Outcomes[c]))
		}
		var rss, gr []string
		for _, r := range p.Replicas {
			if !r.OK {
				rss, gr = append(rss, "–"), append(gr, "–")
				continue
			}
			rss = append(rss, fmt.Sprintf("%.0f", float64(r.RSS)/(1<<20)))
			gr = append(gr, fmt.Sprint(r.Goroutines))
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %.1f%% | %s | %s | %d | %d / %d | %d / %d (%d) | %d | %s | %s |\n",
			p.Name, p.Duration.Round(time.Second), strings.Join(parts, ", "), 100*p.errorRate(),
			fmtMS(p.P50), fmtMS(p.P99), p.StytchCalls, p.Sends, p.DuplicateSends,
			p.Revocations, p.RevokedAccepted, p.RevokedAcceptedDeclared, p.ClientInput5xx,
			strings.Join(rss, " / "), strings.Join(gr, " / "))
	}
	return sb.String()
}

func fmtMS(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 10 {
		return fmt.Sprintf("%.2f", ms)
	}
	return fmt.Sprintf("%.0f", ms)
}
