// Package budgets reads the allocation benchmark's results (bench/allocs, `go test -bench` output)
// and the committed budgets (bench/budgets.txt), and compares them. bench/budgetcheck (make
// bench-check) fails the build on its verdict; bench/authbench prints it in docs/performance.md.
//
// Allocation counts per call are deterministic enough to enforce closely (+20% by default): a
// change that adds a few allocations per call passes, one that adds a log field built per call,
// a context value or a buffer shows. Bytes per call move with buffer sizes and sync.Pool refills
// after a GC, so they get a wider margin (+50%): a new per-call buffer of a few kilobytes still
// fails the check.
//
// The benchmark output is parsed by hand rather than with golang.org/x/perf/benchfmt: one line
// format, a handful of fields, and no new module for the repository.
package budgets

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Units the budgets are on (reported by bench/allocs as custom metrics).
const (
	UnitAllocs = "authsvc-allocs/op"
	UnitBytes  = "authsvc-B/op"
)

// Default margins: how far over its budget an RPC may allocate.
const (
	AllocMargin = 0.20
	ByteMargin  = 0.50
)

// Benchmark is the benchmark whose sub-benchmarks are budgeted, one per RPC.
const Benchmark = "BenchmarkRPC"

// Figures are one RPC's allocations and bytes per call.
type Figures struct {
	Allocs, Bytes float64
}

// ParseResults reads `go test -bench` output and returns, per sub-benchmark of prefix (named
// without the prefix and the -GOMAXPROCS suffix), the smallest figures of its runs: with -count > 1
// a budget is exceeded only when every run exceeds it.
func ParseResults(in io.Reader, prefix string) (map[string]Figures, error) {
	out := map[string]Figures{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], prefix+"/") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // not a result line (a log line that starts with the name)
		}
		name := strings.TrimPrefix(f[0], prefix+"/")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		got := Figures{Allocs: -1, Bytes: -1}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %q: %w", f[0], f[i], err)
			}
			switch f[i+1] {
			case UnitAllocs:
				got.Allocs = v
			case UnitBytes:
				got.Bytes = v
			}
		}
		if got.Allocs < 0 || got.Bytes < 0 {
			return nil, fmt.Errorf("%s reports no %s and %s", f[0], UnitAllocs, UnitBytes)
		}
		if prev, ok := out[name]; ok {
			got = Figures{Allocs: min(prev.Allocs, got.Allocs), Bytes: min(prev.Bytes, got.Bytes)}
		}
		out[name] = got
	}
	return out, sc.Err()
}

// Budget is one line of the budget file: "name allocs bytes"; # starts a comment.
type Budget struct {
	Name string
	Figures
}

// ParseBudgets reads a budget file.
func ParseBudgets(b []byte) ([]Budget, error) {
	var out []Budget
	seen := map[string]bool{}
	for i, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want: RPC allocs/op B/op", i+1)
		}
		a, err1 := strconv.ParseFloat(f[1], 64)
		by, err2 := strconv.ParseFloat(f[2], 64)
		if err := errors.Join(err1, err2); err != nil || a <= 0 || by <= 0 {
			return nil, fmt.Errorf("line %d: budgets must be positive numbers", i+1)
		}
		if seen[f[0]] {
			return nil, fmt.Errorf("line %d: %s listed twice", i+1, f[0])
		}
		seen[f[0]] = true
		out = append(out, Budget{Name: f[0], Figures: Figures{Allocs: a, Bytes: by}})
	}
	if len(out) == 0 {
		return nil, errors.New("no budgets")
	}
	return out, nil
}

// Verdicts of Compare.
const (
	OK          = "ok"
	UnderBudget = "ok (well under budget: lower it with make bench-budgets)"
	NotMeasured = "NOT MEASURED"
	NoBudget    = "NO BUDGET (add it: make bench-budgets)"
)

// Row is one RPC's comparison. Budget, limits or Got are NaN where there is none.
type Row struct {
	Name                  string
	Budget, Got           Figures
	AllocLimit, ByteLimit float64
	Verdict               string
	Failed                bool
}

// Compare checks every budgeted RPC against its result. An RPC without a result, or a result
// without a budget, fails too: the published budgets and the benchmark must list the same RPCs.
func Compare(budgets []Budget, results map[string]Figures, allocMargin, byteMargin float64) (rows []Row, failed bool) {
	nan := Figures{Allocs: math.NaN(), Bytes: math.NaN()}
	for _, bu := range budgets {
		r := Row{Name: bu.Name, Budget: bu.Figures, AllocLimit: bu.Allocs * (1 + allocMargin), ByteLimit: bu.Bytes * (1 + byteMargin), Got: nan}
		got, ok := results[bu.Name]
		switch {
		case !ok:
			r.Verdict, r.Failed = NotMeasured, true
		case got.Allocs > r.AllocLimit && got.Bytes > r.ByteLimit:
			r.Got, r.Verdict, r.Failed = got, "OVER (allocs and bytes)", true
		case got.Allocs > r.AllocLimit:
			r.Got, r.Verdict, r.Failed = got, "OVER (allocs)", true
		case got.Bytes > r.ByteLimit:
			r.Got, r.Verdict, r.Failed = got, "OVER (bytes)", true
		case got.Allocs < bu.Allocs*(1-allocMargin):
			r.Got, r.Verdict = got, UnderBudget
		default:
			r.Got, r.Verdict = got, OK
		}
		failed = failed || r.Failed
		rows = append(rows, r)
	}
	var extra []string
	for name := range results {
		if !slices.ContainsFunc(budgets, func(b Budget) bool { return b.Name == name }) {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		rows = append(rows, Row{
			Name: name, Got: results[name], Budget: nan,
			AllocLimit: math.NaN(), ByteLimit: math.NaN(), Verdict: NoBudget, Failed: true,
		})
		failed = true
	}
	return rows, failed
}

// Format rewrites the budget file old with results, keeping the comment lines at its top and the
// order of the RPCs already listed (new ones are appended in name order). Figures are rounded up:
// allocations to the next whole number, bytes to the next 64.
func Format(old []byte, results map[string]Figures) []byte {
	var b strings.Builder
	var order []string
	for line := range strings.Lines(string(old)) {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			if len(order) == 0 {
				b.WriteString(line)
			}
			continue
		}
		if f := strings.Fields(t); len(f) > 0 {
			if _, ok := results[f[0]]; ok {
				order = append(order, f[0])
			}
		}
	}
	var rest []string
	for name := range results {
		if !slices.Contains(order, name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	order = append(order, rest...)
	width := 0
	for _, n := range order {
		width = max(width, len(n))
	}
	for _, n := range order {
		r := results[n]
		fmt.Fprintf(&b, "%-*s  %9.0f  %8.0f\n", width, n, math.Ceil(r.Allocs), math.Ceil(r.Bytes/64)*64)
	}
	return []byte(b.String())
}
