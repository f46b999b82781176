package gateway

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorOptions returns the gateway options for error responses.
func ErrorOptions() []runtime.ServeMuxOption {
	return []runtime.ServeMuxOption{runtime.WithErrorHandler(errorHandler)}
}

// errorHandler writes the google.rpc.Status JSON body with the HTTP status of the gRPC code (the
// gateway's default) and adds what HTTP clients expect on top: Retry-After from a RetryInfo detail on
// 429/503, and a proper Bearer challenge on 401 (the default handler would put the error message in
// WWW-Authenticate).
//
// A message that is not UTF-8 has its bad bytes replaced first: the gateway's own errors quote the
// caller's path parameters (an enum in the path given as %FF), and protobuf refuses to marshal such
// a string, which the default handler turned into a 500.
func errorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	st := status.Convert(err)
	if !utf8.ValidString(st.Message()) {
		p := st.Proto()
		p.Message = strings.ToValidUTF8(p.GetMessage(), "\uFFFD")
		st = status.FromProto(p)
		err = st.Err()
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			secs := int(math.Ceil(ri.GetRetryDelay().AsDuration().Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		}
	}
	if st.Code() == codes.Unauthenticated {
		w = challengeWriter{ResponseWriter: w}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// challengeWriter replaces the WWW-Authenticate header just before the status line is written.
type challengeWriter struct{ http.ResponseWriter }

func (c challengeWriter) WriteHeader(code int) {
	c.Header().Set("WWW-Authenticate", `Bearer realm="authsvc"`)
	c.ResponseWriter.WriteHeader(code)
}
