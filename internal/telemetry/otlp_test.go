package telemetry_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/authsvc/authsvc/internal/telemetry"
)

// receiver is a minimal OTLP collector: it keeps the span and metric names it was sent. A real
// collector cannot run in the test, and the exporters under test speak the real protocol to it.
type receiver struct {
	coltracepb.UnimplementedTraceServiceServer

	mu       sync.Mutex
	spans    []string
	metrics  []string
	services []string
}

func (r *receiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	r.addTraces(req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (r *receiver) addTraces(req *coltracepb.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				r.services = append(r.services, kv.GetValue().GetStringValue())
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, s.GetName())
			}
		}
	}
}

func (r *receiver) addMetrics(req *colmetricspb.ExportMetricsServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				r.metrics = append(r.metrics, m.GetName())
			}
		}
	}
}

func (r *receiver) got() (spans, metrics, services []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.spans...), append([]string(nil), r.metrics...), append([]string(nil), r.services...)
}

// metricsServer adapts the receiver to the metrics service; both services name their method Export.
type metricsServer struct {
	colmetricspb.UnimplementedMetricsServiceServer
	r *receiver
}

func (m metricsServer) Export(_ context.Context, req *colmetricspb.ExportMetricsServiceRequest) (*colmetricspb.ExportMetricsServiceResponse, error) {
	m.r.addMetrics(req)
	return &colmetricspb.ExportMetricsServiceResponse{}, nil
}

// startGRPCReceiver serves OTLP/gRPC on loopback and returns its endpoint URL.
func startGRPCReceiver(t *testing.T, r *receiver) string {
	t.Helper()
	lis, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, r)
	colmetricspb.RegisterMetricsServiceServer(srv, metricsServer{r: r})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		require.NoError(t, <-served)
	})
	return "http://" + lis.Addr().String()
}

// startHTTPReceiver serves OTLP/HTTP (protobuf bodies) on loopback and returns its endpoint URL.
func startHTTPReceiver(t *testing.T, r *receiver) string {
	t.Helper()
	handle := func(msg proto.Message, add func(), resp proto.Message) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) {
			body, err := io.ReadAll(req.Body)
			if err != nil || proto.Unmarshal(body, msg) != nil {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			add()
			out, _ := proto.Marshal(resp)
			w.Header().Set("Content-Type", "application/x-protobuf")
			_, _ = w.Write(out)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
		msg := &coltracepb.ExportTraceServiceRequest{}
		handle(msg, func() { r.addTraces(msg) }, &coltracepb.ExportTraceServiceResponse{})(w, req)
	})
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, req *http.Request) {
		msg := &colmetricspb.ExportMetricsServiceRequest{}
		handle(msg, func() { r.addMetrics(msg) }, &colmetricspb.ExportMetricsServiceResponse{})(w, req)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestOTLPExportFromEnvironment(t *testing.T) {
	tests := []struct {
		protocol string
		start    func(*testing.T, *receiver) string
	}{
		{"grpc", startGRPCReceiver},
		{"http/protobuf", startHTTPReceiver},
	}
	for _, tc := range tests {
		t.Run(tc.protocol, func(t *testing.T) {
			clearEnv(t)
			r := &receiver{}
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", tc.start(t, r))
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", tc.protocol)

			// No injected exporter or reader: only what the environment configures can deliver.
			tel, err := telemetry.Setup(t.Context(), telemetry.Config{
				ServiceName: "authsvc-otlp",
				LogOutput:   &bytes.Buffer{},
			})
			require.NoError(t, err)

			ctx, span := tel.TracerProvider.Tracer("test").Start(t.Context(), "authenticate")
			tel.Auth.SessionVerified(ctx, telemetry.PathLocal, telemetry.OutcomeValid, "ok")
			span.End()

			// The batch span processor waits up to 5s and the periodic reader 60s; nothing has been
			// sent yet, so what arrives below was pushed by Shutdown's flush.
			require.NoError(t, tel.Shutdown(context.Background()))

			spans, metrics, services := r.got()
			assert.Equal(t, []string{"authenticate"}, spans)
			assert.Contains(t, services, "authsvc-otlp")
			assert.Contains(t, metrics, telemetry.MetricSessionVerifications)
		})
	}
}

func TestOTLPTracesOnlyWhenMetricsDisabled(t *testing.T) {
	clearEnv(t)
	r := &receiver{}
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", startHTTPReceiver(t, r)+"/v1/traces")
	t.Setenv("OTEL_METRICS_EXPORTER", "none")

	tel, err := telemetry.Setup(t.Context(), telemetry.Config{LogOutput: &bytes.Buffer{}})
	require.NoError(t, err)
	ctx, span := tel.TracerProvider.Tracer("test").Start(t.Context(), "only-traces")
	tel.Auth.AdmissionRejected(ctx, "global")
	span.End()
	require.NoError(t, tel.Shutdown(context.Background()))

	spans, metrics, _ := r.got()
	assert.Equal(t, []string{"only-traces"}, spans)
	assert.Empty(t, metrics)
}
