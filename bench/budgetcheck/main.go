// Command budgetcheck compares the allocation benchmark's results (bench/allocs, read as `go test
// -bench` output on stdin) with the committed budgets (bench/budgets.txt) and fails when an RPC
// allocates more than its budget allows. `make bench-check` runs it; `make bench-budgets` runs it
// with -update to rewrite the budgets from a run.
//
// Allocation counts per call are deterministic enough to enforce closely (+20% by default): a
// change that adds a few allocations per call passes, one that adds a log field built per call,
// a context value or a buffer shows. Bytes per call move with buffer sizes and sync.Pool refills
// after a GC, so they get a wider margin (+50%): a new per-call buffer of a few kilobytes still
// fails the check.
//
// The benchmark output is parsed by hand rather than with golang.org/x/perf/benchfmt: one line
// format, a handful of fields, and no new module for the repository.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Units the budgets are on (reported by bench/allocs as custom metrics).
const (
	unitAllocs = "authsvc-allocs/op"
	unitBytes  = "authsvc-B/op"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "budgetcheck:", err)
		os.Exit(1)
	}
}

func run(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("budgetcheck", flag.ContinueOnError)
	path := fs.String("budgets", "bench/budgets.txt", "budget file")
	prefix := fs.String("benchmark", "BenchmarkRPC", "benchmark whose sub-benchmarks are budgeted")
	allocMargin := fs.Float64("alloc-margin", 0.20, "allowed growth of allocations per call over the budget")
	byteMargin := fs.Float64("byte-margin", 0.50, "allowed growth of bytes per call over the budget")
	update := fs.Bool("update", false, "rewrite the budget file with the measured figures instead of checking")
	if err := fs.Parse(args); err != nil {
		return err
	}
	results, err := parseResults(in, *prefix)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return fmt.Errorf("no %s results on stdin (did the benchmark run?)", *prefix)
	}
	old, err := os.ReadFile(*path)
	if err != nil && !(*update && errors.Is(err, os.ErrNotExist)) {
		return err
	}
	if *update {
		return os.WriteFile(*path, formatBudgets(old, results), 0o644) //nolint:gosec // a committed text file
	}
	budgets, err := parseBudgets(old)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	rows, failed := compare(budgets, results, *allocMargin, *byteMargin)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RPC\tallocs/op budget\tmeasured\tlimit\tB/op budget\tmeasured\tlimit\tresult")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.name,
			num(r.budget.allocs), num(r.got.allocs), num(r.allocLimit),
			num(r.budget.bytes), num(r.got.bytes), num(r.byteLimit), r.verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed {
		return fmt.Errorf("allocation budget exceeded (margins +%.0f%% allocs, +%.0f%% bytes); cut the allocations, or if the growth is deliberate run `make bench-budgets` and commit %s with the reason",
			*allocMargin*100, *byteMargin*100, *path)
	}
	return nil
}

// figures are one RPC's allocations and bytes per call.
type figures struct {
	allocs, bytes float64
}

// parseResults reads `go test -bench` output and returns, per sub-benchmark of prefix (named
// without the prefix and the -GOMAXPROCS suffix), the smallest figures of its runs: with -count > 1
// a budget is exceeded only when every run exceeds it.
func parseResults(in io.Reader, prefix string) (map[string]figures, error) {
	out := map[string]figures{}
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
		got := figures{allocs: -1, bytes: -1}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %q: %w", f[0], f[i], err)
			}
			switch f[i+1] {
			case unitAllocs:
				got.allocs = v
			case unitBytes:
				got.bytes = v
			}
		}
		if got.allocs < 0 || got.bytes < 0 {
			return nil, fmt.Errorf("%s reports no %s and %s", f[0], unitAllocs, unitBytes)
		}
		if prev, ok := out[name]; ok {
			got = figures{allocs: min(prev.allocs, got.allocs), bytes: min(prev.bytes, got.bytes)}
		}
		out[name] = got
	}
	return out, sc.Err()
}

// budget is one line of the budget file: "name allocs bytes", # starts a comment.
type budget struct {
	name string
	figures
}

func parseBudgets(b []byte) ([]budget, error) {
	var out []budget
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
		out = append(out, budget{name: f[0], figures: figures{allocs: a, bytes: by}})
	}
	if len(out) == 0 {
		return nil, errors.New("no budgets")
	}
	return out, nil
}

// row is one RPC's comparison.
type row struct {
	name                  string
	budget, got           figures
	allocLimit, byteLimit float64
	verdict               string
}

// compare checks every budgeted RPC against its result. An RPC without a result, or a result
// without a budget, fails too: the published budgets and the benchmark must list the same RPCs.
func compare(budgets []budget, results map[string]figures, allocMargin, byteMargin float64) ([]row, bool) {
	var rows []row
	failed := false
	for _, bu := range budgets {
		r := row{name: bu.name, budget: bu.figures, allocLimit: bu.allocs * (1 + allocMargin), byteLimit: bu.bytes * (1 + byteMargin)}
		got, ok := results[bu.name]
		switch {
		case !ok:
			r.got, r.verdict, failed = figures{allocs: math.NaN(), bytes: math.NaN()}, "NOT MEASURED", true
		case got.allocs > r.allocLimit && got.bytes > r.byteLimit:
			r.got, r.verdict, failed = got, "OVER (allocs and bytes)", true
		case got.allocs > r.allocLimit:
			r.got, r.verdict, failed = got, "OVER (allocs)", true
		case got.bytes > r.byteLimit:
			r.got, r.verdict, failed = got, "OVER (bytes)", true
		case got.allocs < bu.allocs*(1-allocMargin):
			r.got, r.verdict = got, "ok (well under budget: lower it with make bench-budgets)"
		default:
			r.got, r.verdict = got, "ok"
		}
		rows = append(rows, r)
	}
	var extra []string
	for name := range results {
		if !slices.ContainsFunc(budgets, func(b budget) bool { return b.name == name }) {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		rows = append(rows, row{name: name, got: results[name], budget: figures{math.NaN(), math.NaN()},
			allocLimit: math.NaN(), byteLimit: math.NaN(), verdict: "NO BUDGET (add it: make bench-budgets)"})
		failed = true
	}
	return rows, failed
}

// formatBudgets rewrites the budget file with results, keeping the comment lines at its top and
// the order of the RPCs already listed (new ones are appended in name order). Figures are rounded
// up: allocations to the next whole number, bytes to the next 64.
func formatBudgets(old []byte, results map[string]figures) []byte {
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
		fmt.Fprintf(&b, "%-*s  %9.0f  %8.0f\n", width, n, math.Ceil(r.allocs), math.Ceil(r.bytes/64)*64)
	}
	return []byte(b.String())
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}
