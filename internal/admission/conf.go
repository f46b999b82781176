package admission

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/authsvc/authsvc/internal/config/setting"
)

// The variables of the admission section, for the messages of other packages that mention them.
const (
	EnvMode           = "AUTHSVC_ADMISSION"
	EnvTrustedProxies = "AUTHSVC_TRUSTED_PROXIES"
	EnvFailSends      = "AUTHSVC_REDIS_FAIL_SENDS"
	EnvFailChecks     = "AUTHSVC_REDIS_FAIL_CHECKS"
	EnvLimits         = "AUTHSVC_ADMISSION_LIMITS"
)

// Conf is the admission section of the configuration, parsed once into what New takes: who the
// client is, the budgets, and what to do when Redis cannot answer. internal/config refuses Off in
// production (a rule across sections).
type Conf struct {
	// Off disables rate limits (AUTHSVC_ADMISSION=off, for load tests).
	Off bool
	// TrustedProxies are the load balancers and ingress proxies whose X-Forwarded-For entries are
	// believed (loopback, the REST gateway's own hop, is always trusted); for NewIPResolver.
	TrustedProxies []netip.Prefix
	// Policy is DefaultPolicy with the overrides of AUTHSVC_ADMISSION_LIMITS and the fail modes of
	// AUTHSVC_REDIS_FAIL_SENDS and AUTHSVC_REDIS_FAIL_CHECKS: Config.Policy.
	Policy Policy
	// Limits is AUTHSVC_ADMISSION_LIMITS as given, trimmed (Policy.Override's syntax, e.g.
	// "send_email=10/10m,check_failures_target=3/15m"); Policy already holds it. Empty: the
	// defaults.
	Limits string
}

// Key implements setting.Section.
func (*Conf) Key() string { return "admission" }

// Vars implements setting.Section.
func (c *Conf) Vars() []setting.Var {
	return []setting.Var{
		{Env: EnvMode, Flag: "admission", Default: "on", Usage: "rate limits on, or off for load tests (refused in production)", Set: c.setMode},
		{Env: EnvTrustedProxies, Flag: "trusted-proxies", Usage: "comma-separated CIDRs or IPs of proxies whose X-Forwarded-For is believed", Set: c.setProxies},
		{Env: EnvFailSends, Flag: "redis-fail-sends", Default: string(FailClosed), Usage: "when Redis is down, sends (emails, SMS) are: closed (refused), open (unlimited) or local (per-replica limits)", Set: c.failMode(&c.Policy.SendsOnStoreError)},
		{Env: EnvFailChecks, Flag: "redis-fail-checks", Default: string(FailLocal), Usage: "when Redis is down, code/token checks are: local (per-replica limits), open or closed", Set: c.failMode(&c.Policy.ChecksOnStoreError)},
		{Env: EnvLimits, Flag: "admission-limits", Usage: "budget overrides, e.g. send_email=10/10m,send_ip.burst=200,check_failures_target=3/15m (names as in authsvc_admission_rejections_total)", Set: c.setLimits},
	}
}

// SetDefaults implements setting.Section: limits on with DefaultPolicy, no proxy trusted.
func (c *Conf) SetDefaults() { *c = Conf{Policy: DefaultPolicy()} }

// Validate implements setting.Section: a Conf built in code may hold a policy Set would refuse.
func (c *Conf) Validate() error {
	modes := []struct {
		env  string
		mode FailMode
	}{{EnvFailSends, c.Policy.SendsOnStoreError}, {EnvFailChecks, c.Policy.ChecksOnStoreError}}
	for _, m := range modes {
		if _, err := ParseFailMode(string(m.mode)); err != nil {
			return setting.Named(m.env, err)
		}
	}
	if err := c.Policy.Validate(); err != nil {
		// One line, as every configuration error (errors.Join puts one per line).
		return fmt.Errorf("%s: %s", EnvLimits, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

func (c *Conf) setMode(s string) error {
	switch s {
	case "on":
		c.Off = false
	case "off":
		c.Off = true
	default:
		return fmt.Errorf("%q is neither on nor off", s)
	}
	return nil
}

func (c *Conf) setProxies(s string) error {
	c.TrustedProxies = nil
	for _, p := range setting.List(s) {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return fmt.Errorf("%q is neither a CIDR nor an IP address", p)
			}
			prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}
	return nil
}

func (*Conf) failMode(dst *FailMode) func(string) error {
	return func(s string) error {
		m, err := ParseFailMode(strings.ToLower(strings.TrimSpace(s)))
		if err != nil {
			return err
		}
		*dst = m
		return nil
	}
}

// setLimits applies the overrides to the policy, which Override leaves unchanged on error.
func (c *Conf) setLimits(s string) error {
	if err := c.Policy.Override(s); err != nil {
		return err
	}
	c.Limits = strings.TrimSpace(s)
	return nil
}
