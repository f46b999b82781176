package stytchemu_test

// Every response the emulator produces in this package's tests passes
// through validator.wrap and is checked against Stytch's OpenAPI document
// with kin-openapi's openapi3filter.ValidateResponse: B2B projects
// (newWorld), consumer projects (newConsumerWorld) and both behind one Multi
// (newMultiHarness) alike, since the route template names the operation. The document is
// Stytch's, not ours, so it is not in the repository: its path comes from
// $STYTCH_OPENAPI (CI's .ci/run sets it and fails when the file is missing).
// With the variable unset, the tests that need the document skip, and the
// other tests still check every error body against errorSchema and the token
// endpoint's bodies against the OAuth2 shapes, but not 2xx bodies against
// Stytch's schemas. A 2xx body must also carry every property its schema
// declares, not only the required ones (checkProperties, coverage_test.go).
//
// Decision for error bodies: the spec documents only 200/400/401/429/500 and
// gives error bodies as inline examples without a schema, so kin-openapi
// has nothing to check them against, and 403/404 are undocumented. Every
// non-2xx JSON body is therefore validated against errorSchema below, the
// common Stytch error shape built from those examples (status_code as an
// integer equal to the HTTP status, as the catalogue and Stytch's error
// object say; the spec's examples quote it as a string). The M2M token
// endpoint is not in the spec: its bodies are checked against the OAuth2
// shapes of RFC 6749 section 5. /emulator/ control paths are not Stytch and are
// not validated.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

var (
	specDoc *openapi3.T
	specErr error
)

// specEnv names the variable holding the path of Stytch's openapi.json.
const specEnv = "STYTCH_OPENAPI"

// noSpecReason is the one line printed by TestMain and by each skipped test
// when $STYTCH_OPENAPI is unset.
const noSpecReason = specEnv + " is unset: set it to the path of Stytch's openapi.json to validate the emulator against it"

// loadSpec reads the document named by $STYTCH_OPENAPI; it returns nil, nil
// when the variable is unset. A path that is set but unreadable is an error,
// never a skip, so a wrong path cannot quietly turn the validation off.
func loadSpec() (*openapi3.T, error) {
	path := os.Getenv(specEnv)
	if path == "" {
		return nil, nil //nolint:nilnil // no document is a valid state: its tests skip
	}
	raw, err := os.ReadFile(path) //nolint:gosec // the developer names the file on purpose
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", specEnv, err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load spec: %w", err)
	}
	return doc, nil
}

func strSchema() *openapi3.SchemaRef { return openapi3.NewStringSchema().NewRef() }

var errorSchema = &openapi3.Schema{
	Type:     &openapi3.Types{openapi3.TypeObject},
	Required: []string{"status_code", "request_id", "error_type", "error_message", "error_url"},
	Properties: openapi3.Schemas{
		"status_code":   openapi3.NewIntegerSchema().NewRef(),
		"request_id":    openapi3.NewStringSchema().WithPattern(`^request-id-test-[0-9a-f-]{36}$`).NewRef(),
		"error_type":    openapi3.NewStringSchema().WithPattern(`^[a-z0-9_]+$`).NewRef(),
		"error_message": openapi3.NewStringSchema().WithMinLength(1).NewRef(),
		"error_url":     openapi3.NewStringSchema().WithPattern(`^https://stytch\.com/docs/api/errors/[0-9]{3}$`).NewRef(),
		"error_details": openapi3.NewObjectSchema().NewRef(),
	},
	AdditionalProperties: openapi3.AdditionalProperties{Has: openapi3.Ptr(false)},
}

var oauthTokenSchema = &openapi3.Schema{
	Type:     &openapi3.Types{openapi3.TypeObject},
	Required: []string{"access_token", "token_type", "expires_in"},
	Properties: openapi3.Schemas{
		"access_token": strSchema(),
		"token_type":   openapi3.NewStringSchema().WithEnum("bearer").NewRef(),
		// 3600 for M2M; a Connected App's access_token_expiry_minutes (5 to 1440) otherwise.
		"expires_in": openapi3.NewIntegerSchema().WithMin(300).WithMax(86400).NewRef(),
		// Connected Apps grants only: the granted scopes, a refresh token with
		// offline_access, an ID token with openid.
		"scope":         strSchema(),
		"refresh_token": strSchema(),
		"id_token":      strSchema(),
	},
	AdditionalProperties: openapi3.AdditionalProperties{Has: openapi3.Ptr(false)},
}

var oauthErrorSchema = &openapi3.Schema{
	Type:     &openapi3.Types{openapi3.TypeObject},
	Required: []string{"error", "error_description", "error_uri"},
	Properties: openapi3.Schemas{
		"error":             openapi3.NewStringSchema().WithEnum("invalid_request", "invalid_client", "invalid_grant", "invalid_scope", "unsupported_grant_type").NewRef(),
		"error_description": strSchema(),
		"error_uri":         strSchema(),
	},
	AdditionalProperties: openapi3.AdditionalProperties{Has: openapi3.Ptr(false)},
}

const tokenTemplate = "POST /v1/public/{project_id}/oauth2/token"

// validateExchange checks one response; it is the heart of the validator
// and is exercised directly by TestValidatorRejects.
func validateExchange(ctx context.Context, r *http.Request, status int, header http.Header, body []byte) error {
	pattern := r.Pattern
	if strings.HasPrefix(r.URL.Path, "/emulator/") {
		return nil
	}
	ct := header.Get("Content-Type")
	if status >= 300 {
		if !strings.HasPrefix(ct, "application/json") {
			return nil // an injected non-JSON fault body: there is nothing to validate
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("%s: error body is not JSON: %w", pattern, err)
		}
		if pattern == tokenTemplate {
			return oauthErrorSchema.VisitJSON(v)
		}
		if err := errorSchema.VisitJSON(v); err != nil {
			return fmt.Errorf("%s %d: error body: %w", pattern, status, err)
		}
		if sc, _ := v.(map[string]any)["status_code"].(float64); int(sc) != status {
			return fmt.Errorf("%s: status_code %v in body, HTTP %d", pattern, sc, status)
		}
	}
	if browserOnly(pattern) {
		return nil // not in Stytch's document: a redirect, or an error body checked above
	}
	if pattern == tokenTemplate {
		if status != http.StatusOK {
			return nil
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("token body: %w", err)
		}
		return oauthTokenSchema.VisitJSON(v)
	}
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || path == "/" {
		if status == http.StatusNotFound {
			return nil // unknown route: the error shape was checked above
		}
		return fmt.Errorf("response %d for unrouted %s %s", status, r.Method, r.URL.Path)
	}
	if specDoc == nil {
		return nil // $STYTCH_OPENAPI unset: Stytch's schemas are not available
	}
	item := specDoc.Paths.Find(path)
	if item == nil {
		return fmt.Errorf("%s is not in openapi.json", pattern)
	}
	op := item.GetOperation(method)
	if op == nil {
		return fmt.Errorf("%s: method not in openapi.json", pattern)
	}
	route := &routers.Route{Spec: specDoc, Path: path, PathItem: item, Method: method, Operation: op}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return fmt.Errorf("%s %d: %w", pattern, status, err)
	}
	if status >= 200 && status < 300 && strings.HasPrefix(ct, "application/json") {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("%s %d: body is not JSON: %w", pattern, status, err)
		}
		return checkProperties(pattern, status, v) // see coverage_test.go
	}
	return nil
}

// validator wraps a handler, records every response and validates it.
type validator struct {
	mu       sync.Mutex
	failures []string
}

type teeWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *teeWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
	w.ResponseWriter.WriteHeader(s)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.buf.Write(b)
	return w.ResponseWriter.Write(b) //nolint:wrapcheck // pass-through writer
}

// Unwrap lets http.ResponseController reach Hijack (connection-reset faults).
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (v *validator) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		if tw.status == 0 {
			return // hijacked/reset or abandoned: no response to validate
		}
		err := validateExchange(r.Context(), r, tw.status, tw.Header(), tw.buf.Bytes())
		recordExercised(r.Pattern, tw.status)
		v.mu.Lock()
		defer v.mu.Unlock()
		if err != nil {
			v.failures = append(v.failures, err.Error())
		}
	})
}

func (v *validator) check(t *testing.T) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	assert.Empty(t, v.failures, "responses that violate openapi.json")
}

// requireSpec skips a test that cannot run without Stytch's OpenAPI document.
func requireSpec(t *testing.T) {
	t.Helper()
	if specDoc == nil {
		t.Skip(noSpecReason)
	}
}

func TestSpecLoadsAndValidates(t *testing.T) {
	requireSpec(t)
	require.NoError(t, specDoc.Validate(context.Background()))
	assert.Len(t, specDoc.Paths.Map(), 171)
}

// browserOnly reports whether pattern is one of the OAuth start endpoints browsers call, which
// Stytch's OpenAPI document does not describe.
func browserOnly(pattern string) bool {
	return pattern == stytchemu.OAuthStartTemplate || pattern == stytchemu.B2BOAuthStartTemplate ||
		pattern == stytchemu.B2BOAuthDiscoveryStartTemplate || pattern == stytchemu.SSOStartTemplate ||
		strings.HasSuffix(pattern, stytchemu.SSOCallbackPath)
}

// TestEveryRouteIsInSpec: each emulated endpoint exists in openapi.json with
// the same method (the token endpoint is not in Stytch's OpenAPI document).
func TestEveryRouteIsInSpec(t *testing.T) {
	requireSpec(t)
	for _, pt := range []stytchemu.ProjectType{stytchemu.ProjectB2B, stytchemu.ProjectConsumer} {
		emu, err := stytchemu.New(stytchemu.WithSigningKey(testKey), stytchemu.WithProjectType(pt))
		require.NoError(t, err)
		for _, rt := range emu.Routes() {
			if rt == tokenTemplate || browserOnly(rt) {
				continue // not in Stytch's OpenAPI document
			}
			method, path, _ := strings.Cut(rt, " ")
			item := specDoc.Paths.Value(path)
			if assert.NotNil(t, item, rt) {
				assert.NotNil(t, item.GetOperation(method), rt)
			}
		}
	}
}

// TestValidatorRejects proves the validation can fail: responses that break
// the spec or the error shape are reported.
func TestValidatorRejects(t *testing.T) {
	req := func(pattern, path string) *http.Request {
		method, _, _ := strings.Cut(pattern, " ")
		r := httptest.NewRequest(method, path, nil)
		r.Pattern = pattern
		return r
	}
	jsonHeader := http.Header{"Content-Type": []string{"application/json"}}
	cases := []struct {
		name      string
		r         *http.Request
		status    int
		body      string
		needsSpec bool // checked against Stytch's schemas, not our own error shapes
	}{
		{
			"missing required field", req("GET /v1/m2m/clients/{client_id}", "/v1/m2m/clients/x"), 200,
			`{"request_id":"r","status_code":200,"m2m_client":{"client_id":"x"}}`, true,
		},
		{
			"null where an array is required", req("POST /v1/b2b/organizations/search", "/v1/b2b/organizations/search"), 200,
			`{"request_id":"r","status_code":200,"organizations":null,"results_metadata":{"total":0}}`, true,
		},
		{
			"error without error_url", req("POST /v1/b2b/sessions/authenticate", "/v1/b2b/sessions/authenticate"), 404,
			`{"status_code":404,"request_id":"request-id-test-00000000-0000-0000-0000-000000000000","error_type":"session_not_found","error_message":"x"}`, false,
		},
		{
			"status_code differs from HTTP status", req("POST /v1/b2b/sessions/authenticate", "/v1/b2b/sessions/authenticate"), 403,
			`{"status_code":404,"request_id":"request-id-test-00000000-0000-0000-0000-000000000000","error_type":"session_not_found","error_message":"x","error_url":"https://stytch.com/docs/api/errors/404"}`, false,
		},
		{
			"consumer user without emails", req("GET /v1/users/{user_id}", "/v1/users/u"), 200,
			`{"request_id":"r","status_code":200,"user_id":"u","status":"active","phone_numbers":[],"webauthn_registrations":[],"providers":[],"totps":[],"crypto_wallets":[],"biometric_registrations":[],"is_locked":false,"roles":[]}`, true,
		},
		{
			"consumer session without roles", req("POST /v1/sessions/authenticate", "/v1/sessions/authenticate"), 200,
			`{"request_id":"r","status_code":200,"session_token":"t","session_jwt":"j","user":{"user_id":"u","emails":[],"status":"active","phone_numbers":[],"webauthn_registrations":[],"providers":[],"totps":[],"crypto_wallets":[],"biometric_registrations":[],"is_locked":false,"roles":[]},"session":{"session_id":"s","user_id":"u","authentication_factors":[]}}`, true,
		},
		{
			"token reply without expires_in", req(tokenTemplate, "/v1/public/p/oauth2/token"), 200,
			`{"access_token":"a","token_type":"bearer"}`, false,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needsSpec {
				requireSpec(t)
			}
			assert.Error(t, validateExchange(context.Background(), tc.r, tc.status, jsonHeader, []byte(tc.body)))
		})
	}
}
