package budgets_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/bench/budgets"
)

// benchOutput is `go test -bench BenchmarkRPC -count 2` output in the shape bench/allocs prints.
const benchOutput = `goos: linux
pkg: github.com/authsvc/authsvc/bench/allocs
BenchmarkRPC/SessionsService.Authenticate/jwt-2   2000  108605 ns/op  26293 authsvc-B/op  325.2 authsvc-allocs/op  26292 B/op  325 allocs/op
BenchmarkRPC/SessionsService.Authenticate/jwt-2   2000  102791 ns/op  26325 authsvc-B/op  330.0 authsvc-allocs/op  26325 B/op  330 allocs/op
BenchmarkRPC/MembersService.Get-2   2000  415712 ns/op  32623 authsvc-B/op  438.4 authsvc-allocs/op  257.0 floor-allocs/op  60938 B/op  695 allocs/op
BenchmarkRPC/MembersService.Get   2000  415712 ns/op  32600 authsvc-B/op  440 authsvc-allocs/op  257.0 floor-allocs/op  60938 B/op  695 allocs/op
BenchmarkOther/x-2  10  1 ns/op  1 authsvc-B/op  1 authsvc-allocs/op
PASS
`

func TestParseResultsTakesTheBestRunPerRPC(t *testing.T) {
	got, err := budgets.ParseResults(strings.NewReader(benchOutput), budgets.Benchmark)
	require.NoError(t, err)
	assert.Equal(t, map[string]budgets.Figures{
		"SessionsService.Authenticate/jwt": {Allocs: 325.2, Bytes: 26293},
		"MembersService.Get":               {Allocs: 438.4, Bytes: 32600},
	}, got)
}

func TestParseResultsRefusesALineWithoutTheBudgetedUnits(t *testing.T) {
	_, err := budgets.ParseResults(strings.NewReader("BenchmarkRPC/x-2  10  5 ns/op  3 allocs/op\n"), budgets.Benchmark)
	require.ErrorContains(t, err, "authsvc-allocs/op")
}

func TestCompare(t *testing.T) {
	list := []budgets.Budget{
		{Name: "a", Figures: budgets.Figures{Allocs: 100, Bytes: 1000}},
		{Name: "b", Figures: budgets.Figures{Allocs: 100, Bytes: 1000}},
		{Name: "c", Figures: budgets.Figures{Allocs: 100, Bytes: 1000}},
		{Name: "d", Figures: budgets.Figures{Allocs: 100, Bytes: 1000}},
		{Name: "gone", Figures: budgets.Figures{Allocs: 100, Bytes: 1000}},
	}
	results := map[string]budgets.Figures{
		"a":   {Allocs: 120, Bytes: 1500}, // exactly at both limits: passes
		"b":   {Allocs: 121, Bytes: 1000}, // 21% more allocations
		"c":   {Allocs: 100, Bytes: 1501}, // bytes past +50%
		"d":   {Allocs: 70, Bytes: 900},   // far under: passes, with a hint
		"new": {Allocs: 1, Bytes: 1},      // measured but never budgeted
	}
	rows, failed := budgets.Compare(list, results, 0.20, 0.50)
	assert.True(t, failed)
	verdicts := map[string]string{}
	for _, r := range rows {
		verdicts[r.Name] = r.Verdict
	}
	assert.Equal(t, "ok", verdicts["a"])
	assert.Equal(t, "OVER (allocs)", verdicts["b"])
	assert.Equal(t, "OVER (bytes)", verdicts["c"])
	assert.Contains(t, verdicts["d"], "ok (well under budget")
	assert.Equal(t, "NOT MEASURED", verdicts["gone"])
	assert.Contains(t, verdicts["new"], "NO BUDGET")

	rows, failed = budgets.Compare(list[:1], map[string]budgets.Figures{"a": {Allocs: 120, Bytes: 1500}}, 0.20, 0.50)
	assert.False(t, failed)
	assert.Len(t, rows, 1)
}

func TestParseBudgetsRejectsBadLines(t *testing.T) {
	for name, text := range map[string]string{
		"two fields": "a 1\n",
		"not number": "a x 1\n",
		"zero":       "a 0 1\n",
		"twice":      "a 1 1\na 2 2\n",
		"empty":      "# only a comment\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := budgets.ParseBudgets([]byte(text))
			require.Error(t, err)
		})
	}
	got, err := budgets.ParseBudgets([]byte("# RPC allocs bytes\nSessionsService.Authenticate/jwt 325 26304 # the JWT check\n"))
	require.NoError(t, err)
	assert.Equal(t, []budgets.Budget{{Name: "SessionsService.Authenticate/jwt", Figures: budgets.Figures{Allocs: 325, Bytes: 26304}}}, got)
}
