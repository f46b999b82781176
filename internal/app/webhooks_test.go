package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	svix "github.com/svix/svix-webhooks/go"
	"go.opentelemetry.io/otel/attribute"

	"github.com/authsvc/authsvc/internal/app"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
	"github.com/authsvc/authsvc/internal/webhook"
)

// testWebhookSecret is a Svix signing secret made for the tests (32 bytes of base64).
const testWebhookSecret = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0zMi1ieXRlcy0xMjM0NTY3OA=="

// jwtAccepted asks a replica to authenticate a member session JWT (locally verified).
func jwtAccepted(t *testing.T, env *apptest.Env, jwt string) bool {
	t.Helper()
	r := env.REST(t, http.MethodPost, "/v1/b2b/sessions/authenticate", map[string]any{"session_jwt": jwt})
	return r.Status == http.StatusOK
}

// postWebhook sends a webhook to a replica, signed with secret at ts under msgID.
func postWebhook(t *testing.T, env *apptest.Env, secret, msgID string, ts time.Time, body []byte) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, env.BaseURL+webhook.Path, bytes.NewReader(body))
	require.NoError(t, err)
	if secret != "" {
		wh, err := svix.NewWebhook(secret)
		require.NoError(t, err)
		sig, err := wh.Sign(msgID, ts, body)
		require.NoError(t, err)
		req.Header.Set("svix-id", msgID)
		req.Header.Set("svix-timestamp", fmt.Sprint(ts.Unix()))
		req.Header.Set("svix-signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func webhookOutcomes(t *testing.T, env *apptest.Env, outcome string) int64 {
	t.Helper()
	return testkit.CounterSum(t, env.Metrics, webhook.MetricRequests, attribute.String("outcome", outcome))
}

// The test: two replicas share a real Redis; a member is deleted directly at the emulator
// (not through authsvc); the emulator's signed webhook reaches replica A, whose revocation reaches
// replica B through Redis; both then refuse the member's session JWT. The delay from the deletion
// to the refusal on each replica is printed.
func TestWebhookMemberDeletedAtStytchRevokesOnBothReplicas(t *testing.T) {
	rds := redistest.Start(t)
	emu, consumer := apptest.DevEmulator(t)
	vars := map[string]string{"AUTHSVC_REDIS_URL": rds.URL(), webhook.EnvSecret: testWebhookSecret}
	a := apptest.Start(t, apptest.WithEnv(vars), apptest.WithEmulator(emu), apptest.WithConsumerProject(consumer))
	b := apptest.Start(t, apptest.WithEnv(vars), apptest.WithEmulator(emu), apptest.WithConsumerProject(consumer))
	require.NoError(t, a.App.WaitRevocations(t.Context()))
	require.NoError(t, b.App.WaitRevocations(t.Context()))
	require.NoError(t, emu.AddWebhookEndpoint(a.BaseURL+webhook.Path, testWebhookSecret))

	s := testkit.MemberSession(t, emu, stytchemu.SandboxOrganizationID, stytchemu.MemberParams{Email: "wh-deleted@example.com"})
	require.True(t, jwtAccepted(t, a, s.JWT), "replica A accepts the live session's JWT")
	require.True(t, jwtAccepted(t, b, s.JWT), "replica B accepts the live session's JWT")

	// Delete the member at the emulator, as an admin would in Stytch's dashboard or another service.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodDelete,
		emu.URL+"/v1/b2b/organizations/"+stytchemu.SandboxOrganizationID+"/members/"+s.MemberID, http.NoBody)
	require.NoError(t, err)
	req.SetBasicAuth(emu.ProjectID(), emu.Secret())
	deleted := time.Now()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	refusedBy := func(env *apptest.Env, name string) {
		t.Helper()
		require.Eventually(t, func() bool { return !jwtAccepted(t, env, s.JWT) }, 10*time.Second, 5*time.Millisecond,
			"replica %s still accepts the deleted member's JWT", name)
		t.Logf("replica %s refuses the deleted member's JWT %v after the deletion at the emulator", name, time.Since(deleted))
	}
	refusedBy(a, "A (received the webhook)")
	refusedBy(b, "B (through Redis)")

	require.Eventually(t, func() bool { return len(emu.WebhookDeliveries()) == 1 }, 5*time.Second, 10*time.Millisecond)
	d := emu.WebhookDeliveries()[0]
	assert.True(t, d.Delivered)
	assert.Equal(t, "direct.member.delete", d.Type)
	assert.Equal(t, int64(1), webhookOutcomes(t, a, webhook.OutcomeApplied))
	assert.Contains(t, a.Logs(), `"event_type":"direct.member.delete"`)
	assert.NotContains(t, a.Logs(), "wh-deleted@example.com", "the audit line carries no email address")

	// The same message delivered again, to the other replica, is handled once: Redis remembers it.
	body := []byte(`{"project_id":"p","event_id":"e","source":"DIRECT","object_type":"session","action":"DELETE","id":"member-session-x"}`)
	require.Equal(t, http.StatusOK, postWebhook(t, a, testWebhookSecret, "msg_shared", time.Now(), body))
	require.Equal(t, http.StatusOK, postWebhook(t, b, testWebhookSecret, "msg_shared", time.Now(), body))
	assert.Equal(t, int64(2), webhookOutcomes(t, a, webhook.OutcomeApplied))
	assert.Equal(t, int64(1), webhookOutcomes(t, b, webhook.OutcomeDuplicate))
	assert.Equal(t, int64(0), webhookOutcomes(t, b, webhook.OutcomeApplied))
}

// What the route refuses, and what it accepts and ignores, on one replica without Redis.
func TestWebhookRefusals(t *testing.T) {
	env := apptest.Start(t, apptest.WithEnv(map[string]string{webhook.EnvSecret: testWebhookSecret}))
	s := testkit.MemberSession(t, env.Emu, stytchemu.SandboxOrganizationID, stytchemu.MemberParams{Email: "wh-refusals@example.com"})
	require.True(t, jwtAccepted(t, env, s.JWT))
	revokeSession := []byte(`{"project_id":"p","event_id":"e1","source":"DIRECT","object_type":"session","action":"DELETE","id":"` +
		s.ID + `","session":{"member_session_id":"` + s.ID + `"}}`)

	t.Run("unsigned", func(t *testing.T) {
		assert.Equal(t, http.StatusUnauthorized, postWebhook(t, env, "", "", time.Now(), revokeSession))
		assert.Equal(t, int64(1), webhookOutcomes(t, env, webhook.OutcomeUnsigned))
	})
	t.Run("bad signature", func(t *testing.T) {
		other := "whsec_b3RoZXItc2VjcmV0LW9mLXRoaXJ0eS10d28tYnl0ZXMtISEhIQ=="
		assert.Equal(t, http.StatusUnauthorized, postWebhook(t, env, other, "msg_bad", time.Now(), revokeSession))
		assert.Equal(t, int64(1), webhookOutcomes(t, env, webhook.OutcomeBadSig))
	})
	t.Run("replayed old timestamp", func(t *testing.T) {
		old := time.Now().Add(-webhook.Tolerance - time.Minute)
		assert.Equal(t, http.StatusUnauthorized, postWebhook(t, env, testWebhookSecret, "msg_old", old, revokeSession))
		assert.Equal(t, int64(1), webhookOutcomes(t, env, webhook.OutcomeStale))
	})
	t.Run("oversize body", func(t *testing.T) {
		big := []byte(`{"pad":"` + strings.Repeat("x", webhook.MaxBody) + `"}`)
		assert.Equal(t, http.StatusRequestEntityTooLarge, postWebhook(t, env, testWebhookSecret, "msg_big", time.Now(), big))
		assert.Equal(t, int64(1), webhookOutcomes(t, env, webhook.OutcomeTooLarge))
	})
	// None of the refused requests revoked anything.
	require.True(t, jwtAccepted(t, env, s.JWT), "a refused webhook must not revoke the session")

	t.Run("unknown event type", func(t *testing.T) {
		body := []byte(`{"project_id":"p","event_id":"e2","source":"DIRECT","object_type":"organization","action":"CREATE","id":"organization-x"}`)
		assert.Equal(t, http.StatusOK, postWebhook(t, env, testWebhookSecret, "msg_org", time.Now(), body))
		assert.Equal(t, int64(1), webhookOutcomes(t, env, webhook.OutcomeIgnored))
		assert.True(t, jwtAccepted(t, env, s.JWT))
	})
	t.Run("session revoked outside authsvc, then the duplicate", func(t *testing.T) {
		assert.Equal(t, http.StatusOK, postWebhook(t, env, testWebhookSecret, "msg_rev", time.Now(), revokeSession))
		assert.False(t, jwtAccepted(t, env, s.JWT), "the session revoked at Stytch is refused")
		assert.Equal(t, http.StatusOK, postWebhook(t, env, testWebhookSecret, "msg_rev", time.Now(), revokeSession))
		assert.Equal(t, int64(1), webhookOutcomes(t, env, webhook.OutcomeApplied), "applied once")
		assert.Equal(t, int64(1), webhookOutcomes(t, env, webhook.OutcomeDuplicate))
	})
}

// In dev mode the emulator authsvc starts itself is pointed at authsvc's own webhook route.
func TestDevModeEmulatorSendsWebhooksToAuthsvc(t *testing.T) {
	cfg, err := config.Load(nil, func(k string) string {
		return map[string]string{"AUTHSVC_ALLOWED_REDIRECT_URLS": apptest.DefaultRedirectURL}[k]
	}, io.Discard)
	require.NoError(t, err)
	apptest.EphemeralPorts(cfg)
	logs := &testkit.LogBuffer{}
	a, err := app.New(t.Context(), cfg, app.Options{Version: "test", LogOutput: logs})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	m := regexp.MustCompile(`"emulator_url":"(http://[^"]+)"`).FindStringSubmatch(logs.String())
	require.NotNil(t, m, "dev mode logs the emulator's URL")
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, m[1]+"/emulator/webhooks", http.NoBody)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	var got struct {
		Endpoints []struct {
			URL    string `json:"url"`
			Secret string `json:"secret"`
		} `json:"endpoints"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	require.Len(t, got.Endpoints, 1)
	assert.Equal(t, "http://"+a.HTTPAddr()+webhook.Path, got.Endpoints[0].URL)
	assert.Empty(t, got.Endpoints[0].Secret, "the control route never shows a secret")
	assert.NotContains(t, logs.String(), "whsec_", "the made-up secret is never logged")
}
