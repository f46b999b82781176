package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/gateway"
)

// bodyRoute is a REST route whose request message is decoded from the JSON body.
type bodyRoute struct {
	verb, path string
	input      protoreflect.MessageType
}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// bodyRoutes lists every authsvc route with body "*", path parameters filled in.
func bodyRoutes(f *testing.F) []bodyRoute {
	f.Helper()
	var out []bodyRoute
	for _, pkg := range []protoreflect.FullName{"authsvc.b2b.v1", "authsvc.consumer.v1", "authsvc.m2m.v1"} {
		protoregistry.GlobalFiles.RangeFilesByPackage(pkg, func(fd protoreflect.FileDescriptor) bool {
			out = append(out, fileRoutes(f, fd)...)
			return true
		})
	}
	if len(out) == 0 {
		f.Fatal("no body routes")
	}
	return out
}

func fileRoutes(f *testing.F, fd protoreflect.FileDescriptor) []bodyRoute {
	var out []bodyRoute
	for i := range fd.Services().Len() {
		ms := fd.Services().Get(i).Methods()
		for j := range ms.Len() {
			md := ms.Get(j)
			rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
			if rule.GetBody() != "*" {
				continue
			}
			verb, tmpl := http.MethodPost, rule.GetPost()
			if rule.GetPut() != "" {
				verb, tmpl = http.MethodPut, rule.GetPut()
			}
			mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, bodyRoute{verb: verb, path: pathParam.ReplaceAllString(tmpl, "x"), input: mt})
		}
	}
	return out
}

// decodeHarness is the production gateway mux (marshaler, error handling, cookies) in front of a
// gRPC server whose services are all unimplemented, over an in-memory connection: a request the
// gateway decodes reaches the server and comes back 501; one it refuses never leaves the gateway.
func decodeHarness(f *testing.F) http.Handler {
	f.Helper()
	lis := bufconn.Listen(1 << 20)
	// Every method of every service is unimplemented: the server knows none of them.
	g := grpc.NewServer(grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
		return status.Error(codes.Unimplemented, "unimplemented")
	}))
	go func() { _ = g.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		_ = conn.Close()
		g.Stop()
	})
	opts := append(gatewayOptions(), gateway.CookieOptions(gateway.CookieConfig{})...)
	opts = append(opts, gateway.ErrorOptions()...)
	mux := runtime.NewServeMux(opts...)
	ctx := context.Background()
	for _, reg := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		b2bv1.RegisterMagicLinksServiceHandler, b2bv1.RegisterOTPsServiceHandler, b2bv1.RegisterSessionsServiceHandler,
		b2bv1.RegisterMembersServiceHandler, b2bv1.RegisterDiscoveryServiceHandler, b2bv1.RegisterRBACServiceHandler,
		b2bv1.RegisterOrganizationsServiceHandler, b2bv1.RegisterTOTPsServiceHandler, b2bv1.RegisterRecoveryCodesServiceHandler,
		b2bv1.RegisterPasswordsServiceHandler, b2bv1.RegisterSSOServiceHandler, b2bv1.RegisterOAuthServiceHandler,
		b2bv1.RegisterSCIMServiceHandler,
		consumerv1.RegisterMagicLinksServiceHandler, consumerv1.RegisterOTPsServiceHandler, consumerv1.RegisterSessionsServiceHandler,
		consumerv1.RegisterUsersServiceHandler, consumerv1.RegisterPasswordsServiceHandler, consumerv1.RegisterOAuthServiceHandler,
		consumerv1.RegisterTOTPsServiceHandler, consumerv1.RegisterCryptoWalletsServiceHandler, consumerv1.RegisterWebAuthnServiceHandler,
		m2mv1.RegisterM2MServiceHandler,
	} {
		if err := reg(ctx, mux, conn); err != nil {
			f.Fatal(err)
		}
	}
	// A route the mux does not know would answer 404 on every input: a service added to the API
	// must be registered above.
	for _, rt := range bodyRoutes(f) {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(rt.verb, rt.path, bytes.NewReader([]byte("{}"))))
		if w.Code == http.StatusNotFound {
			f.Fatalf("%s %s is not registered in decodeHarness", rt.verb, rt.path)
		}
	}
	return http.MaxBytesHandler(mux, maxRequestBody)
}

// FuzzRESTDecode sends arbitrary JSON bodies to every REST route with a body. The gateway must
// never panic; it must answer 400 for anything that is not exactly one JSON document decoding
// strictly (no unknown fields, no duplicates, numbers in range) into the request message, and pass
// everything else on to gRPC (501 from the unimplemented server). Seeds:
// testdata/fuzz/FuzzRESTDecode.
func FuzzRESTDecode(f *testing.F) {
	routes := bodyRoutes(f)
	h := decodeHarness(f)
	f.Add(uint8(0), []byte(`{"organization_id":"organization-test-1","email_address":"a@example.com"}`))
	f.Fuzz(func(t *testing.T, routeIdx uint8, body []byte) {
		rt := routes[int(routeIdx)%len(routes)]
		req := httptest.NewRequestWithContext(t.Context(), rt.verb, rt.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)

		trimmed := bytes.TrimSpace(body)
		strictErr := protojson.Unmarshal(trimmed, rt.input.New().Interface())
		switch {
		case w.Code != http.StatusBadRequest && w.Code != http.StatusNotImplemented:
			t.Fatalf("%s %s %q: status %d: %s", rt.verb, rt.path, body, w.Code, w.Body)
		case len(trimmed) == 0:
			// No body is the empty message (the gateway's rule); validation decides later.
		case !json.Valid(trimmed):
			// Not JSON is refused even where protojson's own parser is lenient (it takes `0e` as a
			// number, for one).
			if w.Code != http.StatusBadRequest {
				t.Fatalf("%s %s: junk %q passed the gateway (%d)", rt.verb, rt.path, body, w.Code)
			}
		case strictErr == nil && w.Code != http.StatusNotImplemented:
			t.Fatalf("%s %s: valid %q refused (%d): %s", rt.verb, rt.path, body, w.Code, w.Body)
		case strictErr != nil && w.Code != http.StatusBadRequest:
			t.Fatalf("%s %s: %q does not decode (%v) but passed the gateway", rt.verb, rt.path, body, strictErr)
		}
	})
}
