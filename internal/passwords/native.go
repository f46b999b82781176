package passwords

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id costs of a native hash.
type Params struct {
	// MemoryKiB is the memory cost in kibibytes.
	MemoryKiB uint32
	// Iterations is the number of passes over the memory.
	Iterations uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLen and KeyLen are the salt and derived key lengths in bytes.
	SaltLen uint32
	KeyLen  uint32
}

// TestParams are sized for an emulator that a test suite drives under -race:
// 1 MiB and one pass cost a few milliseconds per hash without the race detector
// (see BenchmarkHash). They are far too cheap for real user passwords, which is
// fine for an emulator whose passwords are test data.
func TestParams() Params {
	return Params{MemoryKiB: 1024, Iterations: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// RecommendedParams are the argon2id costs recommended for real passwords by
// RFC 9106 (its second, memory-constrained choice: 64 MiB, 3 passes, 4 lanes),
// for an emulator run by hand where a hash may take tens of milliseconds.
func RecommendedParams() Params {
	return Params{MemoryKiB: 64 * 1024, Iterations: 3, Threads: 4, SaltLen: 16, KeyLen: 32}
}

// Validate reports parameters that argon2 cannot use or that would make a
// hash trivially weak.
func (p Params) Validate() error {
	switch {
	case p.Iterations < 1:
		return errors.New("passwords: argon2id iterations must be at least 1")
	case p.Threads < 1:
		return errors.New("passwords: argon2id threads must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads):
		return errors.New("passwords: argon2id memory must be at least 8 KiB per thread")
	case p.SaltLen < 8:
		return errors.New("passwords: argon2id salt must be at least 8 bytes")
	case p.KeyLen < 16:
		return errors.New("passwords: argon2id key must be at least 16 bytes")
	}
	return nil
}

// Hasher hashes and verifies the passwords the emulator stores. Its zero value
// is not usable: build one with NewHasher.
type Hasher struct {
	params Params
	// verifyLimits bound the costs Verify accepts from a stored string, so a
	// corrupted or planted hash cannot demand unbounded memory.
	verifyLimits Limits
}

// NewHasher returns a Hasher that hashes with p (TestParams for tests and dev
// mode, RecommendedParams for anything that holds real passwords).
func NewHasher(p Params) (*Hasher, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	lim := DefaultLimits()
	lim.MaxArgon2MemoryKiB = max(lim.MaxArgon2MemoryKiB, p.MemoryKiB)
	lim.MaxArgon2Iterations = max(lim.MaxArgon2Iterations, p.Iterations)
	return &Hasher{params: p, verifyLimits: lim}, nil
}

// Params returns the parameters new hashes use.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the stored form of password: a PHC string carrying the
// algorithm, version, costs, a fresh random salt and the derived key.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("passwords: reading a random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Iterations, h.params.MemoryKiB, h.params.Threads, h.params.KeyLen)
	return encodeArgon2("argon2id", h.params.MemoryKiB, h.params.Iterations, h.params.Threads, salt, key), nil
}

// ErrMalformedHash means a stored string is not a native hash this package
// can read. The error never quotes the string.
var ErrMalformedHash = errors.New("passwords: malformed stored hash")

// Verify reports whether password matches stored, a string made by Hash (with
// any parameters within the Hasher's limits). The comparison of derived keys
// is constant-time. A stored string that cannot be read is an error wrapping
// ErrMalformedHash, never a match.
func (h *Hasher) Verify(stored, password string) (bool, error) {
	a, err := parseArgon2Encoded(stored, h.verifyLimits)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	if a.variant != argon2idVariant {
		return false, fmt.Errorf("%w: native hashes are argon2id", ErrMalformedHash)
	}
	return a.verify(password), nil
}

// NeedsRehash reports whether stored was made with other parameters than the
// Hasher's (or cannot be read): the caller should store a fresh Hash after
// its next successful Verify.
func (h *Hasher) NeedsRehash(stored string) bool {
	a, err := parseArgon2Encoded(stored, h.verifyLimits)
	if err != nil || a.variant != argon2idVariant {
		return true
	}
	return a.memory != h.params.MemoryKiB || a.iterations != h.params.Iterations ||
		a.threads != h.params.Threads || len(a.salt) != int(h.params.SaltLen) ||
		len(a.key) != int(h.params.KeyLen)
}

// Upgrade is the second half of a migrated login: it verifies password
// against the imported hash and, on a match, returns the native hash to
// store in its place. ok is false on a wrong password; err is only a failure
// to hash.
func (h *Hasher) Upgrade(imp *Imported, password string) (stored string, ok bool, err error) {
	if !imp.Verify(password) {
		return "", false, nil
	}
	stored, err = h.Hash(password)
	if err != nil {
		return "", false, err
	}
	return stored, true, nil
}

type argon2Variant int

const (
	argon2iVariant argon2Variant = iota + 1
	argon2idVariant
)

// argon2Hash is a parsed argon2 hash: the costs, salt and expected key.
type argon2Hash struct {
	variant    argon2Variant
	memory     uint32
	iterations uint32
	threads    uint8
	salt, key  []byte
}

func (a *argon2Hash) verify(password string) bool {
	keyLen := uint32(len(a.key)) //nolint:gosec // parsed from a string of at most Limits.MaxHashLength characters
	var got []byte
	if a.variant == argon2iVariant {
		got = argon2.Key([]byte(password), a.salt, a.iterations, a.memory, a.threads, keyLen)
	} else {
		got = argon2.IDKey([]byte(password), a.salt, a.iterations, a.memory, a.threads, keyLen)
	}
	return subtle.ConstantTimeCompare(got, a.key) == 1
}

// phcB64 is the PHC string format's base64: standard alphabet, no padding.
var phcB64 = base64.RawStdEncoding

func encodeArgon2(name string, memory, iterations uint32, threads uint8, salt, key []byte) string {
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s", name, argon2.Version, memory, iterations, threads,
		phcB64.EncodeToString(salt), phcB64.EncodeToString(key))
}

// decodePHCBase64 reads a PHC base64 field. It also takes padding and the "."
// that some libraries (passlib's "adapted base64") use in place of "+".
func decodePHCBase64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.ReplaceAll(s, ".", "+"), "=")
	return phcB64.DecodeString(s)
}

// parseArgon2Encoded reads "$argon2id$v=19$m=65536,t=3,p=4$<salt>$<key>" (or
// $argon2i$). The version field may be missing (older encoders); only
// version 19 (0x13), the one golang.org/x/crypto/argon2 implements, is read.
func parseArgon2Encoded(s string, lim Limits) (*argon2Hash, error) {
	if len(s) > lim.MaxHashLength {
		return nil, fmt.Errorf("longer than %d characters", lim.MaxHashLength)
	}
	parts := strings.Split(s, "$")
	if len(parts) == 5 { // no v= field
		parts = append(parts[:2], append([]string{"v=19"}, parts[2:]...)...)
	}
	if len(parts) != 6 || parts[0] != "" {
		return nil, errors.New("want $argon2id$v=19$m=…,t=…,p=…$salt$key")
	}
	a := &argon2Hash{}
	switch parts[1] {
	case "argon2id":
		a.variant = argon2idVariant
	case "argon2i":
		a.variant = argon2iVariant
	default:
		return nil, errors.New("unknown argon2 variant (want argon2i or argon2id)")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, errors.New("unsupported argon2 version (want v=19)")
	}
	params, err := parseKV(parts[3], "m", "t", "p")
	if err != nil {
		return nil, err
	}
	if params["p"] > 255 {
		return nil, errors.New("argon2 p must be at most 255")
	}
	a.memory, a.iterations, a.threads = params["m"], params["t"], uint8(params["p"]) //nolint:gosec // p checked ≤ 255 above
	if a.salt, err = decodePHCBase64(parts[4]); err != nil {
		return nil, errors.New("argon2 salt is not base64")
	}
	if a.key, err = decodePHCBase64(parts[5]); err != nil {
		return nil, errors.New("argon2 hash is not base64")
	}
	if err := lim.checkArgon2(a); err != nil {
		return nil, err
	}
	return a, nil
}

// parseKV reads "m=65536,t=3,p=4": exactly the wanted keys, in any order,
// each a decimal in 1..2^32-1. Errors name no part of the input.
func parseKV(s string, keys ...string) (map[string]uint32, error) {
	bad := fmt.Errorf("parameter list: want %s=… with positive integers", strings.Join(keys, "=…,"))
	out := make(map[string]uint32, len(keys))
	for field := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(field, "=")
		if !ok || !slices.Contains(keys, k) {
			return nil, bad
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if _, dup := out[k]; err != nil || n == 0 || dup {
			return nil, bad
		}
		out[k] = uint32(n) //nolint:gosec // ParseUint with bitSize 32 returns at most 2^32-1
	}
	if len(out) != len(keys) {
		return nil, bad
	}
	return out, nil
}
