package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/server"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// rawCodec sends a request's bytes as they are and returns the response's bytes undecoded: what a
// client that does not use protobuf (or a broken one) puts on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

// invokeRaw calls a unary method with raw request bytes.
func invokeRaw(t testing.TB, env *apptest.Env, method string, req []byte, opts ...grpc.CallOption) error {
	t.Helper()
	var resp []byte
	return env.Conn.Invoke(t.Context(), method, &req, &resp, append(opts, grpc.ForceCodecV2(rawCodec{}))...)
}

// nestedStruct is {"a":{"a":...{"a":"x"}}} with depth objects.
func nestedStruct(depth int) *structpb.Struct {
	v := structpb.NewStringValue("x")
	for range depth {
		v = structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"a": v}})
	}
	return v.GetStructValue()
}

// nestedJSON is the same as JSON text; arrays nest [[...["x"]...]] inside one object.
func nestedJSON(depth int, arrays bool) string {
	if arrays {
		return `{"a":` + strings.Repeat("[", depth-1) + `"x"` + strings.Repeat("]", depth-1) + `}`
	}
	return strings.Repeat(`{"a":`, depth) + `"x"` + strings.Repeat("}", depth)
}

// assertInvalidField checks a gRPC error is INVALID_ARGUMENT whose message names field.
func assertInvalidField(t *testing.T, err error, field string) {
	t.Helper()
	st, ok := status.FromError(err)
	require.True(t, ok, "want a gRPC status, got %v", err)
	assert.Equal(t, codes.InvalidArgument, st.Code(), "%s", st.Message())
	assert.Contains(t, st.Message(), field)
}

// assertInvalidFieldREST checks a REST answer is 400 INVALID_ARGUMENT whose message names field.
func assertInvalidFieldREST(t *testing.T, r apptest.Response, field string) {
	t.Helper()
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
	body := r.JSON(t)
	assert.InDelta(t, float64(codes.InvalidArgument), body["code"], 0)
	assert.Contains(t, body["message"], field)
}

// Free-form JSON fields (metadata, custom claims) nest at most server.MaxJSONDepth levels; deeper is
// INVALID_ARGUMENT naming the field, over gRPC and REST, and never reaches Stytch. Far deeper values
// once failed in protobuf's decoder on the gRPC server, which grpc-go reports as INTERNAL.
func TestDeeplyNestedJSONIsInvalidArgument(t *testing.T) {
	env := apptest.Start(t)
	client := b2bv1.NewMagicLinksServiceClient(env.Conn)
	const upstream = "POST /v1/b2b/magic_links/authenticate"
	const path = "/v1/b2b/magic_links/authenticate"

	t.Run("at the limit passes validation", func(t *testing.T) {
		before := env.Emu.Requests(upstream)
		_, err := client.Authenticate(t.Context(), &b2bv1.MagicLinksServiceAuthenticateRequest{
			MagicLinksToken: "no-such-token", SessionCustomClaims: nestedStruct(server.MaxJSONDepth),
		})
		assert.Equal(t, codes.Unauthenticated, status.Code(err), "Stytch refuses the token: %v", err)
		r := env.REST(t, http.MethodPost, path, `{"magic_links_token":"no-such-token","session_custom_claims":`+nestedJSON(server.MaxJSONDepth, true)+`}`)
		assert.Equal(t, http.StatusUnauthorized, r.Status, "%s", r.Body)
		assert.Equal(t, before+2, env.Emu.Requests(upstream))
	})

	// 4000 passes protojson at the gateway but not protobuf's decoder on the gRPC server; 20000 is
	// past encoding/json's and protojson's limits (arrays only: as objects it exceeds 64 KiB).
	for _, depth := range []int{server.MaxJSONDepth + 1, 4000, 20000} {
		t.Run(fmt.Sprintf("depth %d", depth), func(t *testing.T) {
			before := env.Emu.Requests(upstream)
			_, err := client.Authenticate(t.Context(), &b2bv1.MagicLinksServiceAuthenticateRequest{
				MagicLinksToken: "no-such-token", SessionCustomClaims: nestedStruct(depth),
			})
			assertInvalidField(t, err, "session_custom_claims")

			for _, arrays := range []bool{false, true} {
				if !arrays && depth > 10000 {
					continue
				}
				r := env.REST(t, http.MethodPost, path, `{"magic_links_token":"no-such-token","session_custom_claims":`+nestedJSON(depth, arrays)+`}`)
				assertInvalidFieldREST(t, r, "session_custom_claims")
			}
			assert.Equal(t, before, env.Emu.Requests(upstream), "a refused request must not reach Stytch")
		})
	}

	t.Run("member metadata", func(t *testing.T) {
		c, err := env.Emu.CreateM2MClient("input-test", []string{"write:members"})
		require.NoError(t, err)
		token := m2mToken(t, env, c, nil)
		members := b2bv1.NewMembersServiceClient(env.Conn)
		for _, tc := range []struct {
			field string
			req   *b2bv1.MembersServiceCreateRequest
		}{
			{"trusted_metadata", &b2bv1.MembersServiceCreateRequest{TrustedMetadata: nestedStruct(server.MaxJSONDepth + 1)}},
			{"untrusted_metadata", &b2bv1.MembersServiceCreateRequest{UntrustedMetadata: nestedStruct(4000)}},
		} {
			tc.req.OrganizationId = stytchemu.SandboxOrganizationID
			tc.req.EmailAddress = "nested@example.com"
			_, err := members.Create(bearer(t.Context(), token), tc.req)
			assertInvalidField(t, err, tc.field)

			r := env.RESTWithHeaders(t, http.MethodPost, "/v1/b2b/organizations/"+stytchemu.SandboxOrganizationID+"/members",
				`{"email_address":"nested@example.com","`+tc.field+`":`+nestedJSON(4000, true)+`}`,
				http.Header{"Authorization": {"Bearer " + token}})
			assertInvalidFieldREST(t, r, tc.field)
		}
	})
}

// A string that is not UTF-8 is the caller's mistake: INVALID_ARGUMENT naming the field, with none of
// the bytes in the message. grpc-go's codec fails such a request as INTERNAL on the gRPC server,
// and so does the gateway's marshaling for a path or query parameter (`%FF`) over REST.
func TestInvalidUTF8IsInvalidArgument(t *testing.T) {
	env := apptest.Start(t)
	const secretish = "pay\xffload"

	t.Run("gRPC string field", func(t *testing.T) {
		req := protowire.AppendTag(nil, 1, protowire.BytesType) // magic_links_token
		req = protowire.AppendString(req, secretish)
		err := invokeRaw(t, env, b2bv1.MagicLinksService_Authenticate_FullMethodName, req)
		assertInvalidField(t, err, "magic_links_token")
		assert.NotContains(t, status.Convert(err).Message(), "pay")
	})
	t.Run("gRPC string inside a Struct", func(t *testing.T) {
		claims, err := proto.Marshal(&structpb.Struct{Fields: map[string]*structpb.Value{"k": structpb.NewStringValue("ok")}})
		require.NoError(t, err)
		claims = []byte(strings.Replace(string(claims), "ok", "\xff\xfe", 1))
		req := protowire.AppendTag(nil, 1, protowire.BytesType)
		req = protowire.AppendString(req, "token")
		req = protowire.AppendTag(req, 7, protowire.BytesType) // session_custom_claims
		req = protowire.AppendBytes(req, claims)
		err = invokeRaw(t, env, b2bv1.MagicLinksService_Authenticate_FullMethodName, req)
		assertInvalidField(t, err, "session_custom_claims")
	})
	t.Run("gRPC streaming method", func(t *testing.T) {
		req := protowire.AppendTag(nil, 1, protowire.BytesType) // grpc.health.v1.HealthCheckRequest.service
		req = protowire.AppendString(req, secretish)
		cs, err := env.Conn.NewStream(t.Context(), &grpc.StreamDesc{ServerStreams: true}, "/grpc.health.v1.Health/Watch", grpc.ForceCodecV2(rawCodec{}))
		require.NoError(t, err)
		require.NoError(t, cs.SendMsg(&req))
		require.NoError(t, cs.CloseSend())
		var resp []byte
		assertInvalidField(t, cs.RecvMsg(&resp), "service")
	})
	t.Run("gRPC bytes that are no message", func(t *testing.T) {
		err := invokeRaw(t, env, b2bv1.MagicLinksService_Authenticate_FullMethodName, []byte{0x0a, 0x7f, 'x'}) // length past the end
		assertInvalidField(t, err, "magic_links_token")
	})

	c, err := env.Emu.CreateM2MClient("utf8-test", []string{"read:members"})
	require.NoError(t, err)
	auth := http.Header{"Authorization": {"Bearer " + m2mToken(t, env, c, nil)}}
	for _, tc := range []struct{ path, field string }{
		{"/v1/b2b/organizations/%FF/member?member_id=member-1", "organization_id"},
		{"/v1/b2b/organizations/" + stytchemu.SandboxOrganizationID + "/member?email_address=%FFa%40example.com", "email_address"},
	} {
		t.Run("REST "+tc.field, func(t *testing.T) {
			r := env.RESTWithHeaders(t, http.MethodGet, tc.path, nil, auth)
			assertInvalidFieldREST(t, r, tc.field)
		})
	}
	t.Run("REST body", func(t *testing.T) {
		r := env.REST(t, http.MethodPost, "/v1/b2b/magic_links/authenticate", `{"magic_links_token":"`+secretish+`"}`)
		assertInvalidFieldREST(t, r, "magic_links_token")
		assert.NotContains(t, string(r.Body), "pay")
	})
}

// A JSON body that does not decode is INVALID_ARGUMENT naming the field by its proto name (as the
// API documents it), and the answer quotes none of the body: protojson's own messages quoted the
// value, so an email address or token sent in the wrong field came back in the error.
func TestRESTDecodeErrorsNameTheFieldAndQuoteNothing(t *testing.T) {
	env := apptest.Start(t)
	const email = "ada.lovelace@example.com"
	for _, tc := range []struct {
		name, path, body, field string
	}{
		{"wrong type", "/v1/b2b/magic_links/authenticate", `{"magic_links_token":"t","session_duration_minutes":"` + email + `"}`, "session_duration_minutes"},
		{"unknown enum name", "/v1/b2b/magic_links/authenticate", `{"magic_links_token":"t","locale":"` + email + `"}`, "locale"},
		{"string for an object", "/v1/b2b/magic_links/authenticate", `{"magic_links_token":"t","session_custom_claims":"` + email + `"}`, "session_custom_claims"},
		{"number out of range", "/v1/b2b/magic_links/authenticate", `{"magic_links_token":"t","session_custom_claims":{"n":1e999,"e":"` + email + `"}}`, "session_custom_claims"},
		{"duplicate key", "/v1/b2b/magic_links/authenticate", `{"magic_links_token":"` + email + `","magicLinksToken":"` + email + `"}`, "magic_links_token"},
		{"two of a oneof", "/v1/b2b/sessions/authenticate", `{"session_token":"` + email + `","session_jwt":"` + email + `"}`, "session_jwt"},
		{"unknown field", "/v1/b2b/magic_links/authenticate", `{"magic_links_token":"t","nope":"` + email + `"}`, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := env.REST(t, http.MethodPost, tc.path, tc.body)
			assertInvalidFieldREST(t, r, tc.field)
			assert.NotContains(t, string(r.Body), "ada.lovelace")
		})
	}
	t.Run("not an object", func(t *testing.T) {
		r := env.REST(t, http.MethodPost, "/v1/b2b/magic_links/authenticate", `["`+email+`"]`)
		require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
		assert.NotContains(t, string(r.Body), "ada.lovelace")
	})
	t.Run("unknown key that is no name", func(t *testing.T) {
		r := env.REST(t, http.MethodPost, "/v1/b2b/magic_links/authenticate", `{"`+email+`":1}`)
		require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
		assert.NotContains(t, string(r.Body), "ada.lovelace")
	})
}
