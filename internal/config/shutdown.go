package config

import (
	"fmt"
	"time"
)

// defaultProductionDrainDelay is long enough for Kubernetes' endpoint controllers, kube-proxy and
// ingress controllers to stop sending new connections to a terminating pod (a few seconds in practice).
const defaultProductionDrainDelay = 5 * time.Second

type drainRaw struct{ delay string }

func (r *drainRaw) settings() []setting {
	return []setting{
		{"AUTHSVC_DRAIN_DELAY", "drain-delay", "", "on shutdown, how long to keep serving with readiness failing before the listeners close (default: 5s when AUTHSVC_ENV=production, else 0)", &r.delay, false},
	}
}

// loadDrain sets DrainDelay. A process run by hand or by tests stops at once; a production deployment
// keeps serving a little while so that load balancers take it out of rotation before its listeners
// close (see internal/server's shutdown).
func (c *Config) loadDrain(r drainRaw) error {
	if r.delay == "" {
		if c.Env == EnvProduction {
			c.DrainDelay = defaultProductionDrainDelay
		}
		return nil
	}
	d, err := time.ParseDuration(r.delay)
	if err != nil || d < 0 {
		return fmt.Errorf("AUTHSVC_DRAIN_DELAY: %q is not a non-negative duration such as 5s", r.delay)
	}
	c.DrainDelay = d
	return nil
}
