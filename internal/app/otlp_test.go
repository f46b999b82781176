package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// otlpReceiver is a minimal OTLP/HTTP collector that keeps the span and metric names it is sent: a
// real collector cannot run in the test, and the app's exporters speak the real protocol to it.
type otlpReceiver struct {
	mu       sync.Mutex
	spans    map[string]bool
	metrics  map[string]bool
	services map[string]bool
}

func startOTLPReceiver(t *testing.T) (*otlpReceiver, string) {
	t.Helper()
	r := &otlpReceiver{spans: map[string]bool{}, metrics: map[string]bool{}, services: map[string]bool{}}
	read := func(w http.ResponseWriter, req *http.Request, msg proto.Message) bool {
		body, err := io.ReadAll(req.Body)
		if err != nil || proto.Unmarshal(body, msg) != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return false
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		return true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
		msg := &coltracepb.ExportTraceServiceRequest{}
		if !read(w, req, msg) {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, rs := range msg.GetResourceSpans() {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.GetKey() == "service.name" {
					r.services[kv.GetValue().GetStringValue()] = true
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					r.spans[s.GetName()] = true
				}
			}
		}
	})
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, req *http.Request) {
		msg := &colmetricspb.ExportMetricsServiceRequest{}
		if !read(w, req, msg) {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, rm := range msg.GetResourceMetrics() {
			for _, sm := range rm.GetScopeMetrics() {
				for _, m := range sm.GetMetrics() {
					r.metrics[m.GetName()] = true
				}
			}
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return r, srv.URL
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, the app exports its spans and metrics over OTLP: a call that
// reaches Stytch shows up at the receiver as the gRPC server span, the Stytch client span, the
// per-RPC and Stytch histograms and authsvc's own counters. Nothing is sent until shutdown flushes
// (the batch and periodic export intervals are far longer than the test), so what arrives was sent
// by the app's shutdown.
func TestAppExportsOTLPFromTheEnvironment(t *testing.T) {
	r, endpoint := startOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_SERVICE_NAME", "authsvc-otlp-test")
	t.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "3600000")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "3600000")

	env := startKeepingTelemetry(t)
	client, err := env.Emu.CreateM2MClient("otlp", []string{"read:members"})
	require.NoError(t, err)
	session := memberSession(t, env.Env, stytchemu.SandboxOrganizationID, "otlp@stytch.com")
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+m2mToken(t, env.Env, client, nil))
	_, err = b2bv1.NewMembersServiceClient(env.Conn).Get(ctx, &b2bv1.MembersServiceGetRequest{
		OrganizationId: stytchemu.SandboxOrganizationID, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: session.MemberID},
	})
	require.NoError(t, err)

	env.stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	assert.True(t, r.services["authsvc-otlp-test"], "service.name from OTEL_SERVICE_NAME: %v", r.services)
	for _, name := range []string{b2bv1.MembersService_Get_FullMethodName[1:], "GET /v1/b2b/organizations/{organization_id}/member", "verify.m2m"} {
		assert.True(t, r.spans[name], "span %q not received; got %v", name, r.spans)
	}
	for _, name := range []string{"rpc.server.call.duration", "stytch.client.duration", "authsvc.session.verifications"} {
		assert.True(t, r.metrics[name], "metric %q not received; got %v", name, r.metrics)
	}
}
