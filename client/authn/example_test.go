package authn_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/authsvc/authsvc/client"
	"github.com/authsvc/authsvc/client/authn"
)

// An HTTP service behind authsvc: members of the web app and the billing service may read orders,
// only organization admins may delete them.
func ExampleAuthenticator_Middleware() {
	ctx := context.Background()
	c, err := client.New(ctx, "authsvc.auth.svc.cluster.local:9090",
		client.WithM2MCredentials(os.Getenv("M2M_CLIENT_ID"), os.Getenv("M2M_CLIENT_SECRET")))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	a, err := authn.New(ctx, c, authn.WithProjectID(os.Getenv("STYTCH_PROJECT_ID")))
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	if err := a.WaitReady(ctx); err != nil { // keys loaded: report ready only now
		log.Fatal(err)
	}

	list := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.PrincipalFrom(r.Context())
		_, _ = fmt.Fprintf(w, "orders of %s\n", p.OrganizationID)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /orders", a.Middleware(authn.Members(), authn.Services("read:orders"))(list))
	mux.Handle("DELETE /orders/{id}", a.Middleware(authn.Members("stytch_admin"))(http.NotFoundHandler()))
	log.Fatal(http.ListenAndServe(":8090", mux)) //nolint:gosec // an example
}

// A gRPC service: every method needs a service token with read:orders, except health checks.
func ExampleAuthenticator_UnaryServerInterceptor() {
	var a *authn.Authenticator // from authn.New, as in the Middleware example
	notHealth := selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool {
		return c.Service != healthpb.Health_ServiceDesc.ServiceName
	})
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(selector.UnaryServerInterceptor(a.UnaryServerInterceptor(authn.Services("read:orders")), notHealth)),
		grpc.ChainStreamInterceptor(selector.StreamServerInterceptor(a.StreamServerInterceptor(authn.Services("read:orders")), notHealth)),
	)
	_ = srv
}

// Handlers can check request-specific rules themselves, and their tests can run them as any caller.
func ExampleAuthorize() {
	ctx := authn.NewContext(context.Background(), &authn.Principal{
		Kind: authn.KindService, ClientID: "m2m-client-test-1", Scopes: []string{"read:*"},
	})
	p, _ := authn.PrincipalFrom(ctx)
	fmt.Println(authn.Authorize(p, authn.Services("read:orders")))
	fmt.Println(authn.Authorize(p, authn.Services("write:orders")))
	fmt.Println(authn.Authorize(p, authn.Members()))
	// Output:
	// <nil>
	// permission denied: the caller is not admitted to this operation
	// permission denied: the caller is not admitted to this operation
}
