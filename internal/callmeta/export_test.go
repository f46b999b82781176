package callmeta

import "google.golang.org/grpc/credentials"

// PerRPCForTest exposes the gateway's per-call credentials to the tests.
func PerRPCForTest(g *Gateway) credentials.PerRPCCredentials { return gatewayCreds{secret: g.secret} }
