package testkit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestClockMovesOnlyByHand(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := testkit.NewClock(start)
	assert.Equal(t, start, c.Now())
	assert.Equal(t, start, c.Now(), "time does not pass by itself")
	c.Advance(90 * time.Second)
	assert.Equal(t, start.Add(90*time.Second), c.Now())
	c.Advance(-time.Minute)
	assert.Equal(t, start.Add(30*time.Second), c.Now())

	// Read and moved from many goroutines at once (the race detector checks the locking).
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			c.Advance(time.Second)
			_ = c.Now()
		})
	}
	wg.Wait()
	assert.Equal(t, start.Add(38*time.Second), c.Now())
}

func TestLogBufferCollectsConcurrentWrites(t *testing.T) {
	var b testkit.LogBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { _, _ = fmt.Fprintf(&b, "line %d\n", i) })
	}
	wg.Wait()
	assert.Equal(t, 8, strings.Count(b.String(), "line "))
	copied := b.Bytes()
	_, _ = b.Write([]byte("later\n"))
	assert.NotContains(t, copied.String(), "later", "Bytes is a copy")
	assert.Contains(t, b.String(), "later")
}

func TestCounterSum(t *testing.T) {
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { require.NoError(t, mp.Shutdown(context.Background())) })
	assert.Zero(t, testkit.CounterSum(t, r, "errors"), "nothing recorded yet")

	c, err := mp.Meter("test").Int64Counter("errors")
	require.NoError(t, err)
	op := func(v string) metric.AddOption {
		return metric.WithAttributes(attribute.String("op", v), attribute.String("x", "y"))
	}
	c.Add(t.Context(), 2, op("revoke"))
	c.Add(t.Context(), 3, op("check"))
	c.Add(t.Context(), 1, op("check"))

	assert.Equal(t, int64(6), testkit.CounterSum(t, r, "errors"))
	assert.Equal(t, int64(4), testkit.CounterSum(t, r, "errors", attribute.String("op", "check")))
	assert.Equal(t, int64(2), testkit.CounterSum(t, r, "errors", attribute.String("op", "revoke"), attribute.String("x", "y")))
	assert.Zero(t, testkit.CounterSum(t, r, "errors", attribute.String("op", "revoke"), attribute.String("x", "z")))
	assert.Zero(t, testkit.CounterSum(t, r, "other"))
}

func TestEmulatorClientAndMemberSession(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	emu := testkit.Emulator(t, stytchemu.WithSandbox(), stytchemu.WithStartTime(start))
	client := testkit.Client(t, emu, func(c *stytchclient.Config) { c.Version = "testkit" })
	s := testkit.MemberSession(t, emu, stytchemu.SandboxOrganizationID, stytchemu.MemberParams{Email: "kit@example.com", Roles: []string{"stytch_admin"}})

	res, err := client.SessionsAuthenticate(t.Context(), stytchclient.SessionsAuthenticateParams{SessionToken: s.Token})
	require.NoError(t, err)
	assert.Equal(t, s.MemberID, res.MemberSession.MemberID)
	assert.Equal(t, "kit@example.com", res.Member.EmailAddress)
	assert.Contains(t, res.MemberSession.Roles, "stytch_admin")
	assert.Equal(t, start.Add(time.Hour), s.ExpiresAt, "the emulator's default session length")
	assert.WithinDuration(t, s.ExpiresAt, res.MemberSession.ExpiresAt.Time, time.Second)
}
