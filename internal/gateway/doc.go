// Package gateway holds the REST-only behaviours of authsvc's grpc-gateway: session cookies in and out,
// and HTTP error details (Retry-After, WWW-Authenticate) derived from the gRPC status.
//
// Everything here works on the wire shape (HTTP headers, protobuf reflection over response messages), so
// the handlers in internal/service stay free of HTTP: they see the cookie values as metadata and return
// ordinary responses, and this package decides what the browser receives.
package gateway
