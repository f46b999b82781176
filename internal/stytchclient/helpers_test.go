package stytchclient_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testStart is the emulator's frozen start time: every expiry in these
// tests is driven by Advance, never by the wall clock.
var testStart = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// harness is one emulator on loopback plus a client wired to it with
// in-memory trace and metric exporters.
type harness struct {
	emu    *stytchemu.Server
	client *stytchclient.Client
	spans  *tracetest.InMemoryExporter
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
}

func newHarness(t *testing.T, mutate ...func(*stytchclient.Config)) *harness {
	t.Helper()
	emu := testkit.Emulator(t, stytchemu.WithStartTime(testStart))
	return newHarnessFor(t, emu, emu.URL, mutate...)
}

func newHarnessFor(t *testing.T, emu *stytchemu.Server, baseURL string, mutate ...func(*stytchclient.Config)) *harness {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	cfg := stytchclient.Config{
		ProjectID:      emu.ProjectID(),
		Secret:         emu.Secret(),
		BaseURL:        baseURL,
		Version:        "test",
		TracerProvider: tp,
		MeterProvider:  mp,
		// Short backoff keeps retry tests quick; correctness does not
		// depend on it.
		Retry: stytchclient.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	cfg.HTTPClient = hc
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := stytchclient.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		hc.CloseIdleConnections()
		require.NoError(t, tp.Shutdown(context.Background()))
		require.NoError(t, mp.Shutdown(context.Background()))
	})
	return &harness{emu: emu, client: c, spans: spans, tp: tp, reader: reader}
}

// headerProxy serves emu through an extra hop that adds response headers,
// the way a load balancer or Stytch's edge adds X-Request-Id and
// Retry-After. The emulator itself sets neither.
func headerProxy(t *testing.T, emu *stytchemu.Server, headers map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// spanNamed returns the ended spans with the given name.
func (h *harness) spanNamed(name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range h.spans.GetSpans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func attrValue(s tracetest.SpanStub, key string) (string, bool) {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.String(), true
		}
	}
	return "", false
}

// uniqueSlug makes organization slugs distinct per test.
func uniqueSlug(t *testing.T, suffix string) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		default:
			return '-'
		}
	}, t.Name())
	if len(s) > 80 {
		s = s[len(s)-80:]
	}
	return strings.Trim(s, "-") + "-" + suffix
}

// headerRecorder serves emu through a hop that reports each request's
// headers on seen (buffered; the test reads one per call).
func headerRecorder(t *testing.T, emu *stytchemu.Server, seen chan<- http.Header) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
