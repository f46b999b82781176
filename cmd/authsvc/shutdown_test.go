package main_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// The scenario with the real binary and a real SIGTERM: a REST call is waiting on a slow
// Stytch when the signal arrives; /readyz turns 503 while the port still answers, new connections are
// refused once the drain delay is over, and the call in flight still gets its 200 with the body. The
// process exits 0.
func TestSIGTERMDrainsAnInFlightRESTCall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)

	// Stytch is the emulator behind a gate that holds the login call until the test lets it go.
	emu := testkit.Emulator(t, stytchemu.WithSandbox())
	const route = "/v1/b2b/magic_links/email/login_or_signup"
	entered, release := make(chan struct{}, 1), make(chan struct{})
	var releaseOnce sync.Once
	open := func() { releaseOnce.Do(func() { close(release) }) }
	stytch := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == route {
			entered <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		emu.ServeHTTP(w, r)
	}))
	defer stytch.Close()
	defer open() // before Close, which waits for the held request, if the test fails early

	httpAddr := freePort(t)
	cmd := exec.CommandContext(t.Context(), bin,
		"-grpc-addr", freePort(t), "-http-addr", httpAddr, "-admin-addr", freePort(t),
		"-shutdown-grace", "1m")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"STYTCH_PROJECT_ID=" + emu.ProjectID(), "STYTCH_SECRET=" + emu.Secret(), "STYTCH_BASE_URL=" + stytch.URL,
		"AUTHSVC_ALLOWED_REDIRECT_URLS=http://localhost:3000/authenticate",
		// The drain delay is the window in which the test reads /readyz: a few loopback requests.
		"AUTHSVC_DRAIN_DELAY=3s",
	}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var logs []string
	serving := false
	for line := range lines {
		logs = append(logs, line)
		if serving = strings.Contains(line, `"authsvc serving"`); serving {
			break
		}
	}
	require.True(t, serving, "authsvc did not start:\n%s", strings.Join(logs, "\n"))
	base := "http://" + httpAddr
	noKeepAlive := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+route,
			strings.NewReader(`{"organization_id":"`+stytchemu.SandboxOrganizationID+`","email_address":"ada@example.com"}`))
		if err != nil {
			done <- result{err: err}
			return
		}
		resp, err := noKeepAlive.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- result{resp.StatusCode, string(b), err}
	}()
	select {
	case <-entered: // the call is waiting on Stytch
	case res := <-done:
		t.Fatalf("the call ended before reaching Stytch: %+v", res)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))

	for {
		code, err := statusOf(t, noKeepAlive, base+"/readyz")
		require.NoError(t, err, "the REST port must answer during the drain delay")
		if code == http.StatusServiceUnavailable {
			break
		}
	}
	var d net.Dialer
	for {
		c, err := d.DialContext(t.Context(), "tcp", httpAddr)
		if errors.Is(err, syscall.ECONNRESET) {
			continue // this dial was still queued for accept when the listener closed
		}
		if err != nil {
			require.ErrorIs(t, err, syscall.ECONNREFUSED)
			break
		}
		_ = c.Close()
	}

	open() // Stytch answers
	res := <-done
	require.NoError(t, res.err)
	assert.Equal(t, http.StatusOK, res.status, "%s", res.body)
	assert.Contains(t, res.body, `"member_id":"member-`)

	for line := range lines { // the buffer holds the few lines of the shutdown
		logs = append(logs, line)
	}
	err = cmd.Wait()
	require.NoError(t, err, "authsvc must exit 0 after SIGTERM; logs:\n%s", strings.Join(logs, "\n"))
	assert.Contains(t, strings.Join(logs, "\n"), `"drain_delay":"3s"`)
}

func statusOf(t *testing.T, c *http.Client, url string) (int, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
