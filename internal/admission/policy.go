package admission

import (
	"errors"
	"fmt"
	"time"
)

// Limit names: the metric label (authsvc_admission_rejections_total{limit}) and the Redis key
// prefix of each budget.
const (
	// Sends: calls that make Stytch send an email or an SMS (toll fraud, mail bombing).
	LimitSendIP          = "send_ip"
	LimitSendEmail       = "send_email"
	LimitSendPhone       = "send_phone"
	LimitSendPhonePrefix = "send_phone_prefix"
	LimitSendCaller      = "send_caller"
	// Checks: calls that check a code, link token or secret (brute force).
	LimitCheckIP             = "check_ip"
	LimitCheckFailuresTarget = "check_failures_target"
	LimitCheckFailuresIP     = "check_failures_ip"
	// LimitCheckFailuresRecovery counts wrong TOTP recovery codes per user apart from
	// check_failures_target, so that an attacker who spends a user's budget of wrong 6-digit codes
	// does not also lock the user out of their recovery codes (each a 62-bit secret).
	LimitCheckFailuresRecovery = "check_failures_recovery"
	// Remote session checks: a session credential that only Stytch can decide (an opaque token, an
	// expired JWT), counted when Stytch rejects it, so random tokens cannot become unthrottled
	// calls to Stytch.
	LimitSessionRemoteFailuresIP     = "session_remote_failures_ip"
	LimitSessionRemoteFailuresCaller = "session_remote_failures_caller"
)

// Class is the kind of call a limit protects; each class has its own Redis failure policy.
type Class int

const (
	// ClassSend is a call with a cost per call: an email, an SMS.
	ClassSend Class = iota + 1
	// ClassCheck is a call that checks a secret someone might guess.
	ClassCheck
)

func (c Class) String() string {
	switch c {
	case ClassSend:
		return "send"
	case ClassCheck:
		return "check"
	default:
		return "unknown"
	}
}

// Rate is a token-bucket budget (GCRA): Events per Per on average, at most Burst at once (zero:
// Events). "5 per 10 min" allows 5 at once and then one every 2 minutes.
type Rate struct {
	Events int
	Per    time.Duration
	Burst  int
}

func (r Rate) burst() int {
	if r.Burst > 0 {
		return r.Burst
	}
	return r.Events
}

// interval is the time one event's budget takes to come back.
func (r Rate) interval() time.Duration { return r.Per / time.Duration(r.Events) }

func (r Rate) validate() error {
	if r.Events <= 0 || r.Per <= 0 || r.Burst < 0 {
		return fmt.Errorf("rate %d per %s (burst %d): events and period must be positive", r.Events, r.Per, r.Burst)
	}
	if r.Per < time.Duration(r.Events) {
		return fmt.Errorf("rate %d per %s: more than one event per nanosecond", r.Events, r.Per)
	}
	return nil
}

// Failures is a lockout budget: at most Max failed checks per Window, counted from the first
// failure of the window. By default attempts are reserved when they start and given back when they
// turn out not to be failures, so that concurrent guesses cannot all slip through before the first
// one fails; an Apply with After counts failures only once they happen (see Apply.After).
type Failures struct {
	Max    int
	Window time.Duration
}

func (f Failures) validate() error {
	if f.Max <= 0 || f.Window <= 0 {
		return fmt.Errorf("failures %d per %s: must be positive", f.Max, f.Window)
	}
	return nil
}

// FailMode is what admission control does when its shared store (Redis) cannot answer.
type FailMode string

const (
	// FailOpen admits the call unlimited.
	FailOpen FailMode = "open"
	// FailClosed refuses the call with UNAVAILABLE.
	FailClosed FailMode = "closed"
	// FailLocal falls back to this replica's in-memory budgets: still limited, but each replica
	// counts on its own (N replicas allow up to N times the budget) until Redis answers again.
	FailLocal FailMode = "local"
)

// ParseFailMode parses open, closed or local.
func ParseFailMode(s string) (FailMode, error) {
	switch m := FailMode(s); m {
	case FailOpen, FailClosed, FailLocal:
		return m, nil
	default:
		return "", fmt.Errorf("%q is not one of open, closed, local", s)
	}
}

// Policy holds every budget and the Redis failure policy. The zero value is not usable; start from
// DefaultPolicy.
type Policy struct {
	// SendPerIP bounds all sends from one client IP (IPv6: per /64).
	SendPerIP Rate
	// SendPerEmail bounds emails to one address (any RPC that emails it).
	SendPerEmail Rate
	// SendPerPhone bounds SMS to one number (or to one member, when the request names no number).
	SendPerPhone Rate
	// SendPerPhonePrefix bounds SMS to numbers sharing their first PhonePrefixDigits digits
	// (country code and leading digits): toll fraud pumps premium ranges, not one number.
	SendPerPhonePrefix Rate
	// PhonePrefixDigits is how many leading digits of an E.164 number form its prefix.
	PhonePrefixDigits int
	// SendPerCaller bounds sends by one authenticated caller (a member or an M2M client), when the
	// access layer identified one.
	SendPerCaller Rate
	// CheckPerIP bounds all code, link and secret checks from one client IP, failed or not.
	CheckPerIP Rate
	// CheckFailuresPerTarget locks a target (a member, an email address, an M2M client from one IP)
	// after this many failed checks.
	CheckFailuresPerTarget Failures
	// CheckFailuresPerIP bounds failed checks from one client IP over all targets (link tokens have
	// no target to lock).
	CheckFailuresPerIP Failures
	// CheckFailuresPerRecovery locks a user's recovery codes after this many wrong ones.
	CheckFailuresPerRecovery Failures
	// SessionRemoteFailuresPerIP and SessionRemoteFailuresPerCaller bound the session credentials
	// Stytch rejects, per client IP and per authenticated caller, whichever RPC checks them (the
	// session checker spends them before each remote check; see internal/session).
	SessionRemoteFailuresPerIP     Failures
	SessionRemoteFailuresPerCaller Failures

	// OnStoreError says what each class of call does when Redis cannot answer.
	SendsOnStoreError  FailMode
	ChecksOnStoreError FailMode
}

// DefaultPolicy returns the default budgets, chosen so that a person logging in never meets them and
// a script meets them within seconds:
//
//	send_ip                60 per minute          (a NAT of many people, each sending one link)
//	send_email             5 per 10 minutes       (a few resends; then one every 2 minutes)
//	send_phone             3 per 10 minutes       (SMS cost money; then one every ~3 minutes)
//	send_phone_prefix      30 per 10 minutes      (per first 6 digits, e.g. +44 7700 / +1 415 55)
//	send_caller            120 per minute         (an admin or a service inviting in bulk)
//	check_ip               120 per minute         (all checks, failed or not)
//	check_failures_target  5 failures / 10 minutes per member, email address or M2M client+IP
//	check_failures_ip      50 failures / 10 minutes per IP
//	check_failures_recovery  5 wrong TOTP recovery codes / 10 minutes per user
//	session_remote_failures_ip      30 rejected session credentials / 10 minutes per IP
//	session_remote_failures_caller  30 rejected session credentials / 10 minutes per caller
//
// When Redis fails, sends fail closed (an outage must not become an SMS bill) and checks fall back
// to per-replica limits (logins keep working; brute force stays bounded per replica).
func DefaultPolicy() Policy {
	return Policy{
		SendPerIP:                      Rate{Events: 60, Per: time.Minute},
		SendPerEmail:                   Rate{Events: 5, Per: 10 * time.Minute},
		SendPerPhone:                   Rate{Events: 3, Per: 10 * time.Minute},
		SendPerPhonePrefix:             Rate{Events: 30, Per: 10 * time.Minute},
		PhonePrefixDigits:              6,
		SendPerCaller:                  Rate{Events: 120, Per: time.Minute},
		CheckPerIP:                     Rate{Events: 120, Per: time.Minute},
		CheckFailuresPerTarget:         Failures{Max: 5, Window: 10 * time.Minute},
		CheckFailuresPerIP:             Failures{Max: 50, Window: 10 * time.Minute},
		CheckFailuresPerRecovery:       Failures{Max: 5, Window: 10 * time.Minute},
		SessionRemoteFailuresPerIP:     Failures{Max: 30, Window: 10 * time.Minute},
		SessionRemoteFailuresPerCaller: Failures{Max: 30, Window: 10 * time.Minute},
		SendsOnStoreError:              FailClosed,
		ChecksOnStoreError:             FailLocal,
	}
}

// Validate reports the first unusable value.
func (p Policy) Validate() error {
	var errs []error
	for name, r := range map[string]Rate{
		LimitSendIP: p.SendPerIP, LimitSendEmail: p.SendPerEmail, LimitSendPhone: p.SendPerPhone,
		LimitSendPhonePrefix: p.SendPerPhonePrefix, LimitSendCaller: p.SendPerCaller, LimitCheckIP: p.CheckPerIP,
	} {
		if err := r.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	for _, name := range failureLimits {
		f, _ := p.failures(name)
		if err := f.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if p.PhonePrefixDigits < 1 || p.PhonePrefixDigits > 15 {
		errs = append(errs, fmt.Errorf("phone prefix digits %d: must be 1 to 15", p.PhonePrefixDigits))
	}
	for _, m := range []FailMode{p.SendsOnStoreError, p.ChecksOnStoreError} {
		if _, err := ParseFailMode(string(m)); err != nil {
			errs = append(errs, fmt.Errorf("fail mode: %w", err))
		}
	}
	return errors.Join(errs...)
}

// rate returns the Rate of a rate limit by name.
func (p Policy) rate(limit string) (Rate, bool) {
	if r := p.ratePtr(limit); r != nil {
		return *r, true
	}
	return Rate{}, false
}

// failures returns the Failures of a lockout limit by name.
func (p Policy) failures(limit string) (Failures, bool) {
	if f := p.failuresPtr(limit); f != nil {
		return *f, true
	}
	return Failures{}, false
}

// failureLimits are the names of the lockout budgets, in the order error messages list them.
var failureLimits = []string{LimitCheckFailuresTarget, LimitCheckFailuresIP, LimitCheckFailuresRecovery, LimitSessionRemoteFailuresIP, LimitSessionRemoteFailuresCaller}

// failuresPtr is the one switch from a lockout limit's name to its budget.
func (p *Policy) failuresPtr(name string) *Failures {
	switch name {
	case LimitCheckFailuresTarget:
		return &p.CheckFailuresPerTarget
	case LimitCheckFailuresIP:
		return &p.CheckFailuresPerIP
	case LimitCheckFailuresRecovery:
		return &p.CheckFailuresPerRecovery
	case LimitSessionRemoteFailuresIP:
		return &p.SessionRemoteFailuresPerIP
	case LimitSessionRemoteFailuresCaller:
		return &p.SessionRemoteFailuresPerCaller
	}
	return nil
}

// classOf is the class of a limit.
func classOf(limit string) Class {
	switch limit {
	case LimitCheckIP, LimitCheckFailuresTarget, LimitCheckFailuresIP, LimitCheckFailuresRecovery, LimitSessionRemoteFailuresIP, LimitSessionRemoteFailuresCaller:
		return ClassCheck
	default:
		return ClassSend
	}
}

func (p Policy) onStoreError(c Class) FailMode {
	if c == ClassCheck {
		return p.ChecksOnStoreError
	}
	return p.SendsOnStoreError
}
