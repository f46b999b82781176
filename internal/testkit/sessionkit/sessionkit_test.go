package sessionkit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
	"github.com/authsvc/authsvc/internal/testkit/sessionkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The wiring checks a genuine session JWT locally, and an expired one with Stytch, with the
// emulator's clock.
func TestCheckerChecksWithTheEmulator(t *testing.T) {
	emu := testkit.Emulator(t, stytchemu.WithSandbox(), stytchemu.WithStartTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	client := testkit.Client(t, emu)
	keys := sessionkit.JWKS(t, emu, client)
	assert.Positive(t, keys.KeyCount())
	var mutated bool
	checker := sessionkit.Checker(t, emu, client, keys, func(*session.Config) { mutated = true })
	assert.True(t, mutated)

	s := testkit.MemberSession(t, emu, stytchemu.SandboxOrganizationID, stytchemu.MemberParams{Email: "kit@example.com"})
	res, err := checker.Check(t.Context(), session.Request{JWT: s.JWT})
	require.NoError(t, err)
	assert.Equal(t, session.PathLocal, res.Path)
	assert.Equal(t, s.MemberID, res.Session.MemberID)

	emu.Advance(6 * time.Minute) // past the JWT's 5 minutes, on the checker's clock too
	res, err = checker.Check(t.Context(), session.Request{JWT: s.JWT})
	require.NoError(t, err)
	assert.Equal(t, session.PathRemote, res.Path, "an expired JWT of a live session is Stytch's to decide")
}
