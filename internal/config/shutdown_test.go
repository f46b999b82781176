package config

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDrainDelay(t *testing.T) {
	prod := map[string]string{"STYTCH_PROJECT_ID": "p", "STYTCH_SECRET": "s", "AUTHSVC_ENV": "production"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want time.Duration
	}{
		{"development stops at once", nil, nil, 0},
		{"production drains by default", nil, prod, 5 * time.Second},
		{"production may turn it off", nil, map[string]string{"STYTCH_PROJECT_ID": "p", "STYTCH_SECRET": "s", "AUTHSVC_ENV": "production", "AUTHSVC_DRAIN_DELAY": "0s"}, 0},
		{"from the environment", nil, map[string]string{"AUTHSVC_DRAIN_DELAY": "2s"}, 2 * time.Second},
		{"the flag wins", []string{"-drain-delay", "3s"}, map[string]string{"AUTHSVC_DRAIN_DELAY": "2s"}, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, envOf(tt.env), io.Discard)
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.Server.DrainDelay)
		})
	}
	for _, bad := range []string{"soon", "-1s", "5"} {
		_, err := Load(nil, envOf(map[string]string{"AUTHSVC_DRAIN_DELAY": bad}), io.Discard)
		require.Error(t, err, bad)
		assert.Regexp(t, "^AUTHSVC_DRAIN_DELAY: ", err.Error())
	}
}
