package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/redistest"
)

// With AUTHSVC_REDIS_URL set and Redis down, /readyz says so. It answers 503 only when the policy
// declares code checks closed without Redis; with the default policy it stays 200 (degraded), since
// a shared Redis outage would otherwise take every replica out at once.
func TestReadinessReportsRedis(t *testing.T) {
	for _, tc := range []struct {
		name       string
		failChecks string
		wantDown   int
	}{
		{"default policy", "", http.StatusOK},
		{"checks open", "open", http.StatusOK},
		{"checks closed", "closed", http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rds := redistest.Start(t)
			vars := map[string]string{"AUTHSVC_REDIS_URL": rds.URL()}
			if tc.failChecks != "" {
				vars["AUTHSVC_REDIS_FAIL_CHECKS"] = tc.failChecks
			}
			env := apptest.Start(t, apptest.WithEnv(vars))

			r := env.REST(t, http.MethodGet, "/readyz", nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			assert.Equal(t, "ok\n", string(r.Body), "Redis up: nothing to report")

			rds.Stop(t)
			r = env.REST(t, http.MethodGet, "/readyz", nil)
			t.Logf("/readyz with Redis down: %d %s", r.Status, r.Body)
			assert.Equal(t, tc.wantDown, r.Status, "%s", r.Body)
			assert.Contains(t, string(r.Body), "redis unreachable")
			if tc.wantDown == http.StatusOK {
				assert.True(t, strings.HasPrefix(string(r.Body), "ok, degraded: "), "%s", r.Body)
			} else {
				assert.Contains(t, string(r.Body), "AUTHSVC_REDIS_FAIL_CHECKS=closed")
			}

			// Liveness never depends on Redis: restarting the pod would not bring Redis back.
			r = env.REST(t, http.MethodGet, "/healthz", nil)
			assert.Equal(t, http.StatusOK, r.Status)
		})
	}
}

// Without Redis configured there is nothing about it in readiness.
func TestReadinessWithoutRedis(t *testing.T) {
	env := apptest.Start(t)
	r := env.REST(t, http.MethodGet, "/readyz", nil)
	assert.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "ok\n", string(r.Body))
}
