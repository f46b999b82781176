package admission_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/admission"
)

func TestPolicyOverride(t *testing.T) {
	p := admission.DefaultPolicy()
	require.NoError(t, p.Override(" send_email=10/15m, send_ip.burst=200 ,check_failures_target=3/1h,phone_prefix_digits=5,,check_ip=600/1m"))

	want := admission.DefaultPolicy()
	want.SendPerEmail = admission.Rate{Events: 10, Per: 15 * time.Minute}
	want.SendPerIP.Burst = 200
	want.CheckFailuresPerTarget = admission.Failures{Max: 3, Window: time.Hour}
	want.PhonePrefixDigits = 5
	want.CheckPerIP = admission.Rate{Events: 600, Per: time.Minute}
	assert.Equal(t, want, p, "only the named budgets change")

	empty := admission.DefaultPolicy()
	require.NoError(t, empty.Override(""))
	assert.Equal(t, admission.DefaultPolicy(), empty)
}

func TestPolicyOverrideReportsEveryMistakeOnOneLine(t *testing.T) {
	p := admission.DefaultPolicy()
	err := p.Override("send_mail=5/10m,send_phone=3")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "\n")
	assert.Contains(t, err.Error(), "send_mail: no such limit")
	assert.Contains(t, err.Error(), `send_phone: "3": want COUNT/PERIOD`)
}

func TestPolicyOverrideRefusesBadSpecs(t *testing.T) {
	for spec, wantErr := range map[string]string{
		"send_mail=5/10m":                   `send_mail: no such limit (known: send_ip, send_email`,
		"send_mail=5":                       `send_mail: no such limit`,
		"send_email":                        `"send_email": want name=value`,
		"send_email=5":                      `send_email: "5": want COUNT/PERIOD`,
		"send_email=0/10m":                  `send_email: "0/10m": count must be a positive`,
		"send_email=5/ten minutes":          `send_email: "5/ten minutes": period must be a positive duration`,
		"send_email=5/-1m":                  `period must be a positive duration`,
		"send_email=5/10m,send_email=6/10m": `send_email: set twice`,
		"check_failures_ip.burst=3":         `no rate limit "check_failures_ip" has a burst`,
		"send_ip.burst=0":                   `send_ip.burst: burst "0": want a positive whole number`,
		"phone_prefix_digits=20":            `phone prefix digits 20: must be 1 to 15`,
		"phone_prefix_digits=six":           `phone_prefix_digits: "six": want a whole number`,
		"send_ip=5/1ns":                     `more than one event per nanosecond`,
	} {
		t.Run(spec, func(t *testing.T) {
			p := admission.DefaultPolicy()
			err := p.Override("send_phone=1/1h," + spec)
			require.ErrorContains(t, err, wantErr)
			assert.Equal(t, admission.DefaultPolicy(), p, "a refused spec changes nothing, not even its valid entries")
		})
	}
}
