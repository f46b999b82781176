package stytchclient_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

const htmlBadGateway = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"

func newOrg(t *testing.T, c *sc.Client) sc.Organization {
	t.Helper()
	res, err := c.OrganizationCreate(t.Context(), sc.OrganizationCreateParams{OrganizationName: "Faulty", OrganizationSlug: uniqueSlug(t, "org")})
	require.NoError(t, err)
	return res.Organization
}

func TestNonJSONErrorKeepsStatusAndHeaderRequestID(t *testing.T) {
	emu := testkit.Emulator(t, stytchemu.WithStartTime(testStart))
	base := headerProxy(t, emu, map[string]string{"X-Request-Id": "edge-req-42"})

	tests := []struct {
		name     string
		pattern  string
		call     func(ctx context.Context, c *sc.Client) error
		attempts int // upstream requests expected
	}{
		{
			name:    "POST send is answered once",
			pattern: "POST /v1/b2b/magic_links/email/login_or_signup",
			call: func(ctx context.Context, c *sc.Client) error {
				_, err := c.MagicLinkLoginOrSignup(ctx, sc.MagicLinkLoginOrSignupParams{OrganizationID: "o", EmailAddress: "x@example.com"})
				return err
			},
			attempts: 1,
		},
		{
			name:    "GET is retried up to the attempt budget",
			pattern: "GET /v1/b2b/organizations/{organization_id}",
			call: func(ctx context.Context, c *sc.Client) error {
				_, err := c.OrganizationGet(ctx, "org-1")
				return err
			},
			attempts: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarnessFor(t, emu, base)
			emu.ClearFaults()
			emu.ResetRequests()
			_, err := emu.AddFault(stytchemu.Fault{Pattern: tt.pattern, Status: http.StatusBadGateway, Body: htmlBadGateway})
			require.NoError(t, err)

			err = tt.call(t.Context(), h.client)
			require.Error(t, err)
			e, ok := sc.AsError(err)
			require.True(t, ok, "want *Error, got %T", err)
			assert.Equal(t, http.StatusBadGateway, e.StatusCode)
			assert.Equal(t, "edge-req-42", e.RequestID)
			assert.Empty(t, e.ErrorType)
			assert.True(t, sc.IsUnavailable(err))
			assert.NotContains(t, err.Error(), "<html>")
			assert.Equal(t, tt.attempts, emu.Requests(tt.pattern))
		})
	}
}

func TestEmptyishBodyKeepsStatus(t *testing.T) {
	h := newHarness(t, func(c *sc.Config) { c.Retry.MaxAttempts = 1 })
	_, err := h.emu.AddFault(stytchemu.Fault{Pattern: "GET /v1/m2m/clients/{client_id}", Status: http.StatusServiceUnavailable, Body: " ", ContentType: "text/plain"})
	require.NoError(t, err)
	_, err = h.client.M2MClientGet(t.Context(), "c")
	e, ok := sc.AsError(err)
	require.True(t, ok)
	assert.Equal(t, http.StatusServiceUnavailable, e.StatusCode)
	assert.Empty(t, e.RequestID, "no body request_id and no header: empty, not invented")
}

func TestGETRetriedAfterConnectionReset(t *testing.T) {
	const pattern = "GET /v1/b2b/organizations/{organization_id}"
	tests := []struct {
		name      string
		keepAlive bool
	}{
		// On a reused connection net/http itself replays an idempotent GET
		// that died before its response; either way the caller succeeds.
		{name: "pooled connection", keepAlive: true},
		// On a fresh connection only this client's retry can recover.
		{name: "fresh connection", keepAlive: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *sc.Config) {
				c.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: !tt.keepAlive}}
			})
			org := newOrg(t, h.client)
			_, err := h.emu.AddFault(stytchemu.Fault{Pattern: pattern, Reset: true, Times: 1})
			require.NoError(t, err)

			res, err := h.client.OrganizationGet(t.Context(), org.OrganizationID)
			require.NoError(t, err)
			assert.Equal(t, org.OrganizationID, res.Organization.OrganizationID)
			assert.Equal(t, 2, h.emu.Requests(pattern))

			if !tt.keepAlive {
				// The failed attempt and the retry are separate spans; the
				// retry says it is one.
				spans := h.spanNamed(pattern)
				require.Len(t, spans, 2)
				resend, ok := attrValue(spans[1], "http.request.resend_count")
				require.True(t, ok)
				assert.Equal(t, "1", resend)
			}
		})
	}
}

func TestWritesAreNeverRetriedOnceWritten(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		fault   stytchemu.Fault
		call    func(ctx context.Context, c *sc.Client, orgID string) error
	}{
		{
			name: "send after reset", pattern: "POST /v1/b2b/magic_links/email/login_or_signup",
			fault: stytchemu.Fault{Reset: true},
			call: func(ctx context.Context, c *sc.Client, orgID string) error {
				_, err := c.MagicLinkLoginOrSignup(ctx, sc.MagicLinkLoginOrSignupParams{OrganizationID: orgID, EmailAddress: "a@example.com"})
				return err
			},
		},
		{
			name: "send after 503", pattern: "POST /v1/b2b/otps/email/login_or_signup",
			fault: stytchemu.Fault{Status: http.StatusServiceUnavailable},
			call: func(ctx context.Context, c *sc.Client, orgID string) error {
				_, err := c.OTPEmailLoginOrSignup(ctx, sc.OTPEmailLoginOrSignupParams{OrganizationID: orgID, EmailAddress: "a@example.com"})
				return err
			},
		},
		{
			name: "authenticate after reset", pattern: "POST /v1/b2b/sessions/authenticate",
			fault: stytchemu.Fault{Reset: true},
			call: func(ctx context.Context, c *sc.Client, _ string) error {
				_, err := c.SessionsAuthenticate(ctx, sc.SessionsAuthenticateParams{SessionToken: "t"})
				return err
			},
		},
		{
			name: "create after 502", pattern: "POST /v1/b2b/organizations/{organization_id}/members",
			fault: stytchemu.Fault{Status: http.StatusBadGateway},
			call: func(ctx context.Context, c *sc.Client, orgID string) error {
				_, err := c.MemberCreate(ctx, sc.MemberCreateParams{OrganizationID: orgID, EmailAddress: "a@example.com"})
				return err
			},
		},
		{
			name: "delete after reset", pattern: "DELETE /v1/m2m/clients/{client_id}",
			fault: stytchemu.Fault{Reset: true},
			call: func(ctx context.Context, c *sc.Client, _ string) error {
				_, err := c.M2MClientDelete(ctx, "c")
				return err
			},
		},
		{
			name: "token issuance after reset", pattern: "POST /v1/public/{project_id}/oauth2/token",
			fault: stytchemu.Fault{Reset: true},
			call: func(ctx context.Context, c *sc.Client, _ string) error {
				_, err := c.M2MTokenRaw(ctx, sc.M2MTokenParams{ClientID: "c", ClientSecret: "s"})
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			org := newOrg(t, h.client)
			f := tt.fault
			f.Pattern = tt.pattern
			_, err := h.emu.AddFault(f)
			require.NoError(t, err)

			err = tt.call(t.Context(), h.client, org.OrganizationID)
			require.Error(t, err)
			assert.True(t, sc.IsUnavailable(err), "got %v", err)
			assert.Equal(t, 1, h.emu.Requests(tt.pattern))
		})
	}
}

func TestRateLimitReachesCallerWithRetryAfter(t *testing.T) {
	emu := testkit.Emulator(t, stytchemu.WithStartTime(testStart))
	h := newHarnessFor(t, emu, headerProxy(t, emu, map[string]string{"Retry-After": "7"}))

	const pattern = "GET /v1/b2b/organizations/{organization_id}"
	_, err := emu.AddFault(stytchemu.Fault{Pattern: pattern, Status: http.StatusTooManyRequests})
	require.NoError(t, err)

	_, err = h.client.OrganizationGet(t.Context(), "org-1")
	require.Error(t, err)
	assert.True(t, sc.IsRateLimited(err))
	assert.False(t, sc.IsUnavailable(err))
	e, _ := sc.AsError(err)
	assert.Equal(t, "too_many_requests", e.ErrorType)
	assert.Equal(t, 7*time.Second, e.RetryAfter)
	assert.Equal(t, 1, emu.Requests(pattern), "a 429 must not be retried, even on a GET")
}

func TestTimeouts(t *testing.T) {
	t.Run("client timeout is unavailable", func(t *testing.T) {
		h := newHarness(t, func(c *sc.Config) {
			c.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond, Transport: &http.Transport{}}
			c.Retry.MaxAttempts = 1
		})
		// Latency faults are put on bodiless GETs only: the emulator applies
		// them before reading a request body, and net/http cannot notice a
		// client hang-up (or Server.Close) while a body is unread, so a
		// POST's handler would outlive the test (see report).
		_, err := h.emu.AddFault(stytchemu.Fault{Pattern: "*", Latency: time.Minute})
		require.NoError(t, err)

		_, err = h.client.M2MClientGet(t.Context(), "c")
		require.Error(t, err)
		assert.True(t, sc.IsUnavailable(err))
		assert.True(t, sc.IsTimeout(err))
		var te *sc.TransportError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "GET /v1/m2m/clients/{client_id}", te.Endpoint)
	})

	t.Run("caller deadline is the caller's, not Stytch being down", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.emu.AddFault(stytchemu.Fault{Pattern: "*", Latency: time.Minute})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()

		_, err = h.client.OrganizationGet(ctx, "org-1")
		require.Error(t, err)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.False(t, sc.IsUnavailable(err))
		// At most one: under load the deadline may even pass before the
		// request arrives, but it is never sent again.
		assert.LessOrEqual(t, h.emu.Requests("*"), 1, "a context error is never retried")
	})

	t.Run("GET timeout is retried and the retry succeeds", func(t *testing.T) {
		// The timeout is generous so that the healthy retry fits in it on
		// a loaded machine; only the faulted first attempt waits it out.
		h := newHarness(t, func(c *sc.Config) {
			c.HTTPClient = &http.Client{Timeout: time.Second, Transport: &http.Transport{}}
		})
		org := newOrg(t, h.client)
		const pattern = "GET /v1/b2b/organizations/{organization_id}"
		_, err := h.emu.AddFault(stytchemu.Fault{Pattern: pattern, Latency: time.Minute, Times: 1})
		require.NoError(t, err)

		res, err := h.client.OrganizationGet(t.Context(), org.OrganizationID)
		require.NoError(t, err)
		assert.Equal(t, org.OrganizationID, res.Organization.OrganizationID)
		assert.Equal(t, 2, h.emu.Requests(pattern))
	})
}

func TestConnectionRefusedIsRetriedEvenForPOST(t *testing.T) {
	// Nothing listens here: the request is never written, so even a send
	// may be tried again; all attempts fail and the error says unavailable.
	emu, err := stytchemu.Start()
	require.NoError(t, err)
	url := emu.URL
	require.NoError(t, emu.Close())

	h := newHarnessFor(t, emu, url)
	_, err = h.client.MagicLinkLoginOrSignup(t.Context(), sc.MagicLinkLoginOrSignupParams{OrganizationID: "o", EmailAddress: "a@example.com"})
	require.Error(t, err)
	var te *sc.TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 3, te.Attempts)
	require.ErrorIs(t, err, sc.ErrUnavailable)
	assert.Len(t, h.spanNamed("POST /v1/b2b/magic_links/email/login_or_signup"), 3)
}

func TestResponseBodyCap(t *testing.T) {
	h := newHarness(t, func(c *sc.Config) { c.MaxResponseBytes = 256 })
	org := newOrg2(t, h)

	t.Run("an oversized success body is an error, not a truncated decode", func(t *testing.T) {
		_, err := h.client.OrganizationGet(t.Context(), org)
		require.ErrorContains(t, err, "exceeds 256 bytes")
	})
	t.Run("an error body is cut at the cap and keeps its status", func(t *testing.T) {
		_, err := h.emu.AddFault(stytchemu.Fault{Pattern: "GET /v1/m2m/clients/{client_id}", Status: http.StatusBadGateway, Body: strings.Repeat("x", 10_000), Times: 3})
		require.NoError(t, err)
		_, err = h.client.M2MClientGet(t.Context(), "c")
		e, ok := sc.AsError(err)
		require.True(t, ok)
		assert.Equal(t, http.StatusBadGateway, e.StatusCode)
	})
}

// newOrg2 creates an organization with a client whose body cap is too small
// to read the answer, so it goes through a second, uncapped client.
func newOrg2(t *testing.T, h *harness) string {
	t.Helper()
	full := newHarnessFor(t, h.emu, h.emu.URL)
	return newOrg(t, full.client).OrganizationID
}
