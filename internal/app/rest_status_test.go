package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/authsvc/authsvc/gen"
	"github.com/authsvc/authsvc/internal/apptest"
)

// assertStatusBody checks the gateway's JSON error body (google.rpc.Status: code, message, and
// details, left out when empty like on every other error).
func assertStatusBody(t *testing.T, r apptest.Response, code codes.Code) {
	t.Helper()
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	body := r.JSON(t)
	assert.InDelta(t, float64(code), body["code"], 0, "%s", r.Body)
	assert.NotEmpty(t, body["message"])
	for k := range body {
		assert.Contains(t, []string{"code", "message", "details"}, k)
	}
}

// unservedTemplates are the REST route templates of the services the app does not serve (declared
// in the API, handler not landed yet).
func unservedTemplates(t *testing.T, env *apptest.Env) map[string]bool {
	t.Helper()
	served := env.ServedServices(t)
	out := map[string]bool{}
	for _, md := range authsvcMethods(t) {
		if served[string(md.Parent().FullName())] {
			continue
		}
		rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
		switch p := rule.GetPattern().(type) {
		case *annotations.HttpRule_Get:
			out[p.Get] = true
		case *annotations.HttpRule_Post:
			out[p.Post] = true
		case *annotations.HttpRule_Put:
			out[p.Put] = true
		case *annotations.HttpRule_Delete:
			out[p.Delete] = true
		}
	}
	return out
}

// Every path of the OpenAPI document answers a method it does not have with 405 and an Allow header
// listing the methods the document gives every template that matches the path (a concrete path may
// match two: /v1/m2m/clients/search is also /v1/m2m/clients/{client_id}). The header comes from the
// routes the gateway serves; the document is generated from the same proto options independently.
func TestWrongMethodOnAnAPIRouteIs405WithAllow(t *testing.T) {
	env := apptest.Start(t)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(gen.OpenAPI, &doc))
	require.NotEmpty(t, doc.Paths)
	param := regexp.MustCompile(`\{[^}]+\}`)
	allowed := func(path string) string {
		var allow []string
		for tmpl, ops := range doc.Paths {
			if !regexp.MustCompile("^" + param.ReplaceAllString(tmpl, "[^/]+") + "$").MatchString(path) {
				continue
			}
			for m := range ops {
				if m != "parameters" {
					allow = append(allow, strings.ToUpper(m))
				}
			}
		}
		slices.Sort(allow)
		return strings.Join(allow, ", ")
	}
	unserved := unservedTemplates(t, env)
	for tmpl := range doc.Paths {
		path := param.ReplaceAllString(tmpl, "x1")
		t.Run(tmpl, func(t *testing.T) {
			if unserved[tmpl] {
				t.Skip("the route's service is declared but not served yet")
			}
			// No API route uses PATCH; the JSON body makes no difference to routing.
			r := env.REST(t, http.MethodPatch, path, `{}`)
			require.Equal(t, http.StatusMethodNotAllowed, r.Status, "%s", r.Body)
			assert.Equal(t, allowed(path), r.Header.Get("Allow"))
			assertStatusBody(t, r, codes.Unimplemented)
		})
	}
}

// The routes that are not the gateway's answer a wrong method the same way, and the form-POST-to-a-GET
// fallback of grpc-gateway is off: a POST is not served as a GET.
func TestWrongMethodOnOtherRoutesIs405WithAllow(t *testing.T) {
	env := apptest.Start(t)
	tests := []struct {
		method, path, allow string
		header              http.Header
	}{
		{http.MethodPost, "/healthz", "GET", nil},
		{http.MethodPost, "/readyz", "GET, HEAD", nil},
		{http.MethodDelete, "/openapi.json", "GET, HEAD", nil},
		{http.MethodPost, "/dev/outbox", "GET, HEAD", nil},
		{http.MethodGet, "/dev/m2m/clients", "POST", nil},
		{http.MethodPost, "/v1/b2b/sessions/jwks", "GET", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}},
		{http.MethodPost, "/v1/b2b/sessions/jwks", "GET", http.Header{"X-Http-Method-Override": {"GET"}, "Content-Type": {"application/x-www-form-urlencoded"}}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := env.RESTWithHeaders(t, tt.method, tt.path, nil, tt.header)
			require.Equal(t, http.StatusMethodNotAllowed, r.Status, "%s", r.Body)
			assert.Equal(t, tt.allow, r.Header.Get("Allow"))
			assertStatusBody(t, r, codes.Unimplemented)
		})
	}
	// The right methods still work, and an unknown path stays 404.
	assert.Equal(t, http.StatusOK, env.REST(t, http.MethodGet, "/readyz", nil).Status)
	assert.Equal(t, http.StatusOK, env.REST(t, http.MethodGet, "/dev/outbox", nil).Status)
	assert.Equal(t, http.StatusOK, env.REST(t, http.MethodGet, "/v1/b2b/sessions/jwks", nil).Status)
	r := env.REST(t, http.MethodPost, "/v1/b2b/no/such/route", "{}")
	assert.Equal(t, http.StatusNotFound, r.Status)
	assert.Empty(t, r.Header.Get("Allow"))
}

// A body over the 64 KiB limit is 413 with the gateway's JSON error body, whether its length is
// declared or it arrives chunked, on API routes and dev routes alike; a body at the limit is read.
func TestBodyOverTheLimitIs413(t *testing.T) {
	env := apptest.Start(t)
	const limit = 64 << 10
	// A JSON document of exactly n bytes whose only field is unknown (so a body that is read whole
	// is refused for its content with 400, not for its size).
	doc := func(n int) string {
		const head, tail = `{"session_jwt_padding":"`, `"}`
		return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
	}
	before := env.Emu.Requests("POST /v1/b2b/sessions/authenticate")

	for _, path := range []string{"/v1/b2b/sessions/authenticate", "/dev/m2m/clients"} {
		r := env.REST(t, http.MethodPost, path, doc(limit+1))
		require.Equal(t, http.StatusRequestEntityTooLarge, r.Status, "%s: %s", path, r.Body)
		assertStatusBody(t, r, codes.InvalidArgument)
		assert.Contains(t, r.JSON(t)["message"], "65536")
	}

	// Chunked (a body of unknown length: no Content-Length), so the limit is found only while reading.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, env.BaseURL+"/v1/b2b/sessions/authenticate",
		io.MultiReader(strings.NewReader(doc(limit+1))))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "%s", b)

	r := env.REST(t, http.MethodPost, "/v1/b2b/sessions/authenticate", doc(limit))
	assert.Equal(t, http.StatusBadRequest, r.Status, "a body at the limit is read (and refused for its unknown field): %s", r.Body)
	assert.Contains(t, r.JSON(t)["message"], "session_jwt_padding")
	assert.Equal(t, before, env.Emu.Requests("POST /v1/b2b/sessions/authenticate"), "nothing reached Stytch")
}
