package stytchemu_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

func TestFaults(t *testing.T) {
	const authPath = "/v1/b2b/sessions/authenticate"
	cases := []struct {
		name   string
		fault  stytchemu.Fault
		status int
		check  func(t *testing.T, r response)
	}{
		{"500 in Stytch's shape", stytchemu.Fault{Pattern: "POST " + authPath, Status: 500}, 500, func(t *testing.T, r response) {
			assert.Equal(t, "internal_server_error", r.str("error_type"))
		}},
		{"503 HTML from a proxy", stytchemu.Fault{Pattern: "POST /v1/b2b/sessions/*", Status: 503, Body: "<html>bad gateway</html>"}, 503, func(t *testing.T, r response) {
			assert.Equal(t, "<html>bad gateway</html>", string(r.raw))
			assert.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
		}},
		{"429 too_many_requests", stytchemu.Fault{Pattern: "*", Status: 429}, 429, func(t *testing.T, r response) {
			assert.Equal(t, "too_many_requests", r.str("error_type"))
		}},
		{"429 with Retry-After rounded up to whole seconds", stytchemu.Fault{Pattern: "*", Status: 429, RetryAfter: 1500 * time.Millisecond}, 429, func(t *testing.T, r response) {
			assert.Equal(t, "2", r.header.Get("Retry-After"))
			assert.Equal(t, "too_many_requests", r.str("error_type"))
		}},
		{"no Retry-After unless asked", stytchemu.Fault{Pattern: "*", Status: 503}, 503, func(t *testing.T, r response) {
			assert.Empty(t, r.header.Get("Retry-After"))
		}},
		{"latency then success", stytchemu.Fault{Pattern: "POST " + authPath, Latency: time.Millisecond}, 200, nil},
		{"other endpoints untouched", stytchemu.Fault{Pattern: "GET /v1/m2m/*", Status: 500}, 200, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			_, err := w.h.emu.AddFault(tc.fault)
			require.NoError(t, err)
			r := w.h.do(post(authPath, map[string]any{"session_token": w.userSes.Token}))
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestFaultTimesThenRecovers(t *testing.T) {
	w := newWorld(t)
	_, err := w.h.emu.AddFault(stytchemu.Fault{Pattern: "POST /v1/b2b/sessions/authenticate", Status: 502, Times: 2})
	require.NoError(t, err)
	c := post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": w.userSes.Token})
	assert.Equal(t, 502, w.h.do(c).status)
	assert.Equal(t, 502, w.h.do(c).status)
	assert.Equal(t, 200, w.h.do(c).status)
	assert.Equal(t, 3, w.h.emu.Requests("POST /v1/b2b/sessions/authenticate"))
}

func TestFaultConnectionReset(t *testing.T) {
	w := newWorld(t)
	_, err := w.h.emu.AddFault(stytchemu.Fault{Pattern: "*", Reset: true, Times: 1})
	require.NoError(t, err)
	// POST: net/http never retries it, so the one reset is what the client sees.
	_, err = w.h.try(post("/v1/m2m/clients/search", map[string]any{}))
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "got %v", err)
	assert.Equal(t, 200, w.h.do(get("/v1/m2m/clients/"+w.client.ClientID)).status, "the fault was used up")
}

// TestFaultLatencyRespectsClientTimeout: a request held far longer than the
// client waits ends when the client gives up, and the server does not leak
// the handler (goleak in TestMain).
func TestFaultLatencyRespectsClientTimeout(t *testing.T) {
	w := newWorld(t)
	_, err := w.h.emu.AddFault(stytchemu.Fault{Pattern: "GET /v1/m2m/clients/{client_id}", Latency: time.Hour})
	require.NoError(t, err)
	c := get("/v1/m2m/clients/" + w.client.ClientID)
	c.timeout = 50 * time.Millisecond
	_, err = w.h.try(c)
	require.Error(t, err)
	w.h.emu.ClearFaults()
	assert.Equal(t, 200, w.h.do(get("/v1/m2m/clients/"+w.client.ClientID)).status)
}

// A delayed POST also ends when its client gives up: the body is consumed before the delay, so
// net/http notices the hang-up (without that, the handler would sleep out the hour and goleak fails).
func TestFaultLatencyOnPostRespectsClientTimeout(t *testing.T) {
	w := newWorld(t)
	_, err := w.h.emu.AddFault(stytchemu.Fault{Pattern: "POST /v1/m2m/clients/search", Latency: time.Hour})
	require.NoError(t, err)
	c := post("/v1/m2m/clients/search", map[string]any{"limit": 10})
	c.timeout = 50 * time.Millisecond
	_, err = w.h.try(c)
	require.Error(t, err)
	w.h.emu.ClearFaults()
	assert.Equal(t, 200, w.h.do(post("/v1/m2m/clients/search", map[string]any{"limit": 10})).status)
}

func TestFaultValidation(t *testing.T) {
	emu, err := stytchemu.New(stytchemu.WithSigningKey(testKey))
	require.NoError(t, err)
	for name, f := range map[string]stytchemu.Fault{
		"no pattern":                   {Status: 500},
		"no effect":                    {Pattern: "*"},
		"status 200":                   {Pattern: "*", Status: 200},
		"negative wait":                {Pattern: "*", Latency: -time.Second},
		"retry-after without a status": {Pattern: "*", Latency: time.Second, RetryAfter: time.Second},
		"negative retry-after":         {Pattern: "*", Status: 429, RetryAfter: -time.Second},
	} {
		_, err := emu.AddFault(f)
		assert.Error(t, err, name)
	}
}

func TestControlEndpoints(t *testing.T) {
	w := newWorld(t)
	// Faults over HTTP (what a standalone binary is driven with).
	r := w.h.do(call{method: http.MethodPost, path: "/emulator/faults", noAuth: true, body: map[string]any{"pattern": "POST /v1/b2b/sessions/authenticate", "status": 500, "times": 1}})
	require.Equal(t, 200, r.status, "%s", r.raw)
	assert.Len(t, w.h.do(call{method: http.MethodGet, path: "/emulator/faults", noAuth: true}).body["faults"], 1)
	auth := post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": w.userSes.Token})
	assert.Equal(t, 500, w.h.do(auth).status)
	assert.Equal(t, 200, w.h.do(auth).status)
	r = w.h.do(call{method: http.MethodPost, path: "/emulator/faults", noAuth: true, body: map[string]any{"pattern": "*", "latency": "soon"}})
	assert.Equal(t, 400, r.status)
	r = w.h.do(call{method: http.MethodPost, path: "/emulator/faults", noAuth: true, body: map[string]any{"pattern": "*", "status": 429, "retry_after": "later"}})
	assert.Equal(t, 400, r.status, "a retry_after that is not a duration is refused")
	require.Equal(t, 200, w.h.do(call{method: http.MethodPost, path: "/emulator/faults", noAuth: true, body: map[string]any{"pattern": "*", "status": 429, "retry_after": "3s", "times": 1}}).status)
	limited := w.h.do(auth)
	assert.Equal(t, 429, limited.status)
	assert.Equal(t, "3", limited.header.Get("Retry-After"))
	require.Equal(t, 200, w.h.do(call{method: http.MethodPost, path: "/emulator/faults", noAuth: true, body: map[string]any{"pattern": "*", "status": 503}}).status)
	assert.Equal(t, 204, w.h.do(call{method: http.MethodDelete, path: "/emulator/faults", noAuth: true}).status)
	assert.Equal(t, 200, w.h.do(auth).status)

	// Request counters over HTTP.
	r = w.h.do(call{method: http.MethodGet, path: "/emulator/requests?pattern=POST+/v1/b2b/sessions/authenticate", noAuth: true})
	assert.InDelta(t, 4, r.body["count"], 0, "three calls above plus the rate-limited one")

	// Outbox over HTTP.
	tok := w.sendLink(t, w.orgA.ID, w.user.Email)
	r = w.h.do(call{method: http.MethodGet, path: "/emulator/outbox?to=" + w.user.Email, noAuth: true})
	msgs := r.body["messages"].([]any)
	require.Len(t, msgs, 1)
	assert.Equal(t, tok, msgs[0].(map[string]any)["token"])
	assert.Equal(t, 204, w.h.do(call{method: http.MethodDelete, path: "/emulator/outbox", noAuth: true}).status)
	assert.Empty(t, w.h.emu.Outbox())

	// Clock over HTTP: the link sent above expires.
	r = w.h.do(call{method: http.MethodPost, path: "/emulator/clock/advance", noAuth: true, body: map[string]any{"duration": "2h"}})
	require.Equal(t, 200, r.status)
	assert.Equal(t, epoch.Add(2*time.Hour).Format(time.RFC3339), r.str("now"))
	assert.Equal(t, 401, w.h.do(post("/v1/b2b/magic_links/authenticate", map[string]any{"magic_links_token": tok})).status)

	// Keys over HTTP.
	r = w.h.do(call{method: http.MethodPost, path: "/emulator/keys/rotate", noAuth: true})
	require.Equal(t, 200, r.status)
	assert.Len(t, r.body["kids"], 2)
	r = w.h.do(call{method: http.MethodPost, path: "/emulator/keys/retire", noAuth: true})
	assert.Len(t, r.body["kids"], 1)
}

func TestRequestCounters(t *testing.T) {
	w := newWorld(t)
	assert.Zero(t, w.h.emu.Requests("*"), "the Go helpers make no HTTP calls")
	w.h.do(get("/v1/m2m/clients/" + w.client.ClientID))
	w.h.do(withWrongAuth(get("/v1/m2m/clients/"+w.client.ClientID), w))
	w.h.do(get("/v1/b2b/organizations/" + w.orgA.ID))
	assert.Equal(t, 2, w.h.emu.Requests("GET /v1/m2m/clients/{client_id}"))
	assert.Equal(t, 2, w.h.emu.Requests("* /v1/m2m/*"))
	assert.Equal(t, 3, w.h.emu.Requests("GET *"))
	assert.Equal(t, 3, w.h.emu.Requests("*"))
	assert.Zero(t, w.h.emu.Requests("POST *"))
	w.h.emu.ResetRequests()
	assert.Zero(t, w.h.emu.Requests("*"))
}

func TestSandboxValues(t *testing.T) {
	const authPath = "/v1/b2b/magic_links/authenticate"
	runSandbox := func(name string, c func(w *world) call, status int, errType string) {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, stytchemu.WithSandbox())
			r := w.h.do(c(w))
			require.Equal(t, status, r.status, "%s", r.raw)
			if errType != "" {
				assert.Equal(t, errType, r.str("error_type"))
			}
			assert.Empty(t, w.h.emu.Outbox(), "sandbox sends nothing")
		})
	}
	runSandbox("login_or_signup sandbox email", func(_ *world) call {
		return post("/v1/b2b/magic_links/email/login_or_signup", map[string]any{"organization_id": stytchemu.SandboxOrganizationID, "email_address": stytchemu.SandboxEmail})
	}, 200, "")
	runSandbox("invite sandbox email", func(_ *world) call {
		return post("/v1/b2b/magic_links/email/invite", map[string]any{"organization_id": stytchemu.SandboxOrganizationID, "email_address": stytchemu.SandboxEmail})
	}, 400, "member_already_active")
	runSandbox("authenticate sandbox token", func(_ *world) call {
		return post(authPath, map[string]any{"magic_links_token": stytchemu.SandboxMagicLinkToken})
	}, 200, "")
	runSandbox("authenticate sandbox token again (reusable)", func(w *world) call {
		require.Equal(t, 200, w.h.do(post(authPath, map[string]any{"magic_links_token": stytchemu.SandboxMagicLinkToken})).status)
		return post(authPath, map[string]any{"magic_links_token": stytchemu.SandboxMagicLinkToken})
	}, 200, "")
	runSandbox("authenticate sandbox 401 token", func(_ *world) call {
		return post(authPath, map[string]any{"magic_links_token": stytchemu.SandboxMagicLinkTokenUnauth})
	}, 401, "unable_to_auth_magic_link")
	runSandbox("authenticate sandbox 404 token", func(_ *world) call {
		return post(authPath, map[string]any{"magic_links_token": stytchemu.SandboxMagicLinkTokenNotFound})
	}, 404, "magic_link_not_found")
	runSandbox("sessions authenticate sandbox token", func(w *world) call {
		w.h.emu.Advance(24 * time.Hour) // always valid, whatever the time
		return post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": stytchemu.SandboxSessionToken})
	}, 200, "")
	runSandbox("sessions authenticate sandbox 404 token", func(_ *world) call {
		return post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": stytchemu.SandboxSessionTokenNotFound})
	}, 404, "session_not_found")
	runSandbox("email OTP sandbox address", func(_ *world) call {
		return post("/v1/b2b/otps/email/login_or_signup", map[string]any{"organization_id": stytchemu.SandboxOrganizationID, "email_address": stytchemu.SandboxEmail})
	}, 200, "")

	t.Run("without WithSandbox the sandbox token is unknown", func(t *testing.T) {
		w := newWorld(t)
		r := w.h.do(post(authPath, map[string]any{"magic_links_token": stytchemu.SandboxMagicLinkToken}))
		assert.Equal(t, 404, r.status)
	})
}

// TestMFAFlowEndToEnd: login in an MFA organization, SMS arrives, the code
// with the IST yields a full session; the IST is spent.
func TestMFAFlowEndToEnd(t *testing.T) {
	w := newWorld(t)
	ist := w.mfaIST(t)
	sms := w.last(t, "+15555550100")
	done := w.h.do(post("/v1/b2b/otps/sms/authenticate", map[string]any{
		"organization_id": w.orgB.ID, "member_id": w.mfaUser.ID, "code": sms.Code,
		"intermediate_session_token": ist, "session_duration_minutes": 15, "session_custom_claims": map[string]any{"k": "v"},
	}))
	require.Equal(t, 200, done.status, "%s", done.raw)
	assert.Equal(t, epoch.Add(15*time.Minute).Format(time.RFC3339), done.obj("member_session")["expires_at"])
	assert.Equal(t, map[string]any{"k": "v"}, done.obj("member_session")["custom_claims"])
	again := w.h.do(post("/v1/b2b/discovery/intermediate_sessions/exchange", map[string]any{"intermediate_session_token": ist, "organization_id": w.orgB.ID}))
	assert.Equal(t, 404, again.status, "the IST was consumed")
	// A live session skips MFA on the next primary login.
	tok := w.sendLink(t, w.orgB.ID, w.mfaUser.Email)
	r := w.h.do(post("/v1/b2b/magic_links/authenticate", map[string]any{"magic_links_token": tok, "session_token": done.str("session_token")}))
	require.Equal(t, 200, r.status)
	assert.Equal(t, true, r.body["member_authenticated"])
}

// TestConcurrentUse drives many endpoints at once; -race checks the locking.
func TestConcurrentUse(t *testing.T) {
	w := newWorld(t)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := fmt.Sprintf("c%d@acme.test", i)
			for _, c := range []call{
				post("/v1/b2b/magic_links/email/login_or_signup", map[string]any{"organization_id": w.orgA.ID, "email_address": email}),
				post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": w.userSes.Token}),
				post("/v1/b2b/organizations/members/search", map[string]any{"organization_ids": []string{w.orgA.ID}}),
				get("/v1/b2b/sessions/jwks/" + w.h.emu.ProjectID()),
			} {
				r, err := w.h.try(c)
				if err == nil && r.status != 200 {
					err = fmt.Errorf("%s: %d %s", c.path, r.status, r.raw)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Len(t, w.h.emu.Outbox(), 10)
}
