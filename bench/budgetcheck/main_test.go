package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	got, err := parseResults(strings.NewReader(benchOutput), "BenchmarkRPC")
	require.NoError(t, err)
	assert.Equal(t, map[string]figures{
		"SessionsService.Authenticate/jwt": {allocs: 325.2, bytes: 26293},
		"MembersService.Get":               {allocs: 438.4, bytes: 32600},
	}, got)
}

func TestParseResultsRefusesALineWithoutTheBudgetedUnits(t *testing.T) {
	_, err := parseResults(strings.NewReader("BenchmarkRPC/x-2  10  5 ns/op  3 allocs/op\n"), "BenchmarkRPC")
	require.ErrorContains(t, err, "authsvc-allocs/op")
}

func TestCompare(t *testing.T) {
	budgets := []budget{
		{name: "a", figures: figures{allocs: 100, bytes: 1000}},
		{name: "b", figures: figures{allocs: 100, bytes: 1000}},
		{name: "c", figures: figures{allocs: 100, bytes: 1000}},
		{name: "d", figures: figures{allocs: 100, bytes: 1000}},
		{name: "gone", figures: figures{allocs: 100, bytes: 1000}},
	}
	results := map[string]figures{
		"a":   {allocs: 120, bytes: 1500}, // exactly at both limits: passes
		"b":   {allocs: 121, bytes: 1000}, // 21% more allocations
		"c":   {allocs: 100, bytes: 1501}, // bytes past +50%
		"d":   {allocs: 70, bytes: 900},   // far under: passes, with a hint
		"new": {allocs: 1, bytes: 1},      // measured but never budgeted
	}
	rows, failed := compare(budgets, results, 0.20, 0.50)
	assert.True(t, failed)
	verdicts := map[string]string{}
	for _, r := range rows {
		verdicts[r.name] = r.verdict
	}
	assert.Equal(t, "ok", verdicts["a"])
	assert.Equal(t, "OVER (allocs)", verdicts["b"])
	assert.Equal(t, "OVER (bytes)", verdicts["c"])
	assert.Contains(t, verdicts["d"], "ok (well under budget")
	assert.Equal(t, "NOT MEASURED", verdicts["gone"])
	assert.Contains(t, verdicts["new"], "NO BUDGET")

	rows, failed = compare(budgets[:1], map[string]figures{"a": {allocs: 120, bytes: 1500}}, 0.20, 0.50)
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
			_, err := parseBudgets([]byte(text))
			require.Error(t, err)
		})
	}
	got, err := parseBudgets([]byte("# RPC allocs bytes\nSessionsService.Authenticate/jwt 325 26304 # the JWT check\n"))
	require.NoError(t, err)
	assert.Equal(t, []budget{{name: "SessionsService.Authenticate/jwt", figures: figures{allocs: 325, bytes: 26304}}}, got)
}

func TestRunFailsOverBudgetAndUpdateRewritesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "budgets.txt")
	header := "# budgets\n# RPC allocs/op B/op\n"
	require.NoError(t, os.WriteFile(path, []byte(header+"MembersService.Get 300 30000\nSessionsService.Authenticate/jwt 330 27000\n"), 0o600))

	var out strings.Builder
	err := run([]string{"-budgets", path}, strings.NewReader(benchOutput), &out)
	require.ErrorContains(t, err, "allocation budget exceeded")
	assert.Contains(t, out.String(), "MembersService.Get")
	assert.Contains(t, out.String(), "OVER (allocs)") // 438.4 > 300 × 1.2

	require.NoError(t, run([]string{"-budgets", path, "-update"}, strings.NewReader(benchOutput), &out))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), header), "the header comment is kept: %s", b)
	budgets, err := parseBudgets(b)
	require.NoError(t, err)
	assert.Equal(t, []budget{
		{name: "MembersService.Get", figures: figures{allocs: 439, bytes: 32640}},
		{name: "SessionsService.Authenticate/jwt", figures: figures{allocs: 326, bytes: 26304}},
	}, budgets)

	out.Reset()
	require.NoError(t, run([]string{"-budgets", path}, strings.NewReader(benchOutput), &out))
	assert.NotContains(t, out.String(), "OVER")
}

func TestRunFailsWithoutResults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "budgets.txt")
	require.NoError(t, os.WriteFile(path, []byte("a 1 1\n"), 0o600))
	err := run([]string{"-budgets", path}, strings.NewReader("FAIL\tgithub.com/authsvc/authsvc/bench/allocs\n"), &strings.Builder{})
	require.ErrorContains(t, err, "no BenchmarkRPC results")
}
