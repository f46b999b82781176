package idempotency_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/idempotency"
	"github.com/authsvc/authsvc/internal/testkit"
)

// A full MemoryStore drops the record used least recently, whatever the records' expiries, and a
// record past its expiry is claimed afresh.
func TestMemoryStoreDropsTheLeastRecentlyUsed(t *testing.T) {
	clk := testkit.NewClock(time.Now())
	s := idempotency.NewMemoryStore(2, clk.Now)
	ctx := t.Context()
	begin := func(key string) bool {
		t.Helper()
		_, claimed, err := s.Begin(ctx, key, []byte(key), time.Minute)
		require.NoError(t, err)
		return claimed
	}
	require.True(t, begin("a"))
	require.True(t, begin("b"))
	require.NoError(t, s.Complete(ctx, "b", idempotency.Record{Hash: []byte("b"), Done: true}, time.Hour))
	assert.False(t, begin("a"), "a is held, and now used more recently than b")
	require.True(t, begin("c")) // over capacity: b goes, although it expires last

	assert.False(t, begin("a"))
	assert.False(t, begin("c"))
	assert.True(t, begin("b"), "b was dropped")

	clk.Advance(time.Minute)
	assert.True(t, begin("c"), "an expired claim is claimed again")
}
