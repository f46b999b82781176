package stytchclient_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

func TestSpansAreNamedAfterTemplatesAndCarryStytchIDs(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	org := newOrg(t, h.client)
	const email = "private.person@example.com"
	_, err := h.client.MemberCreate(ctx, sc.MemberCreateParams{OrganizationID: org.OrganizationID, EmailAddress: email})
	require.NoError(t, err)

	// A parent span: the client span must be its child.
	parentCtx, parent := h.tp.Tracer("test").Start(ctx, "caller")
	got, err := h.client.MemberGet(parentCtx, sc.MemberGetParams{OrganizationID: org.OrganizationID, EmailAddress: email})
	require.NoError(t, err)
	_, err = h.client.SessionsAuthenticate(parentCtx, sc.SessionsAuthenticateParams{SessionToken: stytchemu.SandboxSessionTokenNotFound})
	require.Error(t, err)
	parent.End()

	t.Run("member get by email", func(t *testing.T) {
		spans := h.spanNamed("GET /v1/b2b/organizations/{organization_id}/member")
		require.Len(t, spans, 1)
		s := spans[0]
		assert.Equal(t, trace.SpanKindClient, s.SpanKind)
		assert.Equal(t, parent.SpanContext().SpanID(), s.Parent.SpanID())
		reqID, ok := attrValue(s, "stytch.request_id")
		require.True(t, ok)
		assert.Equal(t, got.RequestID, reqID)
		status, _ := attrValue(s, "http.response.status_code")
		assert.Equal(t, "200", status)
		method, _ := attrValue(s, "http.request.method")
		assert.Equal(t, http.MethodGet, method)
		tmpl, _ := attrValue(s, "url.template")
		assert.Equal(t, "/v1/b2b/organizations/{organization_id}/member", tmpl)
		full, ok := attrValue(s, "url.full")
		require.True(t, ok)
		assert.Contains(t, full, "email_address=REDACTED")
		_, hasErrType := attrValue(s, "stytch.error_type")
		assert.False(t, hasErrType)
	})

	t.Run("error response", func(t *testing.T) {
		spans := h.spanNamed("POST /v1/b2b/sessions/authenticate")
		require.Len(t, spans, 1)
		errType, ok := attrValue(spans[0], "stytch.error_type")
		require.True(t, ok)
		assert.Equal(t, "session_not_found", errType)
		reqID, _ := attrValue(spans[0], "stytch.request_id")
		assert.Equal(t, sc.ErrorType(err), errType)
		assert.NotEmpty(t, reqID)
	})

	t.Run("no span carries IDs in its name or an email or secret anywhere", func(t *testing.T) {
		for _, s := range h.spans.GetSpans() {
			assert.NotContains(t, s.Name, org.OrganizationID)
			for _, kv := range s.Attributes {
				v := kv.Value.String()
				assert.NotContains(t, v, "@", "attribute %s", kv.Key)
				assert.NotContains(t, v, h.emu.Secret(), "attribute %s", kv.Key)
			}
		}
	})
}

func TestDurationHistogramByEndpointAndStatus(t *testing.T) {
	h := newHarness(t)
	_, err := h.client.OrganizationGet(t.Context(), "organization-test-missing")
	require.Error(t, err)

	var rm metricdata.ResourceMetrics
	require.NoError(t, h.reader.Collect(t.Context(), &rm))
	var found bool
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "stytch.client.duration" {
				continue
			}
			assert.Equal(t, "s", m.Unit)
			hist, ok := m.Data.(metricdata.Histogram[float64])
			require.True(t, ok)
			for _, dp := range hist.DataPoints {
				ep, _ := dp.Attributes.Value(attribute.Key("stytch.endpoint"))
				st, _ := dp.Attributes.Value(attribute.Key("http.response.status_code"))
				if ep.AsString() == "GET /v1/b2b/organizations/{organization_id}" && st.AsInt64() == http.StatusNotFound {
					found = true
					assert.Equal(t, uint64(1), dp.Count)
				}
			}
		}
	}
	assert.True(t, found, "no stytch.client.duration point for the 404")
}

func TestUserAgentAndAuthHeaders(t *testing.T) {
	emu := testkit.Emulator(t, stytchemu.WithStartTime(testStart))
	seen := make(chan http.Header, 4)
	srv := headerRecorder(t, emu, seen)
	h := newHarnessFor(t, emu, srv)

	_, err := h.client.OrganizationSearch(t.Context(), sc.SearchParams{})
	require.NoError(t, err)
	hdr := <-seen
	assert.Equal(t, "authsvc/test", hdr.Get("User-Agent"))
	assert.True(t, strings.HasPrefix(hdr.Get("Authorization"), "Basic "))
	assert.Equal(t, "application/json", hdr.Get("Content-Type"))

	_, err = h.client.MemberDelete(t.Context(), "o", "m", sc.MemberSession{JWT: "jwt-value"})
	require.Error(t, err)
	hdr = <-seen
	assert.Equal(t, "jwt-value", hdr.Get("X-Stytch-Member-SessionJWT"))
	assert.Empty(t, hdr.Get("X-Stytch-Member-Session"))

	_, err = h.client.M2MTokenRaw(t.Context(), sc.M2MTokenParams{ClientID: "c", ClientSecret: "s"})
	require.Error(t, err)
	hdr = <-seen
	assert.Empty(t, hdr.Get("Authorization"), "the token endpoint takes no project credentials")
	assert.Equal(t, "application/x-www-form-urlencoded", hdr.Get("Content-Type"))
}

// stytch.client.duration is the client's only metric: repeated calls land on one series per
// endpoint and status, and otelhttp's own HTTP client histograms, which would repeat it without
// the endpoint template, are not recorded.
func TestDurationIsTheOnlyMetric(t *testing.T) {
	h := newHarness(t)
	for range 3 {
		_, err := h.client.OrganizationGet(t.Context(), "organization-test-missing")
		require.Error(t, err)
	}
	_, err := h.client.SessionsAuthenticate(t.Context(), sc.SessionsAuthenticateParams{SessionToken: stytchemu.SandboxSessionTokenNotFound})
	require.Error(t, err)

	var rm metricdata.ResourceMetrics
	require.NoError(t, h.reader.Collect(t.Context(), &rm))
	var names []string
	points := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			names = append(names, m.Name)
			if hist, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "stytch.client.duration" {
				for _, dp := range hist.DataPoints {
					ep, _ := dp.Attributes.Value(attribute.Key("stytch.endpoint"))
					st, _ := dp.Attributes.Value(attribute.Key("http.response.status_code"))
					points[ep.AsString()+" "+st.String()] += dp.Count
				}
			}
		}
	}
	assert.Equal(t, []string{"stytch.client.duration"}, names)
	assert.Equal(t, map[string]uint64{
		"GET /v1/b2b/organizations/{organization_id} 404": 3,
		"POST /v1/b2b/sessions/authenticate 404":          1,
	}, points)
}
