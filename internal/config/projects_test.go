package config

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProjectsOnAndOff(t *testing.T) {
	tests := []struct {
		name                   string
		env                    map[string]string
		dev, b2bOn, consumerOn bool
	}{
		{"dev mode serves both", nil, true, true, true},
		{"B2B only", map[string]string{"STYTCH_PROJECT_ID": "project-test-1", "STYTCH_SECRET": "s"}, false, true, false},
		{"consumer only", map[string]string{"STYTCH_CONSUMER_PROJECT_ID": "project-test-2", "STYTCH_CONSUMER_SECRET": "c"}, false, false, true},
		{"both", map[string]string{
			"STYTCH_PROJECT_ID": "project-test-1", "STYTCH_SECRET": "s",
			"STYTCH_CONSUMER_PROJECT_ID": "project-test-2", "STYTCH_CONSUMER_SECRET": "c",
		}, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(nil, envOf(tt.env), io.Discard)
			require.NoError(t, err)
			assert.Equal(t, tt.dev, c.DevMode(), "dev mode")
			assert.Equal(t, tt.b2bOn, c.B2BOn(), "B2B on")
			assert.Equal(t, tt.consumerOn, c.ConsumerOn(), "consumer on")
		})
	}
}

func TestConsumerOnlyInProduction(t *testing.T) {
	c, err := Load(nil, envOf(map[string]string{
		"AUTHSVC_ENV": "production", "STYTCH_CONSUMER_PROJECT_ID": "project-live-2", "STYTCH_CONSUMER_SECRET": "c",
	}), io.Discard)
	require.NoError(t, err)
	assert.False(t, c.B2BOn())
	assert.True(t, c.ConsumerOn())
}

func TestConsumerSecretFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(p, []byte("secret-test-consumer\n"), 0o600))
	c, err := Load(nil, envOf(map[string]string{"STYTCH_CONSUMER_PROJECT_ID": "project-test-2", "STYTCH_CONSUMER_SECRET_FILE": p}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "secret-test-consumer", c.StytchConsumerSecret)
}

func TestHalfConfiguredProjectNamesTheMissingVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"consumer project without secret", map[string]string{"STYTCH_CONSUMER_PROJECT_ID": "project-test-2"}, "STYTCH_CONSUMER_SECRET"},
		{"consumer secret without project", map[string]string{"STYTCH_CONSUMER_SECRET": "c"}, "STYTCH_CONSUMER_PROJECT_ID"},
		{"consumer secret without project, B2B configured", map[string]string{
			"STYTCH_PROJECT_ID": "project-test-1", "STYTCH_SECRET": "s", "STYTCH_CONSUMER_SECRET": "c",
		}, "STYTCH_CONSUMER_PROJECT_ID"},
		{"B2B half configured next to a consumer project", map[string]string{
			"STYTCH_PROJECT_ID": "project-test-1", "STYTCH_CONSUMER_PROJECT_ID": "project-test-2", "STYTCH_CONSUMER_SECRET": "c",
		}, "STYTCH_SECRET"},
		{"both consumer secret sources", map[string]string{
			"STYTCH_CONSUMER_PROJECT_ID": "p", "STYTCH_CONSUMER_SECRET": "c", "STYTCH_CONSUMER_SECRET_FILE": "/nonexistent",
		}, "STYTCH_CONSUMER_SECRET_FILE"},
		{"consumer base url without project", map[string]string{
			"STYTCH_PROJECT_ID": "project-test-1", "STYTCH_SECRET": "s", "STYTCH_CONSUMER_BASE_URL": "https://auth.example.com",
		}, "STYTCH_CONSUMER_BASE_URL"},
		{"consumer public token without project", map[string]string{
			"STYTCH_PROJECT_ID": "project-test-1", "STYTCH_SECRET": "s", "STYTCH_CONSUMER_PUBLIC_TOKEN": "public-token-test-1",
		}, "STYTCH_CONSUMER_PUBLIC_TOKEN"},
		{"plain-HTTP consumer base url in production", map[string]string{
			"AUTHSVC_ENV": "production", "STYTCH_CONSUMER_PROJECT_ID": "p", "STYTCH_CONSUMER_SECRET": "c",
			"STYTCH_CONSUMER_BASE_URL": "http://auth.example.com",
		}, "STYTCH_CONSUMER_BASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(nil, envOf(tt.env), io.Discard)
			require.Error(t, err)
			assert.Regexp(t, "^"+tt.want+": ", err.Error())
			assert.NotContains(t, err.Error(), `"c"`, "the secret is never printed")
		})
	}
}

func TestConsumerPublicToken(t *testing.T) {
	c, err := Load(nil, envOf(map[string]string{
		"STYTCH_CONSUMER_PROJECT_ID": "project-test-2", "STYTCH_CONSUMER_SECRET": "c", "STYTCH_CONSUMER_PUBLIC_TOKEN": "public-token-test-2",
	}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "public-token-test-2", c.StytchConsumerPublicToken)
	c, err = Load([]string{"-stytch-consumer-project-id", "project-test-2", "-stytch-consumer-secret", "c", "-stytch-consumer-public-token", "public-token-test-3"}, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "public-token-test-3", c.StytchConsumerPublicToken)
}

func TestCookieNames(t *testing.T) {
	both := map[string]string{
		"STYTCH_PROJECT_ID": "project-test-1", "STYTCH_SECRET": "s",
		"STYTCH_CONSUMER_PROJECT_ID": "project-test-2", "STYTCH_CONSUMER_SECRET": "c",
	}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	c, err := Load(nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, Cookies{
		Session: "stytch_session", SessionJWT: "stytch_session_jwt",
		ConsumerSession: "stytch_session", ConsumerSessionJWT: "stytch_session_jwt",
	}, c.Cookies, "Stytch's names for both projects by default")

	// Host-only cookies: equal names are fine, the frontends' host names keep them apart.
	_, err = Load(nil, envOf(both), io.Discard)
	require.NoError(t, err)

	// A shared cookie domain with equal names: one login would overwrite the other.
	_, err = Load(nil, envOf(with(both, "AUTHSVC_COOKIE_DOMAIN", "example.com")), io.Discard)
	require.Error(t, err)
	assert.Regexp(t, "^AUTHSVC_CONSUMER_SESSION_COOKIE", err.Error())

	c, err = Load(nil, envOf(with(both, "AUTHSVC_COOKIE_DOMAIN", "example.com",
		"AUTHSVC_CONSUMER_SESSION_COOKIE", "app_session", "AUTHSVC_CONSUMER_SESSION_JWT_COOKIE", "app_session_jwt")), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "app_session", c.Cookies.ConsumerSession)
	assert.Equal(t, "example.com", c.Cookies.Domain)

	// One project alone may share the domain under any names.
	_, err = Load(nil, envOf(map[string]string{
		"STYTCH_PROJECT_ID": "project-test-1", "STYTCH_SECRET": "s", "AUTHSVC_COOKIE_DOMAIN": "example.com",
	}), io.Discard)
	require.NoError(t, err)

	for env, bad := range map[string]string{
		"AUTHSVC_SESSION_COOKIE":              "my session",
		"AUTHSVC_CONSUMER_SESSION_JWT_COOKIE": "a;b",
		"AUTHSVC_COOKIE_DOMAIN":               "example.com; Secure",
	} {
		_, err = Load(nil, envOf(map[string]string{env: bad}), io.Discard)
		require.Error(t, err, env)
		assert.Regexp(t, "^"+env+": ", err.Error())
	}
	_, err = Load(nil, envOf(map[string]string{"AUTHSVC_CONSUMER_SESSION_JWT_COOKIE": "stytch_session"}), io.Discard)
	require.Error(t, err)
	assert.Regexp(t, "^AUTHSVC_CONSUMER_SESSION_JWT_COOKIE: ", err.Error())
}
