package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/gateway"
)

// The gateway's own errors quote path parameters: an enum given as %FF made a message protobuf
// would not marshal, which came out as 500 "failed to marshal error message". The bad bytes are
// replaced and the caller gets the 400 that names the parameter.
func TestErrorMessageThatIsNotUTF8(t *testing.T) {
	mux := runtime.NewServeMux(gateway.ErrorOptions()...)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/v1/b2b/organizations/o/members/m/oauth_providers/%FF", nil)
	runtime.HTTPError(t.Context(), mux, &runtime.JSONPb{}, rec, req,
		status.Error(codes.InvalidArgument, "type mismatch, parameter: provider, error: \xff is not valid"))

	assert.Equal(t, http.StatusBadRequest, rec.Code)
	var body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	assert.Equal(t, int(codes.InvalidArgument), body.Code)
	assert.Equal(t, "type mismatch, parameter: provider, error: \uFFFD is not valid", body.Message)
}
