package backoff_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/backoff"
)

func TestDelayDoublesUpToMax(t *testing.T) {
	p := backoff.Policy{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	want := []time.Duration{0, 100, 200, 400, 800, 1600, 3200, 5000, 5000}
	for n, w := range want {
		assert.Equal(t, w*time.Millisecond, p.Delay(n), "after %d failures", n)
	}
	assert.Equal(t, 5*time.Second, p.Delay(1_000_000), "no overflow however long the failures last")
	assert.Zero(t, p.Delay(-1))

	odd := backoff.Policy{Min: 2, Max: 5}
	assert.Equal(t, []time.Duration{2, 4, 5}, []time.Duration{odd.Delay(1), odd.Delay(2), odd.Delay(3)})
	assert.Equal(t, time.Duration(5), backoff.Policy{Min: 9, Max: 5}.Delay(1), "Max caps even the first wait")
	assert.Zero(t, backoff.Policy{Max: time.Second}.Delay(3), "no Min: no wait")
}

func TestJitterStaysWithinItsRange(t *testing.T) {
	full := backoff.Policy{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond, Jitter: backoff.FullJitter}
	equal := backoff.Policy{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond, Jitter: backoff.EqualJitter}
	exact := backoff.Policy{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}
	for n := 1; n <= 40; n++ {
		ceiling := exact.Delay(n)
		var spread bool
		for range 50 {
			f := full.Delay(n)
			require.GreaterOrEqual(t, f, time.Duration(0))
			require.LessOrEqual(t, f, ceiling)
			e := equal.Delay(n)
			require.GreaterOrEqual(t, e, ceiling/2)
			require.LessOrEqual(t, e, ceiling)
			spread = spread || f != full.Delay(n)
		}
		assert.True(t, spread, "after %d failures the waits vary", n)
	}
}

func TestSleep(t *testing.T) {
	require.NoError(t, backoff.Sleep(t.Context(), time.Millisecond))
	require.NoError(t, backoff.Sleep(t.Context(), 0))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, backoff.Sleep(ctx, time.Hour), context.Canceled, "an ended context cuts the wait")
	require.ErrorIs(t, backoff.Sleep(ctx, 0), context.Canceled)
}
