package app

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/config"
)

// accessInterceptors enforces each RPC's authsvc.access.v1.access rule (see internal/access): the
// rules are read from the descriptors of the generated packages this binary links, so the policy
// enforced is exactly the one in proto/.
func (a *App) accessInterceptors(_ context.Context, _ *config.Config, deps serviceDeps) ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor, error) {
	acc, err := access.New(access.Config{
		Sessions: deps.sessions,
		M2M:      deps.verifier,
		Logger:   a.log.With("component", "access"),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("access rules: %w", err)
	}
	return []grpc.UnaryServerInterceptor{acc.Unary()}, []grpc.StreamServerInterceptor{acc.Stream()}, nil
}
