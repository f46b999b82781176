package gateway

import (
	"context"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/metadata"

	"github.com/authsvc/authsvc/internal/idempotency"
)

// IdempotencyKeyOptions returns the gateway option that keeps an Idempotency-Key the gateway
// cannot forward from vanishing.
//
// grpc-gateway forwards a header as gRPC text metadata only when its value is printable ASCII
// (0x20-0x7E); any other value (UTF-8, a tab) is dropped with nothing but a grpclog line, so the
// call reached the API without a key and ran again on every retry: a non-ASCII key sent the same
// email three times. Such values are forwarded here as binary metadata instead
// (idempotency.BinaryMetadataKey), which the idempotency interceptor refuses with
// INVALID_ARGUMENT naming the header, like any other malformed key. The check itself stays in the
// interceptor, so REST and gRPC follow one rule.
func IdempotencyKeyOptions() []runtime.ServeMuxOption {
	return []runtime.ServeMuxOption{runtime.WithMetadata(forwardUnsendableIdempotencyKeys)}
}

func forwardUnsendableIdempotencyKeys(_ context.Context, r *http.Request) metadata.MD {
	var md metadata.MD
	for _, v := range r.Header.Values(idempotency.Header) {
		if !grpcText(v) {
			if md == nil {
				md = metadata.MD{}
			}
			md.Append(idempotency.BinaryMetadataKey, v)
		}
	}
	return md
}

// grpcText mirrors grpc-gateway's rule for a header value it forwards as text metadata.
func grpcText(v string) bool {
	for i := range len(v) {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}
