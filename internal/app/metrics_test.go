package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// A few calls over gRPC and REST, then one scrape of the admin port's /metrics: the per-RPC
// histogram by method and code, the Stytch latency histogram by endpoint template and status, and
// authsvc's own counters (verifications by kind/path/outcome/reason, token-source hits and misses,
// admission rejections by limit) carry exactly the counts those calls make.
func TestMetricsEndpointAfterAFewCalls(t *testing.T) {
	env := apptest.Start(t)
	org := stytchemu.SandboxOrganizationID
	session := memberSession(t, env, org, "metrics@stytch.com", "stytch_admin")
	client, err := env.Emu.CreateM2MClient("metrics", []string{"read:members"})
	require.NoError(t, err)
	m2m := m2mToken(t, env, client, nil)

	sessions := b2bv1.NewSessionsServiceClient(env.Conn)
	members := b2bv1.NewMembersServiceClient(env.Conn)
	ctx := t.Context()

	// SessionsService.Authenticate: an opaque token (Stytch decides), a junk one (Stytch refuses),
	// and a JWT over REST (decided locally).
	_, err = sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
		Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: session.Token},
	})
	require.NoError(t, err)
	_, err = sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
		Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: "session-token-that-does-not-exist-000000000"},
	})
	require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	resp := env.REST(t, http.MethodPost, "/v1/b2b/sessions/authenticate", map[string]any{"session_jwt": session.JWT})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	// A JWT with an authorization check: decided locally from the RBAC policy, which is fetched
	// from Stytch once and cached.
	_, err = sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
		Credential:         &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: session.JWT},
		AuthorizationCheck: &b2bv1.AuthorizationCheck{OrganizationId: org, ResourceId: "stytch.self", Action: "update.info.name"},
	})
	require.NoError(t, err)

	// MembersService.Get: once as the member (an opaque session token, checked by Stytch), twice as
	// a service (the M2M token verified locally, then from the verified-token cache).
	get := &b2bv1.MembersServiceGetRequest{OrganizationId: org, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: session.MemberID}}
	_, err = members.Get(bearer(ctx, session.Token), get)
	require.NoError(t, err)
	for range 2 {
		_, err = members.Get(bearer(ctx, m2m), get)
		require.NoError(t, err)
	}

	// IssueToken twice: a token-source miss, then a hit.
	for range 2 {
		_, err = m2mv1.NewM2MServiceClient(env.Conn).IssueToken(ctx, &m2mv1.IssueTokenRequest{ClientId: client.ClientID, ClientSecret: client.ClientSecret})
		require.NoError(t, err)
	}

	// Magic-link sends to one address until admission control refuses (5 per 10 minutes).
	refused := 0
	for range 8 {
		_, err = b2bv1.NewMagicLinksServiceClient(env.Conn).LoginOrSignup(ctx, &b2bv1.MagicLinksServiceLoginOrSignupRequest{
			OrganizationId: org, EmailAddress: "limited@stytch.com",
		})
		if status.Code(err) == codes.ResourceExhausted {
			refused++
			continue
		}
		require.NoError(t, err)
	}
	require.Positive(t, refused, "the per-email send limit never refused")

	rpc := func(method, code string) map[string]string {
		return map[string]string{"rpc_method": method, "rpc_response_status_code": code}
	}
	authenticate := b2bv1.SessionsService_Authenticate_FullMethodName[1:]
	get1 := b2bv1.MembersService_Get_FullMethodName[1:]
	issue := m2mv1.M2MService_IssueToken_FullMethodName[1:]

	// The gRPC server records a call's duration after the status has gone out, so the last calls may
	// be a moment behind the client; wait for the counts (they never exceed the calls made).
	var fams map[string]*dto.MetricFamily
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		fams = scrapeAdmin(c, env)
		assert.Equal(c, uint64(3), histogramCount(fams, "rpc_server_call_duration_seconds", rpc(authenticate, "OK")))
		assert.Equal(c, uint64(1), histogramCount(fams, "rpc_server_call_duration_seconds", rpc(authenticate, "UNAUTHENTICATED")))
		assert.Equal(c, uint64(3), histogramCount(fams, "rpc_server_call_duration_seconds", rpc(get1, "OK")))
		assert.Equal(c, uint64(2), histogramCount(fams, "rpc_server_call_duration_seconds", rpc(issue, "OK")))
	}, 30*time.Second, 20*time.Millisecond)

	t.Run("per-RPC histogram", func(t *testing.T) {
		assert.Equal(t, uint64(0), histogramCount(fams, "rpc_server_call_duration_seconds", map[string]string{"rpc_method": "grpc.health.v1.Health/Check"}),
			"health checks are filtered out")
		// The gateway's own client calls are a separate histogram: two REST calls (the JWT check above
		// and none else through the gateway).
		assert.Equal(t, uint64(1), histogramCount(fams, "rpc_client_call_duration_seconds", rpc(authenticate, "OK")))
		assertBuckets(t, fams, "rpc_server_call_duration_seconds")
	})

	t.Run("Stytch latency histogram", func(t *testing.T) {
		sa := "POST /v1/b2b/sessions/authenticate"
		// The opaque token checks (Authenticate and the member's Get) succeed; the junk token is a
		// 404; the authorization check on the JWT costs the one policy fetch instead.
		assert.Equal(t, uint64(2), histogramCount(fams, "stytch_client_duration_seconds", map[string]string{"stytch_endpoint": sa, "http_response_status_code": "200"}))
		assert.Equal(t, uint64(1), histogramCount(fams, "stytch_client_duration_seconds", map[string]string{"stytch_endpoint": "GET /v1/b2b/rbac/policy", "http_response_status_code": "200"}))
		assert.Equal(t, uint64(1), histogramCount(fams, "stytch_client_duration_seconds", map[string]string{"stytch_endpoint": sa, "http_response_status_code": "404"}))
		assert.Equal(t, uint64(3), histogramCount(fams, "stytch_client_duration_seconds", map[string]string{"stytch_endpoint": "GET /v1/b2b/organizations/{organization_id}/member"}))
		assert.Equal(t, uint64(1), histogramCount(fams, "stytch_client_duration_seconds", map[string]string{"stytch_endpoint": "POST /v1/public/{project_id}/oauth2/token"}),
			"one token fetch: the second IssueToken was a hit")
		for _, m := range fams["stytch_client_duration_seconds"].GetMetric() {
			for _, l := range m.GetLabel() {
				assert.NotContains(t, l.GetValue(), org, "label %s carries an ID, not a template", l.GetName())
			}
		}
		assertBuckets(t, fams, "stytch_client_duration_seconds")
	})

	t.Run("verifications by kind, path, outcome and reason", func(t *testing.T) {
		v := func(kind, path, outcome, reason string) float64 {
			return counterValue(fams, "authsvc_session_verifications_total",
				map[string]string{"kind": kind, "path": path, "outcome": outcome, "reason": reason})
		}
		// The JWT with an authorization check was verified before, so from the cache, and the check
		// decided locally: no remote step.
		assert.InDelta(t, 1, v("session", "local", "valid", "ok"), 0, "the REST JWT check")
		assert.InDelta(t, 1, v("session", "cache", "valid", "ok"), 0, "the JWT with an authorization check, checked locally first")
		assert.InDelta(t, 2, v("session", "remote", "valid", "opaque_token"), 0, "Authenticate and the member's Get with an opaque token")
		assert.InDelta(t, 1, v("session", "remote", "invalid", "opaque_token"), 0, "Authenticate with a junk token (Stytch: 404)")
		assert.InDelta(t, 0, v("session", "remote", "valid", "authorization_check"), 0, "Authenticate with an authorization check on a JWT")
		assert.InDelta(t, 1, v("m2m", "local", "valid", "ok"), 0, "the service's first Get")
		assert.InDelta(t, 1, v("m2m", "cache", "valid", "ok"), 0, "the service's second Get")
	})

	t.Run("token source and admission", func(t *testing.T) {
		assert.InDelta(t, 1, counterValue(fams, "authsvc_m2m_token_source_lookups_total", map[string]string{"result": "miss"}), 0)
		assert.InDelta(t, 1, counterValue(fams, "authsvc_m2m_token_source_lookups_total", map[string]string{"result": "hit"}), 0)
		assert.InDelta(t, float64(refused), counterValue(fams, "authsvc_admission_rejections_total", map[string]string{"limit": "send_email"}), 0)
	})
}

func bearer(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// scrapeAdmin GETs the admin port's /metrics as Prometheus would and parses the text format.
func scrapeAdmin(t require.TestingT, env *apptest.Env) map[string]*dto.MetricFamily {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+env.App.AdminAddr()+"/metrics", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// matching returns the series of family name whose labels include want.
func matching(fams map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	var out []*dto.Metric
	for _, m := range fams[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && got[k] == v
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

func histogramCount(fams map[string]*dto.MetricFamily, name string, want map[string]string) uint64 {
	var n uint64
	for _, m := range matching(fams, name, want) {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}

func counterValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	var n float64
	for _, m := range matching(fams, name, want) {
		n += m.GetCounter().GetValue()
	}
	return n
}

// assertBuckets checks that the family is a histogram with real buckets (latency, not just a count).
func assertBuckets(t *testing.T, fams map[string]*dto.MetricFamily, name string) {
	t.Helper()
	fam := fams[name]
	require.NotNil(t, fam, "%s missing", name)
	assert.Equal(t, dto.MetricType_HISTOGRAM, fam.GetType())
	require.NotEmpty(t, fam.GetMetric())
	assert.Greater(t, len(fam.GetMetric()[0].GetHistogram().GetBucket()), 3, "%s has buckets", name)
}
