package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/authsvc/authsvc/internal/admission"
)

// Admission configures admission control (internal/admission): who is the client, the budgets,
// and what to do when Redis cannot answer.
type Admission struct {
	// Off disables rate limits (load tests); refused when AUTHSVC_ENV=production.
	Off bool
	// TrustedProxies are the load balancers and ingress proxies whose X-Forwarded-For entries are
	// believed (loopback, the REST gateway's own hop, is always trusted).
	TrustedProxies []netip.Prefix
	// RedisFailSends and RedisFailChecks are open, closed or local: what sends and checks do when
	// Redis cannot answer.
	RedisFailSends  string
	RedisFailChecks string
	// Limits overrides budgets of admission.DefaultPolicy (admission.Policy.Override's syntax,
	// e.g. "send_email=10/10m,check_failures_target=3/15m"); empty keeps the defaults. It has
	// been checked: Override accepts it.
	Limits string
}

// admissionRaw holds the text of the admission settings until they are validated.
type admissionRaw struct {
	mode, proxies, failSends, failChecks, limits string
}

func (r *admissionRaw) settings() []setting {
	return []setting{
		{"AUTHSVC_ADMISSION", "admission", "on", "rate limits on, or off for load tests (refused in production)", &r.mode, false},
		{"AUTHSVC_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated CIDRs or IPs of proxies whose X-Forwarded-For is believed", &r.proxies, false},
		{"AUTHSVC_REDIS_FAIL_SENDS", "redis-fail-sends", "closed", "when Redis is down, sends (emails, SMS) are: closed (refused), open (unlimited) or local (per-replica limits)", &r.failSends, false},
		{"AUTHSVC_REDIS_FAIL_CHECKS", "redis-fail-checks", "local", "when Redis is down, code/token checks are: local (per-replica limits), open or closed", &r.failChecks, false},
		{"AUTHSVC_ADMISSION_LIMITS", "admission-limits", "", "budget overrides, e.g. send_email=10/10m,send_ip.burst=200,check_failures_target=3/15m (names as in authsvc_admission_rejections_total)", &r.limits, false},
	}
}

func (c *Config) loadAdmission(r admissionRaw) error {
	switch r.mode {
	case "on":
	case "off":
		if c.Env == EnvProduction {
			return errors.New("AUTHSVC_ADMISSION: off is refused when AUTHSVC_ENV=production")
		}
		c.Admission.Off = true
	default:
		return fmt.Errorf("AUTHSVC_ADMISSION: %q is neither on nor off", r.mode)
	}
	for _, p := range splitList(r.proxies) {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return fmt.Errorf("AUTHSVC_TRUSTED_PROXIES: %q is neither a CIDR nor an IP address", p)
			}
			prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		c.Admission.TrustedProxies = append(c.Admission.TrustedProxies, prefix.Masked())
	}
	for name, v := range map[string]*string{"AUTHSVC_REDIS_FAIL_SENDS": &r.failSends, "AUTHSVC_REDIS_FAIL_CHECKS": &r.failChecks} {
		*v = strings.ToLower(strings.TrimSpace(*v))
		switch *v {
		case "open", "closed", "local":
		default:
			return fmt.Errorf("%s: %q is not one of open, closed, local", name, *v)
		}
	}
	c.Admission.RedisFailSends, c.Admission.RedisFailChecks = r.failSends, r.failChecks
	policy := admission.DefaultPolicy()
	if err := policy.Override(r.limits); err != nil {
		return fmt.Errorf("AUTHSVC_ADMISSION_LIMITS: %w", err)
	}
	c.Admission.Limits = strings.TrimSpace(r.limits)
	return nil
}
