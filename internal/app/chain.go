package app

import (
	"context"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"

	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/callmeta"
	"github.com/authsvc/authsvc/internal/server"
	"github.com/authsvc/authsvc/internal/session"
)

// middleware is the gRPC interceptor chain, in the order every call (gRPC and REST alike) passes
// it, outermost first. It is the one place the order is decided; chain_test.go pins it and checks
// the README's request-path picture against it.
//
//   - gateway-trust: the REST gateway's forwarded facts (cookies, client address) are believed only
//     on the gateway's own calls (internal/callmeta);
//   - access-log: one line per RPC, with what the later steps add;
//   - decode-check: a request that did not decode (not UTF-8, nested too deep) is INVALID_ARGUMENT
//     naming the field, before anything reads it;
//   - access: who the caller is (one Principal) and whether the RPC's rule admits them;
//   - idempotency: a call with a known idempotency key is replayed, spending no budget;
//   - admission: rate limits, before any call to Stytch;
//   - validate: protovalidate rules, INVALID_ARGUMENT naming the field;
//   - recover: a panic becomes INTERNAL.
func (a *App) middleware(gw *callmeta.Gateway, decode *server.DecodeFailures, checker, users *session.Checker, admit *admissionParts) ([]server.Middleware, error) {
	cfg := access.Config{
		Checker: checker, Logger: a.log.With("component", "access"),
		// Open: health and reflection carry no data of anyone; Envoy's Check authorizes the
		// requests it describes itself (internal/edge), and its caller is the proxy.
		OpenServices: []string{
			healthpb.Health_ServiceDesc.ServiceName,
			reflectionv1.ServerReflection_ServiceDesc.ServiceName,
			reflectionv1alpha.ServerReflection_ServiceDesc.ServiceName,
			authv3.Authorization_ServiceDesc.ServiceName,
		},
	}
	if users != nil { // a nil *session.Checker must not become a non-nil interface
		cfg.UserChecker = users
	}
	if a.policies != nil { // likewise a nil *stytchclient.PolicyCache
		cfg.Policies = a.policies
	}
	acc, err := access.New(cfg)
	if err != nil {
		return nil, err
	}
	validate, err := server.Validate()
	if err != nil {
		return nil, err
	}
	mw := []server.Middleware{
		{Name: "gateway-trust", Unary: gw.UnaryServerInterceptor(), Stream: gw.StreamServerInterceptor()},
		server.AccessLog(a.log),
		server.DecodeCheck(decode),
		{Name: "access", Unary: acc.Unary(), Stream: acc.Stream()},
		{Name: "idempotency", Unary: admit.idempotency.UnaryServerInterceptor()},
		{Name: "admission", Unary: admit.limits},
		validate,
		server.Recover(a.log),
	}
	return mw, nil
}

// callerIdentity names the authenticated caller (member, user or service) for per-caller budgets
// and idempotency scopes.
func callerIdentity(ctx context.Context) string { return access.From(ctx).CallerKey() }
