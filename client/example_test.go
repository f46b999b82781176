package client_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/authsvc/authsvc/client"
	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
)

// A service dials authsvc once at startup. New does no network I/O, so it succeeds even while
// authsvc is still starting; the first call connects.
func ExampleNew() {
	ctx := context.Background()
	c, err := client.New(ctx, "localhost:9090", client.WithInsecure()) // dev mode; TLS is the default
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println(c.Sessions() != nil, c.Members() != nil, c.M2M() != nil)
	// Output: true true true
}

// A back-office service calls authsvc as an M2M client. The access token is obtained on the first
// call that needs it, reused, refreshed before it expires, and sent only to the RPCs that admit
// services.
func ExampleWithM2MCredentials() {
	ctx := context.Background()
	c, err := client.New(ctx, "dns:///authsvc.auth.svc.cluster.local:9090",
		client.WithTLS(nil), // system roots
		client.WithM2MCredentials(os.Getenv("M2M_CLIENT_ID"), os.Getenv("M2M_CLIENT_SECRET"), "read:members"),
		client.WithTimeout(5*time.Second),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	resp, err := c.Members().Get(ctx, &b2bv1.MembersServiceGetRequest{
		OrganizationId: "organization-test-...",
		Lookup:         &b2bv1.MembersServiceGetRequest_MemberId{MemberId: "member-test-..."},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.GetMember().GetName())
}

// A service acting for a member forwards the member's session: an authorization header set by the
// caller is sent instead of the client's M2M token, and authsvc then applies Stytch's RBAC to the
// member.
func ExampleClient_Members_forwardMemberSession() {
	ctx := context.Background()
	c, err := client.New(ctx, "localhost:9090", client.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	sessionJWT := "..." // from the member's request (see package authn)
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+sessionJWT)
	_, err = c.Members().Update(ctx, &b2bv1.MembersServiceUpdateRequest{OrganizationId: "organization-test-...", MemberId: "member-test-..."})
	if err != nil {
		log.Print(err)
	}
}

// The RPCs retried on UNAVAILABLE; every other RPC is attempted once.
func ExampleRetriedMethods() {
	for _, m := range client.RetriedMethods() {
		fmt.Println(m)
	}
	// Output:
	// authsvc.b2b.v1.DiscoveryService/ListOrganizations
	// authsvc.b2b.v1.MembersService/DangerouslyGet
	// authsvc.b2b.v1.MembersService/Get
	// authsvc.b2b.v1.MembersService/OidcProviders
	// authsvc.b2b.v1.MembersService/Search
	// authsvc.b2b.v1.OAuthService/GetProviderTokens
	// authsvc.b2b.v1.OAuthService/StartURL
	// authsvc.b2b.v1.OrganizationsService/Get
	// authsvc.b2b.v1.OrganizationsService/Metrics
	// authsvc.b2b.v1.OrganizationsService/Search
	// authsvc.b2b.v1.PasswordsService/StrengthCheck
	// authsvc.b2b.v1.RBACService/GetPolicy
	// authsvc.b2b.v1.RecoveryCodesService/Get
	// authsvc.b2b.v1.SCIMService/GetConnection
	// authsvc.b2b.v1.SCIMService/GetConnectionGroups
	// authsvc.b2b.v1.SSOService/GetConnections
	// authsvc.b2b.v1.SSOService/StartURL
	// authsvc.b2b.v1.SessionsService/Authenticate
	// authsvc.b2b.v1.SessionsService/Get
	// authsvc.b2b.v1.SessionsService/GetJWKS
	// authsvc.b2b.v1.SessionsService/Revoke
	// authsvc.consumer.v1.OAuthService/StartURL
	// authsvc.consumer.v1.PasswordsService/StrengthCheck
	// authsvc.consumer.v1.SessionsService/Authenticate
	// authsvc.consumer.v1.SessionsService/Get
	// authsvc.consumer.v1.SessionsService/GetJWKS
	// authsvc.consumer.v1.SessionsService/Revoke
	// authsvc.consumer.v1.TOTPsService/RecoveryCodes
	// authsvc.consumer.v1.UsersService/Get
	// authsvc.consumer.v1.UsersService/Search
	// authsvc.consumer.v1.WebAuthnService/ListCredentials
	// authsvc.m2m.v1.M2MService/AuthenticateToken
	// authsvc.m2m.v1.M2MService/GetClient
	// authsvc.m2m.v1.M2MService/IssueToken
	// authsvc.m2m.v1.M2MService/SearchClients
}
