package service_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testEnv is a running authsvc (gRPC and REST) in front of an emulator.
type testEnv struct {
	App     *apptest.Env
	Emu     *stytchemu.Server
	Conn    *grpc.ClientConn
	BaseURL string
	HTTP    *http.Client // with a cookie jar, as a browser

	tokenOnce sync.Once
	token     string
}

// startEnvNoLimits is startEnv with admission control off: the RPC tables call the same addresses
// and codes more often than a person would, and rate limits are admission's tests, not these.
func startEnvNoLimits(t *testing.T) *testEnv {
	t.Helper()
	return startEnv(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION": "off"}))
}

// startEnv runs the production app (internal/app, through apptest) in dev mode against an emulator.
func startEnv(t *testing.T, opts ...apptest.Option) *testEnv {
	t.Helper()
	a := apptest.Start(t, opts...)
	return &testEnv{App: a, Emu: a.Emu, Conn: a.Conn, BaseURL: a.BaseURL, HTTP: a.HTTP}
}

var uniq atomic.Int64

// email returns a fresh address; the emulator's domain rules do not matter for example.com.
func email(prefix string) string {
	return fmt.Sprintf("%s-%d@example.com", prefix, uniq.Add(1))
}

func (e *testEnv) org(t *testing.T, p stytchemu.OrganizationParams) stytchemu.Organization {
	t.Helper()
	if p.Name == "" {
		p.Name = fmt.Sprintf("Org %d", uniq.Add(1))
	}
	o, err := e.Emu.CreateOrganization(p)
	require.NoError(t, err)
	return o
}

func (e *testEnv) member(t *testing.T, orgID string, p stytchemu.MemberParams) stytchemu.Member {
	t.Helper()
	if p.Email == "" {
		p.Email = email("member")
	}
	m, err := e.Emu.CreateMember(orgID, p)
	require.NoError(t, err)
	return m
}

func (e *testEnv) session(t *testing.T, orgID, memberID string) stytchemu.Session {
	t.Helper()
	s, err := e.Emu.CreateSession(orgID, memberID, time.Hour)
	require.NoError(t, err)
	return s
}

// adminScopes are what the tests' back-office service holds.
var adminScopes = []string{
	"read:members", "write:members", "read:sessions", "write:sessions", "read:m2m_clients", "write:m2m_clients",
	"read:users", "write:users",
}

// svcToken returns an M2M access token holding adminScopes, for RPCs that only services (or members)
// may call.
func (e *testEnv) svcToken(t *testing.T) string {
	t.Helper()
	e.tokenOnce.Do(func() {
		c, err := e.Emu.CreateM2MClient("authsvc-tests", adminScopes)
		require.NoError(t, err)
		r := &m2mv1.IssueTokenResponse{}
		st := e.grpcCall(t, "/authsvc.m2m.v1.M2MService/IssueToken", &m2mv1.IssueTokenRequest{ClientId: c.ClientID, ClientSecret: c.ClientSecret}, r)
		require.Equal(t, codes.OK, st.Code(), st.Message())
		e.token = r.GetAccessToken()
	})
	require.NotEmpty(t, e.token)
	return e.token
}

// grpcCall invokes method without credentials and returns the status (OK on success).
func (e *testEnv) grpcCall(t *testing.T, method string, req, resp proto.Message) *status.Status {
	t.Helper()
	return e.grpcAs(t, "", method, req, resp)
}

// grpcSvc invokes method as the tests' back-office service.
func (e *testEnv) grpcSvc(t *testing.T, method string, req, resp proto.Message) *status.Status {
	t.Helper()
	return e.grpcAs(t, e.svcToken(t), method, req, resp)
}

// grpcAs invokes method with "authorization: Bearer bearer" (none when empty).
func (e *testEnv) grpcAs(t *testing.T, bearer, method string, req, resp proto.Message) *status.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if bearer != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+bearer)
	}
	err := e.Conn.Invoke(ctx, method, req, resp)
	return status.Convert(err)
}

// restResult is a REST call's outcome: the HTTP status and headers, the decoded error status (OK on
// success), and the raw body.
type restResult struct {
	HTTP   int
	Header http.Header
	Status *status.Status
	Body   []byte
}

var jsonOut = protojson.MarshalOptions{UseProtoNames: true}

// restCall sends req (nil: no body) as JSON, as a browser with the env's cookie jar, and decodes a
// success into resp.
func (e *testEnv) restCall(t *testing.T, verb, path string, req, resp proto.Message) restResult {
	t.Helper()
	return e.restWith(t, e.HTTP, "", verb, path, req, resp)
}

// restCallNoCookies is restCall from a client without cookies (an API client, not a browser).
func (e *testEnv) restCallNoCookies(t *testing.T, verb, path string, req, resp proto.Message) restResult {
	t.Helper()
	return e.restWith(t, &http.Client{}, "", verb, path, req, resp)
}

// restSvc is restCallNoCookies as the tests' back-office service.
func (e *testEnv) restSvc(t *testing.T, verb, path string, req, resp proto.Message) restResult {
	t.Helper()
	return e.restWith(t, &http.Client{}, e.svcToken(t), verb, path, req, resp)
}

func (e *testEnv) restWith(t *testing.T, client *http.Client, bearer, verb, path string, req, resp proto.Message) restResult {
	t.Helper()
	var body io.Reader
	if req != nil {
		b, err := jsonOut.Marshal(req)
		require.NoError(t, err)
		body = bytes.NewReader(b)
	}
	return e.restRaw(t, client, bearer, verb, path, body, resp)
}

func (e *testEnv) restRaw(t *testing.T, client *http.Client, bearer, verb, path string, body io.Reader, resp proto.Message) restResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, verb, e.BaseURL+path, body)
	require.NoError(t, err)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	if client.Jar != nil {
		// A browser states the page's origin on every POST; the app's own page is same-origin.
		r.Header.Set("Origin", e.BaseURL)
	}
	res, err := client.Do(r)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := restResult{HTTP: res.StatusCode, Header: res.Header, Body: b}
	if res.StatusCode/100 == 2 {
		out.Status = status.New(codes.OK, "")
		if resp != nil {
			require.NoError(t, protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, resp), "body: %s", b)
		}
		return out
	}
	var sp spb.Status
	require.NoError(t, protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, &sp), "error body: %s", b)
	out.Status = status.FromProto(&sp)
	return out
}

func errorInfo(st *status.Status) *errdetails.ErrorInfo {
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei
		}
	}
	return nil
}

// rpcCase is one RPC call checked through gRPC and through REST. req builds a fresh request for each
// transport (tokens and codes are single use).
type rpcCase struct {
	name    string
	method  string // gRPC full method name
	verb    string // HTTP method
	path    func(req proto.Message) string
	noBody  bool // GET and DELETE: the request travels in the path and query
	svc     bool // call as the tests' back-office service (RPCs that are not public)
	req     func(t *testing.T) proto.Message
	resp    func() proto.Message
	code    codes.Code
	reason  string // ErrorInfo.reason, when code is not OK
	check   func(t *testing.T, resp proto.Message)
	checkSt func(t *testing.T, st *status.Status)
}

func fixed(p string) func(proto.Message) string { return func(proto.Message) string { return p } }

// run checks c through both transports.
func (c rpcCase) run(t *testing.T, e *testEnv) {
	t.Run(c.name+"/grpc", func(t *testing.T) {
		resp := c.resp()
		bearer := ""
		if c.svc {
			bearer = e.svcToken(t)
		}
		st := e.grpcAs(t, bearer, c.method, c.req(t), resp)
		c.verify(t, st, resp)
	})
	t.Run(c.name+"/rest", func(t *testing.T) {
		req := c.req(t)
		resp := c.resp()
		var body proto.Message
		if !c.noBody {
			body = req
		}
		bearer := ""
		if c.svc {
			bearer = e.svcToken(t)
		}
		r := e.restWith(t, &http.Client{}, bearer, c.verb, c.path(req), body, resp)
		assert.Equal(t, runtime.HTTPStatusFromCode(c.code), r.HTTP, "body: %s", r.Body)
		c.verify(t, r.Status, resp)
	})
}

func (c rpcCase) verify(t *testing.T, st *status.Status, resp proto.Message) {
	t.Helper()
	require.Equal(t, c.code, st.Code(), "message: %s", st.Message())
	if c.code != codes.OK {
		if c.reason != "" {
			ei := errorInfo(st)
			require.NotNil(t, ei, "no ErrorInfo in %v", st.Proto())
			assert.Equal(t, c.reason, ei.GetReason())
		}
		if c.checkSt != nil {
			c.checkSt(t, st)
		}
		return
	}
	if c.check != nil {
		c.check(t, resp)
	}
}

func runCases(t *testing.T, e *testEnv, cases []rpcCase) {
	t.Helper()
	for _, c := range cases {
		c.run(t, e)
	}
}

// assertStytchRequestID checks that a Stytch-caused error carries Stytch's request ID.
func assertStytchRequestID(t *testing.T, st *status.Status) {
	t.Helper()
	ei := errorInfo(st)
	require.NotNil(t, ei)
	assert.Equal(t, stytchclient.DomainStytch, ei.GetDomain())
	assert.True(t, strings.HasPrefix(ei.GetMetadata()[stytchclient.MetadataRequestID], "request-"),
		"stytch_request_id %q", ei.GetMetadata()[stytchclient.MetadataRequestID])
}
