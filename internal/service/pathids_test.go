package service_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/revocation"
	"github.com/authsvc/authsvc/internal/service"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// fieldKind says where a field travels over REST.
type fieldKind int

const (
	inPath  fieldKind = iota // a segment of the REST path (and of the Stytch path)
	inBody                   // the JSON body (a Stytch path segment in a later or inner call)
	inQuery                  // the query string
)

// idField is one request field whose value becomes a segment of a Stytch URL path.
type idField struct {
	rpc, field string
	kind       fieldKind
	verb       string
	// rest is the REST path with seg as the field's segment (inPath) or the fixed path.
	rest func(seg string) string
	// body is the JSON body sent with an inPath field ("" for none).
	body string
	// req is the gRPC request with the field set to v and every other field valid.
	req func(v string) proto.Message
	// optional: an empty value is allowed (Stytch then chooses).
	optional bool
}

// badID is a value that is not one path segment, with how a REST client writes it in a path.
type badID struct {
	name, value, segment string
}

var badIDs = []badID{
	{"dot", ".", "."},
	{"dot-dot", "..", ".."},
	{"slash", "/", "%2F"},
	{"a/b", "a/b", "a%2Fb"},
	{"encoded dot", "%2e", "%2e"},
	{"encoded dot-dot", "%2E%2E", "%2E%2E"},
	{"empty", "", ""},
	{"control character", "a\x01b", "a%01b"},
}

func idFields(org, member string) []idField {
	orgs := func(rest string) func(string) string {
		return func(seg string) string { return "/v1/b2b/organizations/" + seg + rest }
	}
	members := func(prefix, suffix string) func(string) string {
		return func(seg string) string { return "/v1/b2b/organizations/" + org + "/members/" + prefix + seg + suffix }
	}
	fixedPath := func(p string) func(string) string { return func(string) string { return p } }
	clients := func(suffix string) func(string) string {
		return func(seg string) string { return "/v1/m2m/clients/" + seg + suffix }
	}
	return []idField{
		{
			rpc: membersSvc + "Create", field: "organization_id", kind: inPath, verb: http.MethodPost, rest: orgs("/members"), body: `{"email_address":"ada@example.com"}`,
			req: func(v string) proto.Message {
				return &b2bv1.MembersServiceCreateRequest{OrganizationId: v, EmailAddress: "ada@example.com"}
			},
		},
		{
			rpc: membersSvc + "Get", field: "organization_id", kind: inPath, verb: http.MethodGet, rest: func(seg string) string { return orgs("/member")(seg) + "?member_id=" + member },
			req: func(v string) proto.Message {
				return &b2bv1.MembersServiceGetRequest{OrganizationId: v, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: member}}
			},
		},
		{
			rpc: membersSvc + "Get", field: "member_id", kind: inQuery, verb: http.MethodGet, rest: fixedPath("/v1/b2b/organizations/" + org + "/member"),
			req: func(v string) proto.Message {
				return &b2bv1.MembersServiceGetRequest{OrganizationId: org, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: v}}
			},
		},
		{
			rpc: membersSvc + "Update", field: "organization_id", kind: inPath, verb: http.MethodPut, rest: orgs("/members/" + member), body: `{}`,
			req: func(v string) proto.Message {
				return &b2bv1.MembersServiceUpdateRequest{OrganizationId: v, MemberId: member}
			},
		},
		{
			rpc: membersSvc + "Update", field: "member_id", kind: inPath, verb: http.MethodPut, rest: members("", ""), body: `{}`,
			req: func(v string) proto.Message {
				return &b2bv1.MembersServiceUpdateRequest{OrganizationId: org, MemberId: v}
			},
		},
		{
			rpc: membersSvc + "Delete", field: "organization_id", kind: inPath, verb: http.MethodDelete, rest: orgs("/members/" + member),
			req: func(v string) proto.Message {
				return &b2bv1.MembersServiceDeleteRequest{OrganizationId: v, MemberId: member}
			},
		},
		{
			rpc: membersSvc + "Delete", field: "member_id", kind: inPath, verb: http.MethodDelete, rest: members("", ""),
			req: func(v string) proto.Message {
				return &b2bv1.MembersServiceDeleteRequest{OrganizationId: org, MemberId: v}
			},
		},
		{
			rpc: membersSvc + "Reactivate", field: "organization_id", kind: inPath, verb: http.MethodPut, rest: orgs("/members/" + member + "/reactivate"), body: `{}`,
			req: func(v string) proto.Message {
				return &b2bv1.MembersServiceReactivateRequest{OrganizationId: v, MemberId: member}
			},
		},
		{
			rpc: membersSvc + "Reactivate", field: "member_id", kind: inPath, verb: http.MethodPut, rest: members("", "/reactivate"), body: `{}`,
			req: func(v string) proto.Message {
				return &b2bv1.MembersServiceReactivateRequest{OrganizationId: org, MemberId: v}
			},
		},
		{
			rpc: membersSvc + "DeleteMfaPhoneNumber", field: "organization_id", kind: inPath, verb: http.MethodDelete, rest: orgs("/members/mfa_phone_numbers/" + member),
			req: func(v string) proto.Message {
				return &b2bv1.MembersServiceDeleteMfaPhoneNumberRequest{OrganizationId: v, MemberId: member}
			},
		},
		{
			rpc: membersSvc + "DeleteMfaPhoneNumber", field: "member_id", kind: inPath, verb: http.MethodDelete, rest: members("mfa_phone_numbers/", ""),
			req: func(v string) proto.Message {
				return &b2bv1.MembersServiceDeleteMfaPhoneNumberRequest{OrganizationId: org, MemberId: v}
			},
		},
		{
			rpc: membersSvc + "DeletePassword", field: "organization_id", kind: inPath, verb: http.MethodDelete, rest: orgs("/members/passwords/member-password-test-00000000-0000-0000-0000-000000000000"),
			req: func(v string) proto.Message {
				return &b2bv1.MembersServiceDeletePasswordRequest{OrganizationId: v, MemberPasswordId: "member-password-test-00000000-0000-0000-0000-000000000000"}
			},
		},
		{
			rpc: membersSvc + "DeletePassword", field: "member_password_id", kind: inPath, verb: http.MethodDelete, rest: members("passwords/", ""),
			req: func(v string) proto.Message {
				return &b2bv1.MembersServiceDeletePasswordRequest{OrganizationId: org, MemberPasswordId: v}
			},
		},
		{
			rpc: membersSvc + "DangerouslyGet", field: "member_id", kind: inPath, verb: http.MethodGet,
			rest: func(seg string) string { return "/v1/b2b/organizations/members/dangerously_get/" + seg },
			req:  func(v string) proto.Message { return &b2bv1.MembersServiceDangerouslyGetRequest{MemberId: v} },
		},
		// member_id is a path segment of the member lookup that remembers the revoked sessions.
		{
			rpc: sessionsSvc + "Revoke", field: "member_id", kind: inBody, verb: http.MethodPost, rest: fixedPath("/v1/b2b/sessions/revoke"),
			req: func(v string) proto.Message {
				return &b2bv1.SessionsServiceRevokeRequest{Target: &b2bv1.SessionsServiceRevokeRequest_MemberId{MemberId: v}}
			},
		},
		// A slug or external ID chosen here is usable as organization_id later.
		{
			rpc: discoverySvc + "CreateOrganization", field: "organization_slug", kind: inBody, verb: http.MethodPost, rest: fixedPath("/v1/b2b/discovery/organizations/create"), optional: true,
			req: func(v string) proto.Message {
				return &b2bv1.DiscoveryServiceCreateOrganizationRequest{IntermediateSessionToken: "ist", OrganizationSlug: v}
			},
		},
		{
			rpc: discoverySvc + "CreateOrganization", field: "organization_external_id", kind: inBody, verb: http.MethodPost, rest: fixedPath("/v1/b2b/discovery/organizations/create"), optional: true,
			req: func(v string) proto.Message {
				return &b2bv1.DiscoveryServiceCreateOrganizationRequest{IntermediateSessionToken: "ist", OrganizationExternalId: v}
			},
		},
		// A client ID chosen at creation is a path segment of every later call.
		{
			rpc: m2mSvc + "CreateClient", field: "client_id", kind: inBody, verb: http.MethodPost, rest: fixedPath("/v1/m2m/clients"), optional: true,
			req: func(v string) proto.Message { return &m2mv1.CreateClientRequest{ClientId: v} },
		},
		{
			rpc: m2mSvc + "GetClient", field: "client_id", kind: inPath, verb: http.MethodGet, rest: clients(""),
			req: func(v string) proto.Message { return &m2mv1.GetClientRequest{ClientId: v} },
		},
		{
			rpc: m2mSvc + "UpdateClient", field: "client_id", kind: inPath, verb: http.MethodPut, rest: clients(""), body: `{}`,
			req: func(v string) proto.Message { return &m2mv1.UpdateClientRequest{ClientId: v} },
		},
		{
			rpc: m2mSvc + "DeleteClient", field: "client_id", kind: inPath, verb: http.MethodDelete, rest: clients(""),
			req: func(v string) proto.Message { return &m2mv1.DeleteClientRequest{ClientId: v} },
		},
		{
			rpc: m2mSvc + "RotateSecretStart", field: "client_id", kind: inPath, verb: http.MethodPost, rest: clients("/secrets/rotate/start"), body: `{}`,
			req: func(v string) proto.Message { return &m2mv1.RotateSecretStartRequest{ClientId: v} },
		},
		{
			rpc: m2mSvc + "RotateSecret", field: "client_id", kind: inPath, verb: http.MethodPost, rest: clients("/secrets/rotate"), body: `{}`,
			req: func(v string) proto.Message { return &m2mv1.RotateSecretRequest{ClientId: v} },
		},
		{
			rpc: m2mSvc + "RotateSecretCancel", field: "client_id", kind: inPath, verb: http.MethodPost, rest: clients("/secrets/rotate/cancel"), body: `{}`,
			req: func(v string) proto.Message { return &m2mv1.RotateSecretCancelRequest{ClientId: v} },
		},
	}
}

// stytchCalls counts the requests that reached the emulator, less the JWKS cache's background loads.
func stytchCalls(emu *stytchemu.Server) int {
	return emu.Requests("*") - emu.Requests("GET */jwks/*")
}

// violatedFields lists the fields named by a status: protovalidate's Violations and BadRequest.
func violatedFields(st *status.Status) []string {
	var out []string
	for _, d := range st.Details() {
		switch v := d.(type) {
		case *validate.Violations:
			for _, x := range v.GetViolations() {
				out = append(out, protovalidate.FieldPathString(x.GetField()))
			}
		case *errdetails.BadRequest:
			for _, x := range v.GetFieldViolations() {
				out = append(out, x.GetField())
			}
		}
	}
	return out
}

// noRedirects is an API client that reports a redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// restExact sends a REST request with the path exactly as given (no client-side cleaning) and
// returns the HTTP status, the Location header and the decoded error status, if any.
func (e *testEnv) restExact(t *testing.T, verb, path, body string) (int, string, *status.Status, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequestWithContext(ctx, verb, e.BaseURL+path, rd)
	require.NoError(t, err)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer "+e.svcToken(t))
	res, err := noRedirects.Do(r)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var sp spb.Status
	if protojson.Unmarshal(b, &sp) != nil {
		return res.StatusCode, res.Header.Get("Location"), nil, b
	}
	return res.StatusCode, res.Header.Get("Location"), status.FromProto(&sp), b
}

// TestIDsThatAreNotOnePathSegmentAreRefused: every request field whose value becomes a segment of
// a Stytch URL path refuses ".", "..", "/", "a/b", "%2e", "%2E%2E", "" (where required) and
// control characters with INVALID_ARGUMENT naming the field, over gRPC and REST (where REST puts
// the value in the path, written as a client would: ".." as is, "/" as %2F), before any call to
// Stytch, and REST never answers with a redirect.
func TestIDsThatAreNotOnePathSegmentAreRefused(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	member := e.member(t, org.ID, stytchemu.MemberParams{})
	e.svcToken(t) // issued before counting: it is a call to Stytch

	for _, f := range idFields(org.ID, member.ID) {
		name := strings.ReplaceAll(strings.TrimPrefix(f.rpc, "/authsvc."), "/", ".") + "." + f.field
		t.Run(name, func(t *testing.T) {
			for _, bad := range badIDs {
				if bad.value == "" && f.optional {
					continue
				}
				before := stytchCalls(e.Emu)

				st := e.grpcSvc(t, f.rpc, f.req(bad.value), &emptyResponse{})
				assert.Equal(t, codes.InvalidArgument, st.Code(), "gRPC %s: %v", bad.name, st.Message())
				assert.Contains(t, st.Message(), f.field, "gRPC %s", bad.name)
				assert.Contains(t, violatedFields(st), f.field, "gRPC %s", bad.name)

				var path, body string
				switch f.kind {
				case inPath:
					path, body = f.rest(bad.segment), f.body
				case inQuery:
					path = f.rest("") + "?" + f.field + "=" + url.QueryEscape(bad.value)
				case inBody:
					b, err := protojson.Marshal(f.req(bad.value))
					require.NoError(t, err)
					path, body = f.rest(""), string(b)
				}
				code, location, rst, raw := e.restExact(t, f.verb, path, body)
				assert.Empty(t, location, "REST %s %s: no redirect", f.verb, path)
				if assert.Equal(t, http.StatusBadRequest, code, "REST %s %s: %s", f.verb, path, raw) && assert.NotNil(t, rst) {
					assert.Equal(t, codes.InvalidArgument, rst.Code())
					assert.Contains(t, rst.Message(), f.field, "REST %s %s", f.verb, path)
					assert.Contains(t, violatedFields(rst), f.field, "REST %s %s", f.verb, path)
				}

				assert.Equal(t, before, stytchCalls(e.Emu), "%s: nothing may reach Stytch", bad.name)
			}
		})
	}
}

// emptyResponse receives any response message; the refused calls return none.
type emptyResponse = b2bv1.MembersServiceDeleteResponse

// TestIDsInAnyLetterCaseSlugsAndExternalIDsStillWork: the rules accept what Stytch accepts: an ID
// in upper case, an organization slug or external ID where an organization_id is expected, a
// member external ID where Stytch takes one, and a caller-chosen M2M client ID.
func TestIDsInAnyLetterCaseSlugsAndExternalIDsStillWork(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{Slug: "acme.inc~1"})
	upOrg := strings.ToUpper(org.ID)

	t.Run("Members.Delete by upper-case IDs", func(t *testing.T) {
		m := e.member(t, org.ID, stytchemu.MemberParams{})
		resp := &b2bv1.MembersServiceDeleteResponse{}
		st := e.grpcSvc(t, membersSvc+"Delete", &b2bv1.MembersServiceDeleteRequest{OrganizationId: upOrg, MemberId: strings.ToUpper(m.ID)}, resp)
		require.Equal(t, codes.OK, st.Code(), st.Message())
		assert.Equal(t, m.ID, resp.GetMemberId())

		m = e.member(t, org.ID, stytchemu.MemberParams{})
		r := e.restSvc(t, http.MethodDelete, "/v1/b2b/organizations/"+upOrg+"/members/"+strings.ToUpper(m.ID), nil, resp)
		require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
		assert.Equal(t, m.ID, resp.GetMemberId())
	})
	t.Run("Members.Delete by organization slug and member external ID", func(t *testing.T) {
		m := e.member(t, org.ID, stytchemu.MemberParams{ExternalID: "crm|42.a_b"})
		resp := &b2bv1.MembersServiceDeleteResponse{}
		st := e.grpcSvc(t, membersSvc+"Delete", &b2bv1.MembersServiceDeleteRequest{OrganizationId: org.Slug, MemberId: "crm|42.a_b"}, resp)
		require.Equal(t, codes.OK, st.Code(), st.Message())
		assert.Equal(t, m.ID, resp.GetMemberId())

		m = e.member(t, org.ID, stytchemu.MemberParams{ExternalID: "crm-43"})
		r := e.restSvc(t, http.MethodDelete, "/v1/b2b/organizations/"+org.Slug+"/members/crm-43", nil, resp)
		require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
		assert.Equal(t, m.ID, resp.GetMemberId())
	})
	t.Run("Members.DangerouslyGet and Reactivate by upper-case member ID", func(t *testing.T) {
		m := e.member(t, org.ID, stytchemu.MemberParams{})
		up := strings.ToUpper(m.ID)
		dg := &b2bv1.MembersServiceDangerouslyGetResponse{}
		st := e.grpcSvc(t, membersSvc+"DangerouslyGet", &b2bv1.MembersServiceDangerouslyGetRequest{MemberId: up}, dg)
		require.Equal(t, codes.OK, st.Code(), st.Message())
		assert.Equal(t, m.ID, dg.GetMemberId())
		r := e.restSvc(t, http.MethodGet, "/v1/b2b/organizations/members/dangerously_get/"+up, nil, dg)
		require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
		assert.Equal(t, m.ID, dg.GetMemberId())

		st = e.grpcSvc(t, membersSvc+"Delete", &b2bv1.MembersServiceDeleteRequest{OrganizationId: org.ID, MemberId: m.ID}, &b2bv1.MembersServiceDeleteResponse{})
		require.Equal(t, codes.OK, st.Code(), st.Message())
		rr := &b2bv1.MembersServiceReactivateResponse{}
		st = e.grpcSvc(t, membersSvc+"Reactivate", &b2bv1.MembersServiceReactivateRequest{OrganizationId: upOrg, MemberId: up}, rr)
		require.Equal(t, codes.OK, st.Code(), st.Message())
		assert.Equal(t, b2bv1.MemberStatus_MEMBER_STATUS_ACTIVE, rr.GetMember().GetStatus())
	})
	t.Run("M2M client with a caller-chosen ID", func(t *testing.T) {
		for _, id := range []string{"orders:svc@prod", "billing.svc~2|eu"} {
			created := &m2mv1.CreateClientResponse{}
			st := e.grpcSvc(t, m2mSvc+"CreateClient", &m2mv1.CreateClientRequest{ClientId: id, Scopes: []string{"read:orders"}}, created)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			got := &m2mv1.GetClientResponse{}
			st = e.grpcSvc(t, m2mSvc+"GetClient", &m2mv1.GetClientRequest{ClientId: id}, got)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, id, got.GetM2MClient().GetClientId())
			r := e.restSvc(t, http.MethodGet, "/v1/m2m/clients/"+url.PathEscape(id), nil, got)
			require.Equal(t, http.StatusOK, r.HTTP, "body: %s", r.Body)
			assert.Equal(t, id, got.GetM2MClient().GetClientId())
		}
	})
}

// TestStytchClientRefusalIsInvalidArgument: were a proto rule missing, the Stytch client still
// refuses a value that is not one path segment, and the handler answers INVALID_ARGUMENT naming
// the field, not INTERNAL, without any request. The handlers are called directly, past validation.
func TestStytchClientRefusalIsInvalidArgument(t *testing.T) {
	emu := testkit.Emulator(t)
	sc := testkit.Client(t, emu)
	revs, err := revocation.New(revocation.Config{})
	require.NoError(t, err)
	members := service.NewMembers(sc, revs, emu.Now, nil)
	m2m := service.NewM2M(sc, sc.TokenSource(stytchclient.TokenSourceConfig{}), nil, emu.Now, nil)
	org, err := emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Acme"})
	require.NoError(t, err)
	ctx := context.Background()

	for _, tc := range []struct {
		field string
		call  func() error
	}{
		{"member_id", func() error {
			_, err := members.Delete(ctx, &b2bv1.MembersServiceDeleteRequest{OrganizationId: org.ID, MemberId: ".."})
			return err
		}},
		{"organization_id", func() error {
			_, err := members.Delete(ctx, &b2bv1.MembersServiceDeleteRequest{OrganizationId: "x/..", MemberId: "member-test-1"})
			return err
		}},
		{"member_password_id", func() error {
			_, err := members.DeletePassword(ctx, &b2bv1.MembersServiceDeletePasswordRequest{OrganizationId: org.ID, MemberPasswordId: "%2e%2e"})
			return err
		}},
		{"member_id", func() error {
			_, err := members.DangerouslyGet(ctx, &b2bv1.MembersServiceDangerouslyGetRequest{MemberId: "."})
			return err
		}},
		{"client_id", func() error {
			_, err := m2m.DeleteClient(ctx, &m2mv1.DeleteClientRequest{ClientId: "a%2Fb"})
			return err
		}},
	} {
		err := tc.call()
		st := status.Convert(err)
		assert.Equal(t, codes.InvalidArgument, st.Code(), "%s: %v", tc.field, err)
		assert.Equal(t, []string{tc.field}, violatedFields(st))
		assert.Contains(t, st.Message(), tc.field)
		if ei := errorInfo(st); assert.NotNil(t, ei) {
			assert.Equal(t, "invalid_path_segment", ei.GetReason())
		}
	}
	assert.Zero(t, emu.Requests("*"), "no request may reach Stytch")
}
