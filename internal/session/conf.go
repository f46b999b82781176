package session

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/authsvc/authsvc/internal/config/setting"
)

// EnvCacheSize is the variable that bounds each project's verified-token cache.
const EnvCacheSize = "AUTHSVC_SESSION_CACHE_SIZE"

// Cache sizes: the default, and the largest accepted.
const (
	DefaultCacheSize = 10_000
	MaxCacheSize     = 1_000_000
)

// Conf is the session section of the configuration: how many verified tokens each session checker
// (one per Stytch project) keeps, so a JWT seen before is answered without a signature check. An
// entry holds the token's decoded claims: ~3 KB for a member or user session like the emulator's
// (2.9 and 2.8 KB, BenchmarkCacheEntryBytes in internal/stytchclient/verify), so the default
// 10 000 entries cost up to ~30 MB per project, plus the garbage collector's headroom (as much
// again at GOGC=100).
// 0 turns the cache off: every check verifies the signature (~35 µs of CPU).
type Conf struct {
	// CacheSize is the number of entries per project, 0 for no cache.
	CacheSize int
}

// Key implements setting.Section.
func (*Conf) Key() string { return "session" }

// Vars implements setting.Section.
func (c *Conf) Vars() []setting.Var {
	return []setting.Var{{
		Env: EnvCacheSize, Flag: "session-cache-size", Default: strconv.Itoa(DefaultCacheSize),
		Usage: fmt.Sprintf("verified session and M2M tokens kept per Stytch project (~3 KB each); 0 verifies every token's signature; at most %d", MaxCacheSize),
		Set:   c.setCacheSize,
	}}
}

// SetDefaults implements setting.Section.
func (c *Conf) SetDefaults() { *c = Conf{CacheSize: DefaultCacheSize} }

// Validate implements setting.Section.
func (c *Conf) Validate() error { return setting.Named(EnvCacheSize, checkCacheSize(c.CacheSize)) }

func (c *Conf) setCacheSize(text string) error {
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		return fmt.Errorf("%q is not a whole number", text)
	}
	if err := checkCacheSize(n); err != nil {
		return err
	}
	c.CacheSize = n
	return nil
}

// checkCacheSize is the one range rule of the setting, for the text given and for Validate.
func checkCacheSize(n int) error {
	if n < 0 || n > MaxCacheSize {
		return fmt.Errorf("%d is not between 0 and %d", n, MaxCacheSize)
	}
	return nil
}

// CheckerCacheSize is the Config.CacheSize a Checker gets for this setting (which spells "no
// cache" as a negative size).
func (c Conf) CheckerCacheSize() int {
	if c.CacheSize == 0 {
		return -1
	}
	return c.CacheSize
}
