package admission

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/testkit"
)

// newClock is the clock of the store tests, at a fixed start.
func newClock() *testkit.Clock { return testkit.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }

func TestMemoryTake(t *testing.T) {
	clk := newClock()
	s := NewMemoryStore(0, clk.Now)
	r := Rate{Events: 5, Per: 10 * time.Minute}
	for i := range 5 {
		d, err := s.Take(t.Context(), "k", r)
		require.NoError(t, err)
		require.True(t, d.Allowed, "event %d", i+1)
	}
	d, err := s.Take(t.Context(), "k", r)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Equal(t, 2*time.Minute, d.RetryAfter, "one event comes back every 10m/5")

	other, err := s.Take(t.Context(), "other", r)
	require.NoError(t, err)
	assert.True(t, other.Allowed, "keys are independent")

	clk.Advance(time.Minute)
	d, err = s.Take(t.Context(), "k", r)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Equal(t, time.Minute, d.RetryAfter)
	clk.Advance(time.Minute)
	d, err = s.Take(t.Context(), "k", r)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
}

func TestMemoryReserveRefund(t *testing.T) {
	clk := newClock()
	s := NewMemoryStore(0, clk.Now)
	f := Failures{Max: 3, Window: 10 * time.Minute}
	for range 3 {
		d, err := s.Reserve(t.Context(), "k", f)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	}
	d, err := s.Reserve(t.Context(), "k", f)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Equal(t, 10*time.Minute, d.RetryAfter)

	require.NoError(t, s.Refund(t.Context(), "k", f))
	d, err = s.Reserve(t.Context(), "k", f)
	require.NoError(t, err)
	assert.True(t, d.Allowed, "a refunded attempt is available again")

	clk.Advance(4 * time.Minute)
	d, err = s.Reserve(t.Context(), "k", f)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Equal(t, 6*time.Minute, d.RetryAfter, "the window runs from the first failure")

	clk.Advance(6 * time.Minute)
	d, err = s.Reserve(t.Context(), "k", f)
	require.NoError(t, err)
	assert.True(t, d.Allowed, "a new window")
	require.NoError(t, s.Refund(t.Context(), "unknown", f), "refunding a key never reserved is harmless")
}

func TestMemoryPeekFail(t *testing.T) {
	clk := newClock()
	testPeekFail(t, NewMemoryStore(0, clk.Now), func(d time.Duration) { clk.Advance(d) })
}

// testPeekFail checks after-the-fact failure counting; advance moves the store's clock (nil: the
// store keeps real time and the window is not waited out).
func testPeekFail(t *testing.T, s Store, advance func(time.Duration)) {
	t.Helper()
	f := Failures{Max: 2, Window: 10 * time.Minute}
	for range 3 {
		d, err := s.Peek(t.Context(), "k", f)
		require.NoError(t, err)
		require.True(t, d.Allowed, "peeking counts nothing")
	}
	require.NoError(t, s.Fail(t.Context(), "k", f))
	d, err := s.Peek(t.Context(), "k", f)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	require.NoError(t, s.Fail(t.Context(), "k", f))
	d, err = s.Peek(t.Context(), "k", f)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Greater(t, d.RetryAfter, 9*time.Minute)
	assert.LessOrEqual(t, d.RetryAfter, 10*time.Minute)
	if advance != nil {
		advance(10 * time.Minute)
		d, err = s.Peek(t.Context(), "k", f)
		require.NoError(t, err)
		assert.True(t, d.Allowed, "a new window")
	}
}

func TestMemoryIsBounded(t *testing.T) {
	s := NewMemoryStore(64, nil)
	for i := range 10_000 {
		_, err := s.Take(t.Context(), fmt.Sprint("k", i), Rate{Events: 1, Per: time.Hour})
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, s.Len(), 64)
	assert.Positive(t, s.Len())
}
