// Package config reads authsvc's configuration from environment variables and command-line flags and
// validates it before anything starts.
//
// Every setting has an environment variable (12-factor deployments) and a flag with the same meaning
// (local runs, tests); a flag given on the command line wins over the environment. Validation stops at
// the first bad setting with one line that names the variable, so an operator reading a crash-looping
// pod's log knows what to fix without reading code.
package config
