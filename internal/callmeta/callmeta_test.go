package callmeta_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"

	"github.com/authsvc/authsvc/internal/callmeta"
)

// gatewayMD returns the metadata the gateway's connection sends (its per-call credentials).
func gatewayMD(t *testing.T, g *callmeta.Gateway) metadata.MD {
	t.Helper()
	md := metadata.MD{}
	creds := callmeta.PerRPCForTest(g)
	m, err := creds.GetRequestMetadata(context.Background())
	require.NoError(t, err)
	for k, v := range m {
		md.Set(k, v)
	}
	return md
}

func TestOnlyTheGatewayIsBelieved(t *testing.T) {
	g, err := callmeta.NewGateway()
	require.NoError(t, err)
	other, err := callmeta.NewGateway()
	require.NoError(t, err)

	withCookies := func(md metadata.MD) context.Context {
		md = md.Copy()
		md.Set(callmeta.CookieSessionJWT, "jwt")
		md.Set(callmeta.CookieSessionToken, "tok")
		md.Set("x-forwarded-for", "203.0.113.9, 127.0.0.1")
		return metadata.NewIncomingContext(context.Background(), md)
	}

	f, ok := callmeta.ForwardedFrom(g.Trust(withCookies(gatewayMD(t, g))))
	require.True(t, ok, "the gateway's own call")
	assert.Equal(t, callmeta.Forwarded{SessionToken: "tok", SessionJWT: "jwt", ForwardedFor: []string{"203.0.113.9, 127.0.0.1"}}, f)

	for name, md := range map[string]metadata.MD{
		"no secret":                   {},
		"another process's secret":    gatewayMD(t, other),
		"a guessed secret":            metadata.Pairs("authsvc-gateway", "00"),
		"the secret presented twice":  metadata.Join(gatewayMD(t, g), gatewayMD(t, g)),
		"the secret with another one": metadata.Join(gatewayMD(t, g), gatewayMD(t, other)),
	} {
		t.Run(name, func(t *testing.T) {
			_, ok := callmeta.ForwardedFrom(g.Trust(withCookies(md)))
			assert.False(t, ok, "forwarded metadata from a caller that is not the gateway is not believed")
		})
	}
}
