package config

import (
	"errors"
	"fmt"
	"os"

	"github.com/authsvc/authsvc/internal/idempotency"
)

// Idempotency configures idempotency keys (internal/idempotency).
type Idempotency struct {
	// KeysFile names the file holding the keys that encrypt stored responses; empty when unset.
	KeysFile string
	// Keys is the keyring read from KeysFile (the first key encrypts, all decrypt); nil when
	// unset. Without it, records in memory use a random key of the process, and with
	// AUTHSVC_REDIS_URL an RPC whose response carries a secret (CreateClient, CreateOrganization)
	// refuses idempotency keys. It prints as its key IDs only.
	Keys *idempotency.Keyring
}

type idempotencyRaw struct{ keysFile string }

// The keys are read from a file only: a value in the environment or on the command line would be
// shown by -help (as the flag's default), by ps and in /proc/<pid>/environ.
func (r *idempotencyRaw) settings() []setting {
	return []setting{
		{"AUTHSVC_IDEMPOTENCY_KEYS_FILE", "idempotency-keys-file", "", "file of id:base64 AES-256 keys (one per line, the first encrypts) that encrypt stored idempotent responses; required to accept keys on secret-bearing RPCs with AUTHSVC_REDIS_URL", &r.keysFile, false},
	}
}

// loadIdempotency reads and validates the keys at startup, so that a bad file stops authsvc with
// the variable's name rather than failing the first replay. Errors never quote key material.
func (c *Config) loadIdempotency(r idempotencyRaw) error {
	if r.keysFile == "" {
		return nil
	}
	b, err := os.ReadFile(r.keysFile) //nolint:gosec // the operator names the file on purpose
	if err != nil {
		return fmt.Errorf("AUTHSVC_IDEMPOTENCY_KEYS_FILE: cannot read %q: %w", r.keysFile, errors.Unwrap(err))
	}
	keys, err := idempotency.ParseKeyring(string(b))
	if err != nil {
		return fmt.Errorf("AUTHSVC_IDEMPOTENCY_KEYS_FILE: %q: %w", r.keysFile, err)
	}
	c.Idempotency = Idempotency{KeysFile: r.keysFile, Keys: keys}
	return nil
}
