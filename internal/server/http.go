package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// gatewayOptions are the REST behaviours every deployment gets: Stytch-style snake_case JSON (proto field
// names), unknown fields rejected rather than silently dropped, and span names by route template.
func gatewayOptions() []runtime.ServeMuxOption {
	return []runtime.ServeMuxOption{
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{
			Marshaler: oneDocumentJSON{&runtime.JSONPb{
				MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true},
				UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
			}},
		}),
		runtime.WithMetadata(routeSpanName),
		pathUnescaping(),
	}
}

// oneDocumentJSON is the gateway's JSON marshaler with one more rule for request bodies: the body is
// exactly one JSON document. runtime.JSONPb decodes the first value and ignores whatever follows, so
// `{"session_token":"x"} junk` (or two documents) would pass as if the rest were not there; a
// request that is not what the client meant must be refused, not guessed at (found by
// FuzzRESTDecode). Bodies are small (maxRequestBody), so reading one whole is cheap.
type oneDocumentJSON struct{ *runtime.JSONPb }

func (m oneDocumentJSON) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err //nolint:wrapcheck // the gateway reports it as the request's decode error
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return io.EOF // no body: the gateway's rule is the empty message
		}
		if !json.Valid(b) {
			// A member whose value is broken (or nested past encoding/json's depth limit) is named.
			if err := fieldError(b, v, m.UnmarshalOptions); err != nil {
				return err
			}
			return errors.New("the request body is not a single JSON document")
		}
		if msg, ok := v.(proto.Message); ok {
			// What runtime.JSONPb's decoder does with a message, without its encoding/json pass that
			// copies the document out first: b is one JSON document (json.Valid; protojson alone
			// accepts some text that is not JSON), and protojson skips the whitespace around it.
			err = m.UnmarshalOptions.Unmarshal(b, msg)
		} else {
			err = m.JSONPb.NewDecoder(bytes.NewReader(b)).Decode(v)
		}
		if err != nil {
			return explainJSON(b, v, m.UnmarshalOptions)
		}
		return nil
	})
}

// routeSpanName renames the otelhttp server span after the matched route template
// ("POST /v1/b2b/sessions/authenticate"), which only the gateway knows: a span name with IDs in it
// would make every member's request its own span name. It is a metadata annotator, not a ServeMux
// middleware, because middlewares run before the generated handler puts the template into the context
// (runtime.AnnotateContext); annotators run inside AnnotateContext, after it. It adds no metadata.
func routeSpanName(ctx context.Context, r *http.Request) metadata.MD {
	if pattern, ok := runtime.HTTPPathPattern(ctx); ok {
		span := trace.SpanFromContext(ctx)
		span.SetName(r.Method + " " + pattern)
		span.SetAttributes(attribute.String("http.route", pattern))
	}
	return nil
}

// maxRequestBody caps REST request bodies; every API request is a small JSON document.
const maxRequestBody = 64 << 10

func (s *Server) httpHandler(gw *runtime.ServeMux) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", gw)
	own := maps.Clone(s.cfg.ExtraRoutes)
	if own == nil {
		own = map[string]http.Handler{}
	}
	if len(s.cfg.OpenAPI) > 0 {
		spec := s.cfg.OpenAPI
		own["GET /openapi.json"] = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(spec)
		})
	}
	own["GET /readyz"] = http.HandlerFunc(s.readyz)
	ownRoutes(mux, gw, own)

	h := limitBody(uncleanPathsToGateway(mux, gw), gw)
	for i := len(s.cfg.HTTPMiddleware) - 1; i >= 0; i-- {
		h = s.cfg.HTTPMiddleware[i](h)
	}
	h = s.closeWhenDraining(hstsOnTLS(h))
	return otelhttp.NewHandler(h, "authsvc.http",
		otelhttp.WithTracerProvider(s.cfg.TracerProvider),
		otelhttp.WithMeterProvider(s.cfg.MeterProvider),
		otelhttp.WithPropagators(s.cfg.Propagators),
		otelhttp.WithFilter(func(r *http.Request) bool {
			return r.URL.Path != "/healthz" && r.URL.Path != "/readyz"
		}),
		// The route template is set by routeSpanName once the gateway has matched; until then (and for
		// unmatched paths) the method alone keeps span names low-cardinality.
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
	)
}

// readyz answers 200 when the gRPC server is serving and the readiness check passes (JWKS loaded or
// Stytch reachable) or reports only a [Degraded] dependency, 503 otherwise. The reason is operator
// information, never a secret.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.ready(r.Context()); err != nil {
		if onlyDegraded(err) {
			_, _ = w.Write([]byte("ok, degraded: " + err.Error() + "\n"))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready: " + err.Error() + "\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) ready(ctx context.Context) error {
	if s.cfg.Ready == nil {
		return s.servingErr(ctx)
	}
	if err := s.servingErr(ctx); err != nil {
		return err
	}
	return s.cfg.Ready(ctx)
}

func (s *Server) servingErr(ctx context.Context) error {
	resp, err := s.health.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return errors.New("shutting down")
	}
	return nil
}
