package passwords

import (
	"errors"
	"fmt"
)

// Limits cap the costs an imported or stored hash may ask for. An imported
// hash names its own work factor; without caps one planted import (bcrypt
// cost 31, argon2 with 4 GiB, a billion PBKDF2 rounds) would let each login
// attempt burn minutes of CPU or gigabytes of memory in the emulator.
type Limits struct {
	MaxBcryptCost        int    // bcrypt cost (log2 rounds)
	MaxArgon2MemoryKiB   uint32 // argon2 m
	MaxArgon2Iterations  uint32 // argon2 t
	MaxScryptMemoryBytes int64  // 128·N·r, the memory scrypt allocates
	MaxScryptN           int    // Stytch's documented ceiling for N
	MaxScryptP           int    // scrypt p
	MaxPBKDF2Iterations  int    // PBKDF2 rounds times output blocks
	MaxPHPassLog2Rounds  int    // phpass count: 2^n MD5 rounds
	MaxHashLength        int    // characters of an imported hash string
	// MaxPasswordBytes bounds the password an imported hash is checked
	// against: phpass hashes the whole password once per round, so a
	// megabyte password at 2^18 rounds would be a quarter terabyte of MD5.
	// A longer password never matches.
	MaxPasswordBytes int
}

// DefaultLimits admit the costs real systems use (bcrypt 10-14, argon2id at
// 64 MiB, scrypt N=2^17 r=8, PBKDF2 at 600k rounds, WordPress phpass at 2^8)
// with room above, and refuse what no login can afford. Each cap is a few
// seconds of CPU on a laptop at most.
func DefaultLimits() Limits {
	return Limits{
		MaxBcryptCost:        16,
		MaxArgon2MemoryKiB:   256 * 1024,
		MaxArgon2Iterations:  16,
		MaxScryptMemoryBytes: 256 << 20,
		MaxScryptN:           1 << 18,
		MaxScryptP:           16,
		MaxPBKDF2Iterations:  5_000_000,
		MaxPHPassLog2Rounds:  18,
		MaxHashLength:        1024,
		MaxPasswordBytes:     1024,
	}
}

func (lim Limits) checkArgon2(a *argon2Hash) error {
	switch {
	case a.memory > lim.MaxArgon2MemoryKiB:
		return fmt.Errorf("argon2 memory above the limit of %d KiB", lim.MaxArgon2MemoryKiB)
	case a.iterations > lim.MaxArgon2Iterations:
		return fmt.Errorf("argon2 iterations above the limit of %d", lim.MaxArgon2Iterations)
	case a.memory < 8*uint32(a.threads):
		return errors.New("argon2 memory must be at least 8 KiB per thread")
	case len(a.salt) < 8:
		return errors.New("argon2 salt must be at least 8 bytes")
	case len(a.key) < 4:
		return errors.New("argon2 hash must be at least 4 bytes")
	}
	return nil
}

// checkScrypt validates scrypt costs; nField, rField and pField are the
// request fields (or PHC parameters) they came from.
func (lim Limits) checkScrypt(n, r, p int, nField, rField, pField string) error {
	switch {
	case n <= 1 || n&(n-1) != 0 || n > lim.MaxScryptN:
		return &ConfigError{nField, fmt.Sprintf("must be a power of two greater than 1 and at most %d", lim.MaxScryptN)}
	case r < 1:
		return &ConfigError{rField, "must be at least 1"}
	case p < 1 || p > lim.MaxScryptP:
		return &ConfigError{pField, fmt.Sprintf("must be between 1 and %d", lim.MaxScryptP)}
	case int64(r) > lim.MaxScryptMemoryBytes/(128*int64(n)): // 128·N·r, without overflow
		return &ConfigError{rField, fmt.Sprintf("128·N·r is above the memory limit of %d bytes", lim.MaxScryptMemoryBytes)}
	}
	return nil
}
