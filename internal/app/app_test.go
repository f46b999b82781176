package app_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/gen"
	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/apptest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestEveryServiceIsServing(t *testing.T) {
	env := apptest.Start(t)
	hc := healthpb.NewHealthClient(env.Conn)
	for _, name := range []string{
		"", // the server as a whole
		b2bv1.MagicLinksService_ServiceDesc.ServiceName,
		b2bv1.OTPsService_ServiceDesc.ServiceName,
		b2bv1.SessionsService_ServiceDesc.ServiceName,
		b2bv1.MembersService_ServiceDesc.ServiceName,
		b2bv1.DiscoveryService_ServiceDesc.ServiceName,
		m2mv1.M2MService_ServiceDesc.ServiceName,
	} {
		t.Run("health "+name, func(t *testing.T) {
			resp, err := hc.Check(t.Context(), &healthpb.HealthCheckRequest{Service: name})
			require.NoError(t, err)
			assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
		})
	}

	r := env.REST(t, http.MethodGet, "/healthz", nil)
	assert.Equal(t, http.StatusOK, r.Status)
	r = env.REST(t, http.MethodGet, "/readyz", nil)
	assert.Equal(t, http.StatusOK, r.Status, "dev mode: the emulator's JWKS is reachable: %s", r.Body)
	r = env.REST(t, http.MethodGet, "/openapi.json", nil)
	assert.Equal(t, http.StatusOK, r.Status)
	assert.JSONEq(t, string(gen.OpenAPI), string(r.Body))
}

// Validation runs in the interceptor chain, so gRPC and REST reject the same input with the same code,
// and the message names the offending field.
func TestInvalidFieldsAreRejectedOverGRPCAndREST(t *testing.T) {
	env := apptest.Start(t)
	tests := []struct {
		name   string
		call   func() error
		method string
		path   string
		body   string
		field  string
		// upstream is the Stytch endpoint the RPC would call; counting all requests would also count
		// the JWKS cache's background load, which may land during the test.
		upstream string
	}{
		{
			name: "bad email",
			call: func() error {
				_, err := b2bv1.NewMagicLinksServiceClient(env.Conn).LoginOrSignup(t.Context(), &b2bv1.MagicLinksServiceLoginOrSignupRequest{
					OrganizationId: "organization-test-1", EmailAddress: "not-an-email",
				})
				return err
			},
			method: http.MethodPost, path: "/v1/b2b/magic_links/email/login_or_signup",
			body:     `{"organization_id":"organization-test-1","email_address":"not-an-email"}`,
			field:    "email_address",
			upstream: "POST /v1/b2b/magic_links/email/login_or_signup",
		},
		{
			name: "session duration 3",
			call: func() error {
				d := int32(3)
				_, err := b2bv1.NewSessionsServiceClient(env.Conn).Authenticate(t.Context(), &b2bv1.SessionsServiceAuthenticateRequest{
					Credential:             &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: "token"},
					SessionDurationMinutes: &d,
				})
				return err
			},
			method: http.MethodPost, path: "/v1/b2b/sessions/authenticate",
			body:     `{"session_token":"token","session_duration_minutes":3}`,
			field:    "session_duration_minutes",
			upstream: "POST /v1/b2b/sessions/authenticate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := env.Emu.Requests(tt.upstream)
			err := tt.call()
			st, ok := status.FromError(err)
			require.True(t, ok, "want a gRPC status, got %v", err)
			assert.Equal(t, codes.InvalidArgument, st.Code())
			assert.Contains(t, st.Message(), tt.field)

			r := env.REST(t, tt.method, tt.path, tt.body)
			assert.Equal(t, http.StatusBadRequest, r.Status)
			body := r.JSON(t)
			assert.InDelta(t, float64(codes.InvalidArgument), body["code"], 0)
			assert.Contains(t, body["message"], tt.field)
			assert.Equal(t, before, env.Emu.Requests(tt.upstream), "invalid input must not reach Stytch")
		})
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	env := apptest.Start(t)
	err := env.Conn.Invoke(t.Context(), "/authsvc.b2b.v1.SessionsService/NoSuchMethod", &b2bv1.SessionsServiceGetJWKSRequest{}, &b2bv1.SessionsServiceGetJWKSResponse{}, grpc.WaitForReady(true))
	assert.Equal(t, codes.Unimplemented, status.Code(err))

	r := env.REST(t, http.MethodGet, "/v1/b2b/no/such/route", nil)
	assert.Equal(t, http.StatusNotFound, r.Status)
	// Metrics and pprof are on the admin port only.
	r = env.REST(t, http.MethodGet, "/metrics", nil)
	assert.Equal(t, http.StatusNotFound, r.Status)
}

// Unknown JSON fields are an error, not silently dropped: a typo in a client must not turn into a
// request that ignores what the caller meant.
func TestUnknownJSONFieldsAreRejected(t *testing.T) {
	env := apptest.Start(t)
	r := env.REST(t, http.MethodPost, "/v1/b2b/sessions/authenticate", `{"session_tokn":"x"}`)
	assert.Equal(t, http.StatusBadRequest, r.Status)
}

func TestSecurityHeaders(t *testing.T) {
	env := apptest.Start(t)
	r := env.REST(t, http.MethodGet, "/healthz", nil)
	assert.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", r.Header.Get("X-Frame-Options"))
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
}

// Dev mode lets a developer create an M2M client without the emulator's secret, and that client's
// credentials then obtain a token through authsvc.
func TestDevModeM2MBootstrap(t *testing.T) {
	env := apptest.Start(t)
	r := env.REST(t, http.MethodPost, "/dev/m2m/clients", `{"client_name":"dev-tool","scopes":["read:members"]}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	client, ok := r.JSON(t)["m2m_client"].(map[string]any)
	require.True(t, ok, "%s", r.Body)

	r = env.REST(t, http.MethodPost, "/v1/m2m/token", map[string]any{
		"client_id": client["client_id"], "client_secret": client["client_secret"],
	})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.NotEmpty(t, r.JSON(t)["access_token"])
}
