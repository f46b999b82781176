package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildBinary compiles authsvc once per test run, as an operator would run it.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "authsvc")
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// The binary starts in dev mode with no configuration at all, serves, and exits 0 on SIGTERM after a
// graceful shutdown.
func TestDevModeStartsAndStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	httpAddr := freePort(t)
	cmd := exec.CommandContext(t.Context(), bin,
		"-grpc-addr", freePort(t), "-http-addr", httpAddr, "-admin-addr", freePort(t), "-shutdown-grace", "10s")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	// Wait for the "serving" log line instead of polling with sleeps.
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var logs []string
	for line := range lines {
		logs = append(logs, line)
		if strings.Contains(line, `"authsvc serving"`) {
			break
		}
	}
	require.Contains(t, strings.Join(logs, "\n"), "DEV MODE", "dev mode must be announced loudly")

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr+"/healthz", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	for line := range lines {
		logs = append(logs, line)
	}
	err = cmd.Wait()
	require.NoError(t, err, "authsvc must exit 0 after SIGTERM; logs:\n%s", strings.Join(logs, "\n"))
	assert.Contains(t, strings.Join(logs, "\n"), `"authsvc stopped"`)
	// Durations carry their unit ("12ms"), not slog's bare nanoseconds.
	for _, line := range logs {
		if strings.Contains(line, `"authsvc stopped"`) {
			var rec map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
			took, ok := rec["took"].(string)
			require.True(t, ok, "took must be a string with a unit: %s", line)
			_, err := time.ParseDuration(took)
			require.NoError(t, err, line)
		}
	}
}

// Production without Stytch credentials is refused at startup with one line naming the variable.
func TestProductionWithoutCredentialsIsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	cmd := exec.CommandContext(t.Context(), bin)
	cmd.Env = []string{"AUTHSVC_ENV=production", "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "want a non-zero exit")
	assert.Equal(t, 2, exit.ExitCode())
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(string(out)), "\n")+1, "one line: %s", out)
	assert.Contains(t, string(out), "STYTCH_PROJECT_ID")
}

// Dev mode on a non-loopback address without the opt-in is refused before anything listens, with
// one line naming the variable and the opt-in.
func TestDevModeOnTheNetworkNeedsOptIn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	// A bound, not a timing assertion: a binary that starts serving instead of refusing would
	// otherwise keep the test waiting until go test's own timeout.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-http-addr", "0.0.0.0:8080")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "want a non-zero exit")
	assert.Equal(t, 2, exit.ExitCode())
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(string(out)), "\n")+1, "one line: %s", out)
	assert.Contains(t, string(out), "AUTHSVC_HTTP_ADDR")
	assert.Contains(t, string(out), "AUTHSVC_DEV_LISTEN_PUBLIC")
}

// -help prints the usage, every setting with its variable, and exits 0.
func TestHelpExitsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	cmd := exec.CommandContext(t.Context(), bin, "-help")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "-http-addr")
	assert.Contains(t, string(out), "$AUTHSVC_DEV_LISTEN_PUBLIC")
}

// Dev mode with a bad custom RBAC policy file does not start, and says which setting and why.
func TestDevModeRefusesABadRBACPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	bad := filepath.Join(t.TempDir(), "policy.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"resources":[{"resource_id":"stytch.billing","actions":["read"]}]}`), 0o600))
	cmd := exec.CommandContext(t.Context(), bin, "-grpc-addr", freePort(t), "-http-addr", freePort(t), "-admin-addr", freePort(t))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AUTHSVC_DEV_RBAC_POLICY=" + bad}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "want a non-zero exit: %s", out)
	assert.Contains(t, string(out), "AUTHSVC_DEV_RBAC_POLICY")
	assert.Contains(t, string(out), "reserved")
}
