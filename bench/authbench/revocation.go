package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The cross-replica revocation delay is measured by internal/revocation's
// BenchmarkCrossReplicaRevocation (two revocation lists on one redis-server on loopback), which
// scripts/bench.sh runs with the micro-benchmarks; this file turns its figures into a target row.
const (
	revocationBench     = "BenchmarkCrossReplicaRevocation"
	revocationTargetP99 = 50.0 // ms
)

// revocationVerdict reads the benchmark's result from the micro-benchmark output.
func (b *bench) revocationVerdict() verdict {
	var micro []byte
	if b.cfg.microFile != "" {
		micro, _ = os.ReadFile(b.cfg.microFile) // missing: reported as not measured
	}
	return revocationVerdict(micro)
}

func revocationVerdict(micro []byte) verdict {
	v := verdict{Target: fmt.Sprintf("Cross-replica revocation: revoked on replica A → refused by replica B (Redis pub/sub, loopback) p99 < %.0f ms", revocationTargetP99), Wave1: wave1Revocation}
	runs := parseRevocationBench(micro)
	if len(runs) == 0 {
		v.Result = notMeasured
		return v
	}
	worst := runs[0]
	for _, r := range runs[1:] {
		if r.p99 > worst.p99 {
			worst = r
		}
	}
	v.Measured = fmt.Sprintf("p50 %.3f ms, p99 %.3f ms, max %.3f ms over %d revocations (%s", worst.p50, worst.p99, worst.max, worst.n-worst.errors, revocationBench)
	if len(runs) > 1 {
		v.Measured += fmt.Sprintf(", the worst p99 of %d runs", len(runs))
	}
	v.Measured += ")"
	if worst.errors > 0 {
		v.Measured += fmt.Sprintf("; %d more that replica A could not write to Redis are not counted", worst.errors)
	}
	v.Result = met
	if worst.p99 >= revocationTargetP99 {
		v.Result = missed("by %.1f ms", worst.p99-revocationTargetP99)
	}
	return v
}

type revocationRun struct {
	n             int
	p50, p99, max float64 // ms
	errors        int     // revoke-errors: iterations that published nothing, among n
}

// parseRevocationBench reads lines such as
// "BenchmarkCrossReplicaRevocation-2  5000  190000 ns/op  1.2 max-ms  0.1 p50-ms  0.5 p99-ms
// 0 revoke-errors".
func parseRevocationBench(out []byte) []revocationRun {
	var runs []revocationRun
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || (f[0] != revocationBench && !strings.HasPrefix(f[0], revocationBench+"-")) {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		r := revocationRun{n: n}
		seen := 0
		for i := 2; i+1 < len(f); i += 2 {
			x, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "p50-ms":
				r.p50, seen = x, seen|1
			case "p99-ms":
				r.p99, seen = x, seen|2
			case "max-ms":
				r.max, seen = x, seen|4
			case "revoke-errors":
				r.errors = int(x)
			}
		}
		if seen == 7 {
			runs = append(runs, r)
		}
	}
	return runs
}
