package rules_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/edge/rules"
)

const sample = `rules:
  - name: health
    match: {path_prefix: /healthz}
    public: true
  - name: org-admin
    match:
      hosts: [api.example.com, "*.example.org"]
      path_pattern: "/orgs/{org}/admin/**"
      methods: [get, POST]
    session:
      kind: member
      roles: [stytch_admin]
      organization_from: {path_param: org}
      max_age: 10m
      factors: [totp, "otp:sms"]
    redirect_to_login: https://app.example.com/login
  - name: reports
    match: {path_prefix: /reports/}
    m2m: {scopes: ["read:reports"]}
  - name: exact
    match: {path_pattern: "/users/{id}"}
    session: {kind: user}
`

func mustParse(t *testing.T, src string) *rules.Set {
	t.Helper()
	s, err := rules.Parse("rules.yaml", []byte(src))
	require.NoError(t, err)
	return s
}

func TestParseKeepsEveryField(t *testing.T) {
	s := mustParse(t, sample)
	require.Len(t, s.Rules(), 4)
	r := s.Rules()[1]
	assert.Equal(t, "org-admin", r.Name)
	assert.Equal(t, 5, r.Line)
	assert.Equal(t, []string{"GET", "POST"}, r.Match.Methods)
	require.NotNil(t, r.Session)
	assert.Equal(t, rules.KindMember, r.Session.Kind)
	assert.Equal(t, 10*time.Minute, r.Session.MaxAge)
	assert.Equal(t, &rules.OrganizationFrom{PathParam: "org"}, r.Session.OrganizationFrom)
	assert.Equal(t, []string{"totp", "otp:sms"}, r.Session.Factors)
	assert.Equal(t, "https://app.example.com/login", r.RedirectToLogin)
	assert.Equal(t, []string{"read:reports"}, s.Rules()[2].M2M.Scopes)
	assert.True(t, s.Rules()[0].Public)
}

func TestFind(t *testing.T) {
	s := mustParse(t, sample)
	cases := []struct {
		name   string
		req    rules.Request
		rule   string
		params rules.Params
	}{
		{"prefix itself", rules.Request{Method: "GET", Host: "x", Path: "/healthz"}, "health", nil},
		{"below the prefix", rules.Request{Method: "GET", Host: "x", Path: "/healthz/live"}, "health", nil},
		{"prefix is segment-wise", rules.Request{Method: "GET", Host: "x", Path: "/healthzz"}, "", nil},
		{"pattern with param and rest", rules.Request{Method: "GET", Host: "API.example.com:443", Path: "/orgs/o-1/admin/users"}, "org-admin", rules.Params{"org": "o-1"}},
		{"rest matches nothing more", rules.Request{Method: "POST", Host: "api.example.com", Path: "/orgs/o-1/admin"}, "org-admin", rules.Params{"org": "o-1"}},
		{"wildcard host", rules.Request{Method: "GET", Host: "eu.example.org", Path: "/orgs/o-1/admin"}, "org-admin", rules.Params{"org": "o-1"}},
		{"wildcard does not match the apex", rules.Request{Method: "GET", Host: "example.org", Path: "/orgs/o-1/admin"}, "", nil},
		{"method not listed", rules.Request{Method: "DELETE", Host: "api.example.com", Path: "/orgs/o-1/admin"}, "", nil},
		{"other host", rules.Request{Method: "GET", Host: "evil.com", Path: "/orgs/o-1/admin"}, "", nil},
		{"slash-ended prefix is a string prefix", rules.Request{Method: "GET", Path: "/reports/q1"}, "reports", nil},
		{"slash-ended prefix needs the slash", rules.Request{Method: "GET", Path: "/reports"}, "", nil},
		{"exact pattern", rules.Request{Method: "GET", Path: "/users/u-1"}, "exact", rules.Params{"id": "u-1"}},
		{"exact pattern, one segment more", rules.Request{Method: "GET", Path: "/users/u-1/x"}, "", nil},
		{"empty param segment", rules.Request{Method: "GET", Path: "/users/"}, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, p := s.Find(c.req)
			if c.rule == "" {
				assert.Nil(t, r)
				return
			}
			require.NotNil(t, r)
			assert.Equal(t, c.rule, r.Name)
			assert.Equal(t, c.params, p)
		})
	}
}

func TestFirstMatchWins(t *testing.T) {
	s := mustParse(t, `rules:
  - {name: a, match: {path_prefix: /x}, public: true}
  - {name: b, match: {path_prefix: /x/y}, m2m: {scopes: [s]}}
`)
	r, _ := s.Find(rules.Request{Method: "GET", Path: "/x/y"})
	require.NotNil(t, r)
	assert.Equal(t, "a", r.Name)
}

func TestSplitPath(t *testing.T) {
	ok := map[string]string{
		"/a/b?x=1":                 "/a/b",
		"":                         "/",
		"/a#frag":                  "/a",
		"https://h.example/p/q?z":  "/p/q",
		"/a/%7Euser":               "/a/%7Euser",
		"/orgs/o-1/admin/users?x/": "/orgs/o-1/admin/users",
	}
	for in, want := range ok {
		got, err := rules.SplitPath(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"/a/../admin", "/a/./b", "/a/%2e%2e/b", "/a%2Fb", `/a\b`, "//evil", "/a//b", "a/b", "/a%00"} {
		_, err := rules.SplitPath(bad)
		require.ErrorIs(t, err, rules.ErrAmbiguousPath, bad)
	}
}

func TestValidationNamesLineAndField(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown field", "rules:\n  - name: a\n    match: {path_prefx: /x}\n    public: true\n", "rules.yaml:3: field path_prefx is not a known field here"},
		{"no kind of admission", "rules:\n  - name: a\n    match: {path_prefix: /x}\n", `rules.yaml:2: rules[0].name: rule "a" needs exactly one of public: true, session: or m2m:`},
		{"two kinds", "rules:\n  - name: a\n    public: true\n    m2m: {scopes: [s]}\n", "needs exactly one of"},
		{"bad duration", "rules:\n  - name: a\n    session:\n      kind: member\n      max_age: 10 minutes\n", `rules.yaml:5: rules[0].session.max_age: "10 minutes" is not a positive duration`},
		{"bad kind", "rules:\n  - name: a\n    session: {kind: admin}\n", `rules[0].session.kind: "admin" is not member, user or any`},
		{"missing kind", "rules:\n  - name: a\n    session: {roles: [x]}\n", "rules[0].session.kind: missing"},
		{"unknown path param", "rules:\n  - name: a\n    match: {path_pattern: \"/orgs/{id}\"}\n    session:\n      kind: member\n      organization_from: {path_param: org}\n", "rules.yaml:6: rules[0].session.organization_from.path_param: {org} is not a parameter"},
		{"org of a user", "rules:\n  - name: a\n    session: {kind: user, organization_from: {header: x-org-id}}\n", "only member sessions belong to an organization"},
		{"org from both", "rules:\n  - name: a\n    match: {path_pattern: \"/o/{org}\"}\n    session: {kind: member, organization_from: {header: x-org-id, path_param: org}}\n", "exactly one of path_param or header"},
		{"prefix and pattern", "rules:\n  - name: a\n    match: {path_prefix: /a, path_pattern: /b}\n    public: true\n", "give path_prefix or path_pattern, not both"},
		{"bad pattern", "rules:\n  - name: a\n    match: {path_pattern: \"/a/**/b\"}\n    public: true\n", `"**" may only be the last segment`},
		{"duplicate names", "rules:\n  - {name: a, public: true}\n  - {name: a, public: true}\n", `rules.yaml:3: rules[1].name: "a" is also the name of the rule on line 2`},
		{"unnamed", "rules:\n  - public: true\n", "a rule needs a name"},
		{"m2m without scopes", "rules:\n  - name: a\n    m2m: {}\n", "rules[0].m2m.scopes: name at least one scope"},
		{"public false", "rules:\n  - name: a\n    public: false\n", "public: false means nothing"},
		{"bad factor", "rules:\n  - name: a\n    session: {kind: any, factors: [fingerprint]}\n", `"fingerprint" is not a factor type`},
		{"redirect of m2m", "rules:\n  - name: a\n    m2m: {scopes: [s]}\n    redirect_to_login: https://x.example/login\n", "only a session rule sends browsers to a login page"},
		{"relative redirect", "rules:\n  - name: a\n    session: {kind: any}\n    redirect_to_login: /login\n", "is not an absolute http(s) URL"},
		{"host with port", "rules:\n  - name: a\n    match: {hosts: [\"a.example:8080\"]}\n    public: true\n", "is not a host name"},
		{"no rules key", "other: 1\n", "field other is not a known field here"},
		{"empty", "", "empty file"},
		{"not yaml", "rules: [\n", "rules.yaml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := rules.Parse("rules.yaml", []byte(c.src))
			var re *rules.Error
			require.ErrorAs(t, err, &re)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	_, err := rules.Parse("r.yaml", []byte("rules:\n  - name: a\n    session: {kind: x}\n  - name: b\n    m2m: {}\n"))
	var re *rules.Error
	require.ErrorAs(t, err, &re)
	assert.Len(t, re.Problems, 2)
}

func TestEmptyListDeniesEverything(t *testing.T) {
	s := mustParse(t, "rules: []\n")
	r, _ := s.Find(rules.Request{Method: "GET", Path: "/"})
	assert.Nil(t, r)
}

func TestLoadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(p, []byte(sample), 0o600))
	s, err := rules.LoadFile(p)
	require.NoError(t, err)
	assert.Len(t, s.Rules(), 4)
	_, err = rules.LoadFile(filepath.Join(t.TempDir(), "missing.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestExplain(t *testing.T) {
	s := mustParse(t, sample)
	lines := s.Explain(rules.Request{Method: "GET", Host: "api.example.com", Path: "/orgs/o/admin"})
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], "path /orgs/o/admin is not under /healthz")
	assert.Contains(t, lines[1], `rule "org-admin" (line 5): matches`)
	lines = s.Explain(rules.Request{Method: "GET", Host: "x", Path: "/nothing"})
	assert.Equal(t, "no rule matches: denied by default", lines[len(lines)-1])
}

func TestSessionPermission(t *testing.T) {
	s := mustParse(t, `rules:
  - name: invoices
    match: {path_pattern: "/orgs/{org}/invoices/**"}
    session:
      kind: member
      permission: {resource: invoices, action: write}
      organization_from: {path_param: org}
`)
	assert.Equal(t, &rules.Permission{Resource: "invoices", Action: "write"}, s.Rules()[0].Session.Permission)

	bad := map[string]string{
		"unknown field":   "rules:\n  - name: a\n    match: {path_prefix: /x}\n    session:\n      kind: member\n      organization_from: {header: x-org}\n      permission: {resource: invoices, verb: write}\n",
		"no action":       "rules:\n  - name: a\n    match: {path_prefix: /x}\n    session:\n      kind: member\n      organization_from: {header: x-org}\n      permission: {resource: invoices}\n",
		"no organization": "rules:\n  - name: a\n    match: {path_prefix: /x}\n    session:\n      kind: member\n      permission: {resource: invoices, action: write}\n",
		"not member kind": "rules:\n  - name: a\n    match: {path_prefix: /x}\n    session:\n      kind: any\n      permission: {resource: invoices, action: write}\n",
	}
	want := map[string]string{
		"unknown field":   "rules.yaml:7: field verb is not a known field here",
		"no action":       "rules.yaml:7: rules[0].session.permission: give both resource and action",
		"no organization": "rules.yaml:6: rules[0].session.permission: a permission holds in one organization: set organization_from too",
		"not member kind": "rules.yaml:6: rules[0].session.permission: RBAC permissions are B2B member roles' (kind: member)",
	}
	for name, src := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := rules.Parse("rules.yaml", []byte(src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), want[name])
		})
	}
}
