package server_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/config/setting"
	"github.com/authsvc/authsvc/internal/server"
	"github.com/authsvc/authsvc/internal/testkit"
)

func loadServerConf(env map[string]string) (server.Conf, error) {
	var c server.Conf
	err := setting.FromEnv(&c, func(k string) string { return env[k] })
	return c, err
}

// The flags, which internal/config adds, are tested there (tls_test.go).
func TestTLSSettings(t *testing.T) {
	dir := t.TempDir()
	cert, key := testkit.WriteSelfSignedCert(t, dir, "server")
	ca, _ := testkit.WriteSelfSignedCert(t, dir, "clients")
	_, otherKey := testkit.WriteSelfSignedCert(t, dir, "other")
	junk := filepath.Join(dir, "junk.pem")
	require.NoError(t, os.WriteFile(junk, []byte("not pem"), 0o600))

	c, err := loadServerConf(nil)
	require.NoError(t, err)
	assert.False(t, c.TLS.Enabled())

	c, err = loadServerConf(map[string]string{"AUTHSVC_TLS_CERT_FILE": cert, "AUTHSVC_TLS_KEY_FILE": key, "AUTHSVC_TLS_CLIENT_CA_FILE": ca})
	require.NoError(t, err)
	assert.Equal(t, server.TLSConfig{CertFile: cert, KeyFile: key, ClientCAFile: ca}, c.TLS)
	assert.True(t, c.TLS.Enabled())

	bad := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"cert without key", map[string]string{"AUTHSVC_TLS_CERT_FILE": cert}, "AUTHSVC_TLS_KEY_FILE:"},
		{"key without cert", map[string]string{"AUTHSVC_TLS_KEY_FILE": key}, "AUTHSVC_TLS_CERT_FILE:"},
		{"client CA without cert", map[string]string{"AUTHSVC_TLS_CLIENT_CA_FILE": ca}, "AUTHSVC_TLS_CLIENT_CA_FILE:"},
		{"key of another cert", map[string]string{"AUTHSVC_TLS_CERT_FILE": cert, "AUTHSVC_TLS_KEY_FILE": otherKey}, "AUTHSVC_TLS_CERT_FILE:"},
		{"missing cert file", map[string]string{"AUTHSVC_TLS_CERT_FILE": filepath.Join(dir, "nope"), "AUTHSVC_TLS_KEY_FILE": key}, "AUTHSVC_TLS_CERT_FILE:"},
		{"missing CA file", map[string]string{"AUTHSVC_TLS_CERT_FILE": cert, "AUTHSVC_TLS_KEY_FILE": key, "AUTHSVC_TLS_CLIENT_CA_FILE": filepath.Join(dir, "nope")}, "AUTHSVC_TLS_CLIENT_CA_FILE:"},
		{"CA file without PEM", map[string]string{"AUTHSVC_TLS_CERT_FILE": cert, "AUTHSVC_TLS_KEY_FILE": key, "AUTHSVC_TLS_CLIENT_CA_FILE": junk}, "AUTHSVC_TLS_CLIENT_CA_FILE:"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadServerConf(tt.env)
			require.Error(t, err)
			assert.Regexp(t, "^"+tt.want, err.Error())
			assert.NotContains(t, err.Error(), "PRIVATE KEY")
		})
	}
}
