package edge

import (
	"strings"

	"github.com/authsvc/authsvc/internal/config/setting"
)

// The variables of the edge section.
const (
	EnvRules   = "AUTHSVC_EDGE_RULES"
	EnvHeaders = "AUTHSVC_EDGE_HEADERS"
)

// Conf is the edge section of the configuration.
type Conf struct {
	// RulesFile is the rules file's path; empty turns the edge off (the Check service answers
	// UNIMPLEMENTED and /ext_authz 404, both saying so).
	RulesFile string
	// Headers are the identity headers' names (defaults, with AUTHSVC_EDGE_HEADERS' renames).
	Headers HeaderNames
}

// Key implements setting.Section.
func (*Conf) Key() string { return "edge" }

// Vars implements setting.Section.
func (c *Conf) Vars() []setting.Var {
	return []setting.Var{
		{Env: EnvRules, Flag: "edge-rules", Usage: "YAML rules file of the edge authorizer (Envoy ext_authz Check, forward auth at /ext_authz); reloaded on change; empty: the edge is off", Set: func(s string) error {
			c.RulesFile = strings.TrimSpace(s)
			return nil
		}},
		{Env: EnvHeaders, Flag: "edge-headers", Usage: "renames of the identity headers set for the upstream, e.g. subject=x-user-id,organization=x-tenant (keys: subject, organization, roles, scopes, session, kind, rule)", Set: func(s string) error {
			h, err := ParseHeaderNames(s)
			if err != nil {
				return err
			}
			c.Headers = h
			return nil
		}},
	}
}

// SetDefaults implements setting.Section: the edge off, the default header names.
func (c *Conf) SetDefaults() { *c = Conf{Headers: DefaultHeaders} }

// Validate implements setting.Section.
func (c *Conf) Validate() error {
	h, err := c.Headers.withDefaults()
	if err != nil {
		return setting.Named(EnvHeaders, err)
	}
	c.Headers = h
	return nil
}
