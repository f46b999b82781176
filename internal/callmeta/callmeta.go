// Package callmeta names the gRPC metadata keys that carry request facts from the REST gateway (and from
// callers) to the interceptors and handlers, and reads them.
//
// The gateway turns the browser's session cookies into metadata so that handlers never parse HTTP: a REST
// call with cookies and a gRPC call with the same metadata are handled alike. The keys are authsvc's own
// (prefixed) so that they cannot collide with headers a proxy adds.
package callmeta

import (
	"context"

	"google.golang.org/grpc/metadata"
)

const (
	// CookieSessionToken carries the stytch_session cookie's value on REST calls.
	CookieSessionToken = "authsvc-cookie-session-token" //nolint:gosec // a metadata key, not a credential
	// CookieSessionJWT carries the stytch_session_jwt cookie's value on REST calls.
	CookieSessionJWT = "authsvc-cookie-session-jwt"
	// ClearSessionCookies is response header metadata set by a handler that ended the session the
	// caller's cookies hold (a logout); the gateway then clears the cookies. Revoking someone else's
	// session must not log the caller out of their own browser.
	ClearSessionCookies = "authsvc-clear-session-cookies"
	// InternalPrefix starts every authsvc-internal metadata key; the gateway never forwards such keys
	// to HTTP clients.
	InternalPrefix = "authsvc-"
)

// SessionCookies returns the session token and JWT the gateway took from cookies; empty when absent.
func SessionCookies(ctx context.Context) (token, jwt string) {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return "", ""
	}
	return first(md, CookieSessionToken), first(md, CookieSessionJWT)
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}
