package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/config"
)

// Dev mode opted into non-loopback addresses logs one WARN line naming each exposed address and
// what it serves (the binary test cannot bind a non-loopback address, so the warning is checked here
// with the configuration cmd/authsvc loads).
func TestDevExposureWarns(t *testing.T) {
	env := map[string]string{"AUTHSVC_HTTP_ADDR": "0.0.0.0:8080", "AUTHSVC_ADMIN_ADDR": ":9091"}
	cfg, err := config.Load([]string{"-dev-listen-public"}, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	var buf bytes.Buffer
	warnDevExposure(slog.New(slog.NewJSONHandler(&buf, nil)), cfg)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1)
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
	assert.Equal(t, "WARN", rec["level"])
	msg, _ := rec["msg"].(string)
	assert.Contains(t, msg, "AUTHSVC_DEV_LISTEN_PUBLIC")
	assert.Contains(t, msg, "0.0.0.0:8080 (REST: login tokens and codes at GET /dev/outbox")
	assert.Contains(t, msg, "the dev console at /dev/")
	assert.Contains(t, msg, ":9091 (admin: /metrics and /debug/pprof)")
	assert.NotContains(t, msg, "gRPC", "the gRPC port stayed on loopback")
	assert.Equal(t, []any{"AUTHSVC_HTTP_ADDR=0.0.0.0:8080", "AUTHSVC_ADMIN_ADDR=:9091"}, rec["exposed"])
}

// Loopback dev mode and deployments with credentials log nothing.
func TestDevExposureQuietOtherwise(t *testing.T) {
	for _, env := range []map[string]string{
		nil,
		{"STYTCH_PROJECT_ID": "project-test-1", "STYTCH_SECRET": "s"},
	} {
		cfg, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard)
		require.NoError(t, err)
		var buf bytes.Buffer
		warnDevExposure(slog.New(slog.NewJSONHandler(&buf, nil)), cfg)
		assert.Empty(t, buf.String())
	}
}
