package service_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func retryDelaySeconds(st *status.Status) float64 {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration().Seconds()
		}
	}
	return -1
}

func TestStytchFailures(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	m := e.member(t, org.ID, stytchemu.MemberParams{})
	s := e.session(t, org.ID, m.ID)
	const sendRoute = "POST /v1/b2b/magic_links/email/login_or_signup"
	send := &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: m.Email}

	for _, tc := range []struct {
		name   string
		fault  stytchemu.Fault
		code   codes.Code
		http   int
		reason string
		domain string
	}{
		{"rate limited", stytchemu.Fault{Pattern: sendRoute, Status: http.StatusTooManyRequests}, codes.ResourceExhausted, http.StatusTooManyRequests, "too_many_requests", stytchclient.DomainStytch},
		{"5xx", stytchemu.Fault{Pattern: sendRoute, Status: http.StatusServiceUnavailable}, codes.Unavailable, http.StatusServiceUnavailable, "internal_server_error", stytchclient.DomainStytch},
		{"proxy HTML 502", stytchemu.Fault{Pattern: sendRoute, Status: http.StatusBadGateway, Body: "<html>bad gateway</html>"}, codes.Unavailable, http.StatusServiceUnavailable, "stytch_unavailable", rpcerr.Domain},
		{"connection reset", stytchemu.Fault{Pattern: sendRoute, Reset: true}, codes.Unavailable, http.StatusServiceUnavailable, "stytch_unavailable", rpcerr.Domain},
	} {
		t.Run(tc.name+"/grpc", func(t *testing.T) {
			id, err := e.Emu.AddFault(tc.fault)
			require.NoError(t, err)
			defer e.Emu.RemoveFault(id)
			st := e.grpcCall(t, magicLinksSvc+"LoginOrSignup", send, &b2bv1.MagicLinksServiceLoginOrSignupResponse{})
			assert.Equal(t, tc.code, st.Code(), st.Message())
			assert.Equal(t, tc.reason, errorInfo(st).GetReason())
			assert.Equal(t, tc.domain, errorInfo(st).GetDomain())
			assert.InDelta(t, 1, retryDelaySeconds(st), 0.001, "RetryInfo defaults to 1s")
		})
		t.Run(tc.name+"/rest", func(t *testing.T) {
			id, err := e.Emu.AddFault(tc.fault)
			require.NoError(t, err)
			defer e.Emu.RemoveFault(id)
			r := e.restCallNoCookies(t, "POST", "/v1/b2b/magic_links/email/login_or_signup", send, nil)
			assert.Equal(t, tc.http, r.HTTP, "body: %s", r.Body)
			assert.Equal(t, tc.code, r.Status.Code())
			assert.Equal(t, tc.reason, errorInfo(r.Status).GetReason())
			assert.Equal(t, "1", r.Header.Get("Retry-After"))
			assert.NotContains(t, string(r.Body), m.Email, "no email in error bodies")
		})
	}

	t.Run("Stytch down: a JWT still verifies locally", func(t *testing.T) {
		id, err := e.Emu.AddFault(stytchemu.Fault{Pattern: "*", Status: http.StatusServiceUnavailable})
		require.NoError(t, err)
		defer e.Emu.RemoveFault(id)
		r := &b2bv1.SessionsServiceAuthenticateResponse{}
		st := e.grpcCall(t, sessionsSvc+"Authenticate", authJWT(s.JWT), r)
		require.Equal(t, codes.OK, st.Code(), st.Message())
		assert.Equal(t, b2bv1.SessionVerifier_SESSION_VERIFIER_LOCAL, r.GetVerifiedBy())
		// while a session token, which only Stytch can check, is UNAVAILABLE.
		st = e.grpcCall(t, sessionsSvc+"Authenticate", authToken(s.Token), r)
		assert.Equal(t, codes.Unavailable, st.Code())
	})
}
