package testkit

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// Emulator starts a Stytch emulator on loopback, closed when the test ends.
func Emulator(t testing.TB, opts ...stytchemu.Option) *stytchemu.Server {
	t.Helper()
	emu, err := stytchemu.Start(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, emu.Close()) })
	return emu
}

// Client returns the production Stytch client for emu's project, over real HTTP; mutate adjusts
// its configuration first.
func Client(t testing.TB, emu *stytchemu.Server, mutate ...func(*stytchclient.Config)) *stytchclient.Client {
	t.Helper()
	cfg := stytchclient.Config{ProjectID: emu.ProjectID(), Secret: emu.Secret(), BaseURL: emu.URL}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := stytchclient.New(cfg)
	require.NoError(t, err)
	return c
}

// MemberSession creates a member of orgID and a live session for it, of the emulator's default
// length (60 minutes).
func MemberSession(t testing.TB, emu *stytchemu.Server, orgID string, p stytchemu.MemberParams) stytchemu.Session {
	t.Helper()
	m, err := emu.CreateMember(orgID, p)
	require.NoError(t, err)
	s, err := emu.CreateSession(orgID, m.ID, 0)
	require.NoError(t, err)
	return s
}
