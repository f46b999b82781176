// Package setting is the contract between internal/config and the packages whose settings it
// loads, after Cerbos' configuration sections: a package that has settings declares them in its
// conf.go as a type implementing Section, and internal/config composes the sections (environment
// variables, flags, the rules that span sections such as dev mode's and production's).
//
// The package imports nothing of authsvc, so that the packages configured can import it while
// internal/config imports them.
package setting

import (
	"errors"
	"fmt"
	"strings"
)

// Var is one setting: an environment variable and the flag of the same meaning.
type Var struct {
	// Env is the environment variable, e.g. AUTHSVC_REDIS_URL. It starts every error about the
	// setting, so that the one line printed at startup tells the operator what to fix.
	Env string
	// Flag is the flag's name without the dash, e.g. redis-url.
	Flag string
	// Usage is the flag's help text (the variable's name is appended).
	Usage string
	// Default is what an unset variable means, as text: -help shows it. SetDefaults sets the same
	// value (config's tests check that both agree). Empty when the default is none or depends on
	// other settings (Usage says how).
	Default string
	// Bool makes the flag alone mean true (-dev-listen-public).
	Bool bool
	// Redact, when set, is how -help shows a value given in the environment: the setting can hold
	// a secret (STYTCH_SECRET; a password in AUTHSVC_REDIS_URL), and -help output lands in
	// terminals, CI logs and support tickets. Hidden shows nothing; nil shows the value as is.
	Redact func(text string) string
	// Set parses text the operator gave (the flag's, else the variable's) into the section. It is
	// the one place that text is read; it is not called when neither was given. Its error does not
	// name the variable: the loader puts the name first.
	Set func(text string) error
}

// Hidden is the Redact of a setting that is a secret as a whole: -help says it is set, no more.
func Hidden(string) string { return "<hidden>" }

// Section is one package's settings. The loader calls SetDefaults, then Set for each Var given,
// then Validate.
type Section interface {
	// Key names the section (admission, redis, server, ...) in the loader's own errors.
	Key() string
	// Vars lists the section's settings, bound to the section's fields.
	Vars() []Var
	// SetDefaults sets every field to what its unset variable means.
	SetDefaults()
	// Validate checks the section as a whole: rules between its own settings, and values a
	// section built in code (tests) could hold that Set would have refused. Its errors start with
	// the variable's name.
	Validate() error
}

// FromEnv fills sec from getenv alone, as internal/config does without flags and without the rules
// that span sections: SetDefaults, Set for each variable that is not empty, Validate. Tests of one
// section use it.
func FromEnv(sec Section, getenv func(string) string) error {
	sec.SetDefaults()
	for _, v := range sec.Vars() {
		if text := getenv(v.Env); text != "" {
			if err := v.Set(text); err != nil {
				return Named(v.Env, err)
			}
		}
	}
	return sec.Validate()
}

// Named puts the variable's name before err: the form of every configuration error.
func Named(env string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", env, err)
}

// ErrDuplicate is returned by Check when two settings share a variable or flag.
var ErrDuplicate = errors.New("setting: registered twice")

// Check reports the first variable or flag that more than one Var of secs declares: a mistake in
// code, which the loader refuses before reading anything.
func Check(secs ...Section) error {
	envs, flags := map[string]string{}, map[string]string{}
	for _, s := range secs {
		for _, v := range s.Vars() {
			if prev, ok := envs[v.Env]; ok {
				return fmt.Errorf("%w: %s in sections %q and %q", ErrDuplicate, v.Env, prev, s.Key())
			}
			if prev, ok := flags[v.Flag]; ok {
				return fmt.Errorf("%w: -%s in sections %q and %q", ErrDuplicate, v.Flag, prev, s.Key())
			}
			envs[v.Env], flags[v.Flag] = s.Key(), s.Key()
		}
	}
	return nil
}

// List splits a comma-separated setting, trimming spaces and dropping empty entries.
func List(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
