// Package callmeta carries what the REST gateway knows about an HTTP request to the gRPC side: the
// browser's session cookies and the client's address chain (X-Forwarded-For). Handlers never parse
// HTTP, so a REST call with cookies and a gRPC call with the same credentials are handled alike.
//
// Only the gateway of this process may assert these facts. Its connection to the gRPC server
// carries a per-process secret on every call ([Gateway]); the server's first interceptor accepts
// the forwarded metadata only from a call that presents it, and puts it in the context as
// [Forwarded]. A direct gRPC caller (even one on loopback) that sends authsvc-* metadata or
// x-forwarded-for is not believed: nothing else in authsvc reads those keys.
package callmeta

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

const (
	// CookieSessionToken carries the stytch_session cookie's value on REST calls.
	CookieSessionToken = "authsvc-cookie-session-token" //nolint:gosec // a metadata key, not a credential
	// CookieSessionJWT carries the stytch_session_jwt cookie's value on REST calls.
	CookieSessionJWT = "authsvc-cookie-session-jwt"
	// gatewayKey carries the gateway's per-process secret.
	gatewayKey = "authsvc-gateway"
	// forwardedFor is the metadata key grpc-gateway writes the X-Forwarded-For chain to (with the
	// HTTP peer appended).
	forwardedFor = "x-forwarded-for"
	// InternalPrefix starts every authsvc-internal metadata key; the gateway never forwards such
	// keys between HTTP and gRPC in either direction.
	InternalPrefix = "authsvc-"
)

// Forwarded is what the gateway asserted about the HTTP request behind a call.
type Forwarded struct {
	// SessionToken and SessionJWT are the stytch_session and stytch_session_jwt cookies; empty
	// when absent.
	SessionToken string
	SessionJWT   string
	// ForwardedFor is the X-Forwarded-For chain, left to right, ending with the HTTP peer's
	// address (the gateway appends it).
	ForwardedFor []string
}

type forwardedKey struct{}

// WithForwarded returns ctx carrying f. Only the gateway-trust interceptor calls it in production;
// tests of the layers above use it to stand in for the gateway.
func WithForwarded(ctx context.Context, f Forwarded) context.Context {
	return context.WithValue(ctx, forwardedKey{}, f)
}

// ForwardedFrom returns what the gateway asserted about the call; false when the call did not come
// through this process's gateway.
func ForwardedFrom(ctx context.Context) (Forwarded, bool) {
	f, ok := ctx.Value(forwardedKey{}).(Forwarded)
	return f, ok
}

// Gateway is the identity of this process's REST gateway towards its gRPC server.
type Gateway struct {
	secret string
}

// NewGateway creates a gateway identity with a fresh random secret. The secret never leaves the
// process except on the gateway's own connection to the gRPC port.
func NewGateway() (*Gateway, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("callmeta: gateway secret: %w", err)
	}
	return &Gateway{secret: hex.EncodeToString(b)}, nil
}

// DialOption makes every call on the gateway's connection present the secret.
func (g *Gateway) DialOption() grpc.DialOption {
	return grpc.WithPerRPCCredentials(gatewayCreds{secret: g.secret})
}

// gatewayCreds is the secret as per-call credentials. The connection is in memory (or TLS with the
// gateway's in-memory identity), so the secret may travel without transport security.
type gatewayCreds struct{ secret string }

func (c gatewayCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{gatewayKey: c.secret}, nil
}

func (gatewayCreds) RequireTransportSecurity() bool { return false }

// presents reports whether v, the values of the gateway key, is this process's gateway secret.
func (g *Gateway) presents(v []string) bool {
	return len(v) == 1 && subtle.ConstantTimeCompare([]byte(v[0]), []byte(g.secret)) == 1
}

// Trust puts the gateway's forwarded facts into the context of calls that come from the gateway,
// and nothing into others.
func (g *Gateway) Trust(ctx context.Context) context.Context {
	// Key by key: metadata.FromIncomingContext would copy every key and value of the call.
	if !g.presents(metadata.ValueFromIncomingContext(ctx, gatewayKey)) {
		return ctx
	}
	return WithForwarded(ctx, Forwarded{
		SessionToken: first(ctx, CookieSessionToken),
		SessionJWT:   first(ctx, CookieSessionJWT),
		ForwardedFor: metadata.ValueFromIncomingContext(ctx, forwardedFor),
	})
}

// UnaryServerInterceptor runs Trust; it must be the first interceptor of the chain.
func (g *Gateway) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return handler(g.Trust(ctx), req)
	}
}

// StreamServerInterceptor runs Trust for streams.
func (g *Gateway) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx := g.Trust(ss.Context())
		if ctx == ss.Context() {
			return handler(srv, ss)
		}
		return handler(srv, &serverStream{ServerStream: ss, ctx: ctx})
	}
}

type serverStream struct {
	grpc.ServerStream
	ctx context.Context //nolint:containedctx // overrides the stream's context, which is the point
}

func (s *serverStream) Context() context.Context { return s.ctx }

func first(ctx context.Context, key string) string {
	if v := metadata.ValueFromIncomingContext(ctx, key); len(v) > 0 {
		return v[0]
	}
	return ""
}
