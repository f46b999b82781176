package idempotency

import (
	"errors"
	"fmt"
	"os"

	"github.com/authsvc/authsvc/internal/config/setting"
)

// EnvKeysFile is the variable that names the file of keys.
const EnvKeysFile = "AUTHSVC_IDEMPOTENCY_KEYS_FILE"

// Conf is the idempotency section of the configuration: the keys that encrypt stored responses.
// The keys are read from a file only: a value in the environment or on the command line would be
// shown by -help (as the flag's default), by ps and in /proc/<pid>/environ.
type Conf struct {
	// KeysFile names the file holding the keys; empty when unset.
	KeysFile string
	// Keys is the keyring read from KeysFile (the first key encrypts, all decrypt): Config.Keys.
	// Nil when unset: records in memory then use a random key of the process, and with Redis an
	// RPC whose response carries a secret (CreateClient, CreateOrganization, SCIM
	// CreateConnection) refuses idempotency keys. It prints as its key IDs only.
	Keys *Keyring
}

// Key implements setting.Section.
func (*Conf) Key() string { return "idempotency" }

// Vars implements setting.Section.
func (c *Conf) Vars() []setting.Var {
	return []setting.Var{{
		Env: EnvKeysFile, Flag: "idempotency-keys-file",
		Usage: "file of id:base64 AES-256 keys (one per line, the first encrypts) that encrypt stored idempotent responses; required to accept keys on secret-bearing RPCs with AUTHSVC_REDIS_URL",
		Set:   c.readKeys,
	}}
}

// SetDefaults implements setting.Section: no keys.
func (c *Conf) SetDefaults() { *c = Conf{} }

// Validate implements setting.Section; readKeys has checked the file.
func (*Conf) Validate() error { return nil }

// readKeys reads and parses the keys at startup, so that a bad file stops authsvc with the
// variable's name rather than failing the first replay. Errors never quote key material.
func (c *Conf) readKeys(file string) error {
	if file == "" {
		*c = Conf{}
		return nil
	}
	b, err := os.ReadFile(file) //nolint:gosec // the operator names the file on purpose
	if err != nil {
		return fmt.Errorf("cannot read %q: %w", file, errors.Unwrap(err))
	}
	keys, err := ParseKeyring(string(b))
	if err != nil {
		return fmt.Errorf("%q: %w", file, err)
	}
	*c = Conf{KeysFile: file, Keys: keys}
	return nil
}
