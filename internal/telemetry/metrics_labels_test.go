package telemetry

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Cached label sets must land on the same series as freshly built ones, and distinct labels on
// distinct series.
func TestCredentialVerifiedCachedLabels(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	m, err := NewAuthMetrics(mp.Meter("test"))
	require.NoError(t, err)
	ctx := context.Background()
	for range 3 {
		m.CredentialVerified(ctx, KindSession, PathCache, OutcomeValid, "ok")
	}
	m.CredentialVerified(ctx, KindSession, PathLocal, OutcomeInvalid, "expired")

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			if md.Name != MetricSessionVerifications {
				continue
			}
			for _, dp := range md.Data.(metricdata.Sum[int64]).DataPoints {
				path, _ := dp.Attributes.Value(AttrPath)
				reason, _ := dp.Attributes.Value(AttrReason)
				got[path.AsString()+"/"+reason.AsString()] = dp.Value
				assert.Equal(t, 4, dp.Attributes.Len())
			}
		}
	}
	assert.Equal(t, map[string]int64{"cache/ok": 3, "local/expired": 1}, got)
}

func BenchmarkCredentialVerified(b *testing.B) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	m, err := NewAuthMetrics(mp.Meter("bench"))
	require.NoError(b, err)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m.CredentialVerified(ctx, KindSession, PathCache, OutcomeValid, "ok")
	}
}
