package stytchemu_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

const testHookSecret = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0zMi1ieXRlcy0xMjM0NTY3OA=="

// The emulator signs its events with the endpoint's secret (Svix's scheme, checked here with the
// Svix library) and retries while the endpoint fails.
func TestWebhooksSignedAndRetried(t *testing.T) {
	verifier, err := svix.NewWebhook(testHookSecret)
	require.NoError(t, err)
	var (
		mu       sync.Mutex
		attempts int
		ids      []string
		events   []map[string]any
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts <= 2 { // the first two attempts fail
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if verifier.Verify(body, r.Header) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev map[string]any
		_ = json.Unmarshal(body, &ev)
		events = append(events, ev)
		ids = append(ids, r.Header.Get("svix-id"))
	}))
	t.Cleanup(recv.Close)
	emu, err := stytchemu.Start(stytchemu.WithSigningKey(testKey))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, emu.Close()) })

	control := func(method string, body any) int {
		var rd io.Reader = http.NoBody
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(t.Context(), method, emu.URL+"/emulator/webhooks", rd)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusBadRequest, control(http.MethodPost, map[string]string{"url": recv.URL, "secret": "not-base64!"}))
	assert.Equal(t, http.StatusBadRequest, control(http.MethodPost, map[string]string{"url": "ftp://x", "secret": testHookSecret}))
	require.Equal(t, http.StatusOK, control(http.MethodPost, map[string]string{"url": recv.URL, "secret": testHookSecret}))
	assert.Equal(t, []string{recv.URL}, emu.WebhookEndpoints())

	org, err := emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Acme", Slug: "acme"})
	require.NoError(t, err)
	m, err := emu.CreateMember(org.ID, stytchemu.MemberParams{Email: "gone@acme.test"})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodDelete, emu.URL+"/v1/b2b/organizations/"+org.ID+"/members/"+m.ID, http.NoBody)
	require.NoError(t, err)
	req.SetBasicAuth(emu.ProjectID(), emu.Secret())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.Eventually(t, func() bool { return len(emu.WebhookDeliveries()) == 1 }, 10*time.Second, 10*time.Millisecond)
	d := emu.WebhookDeliveries()[0]
	assert.True(t, d.Delivered)
	assert.Equal(t, 3, d.Attempts, "two failures, then delivered")
	assert.Equal(t, "direct.member.delete", d.Type)
	mu.Lock()
	require.Len(t, events, 1)
	assert.Equal(t, d.EventID, ids[0])
	ev := events[0]
	mu.Unlock()
	assert.Equal(t, "member", ev["object_type"])
	assert.Equal(t, "DELETE", ev["action"])
	assert.Equal(t, "DIRECT", ev["source"])
	assert.Equal(t, m.ID, ev["id"])
	assert.Equal(t, emu.ProjectID(), ev["project_id"])

	// A failed request sends nothing; a cleared list sends nothing.
	resp, err = http.DefaultClient.Do(req.Clone(t.Context()))
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.NotEqual(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, http.StatusNoContent, control(http.MethodDelete, nil))
	assert.Empty(t, emu.WebhookEndpoints())
	_, err = emu.CreateM2MClient("svc", []string{"read:users"})
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, emu.WebhookDeliveries(), 1)
}
