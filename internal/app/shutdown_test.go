package app_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// stytchGate stands between authsvc and the emulator and holds every request to one endpoint until
// the test releases it: a Stytch call that is slow for exactly as long as the test needs, with no
// timing involved.
type stytchGate struct {
	next    http.Handler
	route   string        // "POST /v1/..."
	entered chan struct{} // one value per held request
	release chan struct{}
	once    sync.Once
}

func (g *stytchGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method+" "+r.URL.Path == g.route {
		g.entered <- struct{}{}
		select {
		case <-g.release:
		case <-r.Context().Done():
			return
		}
	}
	g.next.ServeHTTP(w, r)
}

func (g *stytchGate) open() { g.once.Do(func() { close(g.release) }) }

// startGated runs authsvc as deployed (a Stytch project, not dev mode) against the emulator behind a
// gate on route, with the given drain delay.
func startGated(t *testing.T, route, drainDelay string) (*apptest.Env, *stytchGate) {
	t.Helper()
	emu := testkit.Emulator(t, stytchemu.WithSandbox())
	g := &stytchGate{next: emu, route: route, entered: make(chan struct{}, 8), release: make(chan struct{})}
	stytch := httptest.NewServer(g)
	t.Cleanup(stytch.Close)
	env := apptest.Start(t, apptest.WithEmulator(emu), apptest.WithEnv(map[string]string{
		"STYTCH_PROJECT_ID":      emu.ProjectID(),
		"STYTCH_SECRET":          emu.Secret(),
		"STYTCH_BASE_URL":        stytch.URL,
		"AUTHSVC_DRAIN_DELAY":    drainDelay,
		"AUTHSVC_SHUTDOWN_GRACE": "1m",
	}))
	t.Cleanup(g.open) // runs first (before the app's shutdown and Close): nothing stays held if the test fails early
	return env, g
}

type inFlightResult struct {
	status int
	body   string
	err    error
}

func postJSON(ctx context.Context, c *http.Client, url, body string) inFlightResult {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return inFlightResult{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return inFlightResult{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return inFlightResult{status: resp.StatusCode, body: string(b), err: err}
}

// Shutdown in the order the issue asks for, each step observed: readiness fails (REST /readyz 503 and
// gRPC health NOT_SERVING) while calls are in flight and the REST port still answers; a client on a
// keep-alive connection is answered and told to close it; new connections are refused once the drain
// delay is over; the REST and gRPC calls in flight (each waiting on Stytch) still get their answers;
// Run returns nil.
func TestShutdownDrainsInFlightCallsOverRESTAndGRPC(t *testing.T) {
	const route = "POST /v1/b2b/magic_links/email/login_or_signup"
	// The drain delay is the window in which the test reads /readyz and uses its keep-alive
	// connection: a handful of loopback requests.
	env, gate := startGated(t, route, "3s")

	// A client with an idle keep-alive connection, as a load balancer or a service has.
	keepAlive := &http.Client{Transport: &http.Transport{}}
	defer keepAlive.CloseIdleConnections()
	r := getWith(t, keepAlive, env.BaseURL+"/openapi.json")
	require.Equal(t, http.StatusOK, r.status)

	ctx := context.Background()
	rest := make(chan inFlightResult, 1)
	go func() {
		rest <- postJSON(ctx, &http.Client{}, env.BaseURL+"/v1/b2b/magic_links/email/login_or_signup",
			`{"organization_id":"`+stytchemu.SandboxOrganizationID+`","email_address":"rest@example.com"}`)
	}()
	type grpcResult struct {
		resp *b2bv1.MagicLinksServiceLoginOrSignupResponse
		err  error
	}
	grpcDone := make(chan grpcResult, 1)
	go func() {
		resp, err := b2bv1.NewMagicLinksServiceClient(env.Conn).LoginOrSignup(ctx, &b2bv1.MagicLinksServiceLoginOrSignupRequest{
			OrganizationId: stytchemu.SandboxOrganizationID, EmailAddress: "grpc@example.com",
		})
		grpcDone <- grpcResult{resp, err}
	}()
	<-gate.entered
	<-gate.entered // both calls are now waiting on Stytch

	stopped := make(chan error, 1)
	go func() { stopped <- env.Stop() }()

	// 1. Readiness fails first, on a port that still answers.
	noKeepAlive := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		r := getWith(t, noKeepAlive, env.BaseURL+"/readyz")
		require.NoError(t, r.err, "the REST port must keep answering until the drain delay is over")
		if r.status == http.StatusServiceUnavailable {
			assert.Contains(t, r.body, "shutting down")
			break
		}
		require.Equal(t, http.StatusOK, r.status)
	}
	hc, err := healthpb.NewHealthClient(env.Conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, hc.GetStatus())

	// 2. The keep-alive connection is not cut under the client: its next request is answered, with
	// Connection: close so that the client reconnects elsewhere.
	r = getWith(t, keepAlive, env.BaseURL+"/openapi.json")
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusOK, r.status)
	assert.True(t, r.reused, "the request went over the kept-alive connection")
	assert.True(t, r.close, "the response closes the connection (Connection: close)")

	// 3. After the drain delay the listener closes: new connections are refused, while the calls
	// are still in flight.
	var d net.Dialer
	for {
		c, err := d.DialContext(t.Context(), "tcp", env.App.HTTPAddr())
		if errors.Is(err, syscall.ECONNRESET) {
			continue // this dial was still queued for accept when the listener closed
		}
		if err != nil {
			require.ErrorIs(t, err, syscall.ECONNREFUSED)
			break
		}
		_ = c.Close()
	}
	select {
	case res := <-rest:
		t.Fatalf("the REST call ended before Stytch answered: %+v", res)
	case res := <-grpcDone:
		t.Fatalf("the gRPC call ended before Stytch answered: %+v", res)
	default:
	}

	// 4. Stytch answers: both calls in flight get their results.
	gate.open()
	res := <-rest
	require.NoError(t, res.err)
	assert.Equal(t, http.StatusOK, res.status, "%s", res.body)
	assert.Contains(t, res.body, `"member_id":"member-`)
	g := <-grpcDone
	require.NoError(t, g.err)
	assert.NotEmpty(t, g.resp.GetMemberId())

	require.NoError(t, <-stopped)
}

type getResult struct {
	status int
	body   string
	reused bool // the request went over an existing connection
	close  bool // the response asked to close the connection
	err    error
}

func getWith(t *testing.T, c *http.Client, url string) getResult {
	t.Helper()
	var res getResult
	ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { res.reused = i.Reused },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	if err != nil {
		res.err = err
		return res
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	res.status, res.body, res.close, res.err = resp.StatusCode, string(b), resp.Close, err
	return res
}
