// Package rbac is Stytch's B2B RBAC model and its one decision function.
//
// A Policy is Stytch's policy document (roles, resources, scopes; the JSON
// shape of GET /v1/b2b/rbac/policy). [Policy.Authorize] decides an
// authorization check the way Stytch's sessions/authenticate does: the check's
// organization must be the session's (else [ReasonTenancy]), and one of the
// session's roles must grant the action on the resource, an action "*" in a
// role's permission granting every action (else [ReasonDenied]). authsvc
// decides checks on session JWTs with it, client/authn decides
// RequirePermission with it, and the emulator answers Stytch's own checks with
// it, so the three cannot disagree.
//
// A Policy is immutable once built by [New] and safe for concurrent use.
package rbac

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Stytch's default roles: every member holds RoleMember; RoleAdmin
// administers the organization.
const (
	RoleMember = "stytch_member"
	RoleAdmin  = "stytch_admin"
)

// WildcardAction in a role's permission grants every action on its resource.
const WildcardAction = "*"

// The reasons an authorization check fails: Stytch's error types, used as
// the ErrorInfo reason of a PERMISSION_DENIED answer.
const (
	// ReasonDenied: no role of the session grants the action on the resource.
	ReasonDenied = "session_authorization_error"
	// ReasonTenancy: the check names another organization than the session's.
	ReasonTenancy = "session_authorization_tenancy_error"
)

// Permission links a resource to actions (Stytch's PolicyRolePermission).
type Permission struct {
	ResourceID string   `json:"resource_id"`
	Actions    []string `json:"actions"`
}

// Role is a named set of permissions (Stytch's PolicyRole).
type Role struct {
	RoleID      string       `json:"role_id"`
	Description string       `json:"description"`
	Permissions []Permission `json:"permissions"`
}

// Resource is something actions are taken on (Stytch's PolicyResource).
type Resource struct {
	ResourceID  string   `json:"resource_id"`
	Description string   `json:"description"`
	Actions     []string `json:"actions"`
}

// Scope is an M2M-style scope of the policy (Stytch's PolicyScope).
type Scope struct {
	Scope       string       `json:"scope"`
	Description string       `json:"description"`
	Permissions []Permission `json:"permissions"`
}

// Document is a policy in Stytch's wire shape: the "policy" of GET
// /v1/b2b/rbac/policy, and the format of a policy file.
type Document struct {
	Roles     []Role     `json:"roles"`
	Resources []Resource `json:"resources"`
	Scopes    []Scope    `json:"scopes"`
}

// Check is an authorization check: may the session take Action on
// ResourceID in OrganizationID?
type Check struct {
	OrganizationID string
	ResourceID     string
	Action         string
}

// Policy is a compiled, immutable policy.
type Policy struct {
	doc Document
	// grants[role][resource] is the set of actions, WildcardAction included.
	grants map[string]map[string]map[string]struct{}
}

// New compiles doc. It keeps its own copy of doc.
func New(doc Document) *Policy {
	p := &Policy{doc: cloneDoc(doc), grants: make(map[string]map[string]map[string]struct{}, len(doc.Roles))}
	for _, r := range p.doc.Roles {
		addRole(p.grants, r)
	}
	return p
}

func addRole(grants map[string]map[string]map[string]struct{}, r Role) {
	byRes := grants[r.RoleID]
	if byRes == nil {
		byRes = map[string]map[string]struct{}{}
		grants[r.RoleID] = byRes
	}
	for _, perm := range r.Permissions {
		acts := byRes[perm.ResourceID]
		if acts == nil {
			acts = map[string]struct{}{}
			byRes[perm.ResourceID] = acts
		}
		for _, a := range perm.Actions {
			acts[a] = struct{}{}
		}
	}
}

// Document returns a copy of the policy in Stytch's wire shape.
func (p *Policy) Document() Document { return cloneDoc(p.doc) }

// HasRole reports whether the policy defines role.
func (p *Policy) HasRole(role string) bool {
	_, ok := p.grants[role]
	return ok
}

// Unknown returns the roles of roles the policy does not define (nil when it
// knows them all): the sign that a cached policy is stale, or that the roles
// are an organization's custom roles.
func (p *Policy) Unknown(roles []string) []string {
	var out []string
	for _, r := range roles {
		if !p.HasRole(r) {
			out = append(out, r)
		}
	}
	return out
}

// WithRoles returns a policy that also holds roles (an organization's custom
// roles, which supplement the project's policy); p is unchanged. A role with
// the ID of one p defines adds its permissions to it.
func (p *Policy) WithRoles(roles []Role) *Policy {
	if len(roles) == 0 {
		return p
	}
	doc := p.Document()
	doc.Roles = append(doc.Roles, roles...)
	return New(doc)
}

// Decision is the answer to an allowed check.
type Decision struct {
	// GrantingRoles are the session's roles that grant the action, in the
	// session's order.
	GrantingRoles []string
}

// Error is a refused check. Reason is ReasonDenied or ReasonTenancy.
type Error struct {
	Reason  string
	Message string
}

func (e *Error) Error() string { return e.Reason + ": " + e.Message }

// IsDenied reports whether err is a refused check (either reason).
func IsDenied(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// Authorize decides c for a session of organization sessionOrg holding roles.
// Roles the policy does not define grant nothing (see [Policy.Unknown] to
// refresh first). The error, when not nil, is an [*Error]; its message names
// the resource and action of the check (never anything of the session).
func (p *Policy) Authorize(sessionOrg string, roles []string, c Check) (Decision, error) {
	if c.OrganizationID != sessionOrg {
		return Decision{}, &Error{Reason: ReasonTenancy, Message: "the session belongs to another organization than the check's"}
	}
	granting := p.grantingRoles(roles, c.ResourceID, c.Action)
	if len(granting) == 0 {
		return Decision{}, &Error{Reason: ReasonDenied, Message: fmt.Sprintf("no role of the session grants %q on %q", c.Action, c.ResourceID)}
	}
	return Decision{GrantingRoles: granting}, nil
}

// Allowed is Authorize without the tenancy check and the decision: whether
// roles grant action on resource.
func (p *Policy) Allowed(roles []string, resource, action string) bool {
	return len(p.grantingRoles(roles, resource, action)) > 0
}

// grantingRoles are the roles, each once, that grant action (or every
// action, "*") on resource.
func (p *Policy) grantingRoles(roles []string, resource, action string) []string {
	var granting []string
	for _, r := range roles {
		acts := p.grants[r][resource]
		if acts == nil {
			continue
		}
		_, exact := acts[action]
		_, all := acts[WildcardAction]
		if (exact || all) && !slices.Contains(granting, r) {
			granting = append(granting, r)
		}
	}
	return granting
}

func cloneDoc(d Document) Document {
	out := Document{
		Roles:     make([]Role, 0, len(d.Roles)),
		Resources: make([]Resource, 0, len(d.Resources)),
		Scopes:    make([]Scope, 0, len(d.Scopes)),
	}
	for _, r := range d.Roles {
		out.Roles = append(out.Roles, Role{RoleID: r.RoleID, Description: r.Description, Permissions: clonePerms(r.Permissions)})
	}
	for _, r := range d.Resources {
		out.Resources = append(out.Resources, Resource{ResourceID: r.ResourceID, Description: r.Description, Actions: nonNil(r.Actions)})
	}
	for _, s := range d.Scopes {
		out.Scopes = append(out.Scopes, Scope{Scope: s.Scope, Description: s.Description, Permissions: clonePerms(s.Permissions)})
	}
	return out
}

func clonePerms(in []Permission) []Permission {
	out := make([]Permission, 0, len(in))
	for _, p := range in {
		out = append(out, Permission{ResourceID: p.ResourceID, Actions: nonNil(p.Actions)})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// reservedPrefix starts the IDs of Stytch's own resources; custom resources
// may not use it.
const reservedPrefix = "stytch"

// Merge adds custom to the default policy: custom resources and scopes are
// appended, a custom role with a default role's ID adds its permissions to it
// (Stytch lets a project grant its own resources to stytch_member and
// stytch_admin), other custom roles are appended. It refuses a custom
// resource named with Stytch's reserved prefix, a duplicate ID, and a
// permission naming an undefined resource or an action the resource does not
// declare.
func Merge(defaults, custom Document) (Document, error) {
	out := cloneDoc(defaults)
	resources := map[string][]string{}
	for _, r := range out.Resources {
		resources[r.ResourceID] = r.Actions
	}
	for _, r := range custom.Resources {
		switch {
		case r.ResourceID == "":
			return Document{}, errors.New("rbac: a resource has no resource_id")
		case strings.HasPrefix(r.ResourceID, reservedPrefix):
			return Document{}, fmt.Errorf("rbac: resource %q: the prefix %q is reserved for Stytch's resources", r.ResourceID, reservedPrefix)
		case resources[r.ResourceID] != nil:
			return Document{}, fmt.Errorf("rbac: resource %q is defined twice", r.ResourceID)
		}
		resources[r.ResourceID] = nonNil(r.Actions)
		out.Resources = append(out.Resources, Resource{ResourceID: r.ResourceID, Description: r.Description, Actions: nonNil(r.Actions)})
	}
	check := func(owner string, perms []Permission) error {
		for _, p := range perms {
			acts, ok := resources[p.ResourceID]
			if !ok {
				return fmt.Errorf("rbac: %s: unknown resource %q", owner, p.ResourceID)
			}
			for _, a := range p.Actions {
				if a != WildcardAction && !slices.Contains(acts, a) {
					return fmt.Errorf("rbac: %s: resource %q has no action %q", owner, p.ResourceID, a)
				}
			}
		}
		return nil
	}
	seen := map[string]bool{}
	for _, r := range custom.Roles {
		if r.RoleID == "" {
			return Document{}, errors.New("rbac: a role has no role_id")
		}
		if seen[r.RoleID] {
			return Document{}, fmt.Errorf("rbac: role %q is defined twice", r.RoleID)
		}
		seen[r.RoleID] = true
		if err := check(fmt.Sprintf("role %q", r.RoleID), r.Permissions); err != nil {
			return Document{}, err
		}
		if i := slices.IndexFunc(out.Roles, func(d Role) bool { return d.RoleID == r.RoleID }); i >= 0 {
			out.Roles[i].Permissions = append(out.Roles[i].Permissions, clonePerms(r.Permissions)...)
			continue
		}
		out.Roles = append(out.Roles, Role{RoleID: r.RoleID, Description: r.Description, Permissions: clonePerms(r.Permissions)})
	}
	for _, s := range custom.Scopes {
		if err := check(fmt.Sprintf("scope %q", s.Scope), s.Permissions); err != nil {
			return Document{}, err
		}
		out.Scopes = append(out.Scopes, Scope{Scope: s.Scope, Description: s.Description, Permissions: clonePerms(s.Permissions)})
	}
	return out, nil
}

// LoadFile reads a custom policy file (a JSON [Document]; unknown fields are
// refused) and merges it into [Defaults].
func LoadFile(path string) (*Policy, error) {
	b, err := os.ReadFile(path) //nolint:gosec // an operator's setting, not request data
	if err != nil {
		return nil, fmt.Errorf("rbac: %w", err)
	}
	return Parse(b)
}

// Parse is LoadFile on the file's contents.
func Parse(b []byte) (*Policy, error) {
	var custom Document
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&custom); err != nil {
		return nil, fmt.Errorf("rbac: policy file: %w", err)
	}
	doc, err := Merge(Defaults(), custom)
	if err != nil {
		return nil, err
	}
	return New(doc), nil
}

//go:embed example_policy.json
var examplePolicy []byte

// Example is the custom policy dev mode runs with unless told otherwise
// (internal/rbac/example_policy.json merged into Defaults): resources
// invoices and reports, roles billing_admin (invoices: read, write) and
// finance (every action), and stytch_admin granted reading reports.
func Example() *Policy {
	p, err := Parse(examplePolicy)
	if err != nil {
		panic("rbac: the embedded example policy is invalid: " + err.Error())
	}
	return p
}
