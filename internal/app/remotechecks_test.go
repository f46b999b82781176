package app_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const upstreamSessionsAuthenticate = "POST /v1/b2b/sessions/authenticate"

func randomToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 33)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// Random opaque session tokens from one client cannot become unthrottled calls to Stytch: the
// rejected ones spend the client's budget of remote session checks (session_remote_failures_ip),
// whichever way they arrive, and once it is spent the client gets 429 with Retry-After and Stytch
// sees nothing more.
func TestRandomSessionTokensAreThrottled(t *testing.T) {
	budget := admission.DefaultPolicy().SessionRemoteFailuresPerIP.Max
	const attempts = 300
	for _, tc := range []struct {
		name string
		try  func(t *testing.T, env *apptest.Env, token string) (code codes.Code, retryAfter bool)
	}{
		{"REST Sessions.Authenticate", func(t *testing.T, env *apptest.Env, token string) (codes.Code, bool) {
			r := env.REST(t, http.MethodPost, "/v1/b2b/sessions/authenticate", map[string]any{"session_token": token})
			return restCode(r.Status), r.Header.Get("Retry-After") != ""
		}},
		{"gRPC Sessions.Authenticate", func(t *testing.T, env *apptest.Env, token string) (codes.Code, bool) {
			_, err := b2bv1.NewSessionsServiceClient(env.Conn).Authenticate(t.Context(), &b2bv1.SessionsServiceAuthenticateRequest{
				Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: token},
			})
			return status.Code(err), hasRetryInfo(err)
		}},
		{"gRPC member RPC with a bearer token", func(t *testing.T, env *apptest.Env, token string) (codes.Code, bool) {
			ctx := metadata.NewOutgoingContext(t.Context(), metadata.Pairs("authorization", "Bearer "+token))
			_, err := b2bv1.NewMembersServiceClient(env.Conn).Get(ctx, &b2bv1.MembersServiceGetRequest{
				OrganizationId: stytchemu.SandboxOrganizationID, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: "member-test-00000000-0000-4000-8000-000000000000"},
			})
			return status.Code(err), hasRetryInfo(err)
		}},
		{"REST member RPC with a session cookie", func(t *testing.T, env *apptest.Env, token string) (codes.Code, bool) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, env.BaseURL+"/v1/b2b/organizations/"+stytchemu.SandboxOrganizationID+"/member?member_id=member-test-00000000-0000-4000-8000-000000000000", nil)
			require.NoError(t, err)
			req.AddCookie(&http.Cookie{Name: "stytch_session", Value: token})
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			return restCode(resp.StatusCode), resp.Header.Get("Retry-After") != ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := apptest.Start(t)
			refused := 0
			for i := range attempts {
				code, retry := tc.try(t, env, randomToken(t))
				switch code {
				case codes.Unauthenticated:
					require.Less(t, i, budget, "attempt %d reached Stytch after the budget was spent", i+1)
				case codes.ResourceExhausted:
					refused++
					require.True(t, retry, "attempt %d: a refusal says when to retry", i+1)
				default:
					t.Fatalf("attempt %d: %v", i+1, code)
				}
			}
			calls := env.Emu.Requests(upstreamSessionsAuthenticate)
			assert.Equal(t, budget, calls, "Stytch calls for %d random tokens", attempts)
			assert.Equal(t, attempts-budget, refused)
			t.Logf("%d random tokens: %d Stytch calls, %d refused with 429", attempts, calls, refused)
		})
	}
}

// A valid session keeps working for another client while one client's budget is spent, and a
// valid token spends nothing.
func TestValidSessionsDoNotSpendTheRemoteCheckBudget(t *testing.T) {
	env := apptest.Start(t)
	s := memberSession(t, env, stytchemu.SandboxOrganizationID, "remote-ok@example.com")
	budget := admission.DefaultPolicy().SessionRemoteFailuresPerIP.Max
	for i := range budget * 2 {
		r := env.REST(t, http.MethodPost, "/v1/b2b/sessions/authenticate", map[string]any{"session_token": s.Token})
		require.Equal(t, http.StatusOK, r.Status, "check %d: %s", i+1, r.Body)
	}
}

func restCode(httpStatus int) codes.Code {
	switch httpStatus {
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	default:
		return codes.Code(1000 + httpStatus) // shows the HTTP status in a failure
	}
}

func hasRetryInfo(err error) bool {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay().AsDuration() > 0 {
			return true
		}
	}
	return false
}
