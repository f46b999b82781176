package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCurlWalkthrough runs the walkthrough of the package comment over HTTP
// against the real binary entry point: login_or_signup, outbox, authenticate,
// session token and JWT, session check.
func TestCurlWalkthrough(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *stytchemu.Server, 1)
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, []string{"-addr", "127.0.0.1:0", "-project-id", "project-test-cli", "-secret", "secret-test-cli"}, &out, io.Discard, ready)
	}()
	srv := <-ready
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	banner := out.String()
	assert.Contains(t, banner, "base URL:   "+srv.URL)
	assert.Contains(t, banner, "project ID: project-test-cli")
	assert.Contains(t, banner, "secret:     secret-test-cli")

	do := func(method, path, body string, auth bool) map[string]any {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if auth {
			req.SetBasicAuth("project-test-cli", "secret-test-cli")
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
		require.Equal(t, http.StatusOK, res.StatusCode, "%s %s: %v", method, path, m)
		return m
	}
	do(http.MethodPost, "/v1/b2b/magic_links/email/login_or_signup",
		`{"organization_id":"`+stytchemu.SandboxOrganizationID+`","email_address":"ada@example.com"}`, true)
	box := do(http.MethodGet, "/emulator/outbox?to="+url.QueryEscape("ada@example.com"), "", false)
	msgs := box["messages"].([]any)
	require.Len(t, msgs, 1)
	token := msgs[0].(map[string]any)["token"].(string)
	auth := do(http.MethodPost, "/v1/b2b/magic_links/authenticate", `{"magic_links_token":"`+token+`","session_duration_minutes":60}`, true)
	assert.Equal(t, true, auth["member_authenticated"])
	sessionToken, _ := auth["session_token"].(string)
	require.NotEmpty(t, sessionToken)
	require.NotEmpty(t, auth["session_jwt"])
	check := do(http.MethodPost, "/v1/b2b/sessions/authenticate", `{"session_token":"`+sessionToken+`"}`, true)
	assert.Equal(t, "ada@example.com", check["member"].(map[string]any)["email_address"])
	jwks := do(http.MethodGet, "/v1/b2b/sessions/jwks/project-test-cli", "", false)
	assert.Len(t, jwks["keys"], 1)
}

// TestConsumerWalkthrough: the same binary serves a consumer project on the
// same address, reached with its own credentials.
func TestConsumerWalkthrough(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *stytchemu.Server, 1)
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, []string{
			"-addr", "127.0.0.1:0", "-project-id", "project-test-cli", "-secret", "secret-test-cli",
			"-consumer-project-id", "project-test-cli-consumer", "-consumer-secret", "secret-test-cli-consumer",
		}, &out, io.Discard, ready)
	}()
	srv := <-ready
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	assert.Contains(t, out.String(), "consumer project ID: project-test-cli-consumer")
	assert.Contains(t, out.String(), "consumer secret:     secret-test-cli-consumer")
	require.NotNil(t, srv.Project("project-test-cli-consumer"))
	assert.Contains(t, out.String(), "consumer public token (OAuth start URLs): "+srv.Project("project-test-cli-consumer").PublicToken())

	do := func(method, path, body string, auth bool) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if auth {
			req.SetBasicAuth("project-test-cli-consumer", "secret-test-cli-consumer")
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
		return res.StatusCode, m
	}
	st, _ := do(http.MethodPost, "/v1/magic_links/email/login_or_create", `{"email":"ada@example.com"}`, true)
	require.Equal(t, http.StatusOK, st)
	st, box := do(http.MethodGet, "/emulator/outbox?project_id=project-test-cli-consumer&to="+url.QueryEscape("ada@example.com"), "", false)
	require.Equal(t, http.StatusOK, st)
	msgs := box["messages"].([]any)
	require.Len(t, msgs, 1)
	token := msgs[0].(map[string]any)["token"].(string)
	st, auth := do(http.MethodPost, "/v1/magic_links/authenticate", `{"token":"`+token+`","session_duration_minutes":60}`, true)
	require.Equal(t, http.StatusOK, st, "%v", auth)
	require.NotEmpty(t, auth["session_jwt"])
	st, jwks := do(http.MethodGet, "/v1/sessions/jwks/project-test-cli-consumer", "", false)
	require.Equal(t, http.StatusOK, st)
	assert.Len(t, jwks["keys"], 1)
	// B2B routes refuse the consumer credentials.
	st, refused := do(http.MethodPost, "/v1/b2b/organizations/search", `{}`, true)
	assert.Equal(t, http.StatusBadRequest, st)
	assert.Equal(t, "invalid_b2b_endpoint", refused["error_type"])
}

// -consumer=false serves the B2B project alone.
func TestNoConsumer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *stytchemu.Server, 1)
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, []string{"-addr", "127.0.0.1:0", "-consumer=false", "-consumer-project-id", "project-test-unused"}, &out, io.Discard, ready)
	}()
	srv := <-ready
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	assert.Nil(t, srv.Project("project-test-unused"))
	assert.Equal(t, stytchemu.ProjectB2B, srv.ProjectType())
	assert.NotContains(t, out.String(), "consumer project ID")
}

// Two projects with one ID is a flag error.
func TestSameProjectIDs(t *testing.T) {
	err := serve(context.Background(), []string{"-addr", "127.0.0.1:0", "-project-id", "p", "-consumer-project-id", "p"}, io.Discard, io.Discard, nil)
	require.Error(t, err)
	assert.Equal(t, 2, exitCode(err, io.Discard))
}

func TestBadFlag(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"-addr", "127.0.0.1:0", "extra"}} {
		var stderr bytes.Buffer
		err := serve(context.Background(), args, io.Discard, io.Discard, nil)
		require.Error(t, err)
		assert.Equal(t, 2, exitCode(err, &stderr), "%v", args)
		assert.True(t, strings.HasPrefix(stderr.String(), "stytchemu: flags: "), stderr.String())
	}
}

// -help prints the usage and exits 0, as the binary does.
func TestHelpExitsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "stytchemu")
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, arg := range []string{"-help", "-h"} {
		cmd := exec.CommandContext(t.Context(), bin, arg)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), "%s must exit 0; stderr: %s", arg, stderr.String())
		assert.Contains(t, stderr.String(), "-addr")
		assert.Contains(t, stderr.String(), "-seed-sandbox")
		assert.Contains(t, stderr.String(), "-consumer-project-id")
		assert.NotContains(t, stderr.String(), "stytchemu: flags", "help is not an error")
		assert.Empty(t, stdout.String(), "no banner: nothing was started")
	}
}
