package main

import (
	"context"
	"fmt"
)

// authorizationWorkloads measures a local authorization check (Sessions.Authenticate with an
// authorization_check on the repeated JWT, decided from the RBAC policy authsvc has cached) beside
// the plain check of the same JWT in the same run, one right after the other; issue 17's goal is the authorization check within 10% of the
// plain one. A warm-up call fetches the policy first; the measured runs must make no Stytch call.
func (b *bench) authorizationWorkloads(ctx context.Context, plain map[string]string) {
	if !b.want("R1") && !b.want("R1p") {
		return
	}
	check := map[string]any{
		"session_jwt": plain["session_jwt"],
		// Stytch's default policy: every member may act on itself.
		"authorization_check": map[string]string{"organization_id": b.fx.orgID, "resource_id": "stytch.self", "action": "update.info.name"},
	}
	if _, _, err := b.ghz(ctx, "r1-warmup", ghzRun{Call: callAuth, Data: check, Concurrency: grpcConns, Total: 100})(); err != nil {
		fmt.Printf("authbench: R1 warm-up failed: %v\n", err)
	}
	b.measure(ctx, row{ID: "R1p", Name: "Sessions.Authenticate, repeated JWT (plain, paired with R1)", Tool: "ghz", Concurrency: localConc}, true,
		b.ghz(ctx, "r1p-jwt-plain", ghzRun{Call: callAuth, Data: plain, Concurrency: localConc, Total: b.sz.fast}))
	b.measure(ctx, row{ID: "R1", Name: "Sessions.Authenticate, repeated JWT + authorization_check (local, policy cached)", Tool: "ghz", Concurrency: localConc}, true,
		b.ghz(ctx, "r1-jwt-authz", ghzRun{Call: callAuth, Data: check, Concurrency: localConc, Total: b.sz.fast}))
}
