package authn

import (
	"context"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
)

// UnaryServerInterceptor authenticates each call from its "authorization: Bearer ..." metadata,
// admits it by rules (see [Authorize]) and puts the caller in the handler's context
// ([PrincipalFrom]). Refused calls end with UNAUTHENTICATED, PERMISSION_DENIED or UNAVAILABLE.
//
// The rules apply to every method of the server. For per-method rules, or to leave health checks
// open, wrap it with go-grpc-middleware's selector interceptor or call [Authorize] in handlers.
func (a *Authenticator) UnaryServerInterceptor(rules ...Rule) grpc.UnaryServerInterceptor {
	return auth.UnaryServerInterceptor(a.authFunc(rules))
}

// StreamServerInterceptor is [Authenticator.UnaryServerInterceptor] for streaming calls: the
// credential is checked once, when the stream opens.
func (a *Authenticator) StreamServerInterceptor(rules ...Rule) grpc.StreamServerInterceptor {
	return auth.StreamServerInterceptor(a.authFunc(rules))
}

func (a *Authenticator) authFunc(rules []Rule) auth.AuthFunc {
	return func(ctx context.Context) (context.Context, error) {
		token, err := auth.AuthFromMD(ctx, "bearer")
		if err != nil {
			// AuthFromMD's own status says whether a credential was there; ours keeps one shape.
			return nil, newError(ErrUnauthenticated, "no Bearer credential", false)
		}
		p, err := a.Authenticate(ctx, token)
		if err != nil {
			return nil, err
		}
		if err := authorize(ctx, p, rules); err != nil {
			return nil, err
		}
		return NewContext(ctx, p), nil
	}
}
