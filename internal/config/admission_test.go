package config

import (
	"io"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loadWith(t *testing.T, env map[string]string) (*Config, error) {
	t.Helper()
	return Load(nil, func(k string) string { return env[k] }, io.Discard)
}

func TestAdmissionDefaults(t *testing.T) {
	c, err := loadWith(t, nil)
	require.NoError(t, err)
	assert.Equal(t, Admission{RedisFailSends: "closed", RedisFailChecks: "local"}, c.Admission)
}

func TestAdmissionSettings(t *testing.T) {
	c, err := loadWith(t, map[string]string{
		"AUTHSVC_ADMISSION":         "off",
		"AUTHSVC_TRUSTED_PROXIES":   "10.0.0.0/8, 192.0.2.7 ,2001:db8::/32",
		"AUTHSVC_REDIS_FAIL_SENDS":  "open",
		"AUTHSVC_REDIS_FAIL_CHECKS": "Closed",
		"AUTHSVC_ADMISSION_LIMITS":  " send_email=10/10m,send_ip.burst=200 ",
	})
	require.NoError(t, err)
	assert.True(t, c.Admission.Off)
	assert.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32"),
	}, c.Admission.TrustedProxies)
	assert.Equal(t, "open", c.Admission.RedisFailSends)
	assert.Equal(t, "closed", c.Admission.RedisFailChecks)
	assert.Equal(t, "send_email=10/10m,send_ip.burst=200", c.Admission.Limits)
}

func TestAdmissionInvalid(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"mode":        {map[string]string{"AUTHSVC_ADMISSION": "maybe"}, "AUTHSVC_ADMISSION: "},
		"off in prod": {map[string]string{"AUTHSVC_ADMISSION": "off", "AUTHSVC_ENV": "production", "STYTCH_PROJECT_ID": "project-live-x", "STYTCH_SECRET": "s"}, "AUTHSVC_ADMISSION: off is refused"},
		"proxy":       {map[string]string{"AUTHSVC_TRUSTED_PROXIES": "10.0.0.0/8,lb.internal"}, "AUTHSVC_TRUSTED_PROXIES: \"lb.internal\""},
		"fail sends":  {map[string]string{"AUTHSVC_REDIS_FAIL_SENDS": "sometimes"}, "AUTHSVC_REDIS_FAIL_SENDS: "},
		"fail checks": {map[string]string{"AUTHSVC_REDIS_FAIL_CHECKS": ""}, ""},
		"limits":      {map[string]string{"AUTHSVC_ADMISSION_LIMITS": "send_email=10 per 10m"}, `AUTHSVC_ADMISSION_LIMITS: send_email: "10 per 10m": want COUNT/PERIOD`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadWith(t, tc.env)
			if tc.want == "" { // an empty value means the default
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}
