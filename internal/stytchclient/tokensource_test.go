package stytchclient_test

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

const tokenPattern = "POST /v1/public/{project_id}/oauth2/token"

// m2mClient creates an M2M client in the emulator and returns its credentials.
func m2mClient(t testing.TB, c *sc.Client, scopes ...string) sc.M2MTokenParams {
	t.Helper()
	res, err := c.M2MClientCreate(context.Background(), sc.M2MClientCreateParams{Scopes: scopes})
	require.NoError(t, err)
	return sc.M2MTokenParams{ClientID: res.M2MClient.ClientID, ClientSecret: res.M2MClient.ClientSecret}
}

func TestTokenSourceCollapsesConcurrentMisses(t *testing.T) {
	h := newHarness(t)
	creds := m2mClient(t, h.client, "read:users", "write:users")
	creds.Scopes = []string{"read:users"}
	h.emu.ResetRequests()

	release := make(chan struct{})
	fetch := func(ctx context.Context, p sc.M2MTokenParams) (*sc.M2MToken, error) {
		<-release // hold the one flight open until every caller has missed
		return h.client.M2MTokenRaw(ctx, p)
	}
	ts := sc.NewTokenSource(fetch, sc.TokenSourceConfig{Now: h.emu.Now})

	const callers = 50
	var wg sync.WaitGroup
	tokens := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			tok, err := ts.Token(t.Context(), creds)
			errs[i] = err
			if err == nil {
				tokens[i] = tok.AccessToken
			}
		})
	}
	for ts.Stats().Misses < callers { // every caller has missed and is joining the flight
		runtime.Gosched()
	}
	close(release)
	wg.Wait()

	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, tokens[0], tokens[i])
	}
	assert.Equal(t, 1, h.emu.Requests(tokenPattern))
	st := ts.Stats()
	assert.Equal(t, uint64(1), st.Fetches)
	assert.Equal(t, uint64(callers), st.Misses)

	_, err := ts.Token(t.Context(), creds)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), ts.Stats().Hits)
	assert.Equal(t, 1, h.emu.Requests(tokenPattern))
}

func TestTokenSourceRefreshesBeforeExpiry(t *testing.T) {
	h := newHarness(t)
	creds := m2mClient(t, h.client, "read:users")
	ts := h.client.TokenSource(sc.TokenSourceConfig{Now: h.emu.Now})
	ctx := t.Context()

	first, err := ts.Token(ctx, creds)
	require.NoError(t, err)

	h.emu.Advance(47 * time.Minute) // before 80% of 60 min
	again, err := ts.Token(ctx, creds)
	require.NoError(t, err)
	assert.Same(t, first, again)
	assert.Equal(t, 1, h.emu.Requests(tokenPattern))

	h.emu.Advance(2 * time.Minute) // 49 min: past the refresh point, still valid
	fresh, err := ts.Token(ctx, creds)
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, fresh.AccessToken)
	assert.Equal(t, 2, h.emu.Requests(tokenPattern))
	assert.Equal(t, h.emu.Now().Add(time.Hour), fresh.Expiry())
}

func TestTokenSourceKeys(t *testing.T) {
	h := newHarness(t)
	creds := m2mClient(t, h.client, "a:x", "b:y")
	ts := h.client.TokenSource(sc.TokenSourceConfig{Now: h.emu.Now})
	ctx := t.Context()

	t.Run("scope order and duplicates do not matter", func(t *testing.T) {
		h.emu.ResetRequests()
		p1 := creds
		p1.Scopes = []string{"b:y", "a:x", "a:x"}
		p2 := creds
		p2.Scopes = []string{"a:x", "b:y"}
		t1, err := ts.Token(ctx, p1)
		require.NoError(t, err)
		t2, err := ts.Token(ctx, p2)
		require.NoError(t, err)
		assert.Same(t, t1, t2)
		assert.Equal(t, 1, h.emu.Requests(tokenPattern))
	})

	t.Run("another scope set is another token", func(t *testing.T) {
		h.emu.ResetRequests()
		p := creds
		p.Scopes = []string{"a:x"}
		_, err := ts.Token(ctx, p)
		require.NoError(t, err)
		assert.Equal(t, 1, h.emu.Requests(tokenPattern))
	})

	t.Run("a wrong secret never gets the cached token, and errors are not cached", func(t *testing.T) {
		h.emu.ResetRequests()
		bad := creds
		bad.Scopes = []string{"a:x", "b:y"}
		bad.ClientSecret = "not-the-secret"
		for range 2 {
			_, err := ts.Token(ctx, bad)
			require.Error(t, err)
			assert.True(t, sc.IsUnauthorized(err))
		}
		assert.Equal(t, 2, h.emu.Requests(tokenPattern))
	})
}

func TestTokenSourceServesValidTokenWhenRefreshFails(t *testing.T) {
	h := newHarness(t, func(c *sc.Config) { c.Retry.MaxAttempts = 1 })
	creds := m2mClient(t, h.client, "read:users")
	ts := h.client.TokenSource(sc.TokenSourceConfig{Now: h.emu.Now})
	ctx := t.Context()

	first, err := ts.Token(ctx, creds)
	require.NoError(t, err)
	_, err = h.emu.AddFault(stytchemu.Fault{Pattern: tokenPattern, Status: http.StatusServiceUnavailable})
	require.NoError(t, err)

	h.emu.Advance(50 * time.Minute)
	tok, err := ts.Token(ctx, creds)
	require.NoError(t, err, "an unexpired token beats an outage")
	assert.Same(t, first, tok)

	h.emu.Advance(11 * time.Minute) // past exp
	_, err = ts.Token(ctx, creds)
	require.Error(t, err)
	assert.True(t, sc.IsUnavailable(err))
}

func TestTokenSourceWaiterHonoursItsContext(t *testing.T) {
	h := newHarness(t)
	creds := m2mClient(t, h.client, "read:users")
	release := make(chan struct{})
	fetch := func(ctx context.Context, p sc.M2MTokenParams) (*sc.M2MToken, error) {
		<-release
		return h.client.M2MTokenRaw(ctx, p)
	}
	ts := sc.NewTokenSource(fetch, sc.TokenSourceConfig{Now: h.emu.Now})

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := ts.Token(ctx, creds)
	require.ErrorIs(t, err, context.Canceled)

	// The flight started by the cancelled caller still completes and
	// serves the next one.
	close(release)
	tok, err := ts.Token(t.Context(), creds)
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
	assert.Equal(t, uint64(1), ts.Stats().Fetches)
}

// BenchmarkTokenSourceHit measures a cached token lookup (the path every
// service-to-service call takes). Run:
//
//	go test -run '^$' -bench BenchmarkTokenSourceHit -benchmem ./internal/stytchclient/
func BenchmarkTokenSourceHit(b *testing.B) {
	emu := testkit.Emulator(b, stytchemu.WithStartTime(testStart))
	c := testkit.Client(b, emu)
	creds := m2mClient(b, c, "read:users", "write:users")
	creds.Scopes = []string{"write:users", "read:users"}
	ts := c.TokenSource(sc.TokenSourceConfig{Now: emu.Now})
	ctx := context.Background()
	_, err := ts.Token(ctx, creds)
	require.NoError(b, err)

	b.ReportAllocs()
	for b.Loop() {
		if _, err := ts.Token(ctx, creds); err != nil {
			b.Fatal(err)
		}
	}
}

// A full cache drops the token fetched longest ago (the closest to expiry, all tokens living an
// hour), however often it was used since.
func TestTokenSourceDropsTheOldestToken(t *testing.T) {
	h := newHarness(t)
	a, b, c := m2mClient(t, h.client, "read:users"), m2mClient(t, h.client, "read:users"), m2mClient(t, h.client, "read:users")
	ts := h.client.TokenSource(sc.TokenSourceConfig{Now: h.emu.Now, MaxEntries: 2})
	ctx := t.Context()
	token := func(p sc.M2MTokenParams) {
		t.Helper()
		_, err := ts.Token(ctx, p)
		require.NoError(t, err)
	}
	token(a)
	h.emu.Advance(time.Minute)
	token(b)
	token(a) // a hit: a is still the token fetched longest ago
	require.Equal(t, uint64(2), ts.Stats().Fetches)

	token(c) // over capacity: a goes
	token(b)
	assert.Equal(t, uint64(3), ts.Stats().Fetches, "b is still cached")
	token(a)
	assert.Equal(t, uint64(4), ts.Stats().Fetches, "a was dropped and is fetched again")
}
