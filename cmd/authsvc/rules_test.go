package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const cliRules = `rules:
  - name: health
    match: {path_prefix: /healthz}
    public: true
  - name: org-admin
    match: {hosts: [api.example.com], path_pattern: "/orgs/{org}/admin/**"}
    session: {kind: member, roles: [stytch_admin], organization_from: {path_param: org}}
    redirect_to_login: https://app.example.com/login
  - name: reports
    match: {path_prefix: /reports}
    m2m: {scopes: ["read:reports"]}
`

func writeRules(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func runRules(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = rulesCommand(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRulesCheck(t *testing.T) {
	code, out, _ := runRules("check", writeRules(t, cliRules))
	require.Equal(t, 0, code)
	assert.Contains(t, out, "3 rules, valid")

	bad := writeRules(t, "rules:\n  - name: a\n    session: {kind: admin}\n  - name: b\n    m2m: {}\n")
	code, _, errOut := runRules("check", bad)
	require.Equal(t, 1, code)
	assert.Contains(t, errOut, `rules.yaml:3: rules[0].session.kind: "admin" is not member, user or any`)
	assert.Contains(t, errOut, "rules.yaml:5: rules[1].m2m.scopes")
}

func TestRulesTestExplainsTheMatchAndTheAnonymousDecision(t *testing.T) {
	file := writeRules(t, cliRules)
	code, out, _ := runRules("test", file, "get", "https://api.example.com/orgs/o1/admin/users", "Accept: text/html")
	require.Equal(t, 0, code)
	assert.Contains(t, out, `rule "health" (line 2): path /orgs/o1/admin/users is not under /healthz`)
	assert.Contains(t, out, `rule "org-admin" (line 5): matches`)
	assert.Contains(t, out, `of the organization in path parameter org ("o1" here)`)
	assert.Contains(t, out, "without credentials: denied 302 unauthenticated (no_credentials) to https://app.example.com/login?return_to=")

	code, out, _ = runRules("test", file, "GET", "/reports/q1", "Host: other.example", "Authorization: Bearer x.y.z")
	require.Equal(t, 0, code)
	assert.Contains(t, out, `rule "reports" admits: M2M tokens with scopes [read:reports]`)
	assert.Contains(t, out, "without credentials: denied 401 unauthenticated (no_credentials)")
	assert.Contains(t, out, "verified only by a running authsvc")

	_, out, _ = runRules("test", file, "GET", "/nowhere")
	assert.Contains(t, out, "no rule matches: denied by default")
	assert.Contains(t, out, "without credentials: denied 403 permission_denied (no_rule)")

	_, out, _ = runRules("test", file, "GET", "/healthz")
	assert.Contains(t, out, "without credentials: allowed (200, kind public)")
}

func TestRulesUsage(t *testing.T) {
	code, _, errOut := runRules("test", "only-a-file")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "usage:")
	code, _, _ = runRules("frobnicate", "x")
	assert.Equal(t, 2, code)
	code, _, errOut = runRules("test", writeRules(t, cliRules), "GET", "/x", "no-colon")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `expected "Name: value"`)
}

func TestRulesTestPrintsThePermission(t *testing.T) {
	file := writeRules(t, `rules:
  - name: invoices
    match: {path_pattern: "/orgs/{org}/invoices/**"}
    session: {kind: member, permission: {resource: invoices, action: write}, organization_from: {path_param: org}}
`)
	code, out, _ := runRules("test", file, "POST", "https://api.example.com/orgs/o1/invoices/9")
	require.Equal(t, 0, code)
	assert.Contains(t, out, `rule "invoices" admits: member sessions, of the organization in path parameter org ("o1" here), whose roles grant "write" on "invoices" by the RBAC policy (else denied 403 missing_permission)`)
	assert.Contains(t, out, "without credentials: denied 401 unauthenticated (no_credentials)")

	code, _, errOut := runRules("check", writeRules(t, "rules:\n  - name: a\n    match: {path_prefix: /x}\n    session: {kind: member, permission: {resource: invoices, action: write}}\n"))
	require.Equal(t, 1, code)
	assert.Contains(t, errOut, "rules[0].session.permission: a permission holds in one organization")
}
