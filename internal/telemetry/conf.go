package telemetry

import (
	"fmt"

	"github.com/authsvc/authsvc/internal/config/setting"
)

// EnvLogLevel is the variable of the log level.
const EnvLogLevel = "AUTHSVC_LOG_LEVEL"

// Conf is the telemetry section of the configuration: the log level. The exporters, samplers and
// resource come from the standard OTEL_* variables, which Setup reads and checks itself.
type Conf struct {
	// LogLevel is what Config.LogLevel takes: a level ParseLevel accepts.
	LogLevel string
}

// Key implements setting.Section.
func (*Conf) Key() string { return "telemetry" }

// Vars implements setting.Section.
func (c *Conf) Vars() []setting.Var {
	return []setting.Var{{Env: EnvLogLevel, Flag: "log-level", Default: "info", Usage: "debug, info, warn or error", Set: func(s string) error {
		c.LogLevel = s
		return nil
	}}}
}

// SetDefaults implements setting.Section.
func (c *Conf) SetDefaults() { c.LogLevel = "info" }

// Validate implements setting.Section. It checks the level with the parser Setup uses, so that
// what the configuration accepts and what Setup accepts cannot drift apart; Setup converts it.
func (c *Conf) Validate() error {
	if _, err := ParseLevel(c.LogLevel); err != nil {
		return fmt.Errorf("%s: %q is not one of debug, info, warn, error", EnvLogLevel, c.LogLevel)
	}
	return nil
}
