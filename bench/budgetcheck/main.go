// Command budgetcheck compares the allocation benchmark's results (bench/allocs, read as `go test
// -bench` output on stdin) with the committed budgets (bench/budgets.txt) and fails when an RPC
// allocates more than its budget allows (see package bench/budgets for the margins). `make
// bench-check` runs it; `make bench-budgets` runs it with -update to rewrite the budgets from a run.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/authsvc/authsvc/bench/budgets"
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
	allocMargin := fs.Float64("alloc-margin", budgets.AllocMargin, "allowed growth of allocations per call over the budget")
	byteMargin := fs.Float64("byte-margin", budgets.ByteMargin, "allowed growth of bytes per call over the budget")
	update := fs.Bool("update", false, "rewrite the budget file with the measured figures instead of checking")
	if err := fs.Parse(args); err != nil {
		return err
	}
	results, err := budgets.ParseResults(in, budgets.Benchmark)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return fmt.Errorf("no %s results on stdin (did the benchmark run?)", budgets.Benchmark)
	}
	old, err := os.ReadFile(*path)
	if err != nil && (!*update || !errors.Is(err, os.ErrNotExist)) {
		return err
	}
	if *update {
		return os.WriteFile(*path, budgets.Format(old, results), 0o644) //nolint:gosec // a committed text file
	}
	list, err := budgets.ParseBudgets(old)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	rows, failed := budgets.Compare(list, results, *allocMargin, *byteMargin)
	// tabwriter buffers until Flush, whose error is the one that tells.
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "RPC\tallocs/op budget\tmeasured\tlimit\tB/op budget\tmeasured\tlimit\tresult")
	for _, r := range rows {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name,
			num(r.Budget.Allocs), num(r.Got.Allocs), num(r.AllocLimit),
			num(r.Budget.Bytes), num(r.Got.Bytes), num(r.ByteLimit), r.Verdict)
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

func num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}
