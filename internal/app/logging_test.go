package app_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// Every RPC writes exactly one access-log line ("finished call") with the method, code, duration,
// caller kind and the trace and span IDs of the call, and never the credential. Each call below
// carries its own W3C traceparent, so the line is matched to its call by trace ID.
func TestOneAccessLogLinePerRPC(t *testing.T) {
	env := apptest.Start(t)
	org := stytchemu.SandboxOrganizationID
	session := memberSession(t, env, org, "logged@stytch.com", "stytch_admin")
	client, err := env.Emu.CreateM2MClient("logger", []string{"read:members"})
	require.NoError(t, err)
	m2m := m2mToken(t, env, client, nil)
	members := b2bv1.NewMembersServiceClient(env.Conn)
	get := &b2bv1.MembersServiceGetRequest{OrganizationId: org, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: session.MemberID}}

	type call struct {
		traceID, method, code, kind string
	}
	calls := []call{
		{"11111111111111111111111111111111", "MembersService/Get", codes.OK.String(), "service"},
		{"22222222222222222222222222222222", "MembersService/Get", codes.OK.String(), "member"},
		{"33333333333333333333333333333333", "MembersService/Get", codes.Unauthenticated.String(), "none"},
		{"44444444444444444444444444444444", "SessionsService/Authenticate", codes.OK.String(), "public"}, // over REST
	}
	parent := func(traceID string) string { return "00-" + traceID + "-0102030405060708-01" }

	ctx := metadata.AppendToOutgoingContext(t.Context(), "traceparent", parent(calls[0].traceID), "authorization", "Bearer "+m2m)
	_, err = members.Get(ctx, get)
	require.NoError(t, err)
	ctx = metadata.AppendToOutgoingContext(t.Context(), "traceparent", parent(calls[1].traceID), "authorization", "Bearer "+session.Token)
	_, err = members.Get(ctx, get)
	require.NoError(t, err)
	ctx = metadata.AppendToOutgoingContext(t.Context(), "traceparent", parent(calls[2].traceID))
	_, err = members.Get(ctx, get)
	require.Equal(t, codes.Unauthenticated, status.Code(err))
	resp := env.RESTWithHeaders(t, http.MethodPost, "/v1/b2b/sessions/authenticate",
		map[string]any{"session_token": session.Token}, http.Header{"Traceparent": {parent(calls[3].traceID)}})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	// The logging interceptor writes the line before the response leaves, so it is there now.
	lines := accessLines(t, env.Logs())
	require.Len(t, lines, len(calls), "one access-log line per RPC")
	for _, c := range calls {
		t.Run(c.kind+" "+c.method, func(t *testing.T) {
			var line map[string]any
			for _, l := range lines {
				if l["trace_id"] == c.traceID {
					require.Nil(t, line, "two lines for one call")
					line = l
				}
			}
			require.NotNil(t, line, "no access-log line with trace_id %s", c.traceID)
			service, method, _ := strings.Cut(c.method, "/")
			assert.Equal(t, "authsvc.b2b.v1."+service, line["grpc.service"])
			assert.Equal(t, method, line["grpc.method"])
			assert.Equal(t, c.code, line["grpc.code"])
			assert.Equal(t, c.kind, line["caller.kind"])
			ms, err := strconv.ParseFloat(line["grpc.time_ms"].(string), 64)
			require.NoError(t, err, "grpc.time_ms %v", line["grpc.time_ms"])
			assert.GreaterOrEqual(t, ms, 0.0)
			assert.Len(t, line["span_id"], 16, "span_id")
			assert.NotEqual(t, "0102030405060708", line["span_id"], "the server's own span, not the caller's")
		})
	}

	logs := env.Logs()
	for name, v := range map[string]string{"session token": session.Token, "M2M token": m2m, "email": "logged@stytch.com"} {
		assert.NotRegexp(t, secretPattern(v), logs, "%s in the logs", name)
	}
}

// accessLines returns the decoded "finished call" records of the gRPC server.
func accessLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &rec), "every log line is JSON: %s", l)
		if rec["msg"] == "finished call" && rec["grpc.component"] == "server" {
			out = append(out, rec)
		}
	}
	return out
}
