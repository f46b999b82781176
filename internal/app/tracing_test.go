package app_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// One REST call and one gRPC call that both reach Stytch each make one trace:
//
//	gateway server span (otelhttp, named by route)   -- REST only
//	  -> gRPC client span (the gateway's conn)       -- REST only
//	    -> gRPC server span
//	      -> Stytch client span (named by endpoint template, with stytch.request_id)
//
// The links are checked by span and parent IDs, and no credential used in the calls appears anywhere
// in any span.
func TestOneTracePerRequestFromRESTAndGRPCToStytch(t *testing.T) {
	env := startKeepingTelemetry(t)
	org := stytchemu.SandboxOrganizationID
	session := memberSession(t, env.Env, org, "traced@stytch.com", "stytch_admin")
	client, err := env.Emu.CreateM2MClient("tracer", []string{"read:members"})
	require.NoError(t, err)
	m2m := m2mToken(t, env.Env, client, nil)
	secrets := map[string]string{
		"session token":    session.Token,
		"session JWT":      session.JWT,
		"M2M access token": m2m,
		"M2M secret":       client.ClientSecret,
		"project secret":   env.Emu.Secret(),
		"email":            "traced@stytch.com",
	}

	// REST: SessionsService.Authenticate with an opaque session token (always goes to Stytch).
	resp := env.REST(t, http.MethodPost, "/v1/b2b/sessions/authenticate", map[string]any{"session_token": session.Token})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	// gRPC: MembersService.Get as a service (M2M token, verified locally), which calls Stytch.
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+m2m)
	_, err = b2bv1.NewMembersServiceClient(env.Conn).Get(ctx, &b2bv1.MembersServiceGetRequest{
		OrganizationId: org, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: session.MemberID},
	})
	require.NoError(t, err)

	env.stop() // every span has ended and been exported; the exporter keeps them
	spans := env.spans.GetSpans()

	t.Run("REST", func(t *testing.T) {
		root := onlySpan(t, spans, "POST /v1/b2b/sessions/authenticate", trace.SpanKindServer)
		tr := inTrace(spans, root.SpanContext.TraceID())
		client := onlySpan(t, tr, b2bv1.SessionsService_Authenticate_FullMethodName[1:], trace.SpanKindClient)
		server := onlySpan(t, tr, b2bv1.SessionsService_Authenticate_FullMethodName[1:], trace.SpanKindServer)
		stytch := onlySpan(t, tr, "POST /v1/b2b/sessions/authenticate", trace.SpanKindClient)

		assert.False(t, root.Parent.IsValid(), "the gateway span is the root")
		assertDescends(t, tr, client, root)
		assertDescends(t, tr, server, client)
		assertDescends(t, tr, stytch, server)
		assert.Equal(t, client.SpanContext.SpanID(), server.Parent.SpanID(), "the server span's remote parent is the gateway's client span")
		assert.True(t, server.Parent.IsRemote())
		assertRequestID(t, stytch)
		assert.Contains(t, attrValue(root, "http.route"), "/v1/b2b/sessions/authenticate")
	})

	t.Run("gRPC", func(t *testing.T) {
		server := onlySpan(t, spans, b2bv1.MembersService_Get_FullMethodName[1:], trace.SpanKindServer)
		tr := inTrace(spans, server.SpanContext.TraceID())
		stytch := onlySpan(t, tr, "GET /v1/b2b/organizations/{organization_id}/member", trace.SpanKindClient)

		assert.False(t, server.Parent.IsValid(), "the test's client sent no trace context, so the server span is the root")
		assertDescends(t, tr, stytch, server)
		assertRequestID(t, stytch)
		assert.NotContains(t, stytch.Name, org, "named by template, not by URL")
		// The caller's token was verified locally inside the same trace.
		verifySpan := onlySpan(t, tr, "verify.m2m", trace.SpanKindInternal)
		assertDescends(t, tr, verifySpan, server)
	})

	t.Run("no credential in any span", func(t *testing.T) {
		dump := spanDump(spans)
		for name, v := range secrets {
			require.NotEmpty(t, v, name)
			if loc := secretPattern(v).FindStringIndex(dump); loc != nil {
				t.Errorf("%s leaked into a span: ...%s...", name, excerpt(dump, loc, v))
			}
		}
	})
}

// onlySpan returns the one span with this name and kind.
func onlySpan(t *testing.T, spans tracetest.SpanStubs, name string, kind trace.SpanKind) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name && s.SpanKind == kind {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "spans named %q of kind %s; all spans:\n%s", name, kind, spanTree(spans))
	return found[0]
}

func inTrace(spans tracetest.SpanStubs, id trace.TraceID) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range spans {
		if s.SpanContext.TraceID() == id {
			out = append(out, s)
		}
	}
	return out
}

// assertDescends checks that child's parent chain, followed by span IDs within the trace, reaches
// ancestor, passing only through internal spans (a verify or handler span may sit in between; another
// server or client span may not).
func assertDescends(t *testing.T, tr tracetest.SpanStubs, child, ancestor tracetest.SpanStub) {
	t.Helper()
	require.Equal(t, ancestor.SpanContext.TraceID(), child.SpanContext.TraceID(), "%q and %q are in different traces", child.Name, ancestor.Name)
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range tr {
		byID[s.SpanContext.SpanID()] = s
	}
	cur := child
	for range len(tr) {
		pid := cur.Parent.SpanID()
		if pid == ancestor.SpanContext.SpanID() {
			return
		}
		p, ok := byID[pid]
		if !ok {
			t.Errorf("%q: parent chain ends at %q without reaching %q:\n%s", child.Name, cur.Name, ancestor.Name, spanTree(tr))
			return
		}
		if p.SpanKind != trace.SpanKindInternal {
			t.Errorf("%q reaches %q through %q (%s), not directly:\n%s", child.Name, ancestor.Name, p.Name, p.SpanKind, spanTree(tr))
			return
		}
		cur = p
	}
	t.Errorf("%q: parent cycle", child.Name)
}

func assertRequestID(t *testing.T, s tracetest.SpanStub) {
	t.Helper()
	id := attrValue(s, "stytch.request_id")
	assert.NotEmpty(t, id, "%q has no stytch.request_id", s.Name)
	assert.Equal(t, s.Name, attrValue(s, "http.request.method")+" "+attrValue(s, "url.template"), "span named by method and endpoint template")
}

func attrValue(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}

// spanTree prints the spans indented under their parents, for failure messages.
func spanTree(spans tracetest.SpanStubs) string {
	children := map[trace.SpanID][]tracetest.SpanStub{}
	ids := map[trace.SpanID]bool{}
	for _, s := range spans {
		ids[s.SpanContext.SpanID()] = true
	}
	var roots []tracetest.SpanStub
	for _, s := range spans {
		if ids[s.Parent.SpanID()] {
			children[s.Parent.SpanID()] = append(children[s.Parent.SpanID()], s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	var walk func(s tracetest.SpanStub, depth int)
	walk = func(s tracetest.SpanStub, depth int) {
		b.WriteString(strings.Repeat("  ", depth) + s.Name + " [" + s.SpanKind.String() + "] " + s.SpanContext.TraceID().String()[:8] + "\n")
		kids := children[s.SpanContext.SpanID()]
		slices.SortFunc(kids, func(a, b tracetest.SpanStub) int { return a.StartTime.Compare(b.StartTime) })
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return b.String()
}
