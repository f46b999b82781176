package idempotency_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/config/setting"
	"github.com/authsvc/authsvc/internal/idempotency"
)

func loadWith(t *testing.T, env map[string]string) (idempotency.Conf, error) {
	t.Helper()
	var c idempotency.Conf
	err := setting.FromEnv(&c, func(k string) string { return env[k] })
	return c, err
}

func writeKeys(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// Reading a good file, and a printed configuration holding no key, are tested with the whole
// configuration in internal/config (idempotency_test.go).
func TestIdempotencyKeysInvalid(t *testing.T) {
	k := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 31))
	for name, tc := range map[string]struct{ content, want string }{
		"empty":     {"\n", "no key"},
		"short":     {"a:" + k + "\nb:" + short, `entry 2 (ID "b"): the key is not standard base64 of 32 bytes`},
		"no ID":     {k, "entry 1: want id:base64"},
		"duplicate": {"a:" + k + "\na:" + k, `ID "a" is listed twice`},
	} {
		_, err := loadWith(t, map[string]string{"AUTHSVC_IDEMPOTENCY_KEYS_FILE": writeKeys(t, tc.content)})
		require.ErrorContains(t, err, "AUTHSVC_IDEMPOTENCY_KEYS_FILE: ", name)
		require.ErrorContains(t, err, tc.want, name)
		assert.NotContains(t, err.Error(), k, name)
		assert.NotContains(t, err.Error(), short, name)
	}
	_, err := loadWith(t, map[string]string{"AUTHSVC_IDEMPOTENCY_KEYS_FILE": filepath.Join(t.TempDir(), "missing")})
	require.ErrorContains(t, err, "AUTHSVC_IDEMPOTENCY_KEYS_FILE: cannot read")
}
