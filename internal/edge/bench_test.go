package edge_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/edge"
	"github.com/authsvc/authsvc/internal/edge/rules"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
	"github.com/authsvc/authsvc/internal/testkit/sessionkit"
)

// BenchmarkDecide measures one decision without the transport: a public rule (no check) beside a
// member rule with a session JWT (the verified-token cache answering), on the real session
// checker.
func BenchmarkDecide(b *testing.B) {
	emu := testkit.Emulator(b, stytchemu.WithSandbox())
	client := testkit.Client(b, emu)
	checker := sessionkit.Checker(b, emu, client, sessionkit.JWKS(b, emu, client))
	s := testkit.MemberSession(b, emu, stytchemu.SandboxOrganizationID, stytchemu.MemberParams{Email: "bench@example.com"})
	set, err := rules.Parse("rules.yaml", []byte(`rules:
  - {name: public, match: {path_prefix: /public}, public: true}
  - {name: org, match: {path_pattern: "/orgs/{org}/**"}, session: {kind: member, organization_from: {path_param: org}}}
`))
	require.NoError(b, err)
	e, err := edge.NewEngine(edge.Config{Rules: set, Members: checker, M2M: checker})
	require.NoError(b, err)
	for _, c := range []struct {
		name string
		in   edge.Input
	}{
		{"public", edge.Input{Method: "GET", Host: "h", Target: "/public/x"}},
		{"member JWT", edge.Input{Method: "GET", Host: "h", Target: "/orgs/" + stytchemu.SandboxOrganizationID + "/x", Authorization: []string{"Bearer " + s.JWT}}},
	} {
		require.True(b, e.Decide(b.Context(), c.in).Allowed)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.Decide(b.Context(), c.in)
			}
		})
	}
}
