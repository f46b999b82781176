package main

import (
	"os"
	"path/filepath"
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
	list, err := budgets.ParseBudgets(b)
	require.NoError(t, err)
	assert.Equal(t, []budgets.Budget{
		{Name: "MembersService.Get", Figures: budgets.Figures{Allocs: 439, Bytes: 32640}},
		{Name: "SessionsService.Authenticate/jwt", Figures: budgets.Figures{Allocs: 326, Bytes: 26304}},
	}, list)

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
