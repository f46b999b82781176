package service_test

// TEMPORARY: a stand-in for apptest until internal/app wires these services. It runs the real
// internal/server (gRPC + gateway over loopback + interceptors) with the production gateway options.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/reflect/protoreflect"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/gateway"
	"github.com/authsvc/authsvc/internal/server"
	"github.com/authsvc/authsvc/internal/service"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const harnessRedirect = "http://localhost:3000/authenticate"

func startHarness(t *testing.T) *testEnv {
	t.Helper()
	emu, err := stytchemu.Start(stytchemu.WithSandbox())
	require.NoError(t, err)
	t.Cleanup(func() { _ = emu.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	sc, err := stytchclient.New(stytchclient.Config{ProjectID: emu.ProjectID(), Secret: emu.Secret(), BaseURL: emu.URL})
	require.NoError(t, err)
	jwks, err := verify.NewJWKSCache(verify.JWKSCacheConfig{Fetch: sc.FetchJWKS, Now: emu.Now})
	require.NoError(t, err)
	revs := service.NewMemoryRevocations(emu.Now)
	v, err := verify.NewVerifier(verify.VerifierConfig{ProjectID: emu.ProjectID(), Keys: jwks, BaseURL: sc.BaseURL(), Now: emu.Now, IsRevoked: revs.IsRevoked})
	require.NoError(t, err)
	redirects, err := service.NewRedirectPolicy([]string{harnessRedirect, "http://localhost:3000/discovery"})
	require.NoError(t, err)
	d := service.Deps{
		Stytch: sc, Sessions: stytchclient.NewSessionAuthenticator(sc, v, emu.Now),
		Tokens: sc.TokenSource(stytchclient.TokenSourceConfig{Now: emu.Now}), Verifier: v, JWKS: jwks,
		Redirects: redirects, Revocations: revs, Now: emu.Now, Logger: log,
	}
	srv, err := server.New(t.Context(), server.Config{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Services: []server.Service{
			{Desc: &b2bv1.MagicLinksService_ServiceDesc, Impl: service.NewMagicLinks(d), RegisterGateway: b2bv1.RegisterMagicLinksServiceHandler},
			{Desc: &b2bv1.OTPsService_ServiceDesc, Impl: service.NewOTPs(d), RegisterGateway: b2bv1.RegisterOTPsServiceHandler},
			{Desc: &b2bv1.SessionsService_ServiceDesc, Impl: service.NewSessions(d), RegisterGateway: b2bv1.RegisterSessionsServiceHandler},
			{Desc: &b2bv1.MembersService_ServiceDesc, Impl: service.NewMembers(d), RegisterGateway: b2bv1.RegisterMembersServiceHandler},
			{Desc: &b2bv1.DiscoveryService_ServiceDesc, Impl: service.NewDiscovery(d), RegisterGateway: b2bv1.RegisterDiscoveryServiceHandler},
			{Desc: &m2mv1.M2MService_ServiceDesc, Impl: service.NewM2M(d), RegisterGateway: m2mv1.RegisterM2MServiceHandler},
		},
		GatewayOptions: append(gateway.CookieOptions(gateway.CookieConfig{
			Insecure: true,
			ClearOn:  []protoreflect.FullName{(&b2bv1.SessionsServiceRevokeResponse{}).ProtoReflect().Descriptor().FullName()},
		}), gateway.ErrorOptions()...),
		Logger: log,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	e := &testEnv{Emu: emu, Conn: conn, BaseURL: "http://" + srv.HTTPAddr(), HTTP: &http.Client{Jar: jar}}
	t.Cleanup(func() {
		_ = conn.Close()
		e.HTTP.CloseIdleConnections()
		cancel()
		require.NoError(t, <-done)
		_ = jwks.Close()
	})
	require.NoError(t, jwks.WaitReady(t.Context()))
	return e
}
