package admission

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Override changes budgets of p from spec, the text of AUTHSVC_ADMISSION_LIMITS: a comma-separated
// list of name=value, where name is a limit's name (the label of
// authsvc_admission_rejections_total, so the limit an operator sees refusing calls is the one they
// tune):
//
//	send_ip, send_email, send_phone,            EVENTS/PERIOD, e.g. send_email=10/10m
//	send_phone_prefix, send_caller, check_ip    (PERIOD is a Go duration: 30s, 10m, 1h)
//	NAME.burst                                  the rate's burst, e.g. send_ip.burst=200
//	check_failures_target, check_failures_ip,   MAX/WINDOW, e.g. check_failures_target=5/15m
//	session_remote_failures_ip,
//	session_remote_failures_caller
//	phone_prefix_digits                         a number of leading digits, 1 to 15
//
// Limits not named keep their value. Setting a rate keeps its burst unless NAME.burst is given
// (zero burst means the rate's event count). The result is validated; on any error p is unchanged
// and the error names the entry.
func (p *Policy) Override(spec string) error {
	out := *p
	seen := map[string]bool{}
	var errs []error
	for entry := range strings.SplitSeq(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, value, ok := strings.Cut(entry, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			errs = append(errs, fmt.Errorf("%q: want name=value", entry))
			continue
		}
		if seen[name] {
			errs = append(errs, fmt.Errorf("%s: set twice", name))
			continue
		}
		seen[name] = true
		if err := out.set(name, value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if len(errs) == 0 {
		if err := out.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		// One line, as a configuration error should be (errors.Join would put one per line).
		msgs := make([]string, 0, len(errs))
		for _, e := range errs {
			msgs = append(msgs, strings.ReplaceAll(e.Error(), "\n", "; "))
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	*p = out
	return nil
}

// rateLimits are the names of the rate budgets, in the order the error message lists them.
var rateLimits = []string{LimitSendIP, LimitSendEmail, LimitSendPhone, LimitSendPhonePrefix, LimitSendCaller, LimitCheckIP}

func (p *Policy) set(name, value string) error {
	if base, ok := strings.CutSuffix(name, ".burst"); ok {
		r := p.ratePtr(base)
		if r == nil {
			return fmt.Errorf("no rate limit %q has a burst (rate limits: %s)", base, strings.Join(rateLimits, ", "))
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return fmt.Errorf("burst %q: want a positive whole number", value)
		}
		r.Burst = n
		return nil
	}
	if name == "phone_prefix_digits" {
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("%q: want a whole number", value)
		}
		p.PhonePrefixDigits = n
		return nil
	}
	r, f := p.ratePtr(name), p.failuresPtr(name)
	if r == nil && f == nil {
		known := slices.Concat(rateLimits, failureLimits, []string{"phone_prefix_digits"})
		return fmt.Errorf("no such limit (known: %s)", strings.Join(known, ", "))
	}
	n, d, err := parsePerPeriod(value)
	if err != nil {
		return err
	}
	if r != nil {
		r.Events, r.Per = n, d
	} else {
		*f = Failures{Max: n, Window: d}
	}
	return nil
}

// parsePerPeriod parses "5/10m".
func parsePerPeriod(value string) (int, time.Duration, error) {
	count, period, ok := strings.Cut(value, "/")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want COUNT/PERIOD, e.g. 5/10m", value)
	}
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil || n < 1 {
		return 0, 0, fmt.Errorf("%q: count must be a positive whole number", value)
	}
	d, err := time.ParseDuration(strings.TrimSpace(period))
	if err != nil || d <= 0 {
		return 0, 0, fmt.Errorf("%q: period must be a positive duration such as 30s, 10m or 1h", value)
	}
	return n, d, nil
}

func (p *Policy) ratePtr(name string) *Rate {
	switch name {
	case LimitSendIP:
		return &p.SendPerIP
	case LimitSendEmail:
		return &p.SendPerEmail
	case LimitSendPhone:
		return &p.SendPerPhone
	case LimitSendPhonePrefix:
		return &p.SendPerPhonePrefix
	case LimitSendCaller:
		return &p.SendPerCaller
	case LimitCheckIP:
		return &p.CheckPerIP
	}
	return nil
}
