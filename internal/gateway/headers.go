package gateway

import (
	"net/textproto"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/authsvc/authsvc/internal/callmeta"
)

// forwardedHeaders are the HTTP request headers passed to the API as gRPC metadata under their
// lower-case names, besides the gateway's defaults (Authorization; X-Forwarded-For and
// X-Forwarded-Host, which the gateway adds itself). Idempotency-Key lets a browser retry a send
// without sending twice; the key means the same on gRPC (idempotency-key metadata).
var forwardedHeaders = map[string]bool{
	"Idempotency-Key": true,
}

// HeaderOptions returns the gateway options that forward request headers to the API, and keep
// authsvc-internal response metadata (callmeta.InternalPrefix) from reaching HTTP clients.
func HeaderOptions() []runtime.ServeMuxOption {
	return []runtime.ServeMuxOption{
		runtime.WithIncomingHeaderMatcher(func(key string) (string, bool) {
			if forwardedHeaders[textproto.CanonicalMIMEHeaderKey(key)] {
				return strings.ToLower(key), true
			}
			return runtime.DefaultHeaderMatcher(key)
		}),
		runtime.WithOutgoingHeaderMatcher(func(key string) (string, bool) {
			if strings.HasPrefix(strings.ToLower(key), callmeta.InternalPrefix) {
				return "", false
			}
			return runtime.MetadataHeaderPrefix + key, true
		}),
	}
}
