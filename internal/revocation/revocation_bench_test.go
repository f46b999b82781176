package revocation_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/authsvc/authsvc/internal/redisclient"
	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/revocation"
	"github.com/authsvc/authsvc/internal/testkit"
)

// BenchmarkCrossReplicaRevocation measures the cross-replica revocation delay: from the start of
// Revoke on replica A to replica B having applied the message (from then on B refuses the session
// from memory), through a real redis-server on loopback with the clients authsvc uses.
// One revocation at a time; reports the delay's p50, p99 and max over the b.N revocations (bounded
// by -benchtime, each by a 5 s wait). A revocation that A could not write to Redis (its 150 ms
// timeout, then its client's breaker, on a starved machine) publishes nothing: it is counted in
// revoke-errors, not in the delay.
func BenchmarkCrossReplicaRevocation(b *testing.B) {
	srv := redistest.Start(b)
	// Each replica's clients as authsvc wires them (internal/app openShared).
	config := func() revocation.Config {
		c, err := redisclient.OpenURL(srv.URL(), redisclient.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		return revocation.Config{Redis: c.Redis(), Subscriber: c.Subscriber()}
	}
	cfgA := config()
	reader := sdkmetric.NewManualReader()
	cfgA.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	a, err := revocation.New(cfgA)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.Close() })
	type heard struct {
		subject string
		at      time.Time
	}
	// Large enough that a late message (from a revocation A gave up on) never crowds out the next.
	applied := make(chan heard, 1024)
	replicaB, err := revocation.NewObserved(config(), func(s string) {
		select {
		case applied <- heard{s, time.Now()}:
		default:
		}
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = replicaB.Close() })
	if err := replicaB.WaitSubscribed(b.Context()); err != nil {
		b.Fatal(err)
	}

	ctx := b.Context()
	var (
		delays  []time.Duration
		errs    int64
		timeout = time.NewTimer(time.Hour)
	)
	defer timeout.Stop()
	for i := 0; b.Loop(); i++ {
		id := "bench-" + strconv.Itoa(i)
		start := time.Now()
		a.Revoke(ctx, id, start.Add(6*time.Minute))
		if n := testkit.CounterSum(b, reader, revocation.MetricStoreErrors, attribute.String("op", "revoke")); n > errs {
			errs = n
			continue
		}
		timeout.Reset(5 * time.Second)
		for got := (heard{}); got.subject != id; {
			select {
			case got = <-applied:
				if got.subject == id {
					delays = append(delays, got.at.Sub(start))
				}
			case <-timeout.C:
				b.Fatalf("replica B did not hear of %s within 5 s", id)
			}
		}
		if !replicaB.IsRevoked(ctx, id) {
			b.Fatalf("replica B applied %s but does not refuse it", id)
		}
	}
	if len(delays) == 0 {
		b.Fatalf("no revocation reached Redis (%d errors)", errs)
	}
	slices.Sort(delays)
	at := func(p float64) float64 {
		i := max(int(float64(len(delays))*p/100+0.999999)-1, 0) // nearest rank
		return float64(delays[min(i, len(delays)-1)]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(50), "p50-ms")
	b.ReportMetric(at(99), "p99-ms")
	b.ReportMetric(at(100), "max-ms")
	b.ReportMetric(float64(errs), "revoke-errors")
}
