package gateway

import (
	"net/textproto"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/authsvc/authsvc/internal/callmeta"
)

// forwardedHeaders is the allowlist of HTTP request headers passed to the API as gRPC metadata,
// under their lower-case names: Idempotency-Key (a browser may retry a send without sending twice;
// the key means the same on gRPC). grpc-gateway itself always passes Authorization on and derives
// X-Forwarded-For and X-Forwarded-Host from the request, and the trace context travels through
// OpenTelemetry propagation. Nothing else is forwarded: in particular not grpc-gateway's
// "Grpc-Metadata-*" passthrough, through which a client could assert metadata that only the
// gateway may set (the session cookies, the client address).
var forwardedHeaders = map[string]bool{
	"Idempotency-Key": true,
}

// HeaderOptions returns the gateway options that forward the allowlisted request headers to the
// API, and keep authsvc-internal response metadata (callmeta.InternalPrefix) from reaching HTTP
// clients.
func HeaderOptions() []runtime.ServeMuxOption {
	return []runtime.ServeMuxOption{
		runtime.WithIncomingHeaderMatcher(func(key string) (string, bool) {
			if forwardedHeaders[textproto.CanonicalMIMEHeaderKey(key)] {
				return strings.ToLower(key), true
			}
			return "", false
		}),
		runtime.WithOutgoingHeaderMatcher(func(key string) (string, bool) {
			if strings.HasPrefix(strings.ToLower(key), callmeta.InternalPrefix) {
				return "", false
			}
			return runtime.MetadataHeaderPrefix + key, true
		}),
	}
}
