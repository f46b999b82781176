package redistest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/internal/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartStopRestart(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	require.NoError(t, c.Set(t.Context(), "k", "v", 0).Err())
	v, err := c.Get(t.Context(), "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "v", v)

	srv.Stop(t)
	require.Error(t, c.Ping(t.Context()).Err(), "stopped server still answers")

	srv.Restart(t)
	require.NoError(t, c.Ping(t.Context()).Err())
	assert.Equal(t, int64(0), c.Exists(t.Context(), "k").Val(), "nothing persists across a restart")
}
