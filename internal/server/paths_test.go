package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The paths net/http's ServeMux would answer with a redirect to a cleaned form go to the gateway
// as they are; every other path goes through the mux.
func TestUncleanPathsGoToTheGatewayAsSent(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	var gotPath string
	gw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.EscapedPath()
		w.WriteHeader(http.StatusAccepted)
	})
	h := uncleanPathsToGateway(mux, gw)
	for path, toGateway := range map[string]bool{
		"/v1/b2b/organizations/o/members/..":     true,
		"/v1/b2b/organizations/o/members/.":      true,
		"/v1/b2b/organizations/../members/m":     true,
		"/v1/b2b/organizations//members/m":       true,
		"/v1/b2b/organizations/o/members/%2e%2e": true, // decoded, a dot segment
		"/v1/b2b/organizations/o/members/%2E":    true,
		"/v1/b2b/organizations/o/members/a%2Fb":  false,
		"/v1/b2b/organizations/o/members/m":      false,
		"/v1/b2b/organizations/o/members/":       false,
		"/v1/b2b/organizations/o/members/.x":     false,
		"/v1/b2b/organizations/o/members/m..n":   false,
		"/openapi.json":                          false,
		"/":                                      false,
	} {
		gotPath = ""
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, path, nil))
		if toGateway {
			assert.Equal(t, http.StatusAccepted, rec.Code, path)
			assert.Equal(t, path, gotPath, "the gateway sees the path as sent")
		} else {
			assert.Equal(t, http.StatusTeapot, rec.Code, path)
		}
		assert.Empty(t, rec.Header().Get("Location"), path)
	}
}
