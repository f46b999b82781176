package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/client"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestWalkthrough runs the service against authsvc in process and follows the README's steps.
func TestWalkthrough(t *testing.T) {
	env := apptest.Start(t)
	svc, err := env.Emu.CreateM2MClient("orders-service", []string{"read:members"})
	require.NoError(t, err)
	reporting, err := env.Emu.CreateM2MClient("reporting", []string{"read:orders"})
	require.NoError(t, err)
	bob, err := env.Emu.CreateMember(stytchemu.SandboxOrganizationID, stytchemu.MemberParams{Email: "bob@example.com", Name: "Bob"})
	require.NoError(t, err)
	admin, err := env.Emu.CreateSession(stytchemu.SandboxOrganizationID, stytchemu.SandboxMemberID, time.Hour)
	require.NoError(t, err)
	bobSession, err := env.Emu.CreateSession(stytchemu.SandboxOrganizationID, bob.ID, time.Hour)
	require.NoError(t, err)

	vars := map[string]string{
		"AUTHSVC_TARGET":    env.App.GRPCAddr(),
		"AUTHSVC_INSECURE":  "true",
		"M2M_CLIENT_ID":     svc.ClientID,
		"M2M_CLIENT_SECRET": svc.ClientSecret,
		"LISTEN_ADDR":       "127.0.0.1:0",
	}
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, func(k string) string { return vars[k] }, slog.New(slog.DiscardHandler), ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	reportingToken := func() string {
		c, err := client.New(t.Context(), env.App.GRPCAddr(), client.WithInsecure(), client.WithM2MCredentials(reporting.ClientID, reporting.ClientSecret))
		require.NoError(t, err)
		defer func() { require.NoError(t, c.Close()) }()
		tok, err := c.AccessToken(t.Context())
		require.NoError(t, err)
		return tok
	}()

	do := func(method, path, token, body string) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequestWithContext(t.Context(), method, "http://"+addr+path, rd)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		if len(b) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			require.NoError(t, json.Unmarshal(b, &out), "%s", b)
		}
		return resp.StatusCode, out
	}

	steps := []struct {
		name, method, path, token, body string
		want                            int
		check                           func(t *testing.T, body map[string]any)
	}{
		{"no credentials", "GET", "/orders", "", "", http.StatusUnauthorized, nil},
		{"whoami as a member", "GET", "/whoami", admin.JWT, "", http.StatusOK, func(t *testing.T, b map[string]any) {
			assert.Equal(t, "member", b["kind"])
			assert.Equal(t, stytchemu.SandboxMemberID, b["member_id"])
		}},
		{"create an order", "POST", "/orders", bobSession.JWT, `{"item":"coffee"}`, http.StatusCreated, nil},
		{"list as a member", "GET", "/orders", bobSession.JWT, "", http.StatusOK, func(t *testing.T, b map[string]any) {
			assert.Len(t, b["orders"], 1)
		}},
		{"list as a service with read:orders", "GET", "/orders", reportingToken, "", http.StatusOK, nil},
		{"a service may not create", "POST", "/orders", reportingToken, `{"item":"tea"}`, http.StatusForbidden, nil},
		{"a non-admin may not delete", "DELETE", "/orders/1", bobSession.JWT, "", http.StatusForbidden, nil},
		{"an admin may delete", "DELETE", "/orders/1", admin.JWT, "", http.StatusNoContent, nil},
		{"me: the member record, fetched with the service's M2M token", "GET", "/me", bobSession.JWT, "", http.StatusOK, func(t *testing.T, b map[string]any) {
			assert.Equal(t, "Bob", b["name"])
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, body := do(s.method, s.path, s.token, s.body)
			require.Equal(t, s.want, code, "%v", body)
			if s.check != nil {
				s.check(t, body)
			}
		})
	}
}
