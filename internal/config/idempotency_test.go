package config

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeKeys(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestIdempotencyKeys(t *testing.T) {
	c, err := loadWith(t, nil)
	require.NoError(t, err)
	assert.Nil(t, c.Idempotency.Keys, "unset: no keyring")

	k1 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	k2 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	file := writeKeys(t, "2026b:"+k2+"\n2026a:"+k1+"\n")
	c, err = loadWith(t, map[string]string{"AUTHSVC_IDEMPOTENCY_KEYS_FILE": file})
	require.NoError(t, err)
	require.NotNil(t, c.Idempotency.Keys)
	assert.Equal(t, []string{"2026b", "2026a"}, c.Idempotency.Keys.IDs())
	assert.Equal(t, file, c.Idempotency.KeysFile)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", c, c, c), k1, "a printed config holds no key")
}
