// Package sessionkit wires local session checking to a Stytch emulator as production wires it
// (the Stytch client's JWKS, one JWKS cache, the session checker), for tests only. It is apart
// from internal/testkit because it imports the verifier, whose own tests use testkit.
package sessionkit

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// JWKS returns a JWKS cache fetching emu's keys through client, on the emulator's clock, once it
// has loaded them; it is closed when the test ends.
func JWKS(t testing.TB, emu *stytchemu.Server, client *stytchclient.Client) *verify.JWKSCache {
	t.Helper()
	cache, err := verify.NewJWKSCache(verify.JWKSCacheConfig{Fetch: client.FetchJWKS, Now: emu.Now})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, cache.Close()) })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, cache.WaitReady(ctx))
	return cache
}

// Checker returns the session checker production builds over keys, asking emu through client
// when a check needs Stytch, on the emulator's clock; mutate adjusts its configuration first.
func Checker(t testing.TB, emu *stytchemu.Server, client *stytchclient.Client, keys *verify.JWKSCache, mutate ...func(*session.Config)) *session.Checker {
	t.Helper()
	cfg := session.Config{ProjectID: emu.ProjectID(), Keys: keys, BaseURL: emu.URL, Now: emu.Now, Remote: client}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := session.New(cfg)
	require.NoError(t, err)
	return c
}

// Consumer makes a Checker's configuration a consumer project's: user sessions, checked remotely
// through client (a consumer project's client) when a check needs Stytch.
func Consumer(client *stytchclient.Client) func(*session.Config) {
	return func(c *session.Config) {
		c.ProjectType = verify.ProjectConsumer
		c.Remote, c.UserRemote = nil, client
	}
}

// UserSession creates an active user with email and a live session of the given length in a
// consumer project's emulator.
func UserSession(t testing.TB, emu *stytchemu.Server, email string, d time.Duration) stytchemu.UserSession {
	t.Helper()
	u, err := emu.CreateUser(stytchemu.UserParams{Email: email, Verified: true})
	require.NoError(t, err)
	s, err := emu.CreateUserSession(u.ID, d)
	require.NoError(t, err)
	return s
}
