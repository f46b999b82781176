package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaultsIsDevMode(t *testing.T) {
	c, err := Load(nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.True(t, c.DevMode())
	assert.Equal(t, ":9090", c.GRPCAddr)
	assert.Equal(t, ":8080", c.HTTPAddr)
	assert.Equal(t, ":9091", c.AdminAddr)
	assert.Equal(t, EnvDevelopment, c.Env)
	assert.Equal(t, 20*time.Second, c.ShutdownGrace)
}

func TestFlagWinsOverEnvironment(t *testing.T) {
	c, err := Load([]string{"-grpc-addr", "127.0.0.1:7000"}, envOf(map[string]string{"AUTHSVC_GRPC_ADDR": "127.0.0.1:6000"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:7000", c.GRPCAddr)
}

func TestSecretFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(p, []byte("secret-abc\n"), 0o600))
	c, err := Load(nil, envOf(map[string]string{"STYTCH_PROJECT_ID": "project-test-1", "STYTCH_SECRET_FILE": p}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "secret-abc", c.StytchSecret)
	assert.False(t, c.DevMode())
}

func TestListsAreSplitAndTrimmed(t *testing.T) {
	c, err := Load(nil, envOf(map[string]string{
		"AUTHSVC_ALLOWED_REDIRECT_URLS": "https://app.example.com/auth , http://localhost:3000/auth",
		"AUTHSVC_CORS_ORIGINS":          "https://app.example.com",
	}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{"https://app.example.com/auth", "http://localhost:3000/auth"}, c.AllowedRedirectURLs)
	assert.Equal(t, []string{"https://app.example.com"}, c.CORSOrigins)
}

// Each bad setting must fail with an error that starts with the variable's name, so the one log line
// printed at startup tells the operator what to fix.
func TestBadSettingsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"production without credentials", map[string]string{"AUTHSVC_ENV": "production"}, "STYTCH_PROJECT_ID"},
		{"project without secret", map[string]string{"STYTCH_PROJECT_ID": "project-test-1"}, "STYTCH_SECRET"},
		{"secret without project", map[string]string{"STYTCH_SECRET": "s"}, "STYTCH_PROJECT_ID"},
		{"both secret sources", map[string]string{"STYTCH_PROJECT_ID": "p", "STYTCH_SECRET": "s", "STYTCH_SECRET_FILE": "/nonexistent"}, "STYTCH_SECRET_FILE"},
		{"unreadable secret file", map[string]string{"STYTCH_PROJECT_ID": "p", "STYTCH_SECRET_FILE": "/nonexistent/secret"}, "STYTCH_SECRET_FILE"},
		{"unknown env", map[string]string{"AUTHSVC_ENV": "staging"}, "AUTHSVC_ENV"},
		{"bad log level", map[string]string{"AUTHSVC_LOG_LEVEL": "loud"}, "AUTHSVC_LOG_LEVEL"},
		{"bad grace", map[string]string{"AUTHSVC_SHUTDOWN_GRACE": "soon"}, "AUTHSVC_SHUTDOWN_GRACE"},
		{"bad grpc addr", map[string]string{"AUTHSVC_GRPC_ADDR": "9090"}, "AUTHSVC_GRPC_ADDR"},
		{"bad http addr", map[string]string{"AUTHSVC_HTTP_ADDR": "localhost"}, "AUTHSVC_HTTP_ADDR"},
		{"bad admin addr", map[string]string{"AUTHSVC_ADMIN_ADDR": "x"}, "AUTHSVC_ADMIN_ADDR"},
		{"relative redirect", map[string]string{"AUTHSVC_ALLOWED_REDIRECT_URLS": "/auth"}, "AUTHSVC_ALLOWED_REDIRECT_URLS"},
		{"origin with path", map[string]string{"AUTHSVC_CORS_ORIGINS": "https://app.example.com/x"}, "AUTHSVC_CORS_ORIGINS"},
		{"bad redis", map[string]string{"AUTHSVC_REDIS_URL": "http://cache:6379"}, "AUTHSVC_REDIS_URL"},
		{"bad base url", map[string]string{"STYTCH_PROJECT_ID": "p", "STYTCH_SECRET": "s", "STYTCH_BASE_URL": "test.stytch.com"}, "STYTCH_BASE_URL"},
		{"insecure cookies in production", map[string]string{"STYTCH_PROJECT_ID": "p", "STYTCH_SECRET": "s", "AUTHSVC_ENV": "production", "AUTHSVC_INSECURE_COOKIES": "true"}, "AUTHSVC_INSECURE_COOKIES"},
		{"bad bool", map[string]string{"AUTHSVC_INSECURE_COOKIES": "sometimes"}, "AUTHSVC_INSECURE_COOKIES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(nil, envOf(tt.env), io.Discard)
			require.Error(t, err)
			assert.Regexp(t, "^"+tt.want+": ", err.Error())
		})
	}
}

func TestSecretNeverInErrors(t *testing.T) {
	_, err := Load(nil, envOf(map[string]string{"STYTCH_SECRET": "secret-live-do-not-print"}), io.Discard)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret-live-do-not-print")
}

func TestHelp(t *testing.T) {
	_, err := Load([]string{"-help"}, envOf(nil), io.Discard)
	require.ErrorIs(t, err, flag.ErrHelp)
}

func TestCookiesAreSecureUnlessDevMode(t *testing.T) {
	c, err := Load(nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.True(t, c.InsecureCookies, "dev mode runs over plain HTTP")

	c, err = Load(nil, envOf(map[string]string{"STYTCH_PROJECT_ID": "project-test-1", "STYTCH_SECRET": "s"}), io.Discard)
	require.NoError(t, err)
	assert.False(t, c.InsecureCookies)

	c, err = Load([]string{"-insecure-cookies=false"}, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.False(t, c.InsecureCookies, "an explicit setting wins in dev mode too")
}

func TestBoolFlagAlone(t *testing.T) {
	c, err := Load([]string{"-insecure-cookies"}, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.True(t, c.InsecureCookies)
}
