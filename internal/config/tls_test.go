package config

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/server"
	"github.com/authsvc/authsvc/internal/testkit"
)

// The TLS settings are internal/server's (conf_test.go there); here, the flags reach them.
func TestTLSSettings(t *testing.T) {
	cert, key := testkit.WriteSelfSignedCert(t, t.TempDir(), "server")
	c, err := Load([]string{"-tls-cert-file", cert, "-tls-key-file", key}, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, server.TLSConfig{CertFile: cert, KeyFile: key}, c.Server.TLS)
}
