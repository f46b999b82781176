package server

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// accessLogUnary writes the access line of a unary call: the same record, field for field and in
// the same order, as go-grpc-middleware's logging interceptor with AccessLog's options
// (accesslog_test.go compares the two), built for a fraction of its cost.
//
// Hand-written because the library's line was the largest single cost of a session check: it
// rebuilds its field list three times per call (Fields.WithUnique and AppendUnique copy the list
// and build a map of its keys) and passes the fields to slog as ...any, which converts each pair
// again; about 50 of the ~325 allocations of a whole JWT check (docs/profiles/session-check.md).
// This one makes the one []slog.Attr the line needs. Fields that later steps add with
// logging.AddFields (caller kind, access reason) still land on the line: the context carries the
// library's field holder as before. Streams, which are rare (reflection), keep the library.
func accessLogUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		service, method := splitFullMethod(info.FullMethod)
		if service == healthpb.Health_ServiceDesc.ServiceName {
			return handler(ctx, req)
		}
		start := time.Now()
		ctx = logging.InjectFields(ctx, nil)
		resp, err := handler(ctx, req)
		code := status.Code(err)
		level := slog.Level(accessLogLevel(code))
		if !log.Enabled(ctx, level) {
			return resp, err
		}
		elapsed := time.Since(start)

		var buf [16]slog.Attr
		attrs := append(buf[:0],
			slog.String("protocol", "grpc"),
			slog.String(logging.ComponentFieldKey, logging.KindServerFieldValue),
			slog.String(logging.ServiceFieldKey, service),
			slog.String(logging.MethodFieldKey, method),
			slog.String(logging.MethodTypeFieldKey, "unary"),
		)
		if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
			attrs = append(attrs, slog.String("peer.address", p.Addr.String()))
		}
		attrs = append(attrs, slog.String("grpc.start_time", start.Format(time.RFC3339)))
		if d, ok := ctx.Deadline(); ok {
			attrs = append(attrs, slog.String("grpc.request.deadline", d.Format(time.RFC3339)))
		}
		added := logging.ExtractFields(ctx)
		for i := 0; i+1 < len(added); i += 2 {
			k, ok := added[i].(string)
			if ok && !hasKey(attrs, k) {
				attrs = append(attrs, slog.Any(k, added[i+1]))
			}
		}
		attrs = append(attrs, slog.String("grpc.code", code.String()))
		if err != nil {
			attrs = append(attrs, slog.String("grpc.error", fmt.Sprintf("%v", err)))
		}
		attrs = append(attrs, slog.String("grpc.time_ms", durationMillis(elapsed)))
		log.LogAttrs(ctx, level, "finished call", attrs...)
		return resp, err
	}
}

// splitFullMethod splits "/package.Service/Method" as go-grpc-middleware does.
func splitFullMethod(full string) (service, method string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.Index(full, "/"); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "unknown", "unknown"
}

func hasKey(attrs []slog.Attr, key string) bool {
	for _, a := range attrs {
		if a.Key == key {
			return true
		}
	}
	return false
}

// durationMillis is go-grpc-middleware's grpc.time_ms value: whole microseconds as a float32 of
// milliseconds, printed as fmt's %v prints a float32.
func durationMillis(d time.Duration) string {
	return strconv.FormatFloat(float64(float32(d.Nanoseconds()/1000)/1000), 'g', -1, 32)
}
