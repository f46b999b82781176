package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestJWKSCacheConstructionNeverBlocksAndBecomesReady(t *testing.T) {
	clock := newTestClock()
	jwks := &fakeJWKS{}
	jwks.set(nil, errStytchDown)
	started := make(chan struct{}, 1000)
	jwks.started = started

	c := newCache(t, jwks.Fetch, clock, false)
	<-started // the initial load ran and failed...
	<-started // ...and was retried
	assert.False(t, c.Ready())
	assert.Equal(t, 0, c.KeyCount())
	_, err := c.Key(t.Context(), "kid-1")
	require.ErrorIs(t, err, ErrKeysNotLoaded)

	k := testKey{kid: "kid-1", priv: rsaKey(t, 0)}
	jwks.set(jwksJSON(t, k), nil) // Stytch is back
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, c.WaitReady(ctx))
	assert.True(t, c.Ready())
	assert.Equal(t, 1, c.KeyCount())
	assert.Equal(t, clock.Now(), c.LastRefresh())
	got, err := c.Key(t.Context(), "kid-1")
	require.NoError(t, err)
	assert.True(t, got.Equal(&k.priv.PublicKey))
}

func TestJWKSCacheKeepsLastGoodKeysOnFailedRefresh(t *testing.T) {
	clock := newTestClock()
	k := testKey{kid: "kid-1", priv: rsaKey(t, 0)}
	jwks := &fakeJWKS{}
	jwks.set(jwksJSON(t, k), nil)
	c := newCache(t, jwks.Fetch, clock, true)
	loadedAt := c.LastRefresh()

	for _, bad := range []struct {
		name string
		doc  []byte
		err  error
	}{
		{"fetch error", nil, errStytchDown},
		{"not JSON", []byte("<html>502</html>"), nil},
		{"no usable key", []byte(`{"keys":[]}`), nil},
	} {
		t.Run(bad.name, func(t *testing.T) {
			jwks.set(bad.doc, bad.err)
			clock.Advance(time.Minute)
			require.Error(t, c.Refresh(t.Context()))
			assert.True(t, c.Ready())
			assert.Equal(t, loadedAt, c.LastRefresh())
			got, err := c.Key(t.Context(), "kid-1")
			require.NoError(t, err)
			assert.True(t, got.Equal(&k.priv.PublicKey))
		})
	}
}

func TestJWKSCacheSkipsUnusableKeys(t *testing.T) {
	clock := newTestClock()
	good := testKey{kid: "good", priv: rsaKey(t, 0)}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)

	var doc jwkset.JWKSMarshal
	require.NoError(t, json.Unmarshal(jwksJSON(t, good), &doc))
	add := func(key any, meta jwkset.JWKMetadataOptions) {
		_, symmetric := key.([]byte)
		j, err := jwkset.NewJWKFromKey(key, jwkset.JWKOptions{Metadata: meta, Marshal: jwkset.JWKMarshalOptions{Private: symmetric}})
		require.NoError(t, err)
		doc.Keys = append(doc.Keys, j.Marshal())
	}
	add(&weak.PublicKey, jwkset.JWKMetadataOptions{KID: "weak", ALG: jwkset.AlgRS256})
	add(&ec.PublicKey, jwkset.JWKMetadataOptions{KID: "ec", ALG: jwkset.AlgES256})
	add(&rsaKey(t, 1).PublicKey, jwkset.JWKMetadataOptions{KID: "enc", USE: jwkset.UseEnc})
	add(&rsaKey(t, 1).PublicKey, jwkset.JWKMetadataOptions{KID: "ps256", ALG: jwkset.AlgPS256})
	add(&rsaKey(t, 1).PublicKey, jwkset.JWKMetadataOptions{KID: ""})
	add([]byte("shared-secret-shared-secret"), jwkset.JWKMetadataOptions{KID: "hmac", ALG: jwkset.AlgHS256})
	corrupt := doc.Keys[0]
	corrupt.KID, corrupt.N = "corrupt", "!!!"
	doc.Keys = append(doc.Keys, corrupt)
	raw, err := json.Marshal(doc)
	require.NoError(t, err)

	jwks := &fakeJWKS{}
	jwks.set(raw, nil)
	c := newCache(t, jwks.Fetch, clock, true)
	assert.Equal(t, 1, c.KeyCount())
	_, err = c.Key(t.Context(), "good")
	require.NoError(t, err)
}

func TestJWKSCacheUnknownKIDStormFetchesOncePerWindow(t *testing.T) {
	clock := newTestClock()
	k1 := testKey{kid: "kid-1", priv: rsaKey(t, 0)}
	jwks := &fakeJWKS{}
	jwks.set(jwksJSON(t, k1), nil)
	c := newCache(t, jwks.Fetch, clock, true)
	base := jwks.calls.Load()

	// Hold the refetch open so that every caller arrives while it runs.
	gate := make(chan struct{})
	started := make(chan struct{}, 10)
	jwks.mu.Lock()
	jwks.gate, jwks.started = gate, started
	jwks.mu.Unlock()

	const callers = 200
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			_, err := c.Key(t.Context(), "random-kid-"+string(rune('a'+i%26)))
			errs <- err
		})
	}
	<-started
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.ErrorIs(t, err, ErrUnknownKey)
	}
	assert.Equal(t, base+1, jwks.calls.Load(), "one refetch for the whole storm")

	// Still inside the window: no more fetches, and no waiting.
	clock.Advance(4 * time.Minute)
	_, err := c.Key(t.Context(), "another-random-kid")
	require.ErrorIs(t, err, ErrUnknownKey)
	assert.Equal(t, base+1, jwks.calls.Load())

	// The next window allows one more.
	clock.Advance(time.Minute)
	_, err = c.Key(t.Context(), "another-random-kid")
	require.ErrorIs(t, err, ErrUnknownKey)
	assert.Equal(t, base+2, jwks.calls.Load())
	<-started
}

func TestJWKSCacheUnknownKIDCallerWaitsOnlyAsLongAsItsContext(t *testing.T) {
	clock := newTestClock()
	k1 := testKey{kid: "kid-1", priv: rsaKey(t, 0)}
	k2 := testKey{kid: "kid-2", priv: rsaKey(t, 1)}
	jwks := &fakeJWKS{}
	jwks.set(jwksJSON(t, k1), nil)
	c := newCache(t, jwks.Fetch, clock, true)

	gate := make(chan struct{})
	started := make(chan struct{}, 10)
	jwks.mu.Lock()
	jwks.gate, jwks.started = gate, started
	jwks.mu.Unlock()
	jwks.set(jwksJSON(t, k1, k2), nil) // rotated upstream

	// A patient caller starts the refetch and waits for it.
	patient := make(chan error, 1)
	go func() {
		_, err := c.Key(context.Background(), "kid-2")
		patient <- err
	}()
	<-started

	// An impatient caller joins the same fetch and gives up with its ctx,
	// while the fetch goes on for the others.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Key(ctx, "kid-2")
	require.ErrorIs(t, err, ErrUnknownKey)
	require.ErrorIs(t, err, context.Canceled)

	close(gate)
	require.NoError(t, <-patient)
	got, err := c.Key(t.Context(), "kid-2")
	require.NoError(t, err)
	assert.True(t, got.Equal(&k2.priv.PublicKey))
}

func TestJWKSCacheReusesUnchangedKeys(t *testing.T) {
	clock := newTestClock()
	k1 := testKey{kid: "kid-1", priv: rsaKey(t, 0)}
	jwks := &fakeJWKS{}
	jwks.set(jwksJSON(t, k1), nil)
	c := newCache(t, jwks.Fetch, clock, true)
	before, err := c.Key(t.Context(), "kid-1")
	require.NoError(t, err)
	require.NoError(t, c.Refresh(t.Context()))
	after, err := c.Key(t.Context(), "kid-1")
	require.NoError(t, err)
	assert.Same(t, before, after, "an unchanged key keeps its identity, so cached verifications survive a refresh")

	// Same kid, different key: a new identity.
	jwks.set(jwksJSON(t, testKey{kid: "kid-1", priv: rsaKey(t, 1)}), nil)
	require.NoError(t, c.Refresh(t.Context()))
	replaced, err := c.Key(t.Context(), "kid-1")
	require.NoError(t, err)
	assert.NotSame(t, before, replaced)
}

func TestVerifierDropsCachedTokensWhenTheirKeyIsRetired(t *testing.T) {
	f := newFixture(t, nil)
	tok := sign(t, f.key, sessionClaims(f.clock.Now()))
	_, err := f.v.VerifySession(t.Context(), tok)
	require.NoError(t, err)

	f.jwks.set(jwksJSON(t, testKey{kid: "kid-2", priv: rsaKey(t, 1)}), nil)
	require.NoError(t, f.cache.Refresh(t.Context()))
	_, err = f.v.VerifySession(t.Context(), tok)
	require.ErrorIs(t, err, ErrUnknownKey)
}

func TestVerifierPicksUpRotatedKeyWithOneFetch(t *testing.T) {
	f := newFixture(t, nil)
	base := f.jwks.calls.Load()
	k2 := testKey{kid: "kid-2", priv: rsaKey(t, 1)}
	f.jwks.set(jwksJSON(t, f.key, k2), nil)

	_, err := f.v.VerifySession(t.Context(), sign(t, k2, sessionClaims(f.clock.Now())))
	require.NoError(t, err)
	_, err = f.v.VerifySession(t.Context(), sign(t, f.key, sessionClaims(f.clock.Now())))
	require.NoError(t, err)
	assert.Equal(t, base+1, f.jwks.calls.Load())
}

func TestJWKSCacheCloseStopsEverything(t *testing.T) {
	// A fetch in progress when Close is called must end (ctx) and Close must
	// wait for it; goleak in TestMain checks nothing is left behind.
	clock := newTestClock()
	jwks := &fakeJWKS{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	c, err := NewJWKSCache(JWKSCacheConfig{Fetch: jwks.Fetch, Now: clock.Now})
	require.NoError(t, err)
	<-jwks.started
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "Close is idempotent")
	_, err = c.Key(t.Context(), "kid")
	require.ErrorIs(t, err, ErrKeysNotLoaded)
	require.Error(t, c.WaitReady(t.Context()))
}

func TestJWKSCacheTelemetry(t *testing.T) {
	clock := newTestClock()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	k := testKey{kid: "kid-1", priv: rsaKey(t, 0)}
	jwks := &fakeJWKS{}
	jwks.set(jwksJSON(t, k), nil)

	c, err := NewJWKSCache(JWKSCacheConfig{Fetch: jwks.Fetch, Name: "b2b", Now: clock.Now, TracerProvider: tp, MeterProvider: mp})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	require.NoError(t, c.WaitReady(t.Context()))
	jwks.set(nil, errStytchDown)
	require.Error(t, c.Refresh(t.Context()))
	clock.Advance(90 * time.Second)

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	got := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			got[m.Name] = m.Data
		}
	}
	keys, ok := got["stytch.jwks.keys"].(metricdata.Gauge[int64])
	require.True(t, ok)
	require.Len(t, keys.DataPoints, 1)
	assert.Equal(t, int64(1), keys.DataPoints[0].Value)
	name, _ := keys.DataPoints[0].Attributes.Value(attribute.Key("jwks"))
	assert.Equal(t, "b2b", name.AsString())
	age, ok := got["stytch.jwks.refresh.age"].(metricdata.Gauge[float64])
	require.True(t, ok)
	require.Len(t, age.DataPoints, 1)
	assert.InDelta(t, 90.0, age.DataPoints[0].Value, 0.001)
	refreshes, ok := got["stytch.jwks.refreshes"].(metricdata.Sum[int64])
	require.True(t, ok)
	byResult := map[string]int64{}
	for _, dp := range refreshes.DataPoints {
		r, _ := dp.Attributes.Value(attribute.Key("result"))
		byResult[r.AsString()] = dp.Value
	}
	assert.Equal(t, map[string]int64{"ok": 1, "error": 1}, byResult)

	spans := rec.Ended()
	require.Len(t, spans, 2)
	for _, s := range spans {
		assert.Equal(t, "jwks.refresh", s.Name())
	}
	assert.Equal(t, "Error", spans[1].Status().Code.String())
}

func TestJWKSCacheAfterCloseServesLoadedKeysWithoutFetching(t *testing.T) {
	clock := newTestClock()
	jwks := &fakeJWKS{}
	jwks.set(jwksJSON(t, testKey{kid: "kid-1", priv: rsaKey(t, 0)}), nil)
	c, err := NewJWKSCache(JWKSCacheConfig{Fetch: jwks.Fetch, Now: clock.Now})
	require.NoError(t, err)
	require.NoError(t, c.WaitReady(t.Context()))
	require.NoError(t, c.Close())
	calls := jwks.calls.Load()

	for range 10 {
		require.NoError(t, c.WaitReady(t.Context()), "ready stays ready after Close")
	}
	_, err = c.Key(t.Context(), "kid-1")
	require.NoError(t, err)
	_, err = c.Key(t.Context(), "kid-unknown")
	require.ErrorIs(t, err, ErrUnknownKey)
	assert.Equal(t, calls, jwks.calls.Load())
}
