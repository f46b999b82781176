// Package typescript holds the TypeScript client of authsvc's REST API (an npm package, see
// README.md). Its only Go file is this test, which runs the client's Node tests against a real
// authsvc.
package typescript

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/apptest"
)

// minNodeTests is how many Node tests test/ holds at least: fewer passing means some did not run.
const minNodeTests = 8

// TestNodeClient builds the TypeScript client and runs its tests (test/*.test.ts, with Node's test
// runner) against authsvc in dev mode on loopback: the in-process app of internal/apptest with the
// dev emulator, whose /dev/outbox and /dev/m2m/clients the tests use as the README's "Try it" does.
// It fails when the build or any Node test fails. Node 20 or newer and npm are required; npm
// installs the pinned packages from package-lock.json the first time (scripts/install.sh).
func TestNodeClient(t *testing.T) {
	for _, bin := range []string{"node", "npm"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is not on PATH: the TypeScript client's tests need Node 20 or newer with npm", bin)
		}
	}
	dir, err := os.Getwd()
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	run(ctx, t, dir, nil, "bash", filepath.Join("scripts", "install.sh"))
	// The package as published (src only, to dist/) and the tests (src and test, to build/): both
	// type-check, so a typed call that no longer matches the generated types fails here.
	run(ctx, t, dir, nil, "npm", "run", "--silent", "build")
	run(ctx, t, dir, nil, "npm", "run", "--silent", "build:test")

	// The compiled test files, named explicitly: Node 20's runner takes files, not a folder.
	files, err := filepath.Glob(filepath.Join("build", "test", "*.test.js"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "tsc wrote no test files to build/test")

	env := apptest.Start(t)
	out := run(ctx, t, dir, []string{"AUTHSVC_BASE_URL=" + env.BaseURL},
		"node", append([]string{"--test", "--test-reporter=tap"}, files...)...)
	// node exits non-zero on a failure (run fails the test then); the summary must also show that
	// the tests ran at all.
	require.Contains(t, out, "\n# fail 0\n", "node --test summary")
	m := regexp.MustCompile(`\n# pass (\d+)\n`).FindStringSubmatch(out)
	require.NotNil(t, m, "node --test summary:\n%s", out)
	passed, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.GreaterOrEqual(t, passed, minNodeTests, "node --test ran too few tests:\n%s", out)
}

// run runs a command in dir and returns its combined output; the test fails with that output if
// the command fails.
func run(ctx context.Context, t *testing.T, dir string, extraEnv []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), extraEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out.String())
	}
	return out.String()
}
