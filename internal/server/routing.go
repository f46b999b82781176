package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// hsts tells browsers to reach this host (and its subdomains) over HTTPS only, for a year. It is sent
// only on responses that travelled over TLS: browsers ignore it on plain HTTP (RFC 6797), and a
// deployment that terminates TLS in front of authsvc sets it at that proxy.
const hsts = "max-age=31536000; includeSubDomains"

// routeProbe tells which methods the gateway serves on a path, so that a wrong method on a known route
// is answered 405 with an Allow header (grpc-gateway only says the method is wrong). It holds the same
// registrations as the gateway on a second ServeMux whose handlers never run: matching is the
// gateway's own, path templates and all, so the answer cannot drift from the routes actually served.
type routeProbe struct{ mux *runtime.ServeMux }

type probeHitKey struct{}

func newRouteProbe(ctx context.Context, register func(context.Context, *runtime.ServeMux) error, opts ...runtime.ServeMuxOption) (*routeProbe, error) {
	mux := runtime.NewServeMux(append([]runtime.ServeMuxOption{
		// First, so that it wraps every handler registered afterwards (the health endpoint option
		// registers while the options are applied).
		runtime.WithMiddlewares(func(runtime.HandlerFunc) runtime.HandlerFunc {
			return func(_ http.ResponseWriter, r *http.Request, _ map[string]string) {
				if hit, ok := r.Context().Value(probeHitKey{}).(*bool); ok {
					*hit = true
				}
			}
		}),
		runtime.WithRoutingErrorHandler(func(context.Context, *runtime.ServeMux, runtime.Marshaler, http.ResponseWriter, *http.Request, int) {}),
		runtime.WithDisablePathLengthFallback(),
	}, opts...)...)
	if err := register(ctx, mux); err != nil {
		return nil, err
	}
	return &routeProbe{mux: mux}, nil
}

// allowed returns the methods the gateway serves on r's path.
func (p *routeProbe) allowed(r *http.Request) []string {
	var allow []string
	// The methods an API route can have (google.api.http: get, put, post, delete, patch), in the
	// order Allow lists them.
	for _, m := range []string{http.MethodDelete, http.MethodGet, http.MethodPatch, http.MethodPost, http.MethodPut} {
		hit := false
		q := r.Clone(context.WithValue(r.Context(), probeHitKey{}, &hit))
		q.Method = m
		q.Body = http.NoBody
		q.ContentLength = 0
		p.mux.ServeHTTP(discardResponse{}, q)
		if hit {
			allow = append(allow, m)
		}
	}
	return allow
}

// discardResponse is the probe's ResponseWriter; nothing is ever written to it.
type discardResponse struct{}

func (discardResponse) Header() http.Header         { return http.Header{} }
func (discardResponse) Write(b []byte) (int, error) { return len(b), nil }
func (discardResponse) WriteHeader(int)             {}

// routingError answers the gateway's routing failures. A wrong method on a known route becomes 405
// with Allow (grpc-gateway's default maps it to UNIMPLEMENTED, 501); the rest keep the default.
func (s *Server) routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if httpStatus != http.StatusMethodNotAllowed || s.routes == nil {
		runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
		return
	}
	methodNotAllowed(ctx, mux, m, w, r, s.routes.allowed(r))
}

// methodNotAllowed writes 405 with the gateway's JSON error body (google.rpc.Status, code
// UNIMPLEMENTED as grpc-gateway uses for it) and the Allow header.
func methodNotAllowed(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, allow []string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	runtime.HTTPError(ctx, mux, m, w, r, &runtime.HTTPStatusError{
		HTTPStatus: http.StatusMethodNotAllowed,
		Err:        status.Errorf(codes.Unimplemented, "method %s not allowed; allowed: %s", r.Method, strings.Join(allow, ", ")),
	})
}

// ownRoutes serves the REST port's routes that are not the gateway's (/readyz, /openapi.json, the dev
// routes) on mux and answers a wrong method on their paths with the gateway's 405: without it,
// net/http's ServeMux would hand such a request to the gateway's catch-all "/" and it would be a 404.
func ownRoutes(mux *http.ServeMux, gw *runtime.ServeMux, routes map[string]http.Handler) {
	methods := map[string][]string{} // path -> the methods of its patterns
	anyMethod := map[string]bool{}   // paths with a pattern that has no method
	for pattern, h := range routes {
		mux.Handle(pattern, h)
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			anyMethod[pattern] = true
			continue
		}
		methods[path] = append(methods[path], method)
		if method == http.MethodGet {
			methods[path] = append(methods[path], http.MethodHead) // net/http serves HEAD with GET
		}
	}
	for path, allow := range methods {
		if anyMethod[path] {
			continue
		}
		slices.Sort(allow)
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			_, out := runtime.MarshalerForRequest(gw, r)
			methodNotAllowed(r.Context(), gw, out, w, r, allow)
		})
	}
}

// limitBody reads the request body up front, at most maxRequestBody bytes, so that a body over the
// limit is answered 413 with the gateway's JSON error body. Left to the gateway, the limit surfaced as
// a decode error and a 400 that blamed the JSON. Every API body is one small JSON document that the
// gateway reads whole anyway, so reading it here costs nothing more.
func limitBody(next http.Handler, gw *runtime.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A copy, as http.MaxBytesHandler makes: the ServeMux records the pattern it matched ("/" for
		// every API route) on the request it is given, and otelhttp renames its span after that pattern
		// when the request it passed on carries one, undoing the route name the gateway gave the span.
		r2 := *r
		if r.Body != nil && r.Body != http.NoBody {
			b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
			if err != nil {
				_, out := runtime.MarshalerForRequest(gw, r)
				runtime.HTTPError(r.Context(), gw, out, w, r, bodyError(err))
				return
			}
			r2.Body = io.NopCloser(bytes.NewReader(b))
		}
		next.ServeHTTP(w, &r2)
	})
}

func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &runtime.HTTPStatusError{
			HTTPStatus: http.StatusRequestEntityTooLarge,
			Err:        status.Errorf(codes.InvalidArgument, "the request body is larger than %d bytes", tooBig.Limit),
		}
	}
	// The client stopped sending (or was too slow for ReadTimeout): nobody may be listening, but the
	// answer is still its fault, not ours.
	return status.Error(codes.InvalidArgument, "the request body could not be read")
}

// hstsOnTLS sets Strict-Transport-Security on every response that travels over TLS.
func hstsOnTLS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", hsts)
		}
		next.ServeHTTP(w, r)
	})
}

// registerGateway registers the health endpoint and every service's REST handlers on mux; the gateway
// and its route probe are built by the same function.
func (s *Server) registerGateway(conn *grpc.ClientConn) func(context.Context, *runtime.ServeMux) error {
	return func(ctx context.Context, mux *runtime.ServeMux) error {
		for _, svc := range s.cfg.Services {
			if svc.RegisterGateway == nil {
				continue
			}
			if err := svc.RegisterGateway(ctx, mux, conn); err != nil {
				return fmt.Errorf("gateway: register %s: %w", svc.Desc.ServiceName, err)
			}
		}
		return nil
	}
}
