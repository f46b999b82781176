package passwords

import (
	"crypto/md5" //nolint:gosec // verifying legacy imported hashes, never hashing anew
	"crypto/pbkdf2"
	"crypto/sha1" //nolint:gosec // verifying legacy imported hashes, never hashing anew
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// HashType is the hash_type of a migrated password, spelled as Stytch spells it.
type HashType string

// The hash types /v1/passwords/migrate accepts.
const (
	HashBcrypt   HashType = "bcrypt"
	HashMD5      HashType = "md_5"
	HashArgon2i  HashType = "argon_2i"
	HashArgon2id HashType = "argon_2id"
	HashSHA1     HashType = "sha_1"
	HashSHA512   HashType = "sha_512"
	HashScrypt   HashType = "scrypt"
	HashPHPass   HashType = "phpass"
	HashPBKDF2   HashType = "pbkdf_2"
)

// HashTypes lists every accepted hash type, in Stytch's order.
func HashTypes() []HashType {
	return []HashType{HashBcrypt, HashMD5, HashArgon2i, HashArgon2id, HashSHA1, HashSHA512, HashScrypt, HashPHPass, HashPBKDF2}
}

// SaltConfig is md_5_config, sha_1_config or sha_512_config: the digest is
// taken over PrependSalt + password + AppendSalt, each salt used as the
// literal bytes of its text.
type SaltConfig struct {
	PrependSalt string
	AppendSalt  string
}

// Argon2Config is argon_2_config, needed only when the hash is the raw key in
// hex rather than an encoded "$argon2…" string. Salt is used as the literal
// bytes of its text (the field carries no encoding of its own).
type Argon2Config struct {
	Salt            string
	IterationAmount int
	Memory          int // KiB
	Threads         int
	KeyLength       int
}

// ScryptConfig is scrypt_config, needed only when the hash is not a PHC
// "$scrypt$ln=…,r=…,p=…$salt$key" string. Salt is base64.
type ScryptConfig struct {
	Salt       string
	NParameter int
	RParameter int
	PParameter int
	KeyLength  int
}

// PBKDF2Config is pbkdf_2_config. Salt is base64; Algorithm is sha256 (also
// when empty) or sha512.
type PBKDF2Config struct {
	Salt            string
	IterationAmount int
	KeyLength       int
	Algorithm       string
}

// Import is the hash part of a migrate request. Configs that belong to
// another hash type are ignored, as optional fields are.
type Import struct {
	HashType     HashType
	Hash         string
	MD5Config    *SaltConfig
	SHA1Config   *SaltConfig
	SHA512Config *SaltConfig
	Argon2Config *Argon2Config
	ScryptConfig *ScryptConfig
	PBKDF2Config *PBKDF2Config
}

// ConfigError is a migrate request the package cannot use. Field is the
// request field at fault (e.g. "scrypt_config.n_parameter"); Reason never
// quotes the hash, a salt or a password.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string { return "passwords: " + e.Field + ": " + e.Reason }

// Imported is a validated imported hash, ready to check passwords against.
type Imported struct {
	typ      HashType
	verify   func(password string) bool
	maxBytes int
}

// Type returns the hash type the import was made with.
func (i *Imported) Type() HashType { return i.typ }

// Verify reports whether password is the one the imported hash was made
// from, running the hash's own algorithm; digests are compared in constant
// time. A password longer than Limits.MaxPasswordBytes never matches.
func (i *Imported) Verify(password string) bool {
	return len(password) <= i.maxBytes && i.verify(password)
}

// ParseImport validates in and returns its verifier. Encodings, by type:
//
//   - bcrypt: the modular-crypt string "$2a$"/"$2b$"/"$2y$"+cost+salt+hash.
//     bcrypt reads only the first 72 bytes of a password, as every bcrypt
//     implementation that made such hashes did.
//   - md_5, sha_1, sha_512: the digest of prepend_salt+password+append_salt,
//     as hex (either case) or as standard base64; the config is optional.
//   - argon_2i, argon_2id: the encoded string "$argon2id$v=19$m=…,t=…,p=…$salt$hash"
//     (standard base64 without padding, as the reference encoder writes), or
//     the raw hash in hex with argon_2_config.
//   - scrypt: a PHC string "$scrypt$ln=<log2 N>,r=…,p=…$salt$hash", or the
//     derived key in base64 with scrypt_config.
//   - pbkdf_2: the derived key in base64 with pbkdf_2_config (required).
//   - phpass: the portable "$P$"/"$H$" string (WordPress, phpBB, Drupal 7).
func ParseImport(in Import, lim Limits) (*Imported, error) {
	if in.Hash == "" {
		return nil, &ConfigError{"hash", "is required"}
	}
	if len(in.Hash) > lim.MaxHashLength {
		return nil, &ConfigError{"hash", fmt.Sprintf("is longer than %d characters", lim.MaxHashLength)}
	}
	var (
		verify func(string) bool
		err    error
	)
	switch in.HashType {
	case HashBcrypt:
		verify, err = parseBcrypt(in.Hash, lim)
	case HashMD5:
		verify, err = parseSaltedDigest(in.Hash, in.MD5Config, md5.New)
	case HashSHA1:
		verify, err = parseSaltedDigest(in.Hash, in.SHA1Config, sha1.New)
	case HashSHA512:
		verify, err = parseSaltedDigest(in.Hash, in.SHA512Config, sha512.New)
	case HashArgon2i, HashArgon2id:
		verify, err = parseArgon2Import(in.HashType, in.Hash, in.Argon2Config, lim)
	case HashScrypt:
		verify, err = parseScrypt(in.Hash, in.ScryptConfig, lim)
	case HashPBKDF2:
		verify, err = parsePBKDF2(in.Hash, in.PBKDF2Config, lim)
	case HashPHPass:
		verify, err = parsePHPass(in.Hash, lim)
	case "":
		return nil, &ConfigError{"hash_type", "is required"}
	default:
		return nil, &ConfigError{"hash_type", "must be one of bcrypt, md_5, argon_2i, argon_2id, sha_1, sha_512, scrypt, phpass, pbkdf_2"}
	}
	if err != nil {
		return nil, err
	}
	return &Imported{typ: in.HashType, verify: verify, maxBytes: lim.MaxPasswordBytes}, nil
}

func parseBcrypt(h string, lim Limits) (func(string) bool, error) {
	cost, err := bcrypt.Cost([]byte(h))
	if err != nil {
		return nil, &ConfigError{"hash", "is not a bcrypt string ($2a$, $2b$ or $2y$, cost, 53 characters of salt and hash)"}
	}
	if cost > lim.MaxBcryptCost {
		return nil, &ConfigError{"hash", fmt.Sprintf("bcrypt cost is above the limit of %d", lim.MaxBcryptCost)}
	}
	stored := []byte(h)
	return func(password string) bool {
		return bcrypt.CompareHashAndPassword(stored, []byte(password)) == nil
	}, nil
}

func parseSaltedDigest(h string, cfg *SaltConfig, newHash func() hash.Hash) (func(string) bool, error) {
	size := newHash().Size()
	want, ok := decodeDigest(h, size)
	if !ok {
		return nil, &ConfigError{"hash", fmt.Sprintf("must be the %d-byte digest in hex or base64", size)}
	}
	var prepend, appendSalt string
	if cfg != nil {
		prepend, appendSalt = cfg.PrependSalt, cfg.AppendSalt
	}
	return func(password string) bool {
		d := newHash()
		d.Write([]byte(prepend))
		d.Write([]byte(password))
		d.Write([]byte(appendSalt))
		return subtle.ConstantTimeCompare(d.Sum(nil), want) == 1
	}, nil
}

// decodeDigest reads a digest of size bytes written in hex or in standard
// base64 (padded or not). The two cannot be confused: hex is 2·size long,
// base64 about 1.33·size.
func decodeDigest(s string, size int) ([]byte, bool) {
	if len(s) == 2*size {
		if b, err := hex.DecodeString(s); err == nil {
			return b, true
		}
	}
	if b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err == nil && len(b) == size {
		return b, true
	}
	return nil, false
}

func parseArgon2Import(t HashType, h string, cfg *Argon2Config, lim Limits) (func(string) bool, error) {
	want := argon2idVariant
	if t == HashArgon2i {
		want = argon2iVariant
	}
	if strings.HasPrefix(h, "$") {
		a, err := parseArgon2Encoded(h, lim)
		if err != nil {
			return nil, &ConfigError{"hash", err.Error()}
		}
		if a.variant != want {
			return nil, &ConfigError{"hash", "the encoded argon2 variant does not match hash_type"}
		}
		return a.verify, nil
	}
	if cfg == nil {
		return nil, &ConfigError{"argon_2_config", "is required when the hash is not an encoded $argon2 string"}
	}
	key, err := hex.DecodeString(h)
	if err != nil {
		return nil, &ConfigError{"hash", "must be an encoded $argon2 string or the raw hash in hex"}
	}
	switch {
	case cfg.IterationAmount < 1:
		return nil, &ConfigError{"argon_2_config.iteration_amount", "must be at least 1"}
	case cfg.Memory < 1:
		return nil, &ConfigError{"argon_2_config.memory", "must be at least 1"}
	case cfg.Threads < 1 || cfg.Threads > 255:
		return nil, &ConfigError{"argon_2_config.threads", "must be between 1 and 255"}
	case cfg.KeyLength != len(key):
		return nil, &ConfigError{"argon_2_config.key_length", "does not match the length of the hash"}
	case cfg.Memory > int(lim.MaxArgon2MemoryKiB):
		return nil, &ConfigError{"argon_2_config.memory", fmt.Sprintf("is above the limit of %d KiB", lim.MaxArgon2MemoryKiB)}
	case cfg.IterationAmount > int(lim.MaxArgon2Iterations):
		return nil, &ConfigError{"argon_2_config.iteration_amount", fmt.Sprintf("is above the limit of %d", lim.MaxArgon2Iterations)}
	}
	a := &argon2Hash{
		//nolint:gosec // each value was checked against its bounds (positive, at most a Limits field or 255) above
		variant: want, memory: uint32(cfg.Memory), iterations: uint32(cfg.IterationAmount),
		threads: uint8(cfg.Threads), salt: []byte(cfg.Salt), key: key,
	}
	if err := lim.checkArgon2(a); err != nil {
		field := "argon_2_config"
		switch {
		case len(a.salt) < 8:
			field = "argon_2_config.salt"
		case len(a.key) < 4:
			field = "hash"
		case a.memory < 8*uint32(a.threads):
			field = "argon_2_config.memory"
		}
		return nil, &ConfigError{field, err.Error()}
	}
	return a.verify, nil
}

func parseScrypt(h string, cfg *ScryptConfig, lim Limits) (func(string) bool, error) {
	var (
		salt, key []byte
		n, r, p   int
	)
	if strings.HasPrefix(h, "$") {
		parts := strings.Split(h, "$")
		if len(parts) != 5 || parts[1] != "scrypt" {
			return nil, &ConfigError{"hash", "must be a PHC string $scrypt$ln=…,r=…,p=…$salt$hash, or the key in base64 with scrypt_config"}
		}
		kv, err := parseKV(parts[2], "ln", "r", "p")
		if err != nil {
			return nil, &ConfigError{"hash", err.Error()}
		}
		if kv["ln"] > 62 {
			return nil, &ConfigError{"hash", "scrypt ln is too large"}
		}
		n, r, p = 1<<kv["ln"], int(kv["r"]), int(kv["p"])
		if err := lim.checkScrypt(n, r, p, "hash (ln)", "hash (r)", "hash (p)"); err != nil {
			return nil, err
		}
		if salt, err = decodePHCBase64(parts[3]); err != nil {
			return nil, &ConfigError{"hash", "the scrypt salt is not base64"}
		}
		if key, err = decodePHCBase64(parts[4]); err != nil || len(key) == 0 {
			return nil, &ConfigError{"hash", "the scrypt key is not base64"}
		}
	} else {
		if cfg == nil {
			return nil, &ConfigError{"scrypt_config", "is required when the hash is not a PHC $scrypt string"}
		}
		var err error
		if key, err = decodeStdBase64(h); err != nil || len(key) == 0 {
			return nil, &ConfigError{"hash", "must be the scrypt key in base64"}
		}
		if salt, err = decodeStdBase64(cfg.Salt); err != nil {
			return nil, &ConfigError{"scrypt_config.salt", "is not base64"}
		}
		n, r, p = cfg.NParameter, cfg.RParameter, cfg.PParameter
		if err := lim.checkScrypt(n, r, p, "scrypt_config.n_parameter", "scrypt_config.r_parameter", "scrypt_config.p_parameter"); err != nil {
			return nil, err
		}
		if cfg.KeyLength != len(key) {
			return nil, &ConfigError{"scrypt_config.key_length", "does not match the length of the hash"}
		}
	}
	return func(password string) bool {
		got, err := scrypt.Key([]byte(password), salt, n, r, p, len(key))
		return err == nil && subtle.ConstantTimeCompare(got, key) == 1
	}, nil
}

func parsePBKDF2(h string, cfg *PBKDF2Config, lim Limits) (func(string) bool, error) {
	if cfg == nil {
		return nil, &ConfigError{"pbkdf_2_config", "is required for pbkdf_2"}
	}
	key, err := decodeStdBase64(h)
	if err != nil || len(key) == 0 {
		return nil, &ConfigError{"hash", "must be the PBKDF2 key in base64"}
	}
	salt, err := decodeStdBase64(cfg.Salt)
	if err != nil {
		return nil, &ConfigError{"pbkdf_2_config.salt", "is not base64"}
	}
	var newHash func() hash.Hash
	switch strings.ToLower(cfg.Algorithm) {
	case "", "sha256":
		newHash = sha256.New
	case "sha512":
		newHash = sha512.New
	default:
		return nil, &ConfigError{"pbkdf_2_config.algorithm", "must be sha256 or sha512"}
	}
	blocks := (len(key) + newHash().Size() - 1) / newHash().Size()
	switch {
	case cfg.IterationAmount < 1 || cfg.IterationAmount > lim.MaxPBKDF2Iterations/blocks:
		return nil, &ConfigError{"pbkdf_2_config.iteration_amount", fmt.Sprintf("must be between 1 and %d for this key length", lim.MaxPBKDF2Iterations/blocks)}
	case cfg.KeyLength != len(key):
		return nil, &ConfigError{"pbkdf_2_config.key_length", "does not match the length of the hash"}
	}
	iter := cfg.IterationAmount
	return func(password string) bool {
		got, err := pbkdf2.Key(newHash, password, salt, iter, len(key))
		return err == nil && subtle.ConstantTimeCompare(got, key) == 1
	}, nil
}

// decodeStdBase64 reads standard base64 with or without padding.
func decodeStdBase64(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// phpass: the "portable" hashes of the PHP phpass library (WordPress,
// phpBB3, Drupal 7's imports): "$P$" (or "$H$"), one character giving log2 of
// the round count, 8 characters of salt, then 22 characters encoding the 16
// bytes of
//
//	h = MD5(salt ‖ password); repeat 2^count times: h = MD5(h ‖ password)
//
// in phpass's own little-endian base64 over the alphabet below. It is written
// here by hand: golang.org/x/crypto has no phpass, we found no maintained Go
// module that has, and the algorithm is a dozen lines over crypto/md5 that
// the tests check against an independent implementation (passlib).
const phpassAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func parsePHPass(h string, lim Limits) (func(string) bool, error) {
	if len(h) != 34 || (!strings.HasPrefix(h, "$P$") && !strings.HasPrefix(h, "$H$")) {
		return nil, &ConfigError{"hash", "must be a 34-character phpass string starting $P$ or $H$"}
	}
	log2 := strings.IndexByte(phpassAlphabet, h[3])
	if log2 < 7 || log2 > 30 {
		return nil, &ConfigError{"hash", "the phpass round count must be between 2^7 and 2^30"}
	}
	if log2 > lim.MaxPHPassLog2Rounds {
		return nil, &ConfigError{"hash", "the phpass round count is above the limit of 2^" + strconv.Itoa(lim.MaxPHPassLog2Rounds)}
	}
	for i := 12; i < len(h); i++ {
		if strings.IndexByte(phpassAlphabet, h[i]) < 0 {
			return nil, &ConfigError{"hash", "the phpass checksum has a character outside its alphabet"}
		}
	}
	salt, want := h[4:12], []byte(h[12:])
	rounds := 1 << log2
	return func(password string) bool {
		return subtle.ConstantTimeCompare([]byte(phpassChecksum(password, salt, rounds)), want) == 1
	}, nil
}

func phpassChecksum(password, salt string, rounds int) string {
	sum := md5.Sum([]byte(salt + password)) //nolint:gosec // phpass is MD5 by definition
	buf := make([]byte, md5.Size+len(password))
	copy(buf[md5.Size:], password)
	for range rounds {
		copy(buf, sum[:])
		sum = md5.Sum(buf) //nolint:gosec // phpass is MD5 by definition
	}
	return phpassEncode(sum[:])
}

// phpassEncode is phpass's base64: each group of up to three bytes is read
// as a little-endian integer and written six bits at a time, low bits first,
// as len(group)+1 characters (16 bytes give 22 characters).
func phpassEncode(b []byte) string {
	var out strings.Builder
	for len(b) > 0 {
		n := min(3, len(b))
		var v uint32
		for i := range n {
			v |= uint32(b[i]) << (8 * i)
		}
		for i := range n + 1 {
			out.WriteByte(phpassAlphabet[(v>>(6*i))&0x3f])
		}
		b = b[n:]
	}
	return out.String()
}
