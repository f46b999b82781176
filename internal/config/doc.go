// Package config reads authsvc's configuration from environment variables and command-line flags and
// validates it before anything starts.
//
// Every setting has an environment variable (12-factor deployments) and a flag with the same meaning
// (local runs, tests); a flag given on the command line wins over the environment. Validation stops at
// the first bad setting with one line that names the variable, so an operator reading a crash-looping
// pod's log knows what to fix without reading code.
//
// Each package with settings owns them, after Cerbos' configuration sections: its conf.go has a
// Conf type with Key, Vars, SetDefaults and Validate (the contract is internal/config/setting), and
// parses each setting once into what the package needs. internal/server (listen addresses, TLS,
// shutdown), internal/telemetry (log level), internal/redisclient (AUTHSVC_REDIS_URL),
// internal/admission (limits, fail modes, trusted proxies) and internal/idempotency (keys) have
// sections. This package owns the settings that decide the mode (Stytch's, AUTHSVC_ENV) and the
// REST surface (redirect URLs, CORS, cookies), registers every section's variables and flags,
// applies the defaults that depend on the mode (dev mode listens on loopback, production drains
// for 5s), and enforces the rules that span sections (production refusals, dev mode's
// loopback-only listeners).
package config
