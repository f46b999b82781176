package server

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	protovalidatemw "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Middleware is one named step of the gRPC server's interceptor chain. The chain is built from an
// ordered list of them (internal/app's middleware function), outermost first; the names are what
// the README's request-path picture shows and what the chain-order test checks.
type Middleware struct {
	Name   string
	Unary  grpc.UnaryServerInterceptor
	Stream grpc.StreamServerInterceptor // nil: the step does not apply to streams
}

// chain turns the ordered middleware into gRPC server options.
func chain(mw []Middleware) []grpc.ServerOption {
	var unary []grpc.UnaryServerInterceptor
	var stream []grpc.StreamServerInterceptor
	for _, m := range mw {
		if m.Unary != nil {
			unary = append(unary, m.Unary)
		}
		if m.Stream != nil {
			stream = append(stream, m.Stream)
		}
	}
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(stream...)}
}

// AccessLog writes one access line per RPC (go-grpc-middleware's logging fields through slog; unary
// calls through accessLogUnary, its cheaper equivalent), with the fields the later steps add
// (caller kind, access reason). Health probes arrive every few seconds from every kubelet and load
// balancer; a line each would bury the calls that matter, so they are skipped.
func AccessLog(log *slog.Logger) Middleware {
	notHealth := selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool {
		return c.Service != healthpb.Health_ServiceDesc.ServiceName
	})
	return Middleware{
		Name:   "access-log",
		Unary:  accessLogUnary(log),
		Stream: selector.StreamServerInterceptor(logging.StreamServerInterceptor(slogAdapter(log), accessLogOptions()...), notHealth),
	}
}

// Validate checks every request against its protovalidate rules (declared in the proto) and the
// MaxJSONDepth bound: INVALID_ARGUMENT naming the field, before any handler runs.
func Validate() (Middleware, error) {
	pv, err := protovalidate.New()
	if err != nil {
		return Middleware{}, fmt.Errorf("protovalidate: %w", err)
	}
	validator := depthValidator{pv}
	unary := protovalidatemw.UnaryServerInterceptor(validator)
	stream := protovalidatemw.StreamServerInterceptor(validator)
	return Middleware{
		Name: "validate",
		Unary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			reached := false
			resp, err := unary(ctx, req, info, func(ctx context.Context, req any) (any, error) {
				reached = true
				return handler(ctx, req)
			})
			if err != nil && !reached {
				err = withBadRequest(err)
			}
			return resp, err
		},
		Stream: func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			return stream(srv, ss, info, func(srv any, validated grpc.ServerStream) error {
				return handler(srv, badRequestStream{validated})
			})
		},
	}, nil
}

// withBadRequest adds a google.rpc.BadRequest detail to a protovalidate failure, one field
// violation per buf.validate violation (the field path and the rule's message), and keeps the
// buf.validate.Violations detail. BadRequest is the detail every other INVALID_ARGUMENT of authsvc
// carries (internal/rpcerr, the decode check), so a client reads one detail type for all of them;
// the go-grpc-middleware interceptor attaches only protovalidate's own. Any other error is returned
// unchanged.
func withBadRequest(err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		return err
	}
	var fields []*errdetails.BadRequest_FieldViolation
	for _, d := range st.Details() {
		switch v := d.(type) {
		case *errdetails.BadRequest:
			return err
		case *validate.Violations:
			for _, x := range v.GetViolations() {
				fields = append(fields, &errdetails.BadRequest_FieldViolation{
					Field:       protovalidate.FieldPathString(x.GetField()),
					Description: x.GetMessage(),
				})
			}
		}
	}
	if len(fields) == 0 {
		return err
	}
	withDetail, derr := st.WithDetails(&errdetails.BadRequest{FieldViolations: fields})
	if derr != nil {
		return err
	}
	return withDetail.Err()
}

// badRequestStream gives a streamed message's validation failure the same BadRequest detail.
type badRequestStream struct{ grpc.ServerStream }

func (s badRequestStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return withBadRequest(err)
	}
	return nil
}

// DecodeCheck answers a request the server's codec could not decode (a string that is not UTF-8,
// a Struct nested past protobuf's recursion limit) with INVALID_ARGUMENT naming the field, before
// anything reads the half-decoded message; see DecodeFailures. The server's codec records those
// failures: pass the same DecodeFailures to Config.Decode.
func DecodeCheck(d *DecodeFailures) Middleware {
	return Middleware{Name: "decode-check", Unary: d.unaryCheck(), Stream: d.streamCheck()}
}

// Recover turns a panic in a handler into INTERNAL instead of a dropped connection. It sits
// innermost so that the failed call still passes the access log.
func Recover(log *slog.Logger) Middleware {
	rec := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		// The panic value may hold request data (a token, an email); log only its type and the stack.
		log.ErrorContext(ctx, "panic in RPC handler", "panic_type", fmt.Sprintf("%T", p), "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	})
	return Middleware{
		Name:   "recover",
		Unary:  recovery.UnaryServerInterceptor(rec),
		Stream: recovery.StreamServerInterceptor(rec),
	}
}

// accessLogOptions are go-grpc-middleware's logging options of the access line: one line when the
// call finishes, at accessLogLevel.
func accessLogOptions() []logging.Option {
	return []logging.Option{logging.WithLogOnEvents(logging.FinishCall), logging.WithLevels(accessLogLevel)}
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
