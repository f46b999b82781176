package app

import (
	"context"

	"google.golang.org/grpc"

	"github.com/authsvc/authsvc/internal/config"
)

// callerInterceptors returns the interceptors that decide whether a call may proceed, in order: caller
// access (who is calling, may they call this RPC) and then admission control (rate limits, before any
// call to Stytch). They run after the access log and before validation; see internal/server.
func (a *App) callerInterceptors(ctx context.Context, cfg *config.Config, deps serviceDeps) ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor, error) {
	accU, accS, err := a.accessInterceptors(ctx, cfg, deps)
	if err != nil {
		return nil, nil, err
	}
	admU, admS, err := a.admissionInterceptors(ctx, cfg, deps)
	if err != nil {
		return nil, nil, err
	}
	return append(accU, admU...), append(accS, admS...), nil
}
