package verify

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/authsvc/authsvc/internal/backoff"
)

// Why the cache is written here rather than taken from keyfunc/v3 + jwkset's
// HTTP storage: jwkset's HTTPClient fetches URLs with its own *http.Client
// (ours must go through the REST client's traced client, so we take a
// Fetcher), its unknown-kid refetch waits on a rate limiter up to
// RateLimitWaitMax instead of joining one in-flight fetch and returning when
// the caller's ctx ends, and it exposes neither readiness nor the key count /
// last-refresh age we export as metrics. What we do take from jwkset is the
// part that is easy to get wrong: parsing and validating each JWK
// (base64url, RSA parameters, x5c consistency).

// Fetcher returns the raw JWKS JSON document ({"keys": [...]}) for the
// project. It must honour ctx; the cache bounds each call with FetchTimeout.
type Fetcher func(ctx context.Context) ([]byte, error)

// JWKSCacheConfig configures a [JWKSCache]. Only Fetch is required.
type JWKSCacheConfig struct {
	// Fetch loads the JWKS document. Required.
	Fetch Fetcher
	// Name labels this cache in logs, spans and metrics ("b2b", "consumer").
	// Default "default".
	Name string
	// RefreshInterval is the time between routine refreshes after a success.
	// Default 1 h.
	RefreshInterval time.Duration
	// UnknownKIDWindow bounds refetches caused by tokens naming an unknown
	// kid: at most one such refetch starts per window, shared by all callers.
	// Default 5 min.
	UnknownKIDWindow time.Duration
	// FetchTimeout bounds one call to Fetch. Default 10 s.
	FetchTimeout time.Duration
	// RetryMin and RetryMax bound the jittered exponential backoff used while
	// the initial load (or a routine refresh) keeps failing. Defaults 500 ms
	// and 1 min; RetryMax is capped at RefreshInterval.
	RetryMin, RetryMax time.Duration
	// Now is the clock for the unknown-kid window and refresh ages.
	// Default time.Now.
	Now func() time.Time
	// Logger receives refresh failures and key-set changes. Default: discard.
	Logger *slog.Logger
	// TracerProvider, when set, records a "jwks.refresh" span per fetch.
	TracerProvider trace.TracerProvider
	// MeterProvider, when set, exports the gauges stytch.jwks.keys and
	// stytch.jwks.refresh.age (seconds since the last successful refresh) and
	// the counter stytch.jwks.refreshes{result}.
	MeterProvider metric.MeterProvider
}

// keySet is immutable once published; readers load it without locks.
type keySet struct {
	byKID     map[string]*rsa.PublicKey
	published []PublicJWK // the usable keys, as served by Published
	fetchedAt time.Time
}

// PublicJWK is one usable signing key in JWK form (RFC 7517), as the JWKS document had it.
type PublicJWK struct {
	KTY, Use, Alg, KID string
	KeyOps             []string
	X5C                []string
	X5TS256            string
	N, E               string
}

// JWKSCache holds a project's RSA signing keys by kid. It is safe for
// concurrent use. Create it with [NewJWKSCache] and stop it with Close.
type JWKSCache struct {
	cfg    JWKSCacheConfig
	log    *slog.Logger
	tracer trace.Tracer

	keys      atomic.Pointer[keySet]
	ready     chan struct{}
	readyOnce sync.Once

	ctx    context.Context // canceled by Close; parent of every fetch
	cancel context.CancelFunc
	wg     sync.WaitGroup

	publishMu sync.Mutex // serialises building and publishing key sets

	mu            sync.Mutex // guards the fields below
	closed        bool
	lastRefetch   time.Time      // start of the last on-demand refetch
	inflight      *inflightFetch // the on-demand refetch in progress, or nil
	metricReg     metric.Registration
	refreshCount  metric.Int64Counter
	refreshResult [2]metric.AddOption // [ok, error]
}

// inflightFetch is one on-demand fetch that callers join. This is singleflight
// written out by hand: whether a caller may start a fetch (the window) must be
// decided under the same lock that lets it join one already running, and
// Close must be able to wait for the fetch goroutine.
type inflightFetch struct {
	done chan struct{}
}

// NewJWKSCache starts loading keys in the background and returns at once.
// It fails only on invalid configuration. Use Ready or WaitReady to learn
// when keys are available, and Close to stop the background work.
func NewJWKSCache(cfg JWKSCacheConfig) (*JWKSCache, error) {
	if cfg.Fetch == nil {
		return nil, errors.New("verify: JWKSCacheConfig.Fetch is required")
	}
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = time.Hour
	}
	if cfg.UnknownKIDWindow <= 0 {
		cfg.UnknownKIDWindow = 5 * time.Minute
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = 10 * time.Second
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = 500 * time.Millisecond
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = time.Minute
	}
	cfg.RetryMax = min(max(cfg.RetryMax, cfg.RetryMin), cfg.RefreshInterval)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	c := &JWKSCache{
		cfg:    cfg,
		log:    log.With("jwks", cfg.Name),
		tracer: tp.Tracer(instrumentationName),
		ready:  make(chan struct{}),
	}
	if err := c.registerMetrics(); err != nil {
		return nil, err
	}
	// The background context is ours, not the caller's: cancelling whatever
	// context the caller had at startup must not silently stop key refresh
	// (one of the official SDK's faults). Only Close stops it.
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.wg.Add(1)
	go c.run()
	return c, nil
}

const instrumentationName = "github.com/authsvc/authsvc/internal/stytchclient/verify"

func (c *JWKSCache) registerMetrics() error {
	mp := c.cfg.MeterProvider
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	m := mp.Meter(instrumentationName)
	name := metric.WithAttributes(attribute.String("jwks", c.cfg.Name))
	keys, err := m.Int64ObservableGauge("stytch.jwks.keys",
		metric.WithDescription("Signing keys currently held in the JWKS cache."))
	if err != nil {
		return fmt.Errorf("verify: jwks metrics: %w", err)
	}
	age, err := m.Float64ObservableGauge("stytch.jwks.refresh.age",
		metric.WithUnit("s"),
		metric.WithDescription("Seconds since the JWKS was last fetched successfully; absent until the first success."))
	if err != nil {
		return fmt.Errorf("verify: jwks metrics: %w", err)
	}
	c.refreshCount, err = m.Int64Counter("stytch.jwks.refreshes",
		metric.WithDescription("JWKS fetches by result."))
	if err != nil {
		return fmt.Errorf("verify: jwks metrics: %w", err)
	}
	c.refreshResult = [2]metric.AddOption{
		metric.WithAttributes(attribute.String("jwks", c.cfg.Name), attribute.String("result", "ok")),
		metric.WithAttributes(attribute.String("jwks", c.cfg.Name), attribute.String("result", "error")),
	}
	c.metricReg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		ks := c.keys.Load()
		if ks == nil {
			o.ObserveInt64(keys, 0, name)
			return nil
		}
		o.ObserveInt64(keys, int64(len(ks.byKID)), name)
		o.ObserveFloat64(age, c.cfg.Now().Sub(ks.fetchedAt).Seconds(), name)
		return nil
	}, keys, age)
	if err != nil {
		return fmt.Errorf("verify: jwks metrics: %w", err)
	}
	return nil
}

// run loads the keys until the first success, retrying with backoff, then
// refreshes every RefreshInterval; a failed refresh is retried with backoff
// while the last good keys keep serving.
func (c *JWKSCache) run() {
	defer c.wg.Done()
	// Jitter keeps many replicas from retrying in step.
	retry := backoff.Policy{Min: c.cfg.RetryMin, Max: c.cfg.RetryMax, Jitter: backoff.EqualJitter}
	failures := 0
	for {
		wait := c.cfg.RefreshInterval
		trigger := "interval"
		if c.keys.Load() == nil {
			trigger = "initial"
		}
		if err := c.refresh(c.ctx, trigger); err != nil {
			if c.ctx.Err() != nil {
				return
			}
			failures++
			wait = retry.Delay(failures)
		} else {
			failures = 0
		}
		if backoff.Sleep(c.ctx, wait) != nil {
			return
		}
	}
}

// Refresh fetches the JWKS now, publishing the keys on success. On failure
// the previous keys stay in use. The background loop calls it on its own;
// it is exported for operators and tests.
func (c *JWKSCache) Refresh(ctx context.Context) error {
	return c.refresh(ctx, "manual")
}

func (c *JWKSCache) refresh(ctx context.Context, trigger string) error {
	ks, err := c.fetch(ctx, trigger)
	if err != nil {
		return err
	}
	// Published after the span and counter are done, so whoever sees the new
	// keys (WaitReady) also sees the telemetry of the fetch that brought them.
	c.publish(ctx, ks)
	return nil
}

// fetch calls Fetch and parses the result, in a "jwks.refresh" span.
func (c *JWKSCache) fetch(ctx context.Context, trigger string) (_ *keySet, err error) {
	ctx, span := c.tracer.Start(ctx, "jwks.refresh", trace.WithAttributes(
		attribute.String("jwks", c.cfg.Name),
		attribute.String("jwks.trigger", trigger),
	))
	defer func() {
		// The counter must count a fetch cut short by Close too.
		mctx := context.WithoutCancel(ctx)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "jwks refresh failed")
			c.refreshCount.Add(mctx, 1, c.refreshResult[1])
		} else {
			c.refreshCount.Add(mctx, 1, c.refreshResult[0])
		}
		span.End()
	}()

	fctx, cancel := context.WithTimeout(ctx, c.cfg.FetchTimeout)
	defer cancel()
	raw, err := c.cfg.Fetch(fctx)
	if err != nil {
		c.logFailure(ctx, trigger, err)
		return nil, fmt.Errorf("verify: fetch jwks: %w", err)
	}
	ks, err := c.parse(ctx, raw)
	if err != nil {
		c.logFailure(ctx, trigger, err)
		return nil, err
	}
	span.SetAttributes(attribute.Int("jwks.keys", len(ks.byKID)))
	return ks, nil
}

func (c *JWKSCache) logFailure(ctx context.Context, trigger string, err error) {
	if c.keys.Load() != nil {
		c.log.WarnContext(ctx, "jwks refresh failed; keeping the last good keys", "trigger", trigger, "error", err)
		return
	}
	c.log.WarnContext(ctx, "jwks load failed; no keys yet, local verification unavailable", "trigger", trigger, "error", err)
}

// minRSABits rejects keys too weak to trust even if the JWKS serves them.
const minRSABits = 2048

// parse turns a JWKS document into a key set. Keys that are not RSA
// signature keys for RS256, or fail jwkset's validation, are skipped (and
// logged) rather than failing the whole set, so one odd key cannot take
// verification down; a set with no usable key is an error.
func (c *JWKSCache) parse(ctx context.Context, raw []byte) (*keySet, error) {
	var doc jwkset.JWKSMarshal
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("verify: decode jwks: %w", err)
	}
	ks := &keySet{byKID: make(map[string]*rsa.PublicKey, len(doc.Keys)), fetchedAt: c.cfg.Now()}
	for _, m := range doc.Keys {
		switch {
		case m.KID == "":
			c.log.WarnContext(ctx, "jwks: skipping key without kid")
			continue
		case m.KTY != jwkset.KtyRSA,
			m.USE != "" && m.USE != jwkset.UseSig,
			m.ALG != "" && m.ALG != jwkset.AlgRS256:
			c.log.WarnContext(ctx, "jwks: skipping key not usable for RS256 signatures", "kid", m.KID, "kty", m.KTY, "use", m.USE, "alg", m.ALG)
			continue
		}
		jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			c.log.WarnContext(ctx, "jwks: skipping invalid key", "kid", m.KID, "error", err)
			continue
		}
		pub, ok := jwk.Key().(*rsa.PublicKey)
		if !ok || pub.N.BitLen() < minRSABits {
			c.log.WarnContext(ctx, "jwks: skipping weak or non-public RSA key", "kid", m.KID)
			continue
		}
		ks.byKID[m.KID] = pub
		ks.published = append(ks.published, publicJWK(m))
	}
	if len(ks.byKID) == 0 {
		return nil, errors.New("verify: jwks has no usable RS256 key")
	}
	return ks, nil
}

func publicJWK(m jwkset.JWKMarshal) PublicJWK {
	k := PublicJWK{KTY: string(m.KTY), Use: string(m.USE), Alg: string(m.ALG), KID: m.KID, X5C: m.X5C, X5TS256: m.X5TS256, N: m.N, E: m.E}
	for _, op := range m.KEYOPS {
		k.KeyOps = append(k.KeyOps, string(op))
	}
	return k
}

// publish swaps in ks. A kid whose key is unchanged keeps the previous
// *rsa.PublicKey, so pointer identity means "same key" to the verified-token
// cache and a routine refresh does not invalidate it.
func (c *JWKSCache) publish(ctx context.Context, ks *keySet) {
	c.publishMu.Lock()
	defer c.publishMu.Unlock()
	old := c.keys.Load()
	if old != nil {
		for kid, k := range ks.byKID {
			if prev, ok := old.byKID[kid]; ok && prev.Equal(k) {
				ks.byKID[kid] = prev
			}
		}
		if len(old.byKID) != len(ks.byKID) {
			c.log.InfoContext(ctx, "jwks key set changed", "keys", len(ks.byKID), "previous", len(old.byKID))
		}
	} else {
		c.log.InfoContext(ctx, "jwks loaded", "keys", len(ks.byKID))
	}
	c.keys.Store(ks)
	c.readyOnce.Do(func() { close(c.ready) })
}

// Ready reports whether a key set has been loaded.
func (c *JWKSCache) Ready() bool {
	return c.keys.Load() != nil
}

// WaitReady blocks until keys are loaded, ctx ends or the cache is closed.
func (c *JWKSCache) WaitReady(ctx context.Context) error {
	if c.Ready() {
		return nil // select below would pick at random if also closed
	}
	select {
	case <-c.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("verify: waiting for jwks: %w", ctx.Err())
	case <-c.ctx.Done():
		return errors.New("verify: waiting for jwks: cache closed")
	}
}

// KeyCount returns the number of keys held (0 before the first load).
func (c *JWKSCache) KeyCount() int {
	if ks := c.keys.Load(); ks != nil {
		return len(ks.byKID)
	}
	return 0
}

// LastRefresh returns when the current key set was fetched (zero before the
// first load), by the cache's clock.
func (c *JWKSCache) LastRefresh() time.Time {
	if ks := c.keys.Load(); ks != nil {
		return ks.fetchedAt
	}
	return time.Time{}
}

// Key returns the RSA public key for kid. A kid not in the current set (or
// no set yet) starts a refetch unless one already started within the
// UnknownKIDWindow; concurrent callers share that one fetch, and each waits
// for it no longer than its own ctx allows. It fails with [ErrUnknownKey] or
// [ErrKeysNotLoaded].
func (c *JWKSCache) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if ks := c.keys.Load(); ks != nil {
		if k, ok := ks.byKID[kid]; ok {
			return k, nil
		}
	}
	waitErr := c.refetch(ctx, "unknown_kid")
	ks := c.keys.Load()
	if ks == nil {
		if waitErr != nil {
			return nil, fmt.Errorf("%w: %w", ErrKeysNotLoaded, waitErr)
		}
		return nil, ErrKeysNotLoaded
	}
	if k, ok := ks.byKID[kid]; ok {
		return k, nil
	}
	if waitErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnknownKey, waitErr)
	}
	return nil, ErrUnknownKey
}

var (
	errWindowClosed = errors.New("unknown-kid refetch already done in this window")
	errCacheClosed  = errors.New("jwks cache closed")
)

// Published returns the usable keys of the current set in JWK form: exactly
// the keys verification accepts. When the set is older than maxAge (or none is
// loaded yet) it first refetches, sharing the unknown-kid refetch and its
// window, so a service that fetches keys from authsvc after seeing a new kid
// gets the rotated set within maxAge. When the refetch fails the previous set
// is served; with none, the error is ErrKeysNotLoaded.
func (c *JWKSCache) Published(ctx context.Context, maxAge time.Duration) ([]PublicJWK, error) {
	ks := c.keys.Load()
	if ks == nil || c.cfg.Now().Sub(ks.fetchedAt) > maxAge {
		_ = c.refetch(ctx, "stale") // whatever happened, the caller re-reads the key set
		ks = c.keys.Load()
	}
	if ks == nil {
		return nil, ErrKeysNotLoaded
	}
	return ks.published, nil
}

// refetch joins the in-flight refetch (caused by an unknown kid or a stale
// Published set) or starts one if the window allows. It returns nil when a
// fetch completed (whatever its outcome: the caller re-reads the key set),
// errWindowClosed or errCacheClosed when no fetch was allowed, or the ctx
// error when the caller stopped waiting.
func (c *JWKSCache) refetch(ctx context.Context, trigger string) error {
	c.mu.Lock()
	f := c.inflight
	if f == nil {
		now := c.cfg.Now()
		if c.closed {
			c.mu.Unlock()
			return errCacheClosed
		}
		if !c.lastRefetch.IsZero() && now.Sub(c.lastRefetch) < c.cfg.UnknownKIDWindow {
			c.mu.Unlock()
			return errWindowClosed
		}
		c.lastRefetch = now
		f = &inflightFetch{done: make(chan struct{})}
		c.inflight = f
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			// Detached from the caller's ctx: the fetch serves every caller
			// joined to it, so one caller giving up must not cancel it.
			_ = c.refresh(c.ctx, trigger) // logged and counted inside; callers re-read the key set
			c.mu.Lock()
			c.inflight = nil
			c.mu.Unlock()
			close(f.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the background refresh and waits for any fetch in progress to
// return (Fetch must honour its ctx). Keys already loaded stay readable.
func (c *JWKSCache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	if err := c.metricReg.Unregister(); err != nil {
		return fmt.Errorf("verify: unregister jwks metrics: %w", err)
	}
	return nil
}
