package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/authsvc/authsvc/bench/budgets"
)

// The allocation budgets: scripts/bench.sh runs bench/allocs (BenchmarkRPC) with the
// micro-benchmarks; the report compares its figures with the committed budget file, as `make
// bench-check` does.

// allocRows compares the micro-benchmark output with the budget file; nil when either is missing.
func (b *bench) allocRows() ([]budgets.Row, bool, error) {
	if b.cfg.microFile == "" || b.cfg.budgetsFile == "" {
		return nil, false, nil
	}
	micro, err := os.ReadFile(b.cfg.microFile)
	if err != nil {
		return nil, false, err
	}
	results, err := budgets.ParseResults(bytes.NewReader(micro), budgets.Benchmark)
	if err != nil || len(results) == 0 {
		return nil, false, err
	}
	file, err := os.ReadFile(b.cfg.budgetsFile)
	if err != nil {
		return nil, false, err
	}
	list, err := budgets.ParseBudgets(file)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", b.cfg.budgetsFile, err)
	}
	rows, failed := budgets.Compare(list, results, budgets.AllocMargin, budgets.ByteMargin)
	return rows, failed, nil
}

func (b *bench) allocVerdict() verdict {
	v := verdict{
		Target: fmt.Sprintf("Allocations per call of the hottest RPCs within their published budgets (bench/budgets.txt; `make bench-check` fails at +%.0f%% allocs/op)", budgets.AllocMargin*100),
		Wave1:  wave1AllocBudgets,
	}
	rows, failed, err := b.allocRows()
	if err != nil {
		v.Result = notMeasured + ": " + err.Error()
		return v
	}
	if rows == nil {
		v.Result = notMeasured
		return v
	}
	var parts []string
	for _, r := range rows {
		parts = append(parts, fmt.Sprintf("%s %.0f / %.0f", r.Name, r.Got.Allocs, r.Budget.Allocs))
	}
	v.Measured = "allocs/op measured / budget: " + strings.Join(parts, "; ")
	v.Result = met
	if failed {
		var over []string
		for _, r := range rows {
			if r.Failed {
				over = append(over, r.Name+" "+r.Verdict)
			}
		}
		v.Result = missed("%s", strings.Join(over, "; "))
	}
	return v
}

// writeAllocTable prints the budget comparison as its own section.
func (b *bench) writeAllocTable(p func(string, ...any)) {
	rows, _, err := b.allocRows()
	if err != nil || rows == nil {
		return
	}
	p("## Allocation budgets (bench/allocs against bench/budgets.txt)\n\n")
	p("Allocations and bytes per call that going through authsvc costs: the gRPC or HTTP client and authsvc, in process on loopback against the emulator; for the Stytch-bound RPCs minus the same Stytch call made directly (bench/allocs/doc.go). ")
	p("`make bench-check` fails above +%.0f%% allocs/op or +%.0f%% B/op.\n\n", budgets.AllocMargin*100, budgets.ByteMargin*100)
	p("| RPC | allocs/op budget | measured | B/op budget | measured | result |\n|---|--:|--:|--:|--:|---|\n")
	for _, r := range rows {
		p("| %s | %.0f | %.1f | %.0f | %.0f | %s |\n", r.Name, r.Budget.Allocs, r.Got.Allocs, r.Budget.Bytes, r.Got.Bytes, r.Verdict)
	}
	p("\n")
}
