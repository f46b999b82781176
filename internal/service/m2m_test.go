package service_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const (
	m2mSvc        = "/authsvc.m2m.v1.M2MService/"
	tokenEndpoint = "POST /v1/public/{project_id}/oauth2/token"
)

func (e *testEnv) m2mClient(t *testing.T, scopes ...string) stytchemu.M2MClient {
	t.Helper()
	c, err := e.Emu.CreateM2MClient("client", scopes)
	require.NoError(t, err)
	return c
}

func (e *testEnv) issue(t *testing.T, clientID, secret string, scopes ...string) (*m2mv1.IssueTokenResponse, *status.Status) {
	t.Helper()
	r := &m2mv1.IssueTokenResponse{}
	st := e.grpcCall(t, m2mSvc+"IssueToken", &m2mv1.IssueTokenRequest{ClientId: clientID, ClientSecret: secret, Scopes: scopes}, r)
	return r, st
}

func TestM2MClients(t *testing.T) {
	e := startEnvNoLimits(t)
	c := e.m2mClient(t, "read:members")
	clientPath := func(suffix string) func(proto.Message) string {
		return fixed("/v1/m2m/clients/" + c.ClientID + suffix)
	}

	runCases(t, e, []rpcCase{
		{
			svc: true, name: "CreateClient", method: m2mSvc + "CreateClient", verb: "POST", path: fixed("/v1/m2m/clients"),
			req: func(*testing.T) proto.Message {
				return &m2mv1.CreateClientRequest{Scopes: []string{"read:members", "write:members"}, ClientName: "billing", TrustedMetadata: mustStruct(t, map[string]any{"team": "billing"})}
			},
			resp: func() proto.Message { return &m2mv1.CreateClientResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*m2mv1.CreateClientResponse)
				assert.NotEmpty(t, r.GetClientSecret())
				assert.Equal(t, "billing", r.GetM2MClient().GetClientName())
				assert.Equal(t, []string{"read:members", "write:members"}, r.GetM2MClient().GetScopes())
				assert.Equal(t, m2mv1.ClientStatus_CLIENT_STATUS_ACTIVE, r.GetM2MClient().GetStatus())
				assert.Equal(t, r.GetClientSecret()[len(r.GetClientSecret())-4:], r.GetM2MClient().GetClientSecretLastFour())
				assert.Equal(t, "billing", r.GetM2MClient().GetTrustedMetadata().GetFields()["team"].GetStringValue())
			},
		},
		{
			svc: true, name: "CreateClient with a used client_id", method: m2mSvc + "CreateClient", verb: "POST", path: fixed("/v1/m2m/clients"),
			req: func(*testing.T) proto.Message {
				return &m2mv1.CreateClientRequest{Scopes: []string{"read:members"}, ClientId: c.ClientID}
			},
			resp: func() proto.Message { return &m2mv1.CreateClientResponse{} },
			code: codes.InvalidArgument, reason: "m2m_client_id_already_used",
		},
		{
			svc: true, name: "GetClient", method: m2mSvc + "GetClient", verb: "GET", noBody: true, path: clientPath(""),
			req:  func(*testing.T) proto.Message { return &m2mv1.GetClientRequest{ClientId: c.ClientID} },
			resp: func() proto.Message { return &m2mv1.GetClientResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*m2mv1.GetClientResponse)
				assert.Equal(t, c.ClientID, r.GetM2MClient().GetClientId())
				assert.Nil(t, r.GetM2MClient().NextClientSecretLastFour, "no rotation in progress")
			},
		},
		{
			svc: true, name: "GetClient unknown", method: m2mSvc + "GetClient", verb: "GET", noBody: true, path: fixed("/v1/m2m/clients/m2m-client-test-nope"),
			req:  func(*testing.T) proto.Message { return &m2mv1.GetClientRequest{ClientId: "m2m-client-test-nope"} },
			resp: func() proto.Message { return &m2mv1.GetClientResponse{} },
			code: codes.NotFound, reason: "m2m_client_not_found", checkSt: assertStytchRequestID,
		},
		{
			svc: true, name: "RotateSecretCancel without a rotation", method: m2mSvc + "RotateSecretCancel", verb: "POST", path: clientPath("/secrets/rotate/cancel"),
			req:  func(*testing.T) proto.Message { return &m2mv1.RotateSecretCancelRequest{ClientId: c.ClientID} },
			resp: func() proto.Message { return &m2mv1.RotateSecretCancelResponse{} },
			code: codes.InvalidArgument, reason: "m2m_client_secret_rotation_not_started",
		},
		{
			svc: true, name: "RotateSecret without a rotation", method: m2mSvc + "RotateSecret", verb: "POST", path: clientPath("/secrets/rotate"),
			req:  func(*testing.T) proto.Message { return &m2mv1.RotateSecretRequest{ClientId: c.ClientID} },
			resp: func() proto.Message { return &m2mv1.RotateSecretResponse{} },
			code: codes.InvalidArgument, reason: "m2m_client_secret_rotation_not_started",
		},
		{
			svc: true, name: "RotateSecretStart unknown", method: m2mSvc + "RotateSecretStart", verb: "POST", path: fixed("/v1/m2m/clients/m2m-client-test-nope/secrets/rotate/start"),
			req: func(*testing.T) proto.Message {
				return &m2mv1.RotateSecretStartRequest{ClientId: "m2m-client-test-nope"}
			},
			resp: func() proto.Message { return &m2mv1.RotateSecretStartResponse{} },
			code: codes.NotFound, reason: "m2m_client_not_found",
		},
		{
			svc: true, name: "UpdateClient unknown", method: m2mSvc + "UpdateClient", verb: "PUT", path: fixed("/v1/m2m/clients/m2m-client-test-nope"),
			req: func(*testing.T) proto.Message {
				return &m2mv1.UpdateClientRequest{ClientId: "m2m-client-test-nope", ClientName: new("x")}
			},
			resp: func() proto.Message { return &m2mv1.UpdateClientResponse{} },
			code: codes.NotFound, reason: "m2m_client_not_found",
		},
		{
			svc: true, name: "DeleteClient unknown", method: m2mSvc + "DeleteClient", verb: "DELETE", noBody: true, path: fixed("/v1/m2m/clients/m2m-client-test-nope"),
			req:  func(*testing.T) proto.Message { return &m2mv1.DeleteClientRequest{ClientId: "m2m-client-test-nope"} },
			resp: func() proto.Message { return &m2mv1.DeleteClientResponse{} },
			code: codes.NotFound, reason: "m2m_client_not_found",
		},
		{
			svc: true, name: "SearchClients with statuses under OR", method: m2mSvc + "SearchClients", verb: "POST", path: fixed("/v1/m2m/clients/search"),
			req: func(*testing.T) proto.Message {
				return &m2mv1.SearchClientsRequest{Query: &m2mv1.ClientSearchQuery{Operator: m2mv1.SearchOperator_SEARCH_OPERATOR_OR, Operands: []*m2mv1.ClientSearchOperand{
					{Filter: &m2mv1.ClientSearchOperand_Statuses{Statuses: &m2mv1.ClientStatusValues{Values: []m2mv1.ClientStatus{m2mv1.ClientStatus_CLIENT_STATUS_ACTIVE}}}},
				}}}
			},
			resp: func() proto.Message { return &m2mv1.SearchClientsResponse{} },
			code: codes.InvalidArgument, reason: "unsupported_filter",
		},
	})

	for _, tr := range []string{"grpc", "rest"} {
		t.Run("lifecycle/"+tr, func(t *testing.T) {
			call := func(method, verb, path string, req, resp proto.Message, noBody bool) *status.Status {
				if tr == "grpc" {
					return e.grpcSvc(t, m2mSvc+method, req, resp)
				}
				if noBody {
					req = nil
				}
				return e.restSvc(t, verb, path, req, resp).Status
			}
			cr := &m2mv1.CreateClientResponse{}
			require.Equal(t, codes.OK, call("CreateClient", "POST", "/v1/m2m/clients", &m2mv1.CreateClientRequest{Scopes: []string{"a:b", "c:d"}, ClientName: "one", ClientDescription: "first"}, cr, false).Code())
			id := cr.GetM2MClient().GetClientId()

			// Update: rename, clear the description, remove every scope, deactivate.
			up := &m2mv1.UpdateClientResponse{}
			st := call("UpdateClient", "PUT", "/v1/m2m/clients/"+id, &m2mv1.UpdateClientRequest{
				ClientId: id, ClientName: new("renamed"), ClientDescription: new(""), Scopes: &m2mv1.Scopes{}, Status: m2mv1.ClientStatus_CLIENT_STATUS_INACTIVE,
			}, up, false)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, "renamed", up.GetM2MClient().GetClientName())
			assert.Empty(t, up.GetM2MClient().GetClientDescription())
			assert.Empty(t, up.GetM2MClient().GetScopes())
			assert.Equal(t, m2mv1.ClientStatus_CLIENT_STATUS_INACTIVE, up.GetM2MClient().GetStatus())

			// An inactive client gets no token.
			_, st = e.issue(t, id, cr.GetClientSecret())
			assert.Equal(t, codes.Unauthenticated, st.Code())

			// Rotation start, then cancel: the next secret stops working.
			rs := &m2mv1.RotateSecretStartResponse{}
			require.Equal(t, codes.OK, call("UpdateClient", "PUT", "/v1/m2m/clients/"+id, &m2mv1.UpdateClientRequest{ClientId: id, Status: m2mv1.ClientStatus_CLIENT_STATUS_ACTIVE}, &m2mv1.UpdateClientResponse{}, false).Code())
			require.Equal(t, codes.OK, call("RotateSecretStart", "POST", "/v1/m2m/clients/"+id+"/secrets/rotate/start", &m2mv1.RotateSecretStartRequest{ClientId: id}, rs, false).Code())
			require.NotEmpty(t, rs.GetNextClientSecret())
			assert.Equal(t, rs.GetNextClientSecret()[len(rs.GetNextClientSecret())-4:], rs.GetM2MClient().GetNextClientSecretLastFour())
			_, st = e.issue(t, id, rs.GetNextClientSecret())
			require.Equal(t, codes.OK, st.Code(), "both secrets work during a rotation")
			cancel := &m2mv1.RotateSecretCancelResponse{}
			require.Equal(t, codes.OK, call("RotateSecretCancel", "POST", "/v1/m2m/clients/"+id+"/secrets/rotate/cancel", &m2mv1.RotateSecretCancelRequest{ClientId: id}, cancel, false).Code())
			assert.Nil(t, cancel.GetM2MClient().NextClientSecretLastFour)
			_, st = e.issue(t, id, rs.GetNextClientSecret())
			assert.Equal(t, codes.Unauthenticated, st.Code(), "the cancelled next secret is refused, even though a token for it was cached")
			_, st = e.issue(t, id, cr.GetClientSecret())
			assert.Equal(t, codes.OK, st.Code())

			// Delete.
			del := &m2mv1.DeleteClientResponse{}
			require.Equal(t, codes.OK, call("DeleteClient", "DELETE", "/v1/m2m/clients/"+id, &m2mv1.DeleteClientRequest{ClientId: id}, del, true).Code())
			assert.Equal(t, id, del.GetClientId())
			assert.Equal(t, codes.NotFound, call("GetClient", "GET", "/v1/m2m/clients/"+id, &m2mv1.GetClientRequest{ClientId: id}, &m2mv1.GetClientResponse{}, true).Code())
			_, st = e.issue(t, id, cr.GetClientSecret())
			assert.Equal(t, codes.Unauthenticated, st.Code(), "a deleted client's cached token is not handed out")
		})
	}

	t.Run("SearchClients pages and filters", func(t *testing.T) {
		want := map[string]bool{}
		for range 3 {
			cr := &m2mv1.CreateClientResponse{}
			require.Equal(t, codes.OK, e.grpcSvc(t, m2mSvc+"CreateClient", &m2mv1.CreateClientRequest{Scopes: []string{"x:y"}, ClientName: "searchme"}, cr).Code())
			want[cr.GetM2MClient().GetClientId()] = true
		}
		byName := &m2mv1.ClientSearchQuery{Operands: []*m2mv1.ClientSearchOperand{
			{Filter: &m2mv1.ClientSearchOperand_ClientNames{ClientNames: &m2mv1.StringValues{Values: []string{"searchme"}}}},
			{Filter: &m2mv1.ClientSearchOperand_Statuses{Statuses: &m2mv1.ClientStatusValues{Values: []m2mv1.ClientStatus{m2mv1.ClientStatus_CLIENT_STATUS_ACTIVE}}}},
		}}
		got := map[string]bool{}
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 5)
			r := &m2mv1.SearchClientsResponse{}
			res := e.restSvc(t, "POST", "/v1/m2m/clients/search", &m2mv1.SearchClientsRequest{Query: byName, Limit: new(int32(2)), Cursor: cursor}, r)
			require.Equal(t, codes.OK, res.Status.Code(), "body: %s", res.Body)
			for _, c := range r.GetM2MClients() {
				got[c.GetClientId()] = true
			}
			if cursor = r.GetNextCursor(); cursor == "" {
				break
			}
		}
		assert.Equal(t, want, got)

		// Deactivate one: the statuses filter drops it.
		var one string
		for id := range want {
			one = id
			break
		}
		require.Equal(t, codes.OK, e.grpcSvc(t, m2mSvc+"UpdateClient", &m2mv1.UpdateClientRequest{ClientId: one, Status: m2mv1.ClientStatus_CLIENT_STATUS_INACTIVE}, &m2mv1.UpdateClientResponse{}).Code())
		r := &m2mv1.SearchClientsResponse{}
		require.Equal(t, codes.OK, e.grpcSvc(t, m2mSvc+"SearchClients", &m2mv1.SearchClientsRequest{Query: byName}, r).Code())
		assert.Len(t, r.GetM2MClients(), 2)
		for _, c := range r.GetM2MClients() {
			assert.NotEqual(t, one, c.GetClientId())
		}
	})
}

func TestM2MTokens(t *testing.T) {
	e := startEnvNoLimits(t)
	c := e.m2mClient(t, "read:members", "write:*")
	var tok string

	runCases(t, e, []rpcCase{
		{
			name: "IssueToken", method: m2mSvc + "IssueToken", verb: "POST", path: fixed("/v1/m2m/token"),
			req: func(*testing.T) proto.Message {
				return &m2mv1.IssueTokenRequest{ClientId: c.ClientID, ClientSecret: c.ClientSecret}
			},
			resp: func() proto.Message { return &m2mv1.IssueTokenResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*m2mv1.IssueTokenResponse)
				assert.NotEmpty(t, r.GetAccessToken())
				assert.Equal(t, "bearer", r.GetTokenType())
				assert.Equal(t, int32(3600), r.GetExpiresIn())
				assert.WithinDuration(t, r.GetExpiresAt().AsTime(), e.Emu.Now().Add(time.Hour), time.Minute)
				if tok != "" {
					assert.Equal(t, tok, r.GetAccessToken(), "the cached token is reused")
				}
				tok = r.GetAccessToken()
			},
		},
		{
			name: "IssueToken with a wrong secret", method: m2mSvc + "IssueToken", verb: "POST", path: fixed("/v1/m2m/token"),
			req: func(*testing.T) proto.Message {
				return &m2mv1.IssueTokenRequest{ClientId: c.ClientID, ClientSecret: "wrong-secret"}
			},
			resp: func() proto.Message { return &m2mv1.IssueTokenResponse{} },
			code: codes.Unauthenticated, reason: "invalid_client",
		},
		{
			name: "IssueToken for an unknown client", method: m2mSvc + "IssueToken", verb: "POST", path: fixed("/v1/m2m/token"),
			req: func(*testing.T) proto.Message {
				return &m2mv1.IssueTokenRequest{ClientId: "m2m-client-test-nope", ClientSecret: "whatever"}
			},
			resp: func() proto.Message { return &m2mv1.IssueTokenResponse{} },
			code: codes.Unauthenticated, reason: "invalid_client",
		},
		{
			name: "IssueToken with a scope the client lacks", method: m2mSvc + "IssueToken", verb: "POST", path: fixed("/v1/m2m/token"),
			req: func(*testing.T) proto.Message {
				return &m2mv1.IssueTokenRequest{ClientId: c.ClientID, ClientSecret: c.ClientSecret, Scopes: []string{"admin:everything"}}
			},
			resp: func() proto.Message { return &m2mv1.IssueTokenResponse{} },
			code: codes.InvalidArgument, reason: "invalid_scope",
		},
		{
			name: "AuthenticateToken with the required scopes", method: m2mSvc + "AuthenticateToken", verb: "POST", path: fixed("/v1/m2m/authenticate"),
			req: func(t *testing.T) proto.Message {
				r, st := e.issue(t, c.ClientID, c.ClientSecret)
				require.Equal(t, codes.OK, st.Code())
				return &m2mv1.AuthenticateTokenRequest{AccessToken: r.GetAccessToken(), RequiredScopes: []string{"read:members", "write:members"}}
			},
			resp: func() proto.Message { return &m2mv1.AuthenticateTokenResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*m2mv1.AuthenticateTokenResponse)
				assert.Equal(t, c.ClientID, r.GetClientId())
				assert.ElementsMatch(t, []string{"read:members", "write:*"}, r.GetScopes())
				assert.NotNil(t, r.GetIssuedAt())
				assert.True(t, r.GetExpiresAt().AsTime().After(r.GetIssuedAt().AsTime()))
			},
		},
		{
			name: "AuthenticateToken without a required scope", method: m2mSvc + "AuthenticateToken", verb: "POST", path: fixed("/v1/m2m/authenticate"),
			req: func(t *testing.T) proto.Message {
				r, st := e.issue(t, c.ClientID, c.ClientSecret)
				require.Equal(t, codes.OK, st.Code())
				return &m2mv1.AuthenticateTokenRequest{AccessToken: r.GetAccessToken(), RequiredScopes: []string{"delete:members"}}
			},
			resp: func() proto.Message { return &m2mv1.AuthenticateTokenResponse{} },
			code: codes.PermissionDenied, reason: "insufficient_scope",
		},
		{
			name: "AuthenticateToken with garbage", method: m2mSvc + "AuthenticateToken", verb: "POST", path: fixed("/v1/m2m/authenticate"),
			req:  func(*testing.T) proto.Message { return &m2mv1.AuthenticateTokenRequest{AccessToken: "garbage"} },
			resp: func() proto.Message { return &m2mv1.AuthenticateTokenResponse{} },
			code: codes.Unauthenticated, reason: "malformed",
		},
		{
			name: "AuthenticateToken with a session JWT", method: m2mSvc + "AuthenticateToken", verb: "POST", path: fixed("/v1/m2m/authenticate"),
			req: func(t *testing.T) proto.Message {
				org := e.org(t, stytchemu.OrganizationParams{})
				m := e.member(t, org.ID, stytchemu.MemberParams{})
				return &m2mv1.AuthenticateTokenRequest{AccessToken: e.session(t, org.ID, m.ID).JWT}
			},
			resp: func() proto.Message { return &m2mv1.AuthenticateTokenResponse{} },
			code: codes.Unauthenticated, reason: "malformed",
		},
	})

	t.Run("AuthenticateToken makes no call to Stytch", func(t *testing.T) {
		r, st := e.issue(t, c.ClientID, c.ClientSecret)
		require.Equal(t, codes.OK, st.Code())
		e.Emu.ResetRequests()
		st = e.grpcCall(t, m2mSvc+"AuthenticateToken", &m2mv1.AuthenticateTokenRequest{AccessToken: r.GetAccessToken()}, &m2mv1.AuthenticateTokenResponse{})
		require.Equal(t, codes.OK, st.Code(), st.Message())
		assert.Equal(t, 0, e.Emu.Requests("*"))
	})

	t.Run("AuthenticateToken max age", func(t *testing.T) {
		c2 := e.m2mClient(t, "read:members")
		r, st := e.issue(t, c2.ClientID, c2.ClientSecret)
		require.Equal(t, codes.OK, st.Code())
		e.Emu.Advance(2 * time.Minute)
		st = e.grpcCall(t, m2mSvc+"AuthenticateToken", &m2mv1.AuthenticateTokenRequest{AccessToken: r.GetAccessToken(), MaxTokenAgeSeconds: new(int32(60))}, &m2mv1.AuthenticateTokenResponse{})
		assert.Equal(t, codes.Unauthenticated, st.Code())
		assert.Equal(t, "too_old", errorInfo(st).GetReason())
		st = e.grpcCall(t, m2mSvc+"AuthenticateToken", &m2mv1.AuthenticateTokenRequest{AccessToken: r.GetAccessToken(), MaxTokenAgeSeconds: new(int32(600))}, &m2mv1.AuthenticateTokenResponse{})
		assert.Equal(t, codes.OK, st.Code())
	})

	t.Run("concurrent IssueToken calls share one upstream call", func(t *testing.T) {
		c3 := e.m2mClient(t, "read:members")
		e.Emu.ResetRequests()
		var wg sync.WaitGroup
		tokens := make([]string, 8)
		for i := range tokens {
			wg.Go(func() {
				r, st := e.issue(t, c3.ClientID, c3.ClientSecret)
				assert.Equal(t, codes.OK, st.Code())
				tokens[i] = r.GetAccessToken()
			})
		}
		wg.Wait()
		assert.Equal(t, 1, e.Emu.Requests(tokenEndpoint))
		for _, tk := range tokens {
			assert.Equal(t, tokens[0], tk)
		}
	})
}
