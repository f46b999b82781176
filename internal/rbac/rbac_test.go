package rbac_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/authsvc/authsvc/internal/rbac"
)

const billing = `{
  "resources": [{"resource_id": "invoices", "description": "Invoices", "actions": ["read", "write", "void"]},
                {"resource_id": "reports", "description": "Reports", "actions": ["read"]}],
  "roles": [{"role_id": "billing_admin", "description": "Billing", "permissions": [{"resource_id": "invoices", "actions": ["read", "write"]}]},
            {"role_id": "auditor", "description": "Reads everything", "permissions": [{"resource_id": "invoices", "actions": ["*"]}, {"resource_id": "reports", "actions": ["read"]}]},
            {"role_id": "stytch_member", "description": "", "permissions": [{"resource_id": "reports", "actions": ["read"]}]}]
}`

func mustParse(t *testing.T, s string) *rbac.Policy {
	t.Helper()
	p, err := rbac.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAuthorize(t *testing.T) {
	p := mustParse(t, billing)
	tests := []struct {
		name     string
		roles    []string
		org      string
		resource string
		action   string
		granting []string
		reason   string
	}{
		{"explicit action", []string{"stytch_member", "billing_admin"}, "org-1", "invoices", "write", []string{"billing_admin"}, ""},
		{"action not granted", []string{"stytch_member", "billing_admin"}, "org-1", "invoices", "void", nil, rbac.ReasonDenied},
		{"wildcard action", []string{"auditor"}, "org-1", "invoices", "void", []string{"auditor"}, ""},
		{"wildcard is not a resource wildcard", []string{"auditor"}, "org-1", "payroll", "read", nil, rbac.ReasonDenied},
		{"every granting role, in session order", []string{"auditor", "stytch_member", "billing_admin"}, "org-1", "invoices", "read", []string{"auditor", "billing_admin"}, ""},
		{"custom permission added to a default role", []string{"stytch_member"}, "org-1", "reports", "read", []string{"stytch_member"}, ""},
		{"default member acts on itself", []string{"stytch_member"}, "org-1", rbac.ResourceSelf, "delete", []string{"stytch_member"}, ""},
		{"default member cannot administer members", []string{"stytch_member"}, "org-1", rbac.ResourceMember, "delete", nil, rbac.ReasonDenied},
		{"default admin administers members", []string{"stytch_member", "stytch_admin"}, "org-1", rbac.ResourceMember, "update.settings.roles", []string{"stytch_admin"}, ""},
		{"unknown role grants nothing", []string{"ghost"}, "org-1", "invoices", "read", nil, rbac.ReasonDenied},
		{"no roles", nil, "org-1", "invoices", "read", nil, rbac.ReasonDenied},
		{"other organization even for an admin", []string{"stytch_admin"}, "org-2", rbac.ResourceMember, "search", nil, rbac.ReasonTenancy},
		{"action names are exact", []string{"billing_admin"}, "org-1", "invoices", "READ", nil, rbac.ReasonDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := p.Authorize("org-1", tc.roles, rbac.Check{OrganizationID: tc.org, ResourceID: tc.resource, Action: tc.action})
			if tc.reason != "" {
				var e *rbac.Error
				if !errors.As(err, &e) || e.Reason != tc.reason {
					t.Fatalf("err = %v, want reason %s", err, tc.reason)
				}
				if !rbac.IsDenied(err) {
					t.Error("IsDenied = false")
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !slices.Equal(d.GrantingRoles, tc.granting) {
				t.Errorf("granting = %v, want %v", d.GrantingRoles, tc.granting)
			}
			if !p.Allowed(tc.roles, tc.resource, tc.action) {
				t.Error("Allowed disagrees with Authorize")
			}
		})
	}
}

func TestUnknownAndOrgRoles(t *testing.T) {
	p := mustParse(t, billing)
	if got := p.Unknown([]string{"stytch_member", "billing_admin", "treasurer"}); !slices.Equal(got, []string{"treasurer"}) {
		t.Fatalf("Unknown = %v", got)
	}
	withOrg := p.WithRoles([]rbac.Role{{RoleID: "treasurer", Permissions: []rbac.Permission{{ResourceID: "invoices", Actions: []string{"void"}}}}})
	if !withOrg.Allowed([]string{"treasurer"}, "invoices", "void") {
		t.Error("an organization's custom role grants nothing")
	}
	if p.HasRole("treasurer") || p.Allowed([]string{"treasurer"}, "invoices", "void") {
		t.Error("WithRoles changed the project policy")
	}
}

func TestDocumentRoundTrip(t *testing.T) {
	p := mustParse(t, billing)
	doc := p.Document()
	doc.Roles[0].Permissions[0].Actions[0] = "mutated"
	if !p.Allowed([]string{rbac.RoleAdmin}, rbac.ResourceOrganization, "delete") {
		t.Fatal("mutating Document() changed the policy")
	}
	again := rbac.New(p.Document())
	if !again.Allowed([]string{"billing_admin"}, "invoices", "write") || again.Allowed([]string{"billing_admin"}, "invoices", "void") {
		t.Error("a policy rebuilt from its document decides differently")
	}
}

func TestParseRefuses(t *testing.T) {
	tests := map[string]string{
		"reserved prefix":   `{"resources":[{"resource_id":"stytch.billing","actions":["read"]}]}`,
		"unknown resource":  `{"roles":[{"role_id":"r","permissions":[{"resource_id":"nope","actions":["read"]}]}]}`,
		"undeclared action": `{"resources":[{"resource_id":"invoices","actions":["read"]}],"roles":[{"role_id":"r","permissions":[{"resource_id":"invoices","actions":["write"]}]}]}`,
		"duplicate role":    `{"roles":[{"role_id":"r","permissions":[]},{"role_id":"r","permissions":[]}]}`,
		"unknown field":     `{"rolez":[]}`,
		"not json":          `roles:`,
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := rbac.Parse([]byte(s)); err == nil || !strings.HasPrefix(err.Error(), "rbac: ") {
				t.Errorf("err = %v, want an rbac error", err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	p := rbac.New(rbac.Defaults())
	for _, r := range []string{rbac.ResourceOrganization, rbac.ResourceMember, rbac.ResourceSSO, rbac.ResourceSCIM, rbac.ResourceSelf} {
		if !p.Allowed([]string{rbac.RoleAdmin}, r, "anything") {
			t.Errorf("stytch_admin lacks %s", r)
		}
	}
	if p.Allowed([]string{rbac.RoleMember}, rbac.ResourceOrganization, "delete") {
		t.Error("stytch_member may delete the organization")
	}
}

func BenchmarkAuthorize(b *testing.B) {
	p, err := rbac.Parse([]byte(billing))
	if err != nil {
		b.Fatal(err)
	}
	roles := []string{"stytch_member", "billing_admin"}
	c := rbac.Check{OrganizationID: "org-1", ResourceID: "invoices", Action: "write"}
	for b.Loop() {
		if _, err := p.Authorize("org-1", roles, c); err != nil {
			b.Fatal(err)
		}
	}
}

func TestExample(t *testing.T) {
	p := rbac.Example()
	if !p.Allowed([]string{"billing_admin"}, "invoices", "write") || p.Allowed([]string{"billing_admin"}, "invoices", "void") {
		t.Error("billing_admin is not invoices: [read, write]")
	}
	if !p.Allowed([]string{rbac.RoleAdmin}, "reports", "read") || p.Allowed([]string{rbac.RoleAdmin}, "invoices", "read") {
		t.Error("stytch_admin is not granted reports: read alone")
	}
}
