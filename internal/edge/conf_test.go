package edge_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/config/setting"
	"github.com/authsvc/authsvc/internal/edge"
)

func TestConf(t *testing.T) {
	var c edge.Conf
	require.NoError(t, setting.FromEnv(&c, func(string) string { return "" }))
	assert.Empty(t, c.RulesFile, "unset: the edge is off")
	assert.Equal(t, edge.DefaultHeaders, c.Headers)

	env := map[string]string{edge.EnvRules: " /etc/authsvc/rules.yaml ", edge.EnvHeaders: "subject=x-user-id"}
	require.NoError(t, setting.FromEnv(&c, func(k string) string { return env[k] }))
	assert.Equal(t, "/etc/authsvc/rules.yaml", c.RulesFile)
	assert.Equal(t, "x-user-id", c.Headers.Subject)
	assert.Equal(t, edge.DefaultHeaders.Organization, c.Headers.Organization)

	env[edge.EnvHeaders] = "subject=x-authsvc-rule"
	err := setting.FromEnv(&c, func(k string) string { return env[k] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), edge.EnvHeaders+": ")
}
