package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
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
	assert.Equal(t, "127.0.0.1:9090", c.Server.GRPCAddr)
	assert.Equal(t, "127.0.0.1:8080", c.Server.HTTPAddr)
	assert.Equal(t, "127.0.0.1:9091", c.Server.AdminAddr)
	assert.Equal(t, EnvDevelopment, c.Env)
	assert.Equal(t, 20*time.Second, c.Server.ShutdownGrace)
}

func TestFlagWinsOverEnvironment(t *testing.T) {
	c, err := Load([]string{"-grpc-addr", "127.0.0.1:7000"}, envOf(map[string]string{"AUTHSVC_GRPC_ADDR": "127.0.0.1:6000"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:7000", c.Server.GRPCAddr)
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
		{"cache size not a number", map[string]string{"AUTHSVC_SESSION_CACHE_SIZE": "10k"}, "AUTHSVC_SESSION_CACHE_SIZE"},
		{"negative cache size", map[string]string{"AUTHSVC_SESSION_CACHE_SIZE": "-1"}, "AUTHSVC_SESSION_CACHE_SIZE"},
		{"cache size too large", map[string]string{"AUTHSVC_SESSION_CACHE_SIZE": "1000001"}, "AUTHSVC_SESSION_CACHE_SIZE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(nil, envOf(tt.env), io.Discard)
			require.Error(t, err)
			assert.Regexp(t, "^"+tt.want+": ", err.Error())
		})
	}
}

// The verified-token cache's size: 10 000 by default, 0 for none, which the checkers get as a
// negative size (their spelling of "no cache").
func TestSessionCacheSize(t *testing.T) {
	c, err := Load(nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 10_000, c.Session.CacheSize)
	assert.Equal(t, 10_000, c.Session.CheckerCacheSize())

	c, err = Load(nil, envOf(map[string]string{"AUTHSVC_SESSION_CACHE_SIZE": " 250 "}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 250, c.Session.CheckerCacheSize())

	c, err = Load([]string{"-session-cache-size", "0"}, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 0, c.Session.CacheSize)
	assert.Negative(t, c.Session.CheckerCacheSize())
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

// -help prints each flag's default, which is the environment's value when set: a secret given in
// the environment must not be printed (help output lands in terminals, CI logs and tickets).
func TestHelpShowsNoSecretFromTheEnvironment(t *testing.T) {
	var out strings.Builder
	_, err := Load([]string{"-help"}, envOf(map[string]string{
		"STYTCH_PROJECT_ID": "project-live-1234",
		"STYTCH_SECRET":     "secret-live-do-not-print",
		"AUTHSVC_REDIS_URL": "redis+sentinel://sentineluser:sentinel-pw-do-not-print@s1:26379?master_name=m&password=primary-pw-do-not-print",
	}), &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	help := out.String()
	for _, secret := range []string{"secret-live-do-not-print", "sentinel-pw-do-not-print", "primary-pw-do-not-print"} {
		assert.NotContains(t, help, secret)
	}
	// What is not secret still helps the operator see what applies.
	assert.Contains(t, help, "project-live-1234")
	assert.Contains(t, help, "s1:26379")
	assert.Contains(t, help, "(default <hidden>)")
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

// Plain HTTP to Stytch would send the project secret in clear: refused in production, allowed in
// development (a local emulator).
func TestProductionRefusesPlainHTTPBaseURL(t *testing.T) {
	creds := map[string]string{"STYTCH_PROJECT_ID": "project-live-1", "STYTCH_SECRET": "s"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range creds {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, u := range []string{"http://api.stytch.com", "HTTP://api.stytch.com", "http://127.0.0.1:4010"} {
		_, err := Load(nil, envOf(with("AUTHSVC_ENV", "production", "STYTCH_BASE_URL", u)), io.Discard)
		require.Error(t, err, u)
		assert.Regexp(t, "^STYTCH_BASE_URL: ", err.Error())
		assert.NotContains(t, err.Error(), "\n")
	}
	c, err := Load(nil, envOf(with("AUTHSVC_ENV", "production", "STYTCH_BASE_URL", "https://auth.example.com")), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "https://auth.example.com", c.StytchBaseURL)
	c, err = Load(nil, envOf(with("STYTCH_BASE_URL", "http://127.0.0.1:4010")), io.Discard)
	require.NoError(t, err, "development may use a local emulator over plain HTTP")
	assert.Equal(t, "http://127.0.0.1:4010", c.StytchBaseURL)
}

// Dev mode serves login tokens at /dev/outbox: its default addresses are loopback, while a
// deployment with credentials listens on every interface.
func TestListenDefaultsDependOnMode(t *testing.T) {
	c, err := Load(nil, envOf(map[string]string{"STYTCH_PROJECT_ID": "project-test-1", "STYTCH_SECRET": "s"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{":9090", ":8080", ":9091"}, []string{c.Server.GRPCAddr, c.Server.HTTPAddr, c.Server.AdminAddr})
	assert.Empty(t, c.ExposedDevAddrs())
}

func TestDevModeNonLoopbackNeedsOptIn(t *testing.T) {
	for _, v := range []string{"AUTHSVC_GRPC_ADDR", "AUTHSVC_HTTP_ADDR", "AUTHSVC_ADMIN_ADDR"} {
		for _, addr := range []string{":8080", "0.0.0.0:8080", "[::]:8080", "192.0.2.10:8080", "authsvc.internal:8080"} {
			t.Run(v+"="+addr, func(t *testing.T) {
				_, err := Load(nil, envOf(map[string]string{v: addr}), io.Discard)
				require.Error(t, err)
				assert.Regexp(t, "^"+v+": ", err.Error())
				assert.Contains(t, err.Error(), "AUTHSVC_DEV_LISTEN_PUBLIC")

				c, err := Load(nil, envOf(map[string]string{v: addr, "AUTHSVC_DEV_LISTEN_PUBLIC": "true"}), io.Discard)
				require.NoError(t, err)
				assert.True(t, c.DevListenPublic)
				assert.Equal(t, []string{v + "=" + addr}, c.ExposedDevAddrs())

				c, err = Load([]string{"-dev-listen-public"}, envOf(map[string]string{v: addr}), io.Discard)
				require.NoError(t, err, "the flag alone opts in")
				assert.Equal(t, []string{v + "=" + addr}, c.ExposedDevAddrs())
			})
		}
	}
	for _, addr := range []string{"127.0.0.1:8080", "127.0.0.2:8080", "localhost:8080", "[::1]:8080", "[::ffff:127.0.0.1]:8080"} {
		c, err := Load(nil, envOf(map[string]string{"AUTHSVC_HTTP_ADDR": addr}), io.Discard)
		require.NoError(t, err, addr)
		assert.Empty(t, c.ExposedDevAddrs(), addr)
	}
	_, err := Load(nil, envOf(map[string]string{"AUTHSVC_DEV_LISTEN_PUBLIC": "yes please"}), io.Discard)
	require.Error(t, err)
	assert.Regexp(t, "^AUTHSVC_DEV_LISTEN_PUBLIC: ", err.Error())
}

// A port outside 1-65535 fails naming the variable, whatever the mode. Port 0 ("any free port")
// is refused too: see loadListen.
func TestListenPortsOutOfRange(t *testing.T) {
	for _, v := range []string{"AUTHSVC_GRPC_ADDR", "AUTHSVC_HTTP_ADDR", "AUTHSVC_ADMIN_ADDR"} {
		for _, port := range []string{"0", "65536", "99999", "-1", "+80", "http", ""} {
			for _, creds := range []map[string]string{nil, {"STYTCH_PROJECT_ID": "project-test-1", "STYTCH_SECRET": "s"}} {
				env := map[string]string{v: "127.0.0.1:" + port}
				for k, val := range creds {
					env[k] = val
				}
				_, err := Load(nil, envOf(env), io.Discard)
				require.Error(t, err, "%s port %q", v, port)
				assert.Regexp(t, "^"+v+": ", err.Error())
			}
		}
		c, err := Load(nil, envOf(map[string]string{v: "127.0.0.1:65535"}), io.Discard)
		require.NoError(t, err)
		assert.Contains(t, []string{c.Server.GRPCAddr, c.Server.HTTPAddr, c.Server.AdminAddr}, "127.0.0.1:65535")
		_, err = Load(nil, envOf(map[string]string{v: "127.0.0.1:1"}), io.Discard)
		require.NoError(t, err)
	}
}
