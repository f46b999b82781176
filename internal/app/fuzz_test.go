package app_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/policy"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// The fuzz targets drive the whole app (apptest: gRPC, gateway, interceptors, services, the Stytch
// client and the emulator) with arbitrary input and fail on any answer that blames the server:
// gRPC INTERNAL, UNKNOWN, DATA_LOSS, UNAVAILABLE, DEADLINE_EXCEEDED or UNIMPLEMENTED, HTTP 5xx.
// Client input must never page an operator. The app starts once per fuzz process; admission
// control is off so that inputs reach validation, the handlers and Stytch instead of stopping at a
// rate limit. The emulator is in process and answers at once, so there is no exception for
// UNAVAILABLE: an UNAVAILABLE here means the emulator failed on what authsvc sent it, which is a
// finding too.

// fuzzApp is the app under fuzz with the bearer credentials an input can choose from.
type fuzzApp struct {
	env *apptest.Env
	// bearers[i] is sent as "Authorization: Bearer ..." (none for ""): nothing, an M2M token with
	// every scope the API declares, an admin member's session JWT and the same session's token.
	bearers []string
	// samples holds a valid request per RPC (the access table's), the seeds mutation starts from.
	samples map[string]proto.Message
}

func startFuzzApp(f *testing.F) *fuzzApp {
	f.Helper()
	// The edge is on, so that Envoy's Check is fuzzed with the API.
	rulesFile := filepath.Join(f.TempDir(), "rules.yaml")
	require.NoError(f, os.WriteFile(rulesFile, []byte(edgeRules), 0o600))
	env := apptest.Start(f, apptest.WithEnv(map[string]string{
		"AUTHSVC_EDGE_RULES": rulesFile,
		"AUTHSVC_ADMISSION":  "off",
		"AUTHSVC_LOG_LEVEL":  "error", // the logs are kept in memory; 20000 calls' worth of debug lines is waste
	}))
	c, err := env.Emu.CreateM2MClient("fuzz", allServiceScopes(f))
	require.NoError(f, err)
	token := fuzzM2MToken(f, env, c)
	s := testkit.MemberSession(f, env.Emu, stytchemu.SandboxOrganizationID, stytchemu.MemberParams{Email: "fuzz-admin@example.com", Roles: []string{"stytch_admin"}})

	target, err := env.Emu.CreateMember(stytchemu.SandboxOrganizationID, stytchemu.MemberParams{Email: "fuzz-target@example.com"})
	require.NoError(f, err)
	targetSession, err := env.Emu.CreateSession(stytchemu.SandboxOrganizationID, target.ID, 0)
	require.NoError(f, err)
	pw, err := env.Emu.AddMemberPassword(stytchemu.SandboxOrganizationID, target.ID)
	require.NoError(f, err)
	subject, err := env.Emu.CreateM2MClient("fuzz-subject", []string{"read:widgets"})
	require.NoError(f, err)
	samples := sampleRequests(accessFixtures{
		org: stytchemu.SandboxOrganizationID, target: target, targetSession: targetSession, passwordID: pw,
		client: subject, accessToken: token,
	})
	return &fuzzApp{env: env, bearers: []string{"", token, s.JWT, s.Token}, samples: samples}
}

// serviceCred is the index in bearers of the M2M token, which every non-public RPC admits.
const serviceCred = 1

func (a *fuzzApp) bearer(i uint8) string { return a.bearers[int(i)%len(a.bearers)] }

// fuzzM2MToken is m2mToken for a fuzz target's setup.
func fuzzM2MToken(f *testing.F, env *apptest.Env, c stytchemu.M2MClient) string {
	f.Helper()
	r := env.REST(f, http.MethodPost, "/v1/m2m/token", map[string]any{"client_id": c.ClientID, "client_secret": c.ClientSecret})
	require.Equal(f, http.StatusOK, r.Status, "%s", r.Body)
	token, _ := r.JSON(f)["access_token"].(string)
	require.NotEmpty(f, token)
	return token
}

// allServiceScopes is every M2M scope an RPC's access rule names.
func allServiceScopes(f *testing.F) []string {
	f.Helper()
	var scopes []string
	for _, md := range apiMethods(f) {
		for _, s := range policy.Of(md).GetAccess().GetServiceScopes() {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	require.NotEmpty(f, scopes)
	return scopes
}

// apiMethods lists the RPCs of the authsvc services in the linked descriptors, sorted.
func apiMethods(f *testing.F) []protoreflect.MethodDescriptor {
	f.Helper()
	var out []protoreflect.MethodDescriptor
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			if strings.HasPrefix(string(sd.FullName()), "authsvc.") {
				for j := range sd.Methods().Len() {
					out = append(out, sd.Methods().Get(j))
				}
			}
		}
		return true
	})
	slices.SortFunc(out, func(a, b protoreflect.MethodDescriptor) int {
		return strings.Compare(string(a.FullName()), string(b.FullName()))
	})
	require.NotEmpty(f, out)
	return out
}

// serverFault reports whether a gRPC code blames the server rather than the request.
func serverFault(c codes.Code) bool {
	switch c {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unavailable, codes.DeadlineExceeded, codes.Unimplemented:
		return true
	default:
		return false
	}
}

// fuzzCallTimeout bounds one call: the emulator answers in well under a millisecond, so reaching it
// means a hang, reported as DEADLINE_EXCEEDED (a server fault).
const fuzzCallTimeout = 10 * time.Second

// restRoute is one REST binding of an RPC.
type restRoute struct {
	md       protoreflect.MethodDescriptor
	method   string // the RPC, for failure messages
	verb     string
	template string // with {param} placeholders
	body     bool   // body "*": the request is the JSON body; else query parameters
}

var routeParam = regexp.MustCompile(`\{([^}=]+)(=[^}]*)?\}`)

// fillPath puts the values of params ("/"-separated, which no escaped segment contains) into the
// template's parameters in order, repeating them when there are fewer.
func fillPath(template, params string) string {
	values := strings.Split(params, "/")
	i := 0
	return routeParam.ReplaceAllStringFunc(template, func(string) string {
		v := values[i%len(values)]
		i++
		return url.PathEscape(v)
	})
}

// restSeed turns a sample request into FuzzRESTRoutes arguments for rt: the path parameters'
// values, and the rest of the request as the JSON body or as a query string.
func restSeed(f *testing.F, rt restRoute, req proto.Message) (string, []byte) {
	f.Helper()
	req = proto.Clone(req)
	m := req.ProtoReflect()
	var params []string
	for _, p := range routeParam.FindAllStringSubmatch(rt.template, -1) {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(p[1]))
		require.NotNil(f, fd, "%s: path parameter %s", rt.method, p[1])
		params = append(params, m.Get(fd).String())
		m.Clear(fd)
	}
	if rt.body {
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(req)
		require.NoError(f, err)
		return strings.Join(params, "/"), b
	}
	q := url.Values{}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		q.Set(string(fd.Name()), v.String())
		return true
	})
	return strings.Join(params, "/"), []byte(q.Encode())
}

// restRoutes lists every REST route of the API from the google.api.http options, additional
// bindings included, so that a new RPC is fuzzed without anyone listing it.
func restRoutes(f *testing.F) []restRoute {
	f.Helper()
	var out []restRoute
	for _, md := range apiMethods(f) {
		rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
		require.NotNil(f, rule, "%s has no google.api.http option", md.FullName())
		for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
			rt := restRoute{md: md, method: string(md.FullName()), body: r.GetBody() != ""}
			switch p := r.GetPattern().(type) {
			case *annotations.HttpRule_Get:
				rt.verb, rt.template = http.MethodGet, p.Get
			case *annotations.HttpRule_Post:
				rt.verb, rt.template = http.MethodPost, p.Post
			case *annotations.HttpRule_Put:
				rt.verb, rt.template = http.MethodPut, p.Put
			case *annotations.HttpRule_Delete:
				rt.verb, rt.template = http.MethodDelete, p.Delete
			case *annotations.HttpRule_Patch:
				rt.verb, rt.template = http.MethodPatch, p.Patch
			default:
				f.Fatalf("%s: unsupported HTTP pattern %T", md.FullName(), p)
			}
			out = append(out, rt)
		}
	}
	return out
}

// grpcName is the full gRPC method name of md ("/authsvc.b2b.v1.MembersService/Get").
func grpcName(md protoreflect.MethodDescriptor) string {
	return "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
}

func routeIndex(f *testing.F, routes []restRoute, method string) uint8 {
	f.Helper()
	i := slices.IndexFunc(routes, func(r restRoute) bool { return r.method == method })
	require.GreaterOrEqual(f, i, 0, method)
	return uint8(i)
}

// FuzzRESTRoutes sends an arbitrary body (as JSON) or query string to every REST route, with an
// arbitrary value in every path parameter and one of the fuzz credentials. No input may get a 5xx.
// Seeds: the f.Add calls below and testdata/fuzz/FuzzRESTRoutes (the findings that were 500s: a
// deeply nested claims body, a path parameter that is not UTF-8; the route is an index into the
// sorted routes, so a new RPC may move a file's seed to another route).
func FuzzRESTRoutes(f *testing.F) {
	routes := restRoutes(f)
	require.LessOrEqual(f, len(routes), 256, "the route index is a uint8")
	app := startFuzzApp(f)
	org := stytchemu.SandboxOrganizationID
	// Every route starts from a valid request (the fuzzer seldom mutates the route index on its own,
	// and random bytes seldom get past the JSON decoder) and from an empty one.
	for i, rt := range routes {
		req, ok := app.samples[grpcName(rt.md)]
		require.True(f, ok, "%s has no sample request in the access table", rt.method)
		params, body := restSeed(f, rt, req)
		f.Add(uint8(i), uint8(serviceCred), params, body)
		f.Add(uint8(i), uint8(i), "x", []byte{})
	}
	f.Add(routeIndex(f, routes, "authsvc.b2b.v1.MembersService.Update"), uint8(2), org+"/"+stytchemu.SandboxMemberID,
		[]byte(`{"trusted_metadata":{"plan":{"tier":"gold","seats":[1,2]}}}`))
	f.Add(routeIndex(f, routes, "authsvc.b2b.v1.SessionsService.Authenticate"), uint8(3), "", []byte(`{"session_custom_claims":{"k":null}}`))

	// The first answer is the one judged: a redirect (net/http's ServeMux sends one for an unclean
	// path such as /v1/m2m/clients/.) is not followed.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.Cleanup(client.CloseIdleConnections)

	f.Fuzz(func(t *testing.T, route, cred uint8, param string, body []byte) {
		rt := routes[int(route)%len(routes)]
		path := fillPath(rt.template, param)
		var rd io.Reader
		if rt.body {
			rd = bytes.NewReader(body)
		} else if q, err := url.ParseQuery(string(body)); err == nil && len(q) > 0 {
			path += "?" + q.Encode()
		}
		ctx, cancel := context.WithTimeout(t.Context(), fuzzCallTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, rt.verb, app.env.BaseURL+path, rd)
		if err != nil {
			t.Skip("not a valid HTTP request") // the client refuses it; the server never sees it
		}
		if rd != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if b := app.bearer(cred); b != "" {
			req.Header.Set("Authorization", "Bearer "+b)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s (%s): %v", rt.verb, path, rt.method, err)
		}
		out, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s (%s) with body %q: %d %s", rt.verb, path, rt.method, body, resp.StatusCode, out)
		}
	})
}

// grpcMethod is one method the gRPC server serves.
type grpcMethod struct {
	name                 string // /package.Service/Method
	clientStream, server bool
}

// servedMethods asks the server itself (gRPC reflection) which services it serves, so health,
// reflection and every API service are covered, and takes their methods from the descriptors.
func servedMethods(f *testing.F, env *apptest.Env) []grpcMethod {
	f.Helper()
	stream, err := reflectionpb.NewServerReflectionClient(env.Conn).ServerReflectionInfo(f.Context())
	require.NoError(f, err)
	require.NoError(f, stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}))
	resp, err := stream.Recv()
	require.NoError(f, err)
	require.NoError(f, stream.CloseSend())
	var out []grpcMethod
	for _, s := range resp.GetListServicesResponse().GetService() {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(s.GetName()))
		require.NoError(f, err, "served service %s has no linked descriptor", s.GetName())
		sd, ok := d.(protoreflect.ServiceDescriptor)
		require.True(f, ok)
		for i := range sd.Methods().Len() {
			md := sd.Methods().Get(i)
			out = append(out, grpcMethod{
				name:         "/" + string(sd.FullName()) + "/" + string(md.Name()),
				clientStream: md.IsStreamingClient(), server: md.IsStreamingServer(),
			})
		}
	}
	slices.SortFunc(out, func(a, b grpcMethod) int { return strings.Compare(a.name, b.name) })
	require.NotEmpty(f, out)
	return out
}

func methodIndex(f *testing.F, methods []grpcMethod, name string) uint8 {
	f.Helper()
	i := slices.IndexFunc(methods, func(m grpcMethod) bool { return m.name == name })
	require.GreaterOrEqual(f, i, 0, name)
	return uint8(i)
}

// FuzzGRPCMethods sends arbitrary bytes, unparsed, as the request of every method the gRPC server
// serves (streaming ones included), with one of the fuzz credentials. No input may get a code that
// blames the server. Seeds: the f.Add calls below and testdata/fuzz/FuzzGRPCMethods (the findings
// that were INTERNAL: a string that is not UTF-8, nesting past protobuf's recursion limit; the
// method is an index as for FuzzRESTRoutes).
func FuzzGRPCMethods(f *testing.F) {
	app := startFuzzApp(f)
	methods := servedMethods(f, app.env)
	require.LessOrEqual(f, len(methods), 256, "the method index is a uint8")
	// Every method starts from an empty request and every API method from a valid one (the fuzzer
	// seldom mutates the method index on its own).
	for i := range methods {
		f.Add(uint8(i), uint8(i), []byte{})
	}
	for i, m := range methods {
		if req, ok := app.samples[m.name]; ok {
			b, err := proto.Marshal(req)
			require.NoError(f, err)
			f.Add(uint8(i), uint8(serviceCred), b)
		}
	}
	bad := protowire.AppendTag(nil, 1, protowire.BytesType)
	f.Add(methodIndex(f, methods, b2bv1.MagicLinksService_Authenticate_FullMethodName), uint8(0), protowire.AppendString(bad, "\xff"))

	f.Fuzz(func(t *testing.T, method, cred uint8, req []byte) {
		m := methods[int(method)%len(methods)]
		ctx, cancel := context.WithTimeout(t.Context(), fuzzCallTimeout)
		defer cancel()
		if b := app.bearer(cred); b != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+b)
		}
		var err error
		if m.clientStream || m.server {
			err = rawStream(ctx, app.env.Conn, m, req)
		} else {
			var resp []byte
			err = app.env.Conn.Invoke(ctx, m.name, &req, &resp, grpc.ForceCodecV2(rawCodec{}))
		}
		if st := status.Convert(err); serverFault(st.Code()) {
			t.Fatalf("%s with %x: %v: %s", m.name, req, st.Code(), st.Message())
		}
	})
}

// rawStream sends req as the one message of a streaming call and waits for the first answer (a
// server stream such as Health.Watch goes on until cancelled) or the end of the stream.
func rawStream(ctx context.Context, conn *grpc.ClientConn, m grpcMethod, req []byte) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cs, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: m.clientStream, ServerStreams: m.server}, m.name, grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		return err
	}
	if err := cs.SendMsg(&req); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if err := cs.CloseSend(); err != nil {
		return err
	}
	var resp []byte
	if err := cs.RecvMsg(&resp); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
