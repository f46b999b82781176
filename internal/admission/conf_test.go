package admission_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/config/setting"
)

func loadConf(env map[string]string) (admission.Conf, error) {
	var c admission.Conf
	err := setting.FromEnv(&c, func(k string) string { return env[k] })
	return c, err
}

func TestAdmissionDefaults(t *testing.T) {
	c, err := loadConf(nil)
	require.NoError(t, err)
	assert.False(t, c.Off)
	assert.Empty(t, c.TrustedProxies)
	assert.Equal(t, admission.FailClosed, c.Policy.SendsOnStoreError)
	assert.Equal(t, admission.FailLocal, c.Policy.ChecksOnStoreError)
	assert.Empty(t, c.Limits)
	assert.Equal(t, admission.DefaultPolicy(), c.Policy, "no budget overridden")
}

func TestAdmissionSettings(t *testing.T) {
	c, err := loadConf(map[string]string{
		"AUTHSVC_ADMISSION":         "off",
		"AUTHSVC_TRUSTED_PROXIES":   "10.0.0.0/8, 192.0.2.7 ,2001:db8::/32",
		"AUTHSVC_REDIS_FAIL_SENDS":  "open",
		"AUTHSVC_REDIS_FAIL_CHECKS": "Closed",
		"AUTHSVC_ADMISSION_LIMITS":  " send_email=10/10m,send_ip.burst=200 ",
	})
	require.NoError(t, err)
	assert.True(t, c.Off)
	assert.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32"),
	}, c.TrustedProxies)
	assert.Equal(t, admission.FailOpen, c.Policy.SendsOnStoreError)
	assert.Equal(t, admission.FailClosed, c.Policy.ChecksOnStoreError)
	assert.Equal(t, "send_email=10/10m,send_ip.burst=200", c.Limits)

	// Parsed once, into what admission.New takes.
	want := admission.DefaultPolicy()
	require.NoError(t, want.Override("send_email=10/10m,send_ip.burst=200"))
	want.SendsOnStoreError, want.ChecksOnStoreError = admission.FailOpen, admission.FailClosed
	assert.Equal(t, want, c.Policy)
}

// The refusal of AUTHSVC_ADMISSION=off in production spans sections: internal/config tests it.
func TestAdmissionInvalid(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"mode":        {map[string]string{"AUTHSVC_ADMISSION": "maybe"}, "AUTHSVC_ADMISSION: "},
		"proxy":       {map[string]string{"AUTHSVC_TRUSTED_PROXIES": "10.0.0.0/8,lb.internal"}, "AUTHSVC_TRUSTED_PROXIES: \"lb.internal\""},
		"fail sends":  {map[string]string{"AUTHSVC_REDIS_FAIL_SENDS": "sometimes"}, "AUTHSVC_REDIS_FAIL_SENDS: "},
		"fail checks": {map[string]string{"AUTHSVC_REDIS_FAIL_CHECKS": ""}, ""},
		"limits":      {map[string]string{"AUTHSVC_ADMISSION_LIMITS": "send_email=10 per 10m"}, `AUTHSVC_ADMISSION_LIMITS: send_email: "10 per 10m": want COUNT/PERIOD`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadConf(tc.env)
			if tc.want == "" { // an empty value means the default
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// A Conf built in code gets the same checks as one loaded, naming the variable.
func TestAdmissionValidate(t *testing.T) {
	var c admission.Conf
	c.SetDefaults()
	require.NoError(t, c.Validate())

	c.Policy.ChecksOnStoreError = "sometimes"
	require.ErrorContains(t, c.Validate(), "AUTHSVC_REDIS_FAIL_CHECKS: ")

	c.SetDefaults()
	c.Policy.SendPerEmail.Events = 0
	err := c.Validate()
	require.ErrorContains(t, err, "AUTHSVC_ADMISSION_LIMITS: ")
	assert.NotContains(t, err.Error(), "\n")
}
