package server

import (
	"context"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// drainingHealth is the standard health server whose Watch streams end when shutdown begins.
//
// GracefulStop waits for every open RPC, and a Watch stream from a load balancer or a sidecar never
// ends by itself: without this, every shutdown would sit out the whole grace period and then cut all
// in-flight calls. Watchers are told NOT_SERVING first (health.Server.Shutdown) and their streams are
// ended once the REST side has drained.
type drainingHealth struct {
	*health.Server
	drain <-chan struct{}
}

func (h drainingHealth) Watch(req *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	go func() {
		select {
		case <-h.drain:
			cancel()
		case <-ctx.Done():
		}
	}()
	return h.Server.Watch(req, watchStream{Health_WatchServer: stream, ctx: ctx})
}

type watchStream struct {
	healthpb.Health_WatchServer
	ctx context.Context //nolint:containedctx // overrides the stream's context, which is the point
}

func (w watchStream) Context() context.Context { return w.ctx }
