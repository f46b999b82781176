package config

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

func loadWith(t *testing.T, env map[string]string) (*Config, error) {
	t.Helper()
	return Load(nil, func(k string) string { return env[k] }, io.Discard)
}

// The admission section's own settings are tested in internal/admission (conf_test.go); what spans
// sections is here.
func TestAdmissionOffRefusedInProduction(t *testing.T) {
	_, err := loadWith(t, map[string]string{"AUTHSVC_ADMISSION": "off", "AUTHSVC_ENV": "production", "STYTCH_PROJECT_ID": "project-live-x", "STYTCH_SECRET": "s"})
	require.ErrorContains(t, err, "AUTHSVC_ADMISSION: off is refused")

	c, err := loadWith(t, map[string]string{"AUTHSVC_ADMISSION": "off"})
	require.NoError(t, err)
	require.True(t, c.Admission.Off, "development may turn it off")
}
