package idempotency

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// KeySize is the length of an encryption key in bytes (AES-256).
const KeySize = 32

// maxKeyIDLen bounds a key ID; it is stored with every record.
const maxKeyIDLen = 32

// Keyring encrypts stored responses with AES-256-GCM (crypto/cipher, random 96-bit nonces). The
// first key encrypts; every key decrypts, so a new key is put first and the old one stays listed
// until the records it wrote have expired (DefaultTTL): rotation loses no record. A Keyring never
// prints its key material: String and LogValue show the key IDs only.
type Keyring struct {
	keys []ringKey
}

type ringKey struct {
	id   string
	aead cipher.AEAD
}

// ParseKeyring reads keys written as "id:base64" entries separated by commas or white space, the
// first being the one that encrypts, e.g. "2026b:<base64>,2026a:<base64>". An ID is 1 to 32
// characters of A-Z a-z 0-9 . _ -; a key is the standard base64 of 32 random bytes (openssl rand
// -base64 32). Errors name the entry by position and ID, never by its key.
func ParseKeyring(s string) (*Keyring, error) {
	entries := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if len(entries) == 0 {
		return nil, errors.New("no key: want id:base64 entries")
	}
	k := &Keyring{}
	seen := map[string]bool{}
	for n, e := range entries {
		id, b64, ok := strings.Cut(e, ":")
		if !ok {
			return nil, fmt.Errorf("entry %d: want id:base64", n+1)
		}
		if !validKeyID(id) {
			return nil, fmt.Errorf("entry %d: the ID must be 1 to %d characters of A-Z a-z 0-9 . _ -", n+1, maxKeyIDLen)
		}
		if seen[id] {
			return nil, fmt.Errorf("entry %d: ID %q is listed twice", n+1, id)
		}
		seen[id] = true
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != KeySize {
			// Neither the value nor the decoder's error (which quotes a byte of it) is repeated.
			return nil, fmt.Errorf("entry %d (ID %q): the key is not standard base64 of %d bytes", n+1, id, KeySize)
		}
		if err := k.add(id, raw); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// NewRandomKeyring returns a keyring of one random key that exists only in this process: enough
// for records that only this process reads (MemoryStore).
func NewRandomKeyring() (*Keyring, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("idempotency: random key: %w", err)
	}
	k := &Keyring{}
	if err := k.add("process", raw); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Keyring) add(id string, raw []byte) error {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return fmt.Errorf("idempotency: key %q: %w", id, err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return fmt.Errorf("idempotency: key %q: %w", id, err)
	}
	k.keys = append(k.keys, ringKey{id: id, aead: aead})
	return nil
}

// IDs returns the key IDs, the encrypting one first.
func (k *Keyring) IDs() []string {
	ids := make([]string, len(k.keys))
	for i, rk := range k.keys {
		ids[i] = rk.id
	}
	return ids
}

// String shows the key IDs only.
func (k *Keyring) String() string { return "idempotency.Keyring" + fmt.Sprint(k.IDs()) }

// GoString keeps %#v from printing key material.
func (k *Keyring) GoString() string { return k.String() }

// LogValue keeps slog from printing key material.
func (k *Keyring) LogValue() slog.Value { return slog.AnyValue(k.IDs()) }

// seal encrypts plaintext with the first key, binding it to aad (where the record lives and what
// request it answers, so that a record copied to another key does not decrypt).
func (k *Keyring) seal(aad, plaintext []byte) (id string, ciphertext []byte) {
	rk := k.keys[0]
	return rk.id, rk.aead.Seal(nil, nil, plaintext, aad) //nolint:gosec // G407 misreads it: an AEAD from cipher.NewGCMWithRandomNonce draws a random nonce itself and takes none
}

// errUnknownKeyID: the record was written with a key no longer (or not yet) configured.
var errUnknownKeyID = errors.New("the record's key ID is not in the keyring")

func (k *Keyring) open(id string, aad, ciphertext []byte) ([]byte, error) {
	for _, rk := range k.keys {
		if rk.id != id {
			continue
		}
		b, err := rk.aead.Open(nil, nil, ciphertext, aad)
		if err != nil {
			return nil, fmt.Errorf("idempotency: decrypt with key %q: %w", id, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("idempotency: key %q: %w", id, errUnknownKeyID)
}

func validKeyID(id string) bool {
	if id == "" || len(id) > maxKeyIDLen {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}
