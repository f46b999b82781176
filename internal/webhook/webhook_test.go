package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/authsvc/authsvc/internal/config/setting"
	"github.com/authsvc/authsvc/internal/webhook"
)

const secret = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0zMi1ieXRlcy0xMjM0NTY3OA=="

type revs struct {
	mu      sync.Mutex
	members []string
	sess    []string
}

func (r *revs) Revoke(_ context.Context, id string, _ time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sess = append(r.sess, id)
}

func (r *revs) RevokeMember(_ context.Context, id string, _, _ time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.members = append(r.members, id)
}

func send(t *testing.T, h http.Handler, msgID, body string) int {
	t.Helper()
	wh, err := svix.NewWebhook(secret)
	require.NoError(t, err)
	now := time.Now()
	sig, err := wh.Sign(msgID, now, []byte(body))
	require.NoError(t, err)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, webhook.Path, strings.NewReader(body))
	req.Header.Set("svix-id", msgID)
	req.Header.Set("svix-timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("svix-signature", sig)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// The events authsvc acts on, by type, and the IDs it takes from each.
func TestEventsApplied(t *testing.T) {
	r := &revs{}
	h, err := webhook.New(webhook.Config{Secret: secret, Revocations: r})
	require.NoError(t, err)
	for i, body := range []string{
		`{"source":"DIRECT","object_type":"member","action":"DELETE","id":"member-1"}`,
		`{"source":"SCIM","object_type":"member","action":"UPDATE","id":"member-2","member":{"member_id":"member-2","status":"deleted"}}`,
		`{"source":"DASHBOARD","object_type":"member","action":"UPDATE","id":"member-3","member":{"member_id":"member-3","status":"active"}}`,
		`{"source":"DIRECT","object_type":"user","action":"DELETE","id":"user-1"}`,
		`{"source":"DIRECT","object_type":"session","action":"DELETE","id":"x","session":{"member_session_id":"member-session-1"}}`,
		`{"source":"DIRECT","object_type":"m2m_client","action":"DELETE","id":"m2m-client-1"}`,
		`{"source":"DIRECT","object_type":"organization","action":"DELETE","id":"organization-1"}`,
	} {
		require.Equal(t, http.StatusOK, send(t, h, fmt.Sprintf("msg_%d", i), body), body)
	}
	assert.Equal(t, []string{"member-1", "member-2", "user-1", "m2m-client-1"}, r.members)
	assert.Equal(t, []string{"member-session-1"}, r.sess)
	assert.Equal(t, http.StatusBadRequest, send(t, h, "msg_bad", `not json`))
}

// A Redis that cannot answer does not drop the event: it is applied, and the replica's own memory
// still refuses the duplicate.
func TestRedisDownStillApplies(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	r := &revs{}
	h, err := webhook.New(webhook.Config{Secret: secret, Revocations: r, Redis: rdb})
	require.NoError(t, err)
	body := `{"source":"DIRECT","object_type":"member","action":"DELETE","id":"member-1"}`
	require.Equal(t, http.StatusOK, send(t, h, "msg_1", body))
	require.Equal(t, http.StatusOK, send(t, h, "msg_1", body))
	assert.Equal(t, []string{"member-1"}, r.members)
}

// The secret never shows: not in -help, not in a printed Conf, not in an error.
func TestConfHidesSecret(t *testing.T) {
	var c webhook.Conf
	env := map[string]string{webhook.EnvSecret: secret}
	require.NoError(t, setting.FromEnv(&c, func(k string) string { return env[k] }))
	assert.Equal(t, secret, c.Secret)
	assert.NotContains(t, fmt.Sprint(c), "dGVzd")
	assert.NotContains(t, fmt.Sprintf("%+v", c), "dGVzd")
	assert.Equal(t, "<hidden>", c.Vars()[0].Redact(secret))

	env[webhook.EnvSecret] = "whsec_not base64 s3cr3t"
	err := setting.FromEnv(&c, func(k string) string { return env[k] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), webhook.EnvSecret)
	assert.NotContains(t, err.Error(), "s3cr3t")

	file := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(file, []byte(secret+"\n"), 0o600))
	env = map[string]string{webhook.EnvSecretFile: file}
	require.NoError(t, setting.FromEnv(&c, func(k string) string { return env[k] }))
	assert.Equal(t, secret, c.Secret)

	_, err = webhook.New(webhook.Config{Secret: "", Revocations: &revs{}})
	require.Error(t, err)
}
