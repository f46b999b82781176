package main

import (
	"bytes"
	"crypto/ed25519"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mr-tron/base58"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// capture runs the command and returns what it printed.
func capture(t *testing.T, args ...string) string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	stdout := os.Stdout
	os.Stdout = w
	runErr := run(args)
	os.Stdout = stdout
	require.NoError(t, w.Close())
	var b bytes.Buffer
	_, err = io.Copy(&b, r)
	require.NoError(t, err)
	require.NoError(t, runErr)
	return strings.TrimSpace(b.String())
}

func TestSolanaKeySignsWhatItPrints(t *testing.T) {
	key := filepath.Join(t.TempDir(), "sol.key")
	addr := capture(t, "-type", "solana", "-key", key, "new")
	sig := capture(t, "-type", "solana", "-key", key, "sign", "hello")
	pub, err := base58.Decode(addr)
	require.NoError(t, err)
	raw, err := base58.Decode(sig)
	require.NoError(t, err)
	assert.True(t, ed25519.Verify(pub, []byte("hello"), raw))
	assert.False(t, ed25519.Verify(pub, []byte("hullo"), raw))
}

func TestEthereumKeyPrintsAnAddressAndASignature(t *testing.T) {
	key := filepath.Join(t.TempDir(), "eth.key")
	assert.Regexp(t, `^0x[0-9a-fA-F]{40}$`, capture(t, "-key", key, "new"))
	assert.Regexp(t, `^0x[0-9a-f]{130}$`, capture(t, "-key", key, "sign", "hello"))
	require.Error(t, run([]string{"-key", key, "mint"}))
}
