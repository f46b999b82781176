package server

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"buf.build/go/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	protovalidatemw "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// chain builds the interceptor chain, outermost first: logging (one access line per RPC), the check
// for requests the codec could not decode (INVALID_ARGUMENT before anything reads them; see
// decodeFailures), the caller's interceptors (access, admission), validation (protovalidate and
// MaxJSONDepth), recovery. Tracing and metrics run before all of them as
// the otelgrpc stats handler, so every log record can carry the trace ID.
//
// Recovery sits innermost so that a panic in a handler becomes codes.Internal and still passes logging
// (which records the failed call) instead of killing the connection.
func chain(cfg Config, log *slog.Logger, decode *decodeFailures) ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor) {
	pv, err := protovalidate.New()
	if err != nil {
		// protovalidate.New only fails on invalid options; none are passed.
		panic(fmt.Sprintf("protovalidate: %v", err))
	}
	validator := depthValidator{pv}
	logOpts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(accessLogLevel),
	}
	rec := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		// The panic value may hold request data (a token, an email); log only its type and the stack.
		log.ErrorContext(ctx, "panic in RPC handler", "panic_type", fmt.Sprintf("%T", p), "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	})

	// Health probes arrive every few seconds from every kubelet and load balancer; an access-log line
	// each would bury the calls that matter.
	notHealth := selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool {
		return c.Service != healthpb.Health_ServiceDesc.ServiceName
	})
	unary := []grpc.UnaryServerInterceptor{
		selector.UnaryServerInterceptor(logging.UnaryServerInterceptor(slogAdapter(log), logOpts...), notHealth),
		decode.unaryCheck(),
	}
	unary = append(unary, cfg.UnaryInterceptors...)
	unary = append(unary,
		protovalidatemw.UnaryServerInterceptor(validator),
		recovery.UnaryServerInterceptor(rec),
	)

	stream := []grpc.StreamServerInterceptor{
		selector.StreamServerInterceptor(logging.StreamServerInterceptor(slogAdapter(log), logOpts...), notHealth),
		decode.streamCheck(),
	}
	stream = append(stream, cfg.StreamInterceptors...)
	stream = append(stream,
		protovalidatemw.StreamServerInterceptor(validator),
		recovery.StreamServerInterceptor(rec),
	)
	return unary, stream
}

// accessLogLevel logs successful and client-caused outcomes at info and server-side failures at error,
// so an error-level alert on logs means something is wrong with authsvc or Stytch, not with a caller.
func accessLogLevel(c codes.Code) logging.Level {
	switch c {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unavailable, codes.DeadlineExceeded, codes.Unimplemented:
		return logging.LevelError
	default:
		return logging.LevelInfo
	}
}

// slogAdapter is the adapter go-grpc-middleware documents for log/slog.
func slogAdapter(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}
