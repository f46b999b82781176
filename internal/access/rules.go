package access

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	accessv1 "github.com/authsvc/authsvc/gen/go/authsvc/access/v1"
	"github.com/authsvc/authsvc/internal/policy"
	"github.com/authsvc/authsvc/internal/rbac"
)

// rule is one RPC's AccessRule, resolved against its request message once at construction so that
// no call pays for descriptor lookups.
type rule struct {
	fullMethod string // "/authsvc.b2b.v1.SessionsService/Get"
	input      protoreflect.FullName

	public     bool
	member     bool
	user       bool
	roles      []string
	scopes     []string
	credFields []protoreflect.FieldDescriptor
	orgField   protoreflect.FieldDescriptor
	userField  protoreflect.FieldDescriptor
	// permission is the RBAC permission a member session must hold (nil: none); its
	// OrganizationID is filled per call with the session's organization once tenancy holds.
	permission *rbac.Check
}

// needsRequest reports whether deciding needs the request message.
func (r *rule) needsRequest() bool {
	return len(r.credFields) > 0 || r.orgField != nil || r.userField != nil
}

// ErrInvalidRule is wrapped by New's error when an access rule names a field that does not exist
// or cannot be enforced.
var ErrInvalidRule = errors.New("access: invalid access rule")

// loadRules reads the access rule of every authsvc RPC from its policy. An RPC without a policy
// fails here (policy.ErrInvalid), so authsvc does not start.
func loadRules(files *protoregistry.Files) (map[string]*rule, error) {
	rpcs, err := policy.Load(files)
	if err != nil {
		return nil, err //nolint:wrapcheck // policy's errors name the RPC
	}
	rules := make(map[string]*rule, len(rpcs))
	var errs []error
	for _, r := range rpcs {
		cr, err := compileRule(r.Method, r.Policy.GetAccess())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rules[cr.fullMethod] = cr
	}
	return rules, errors.Join(errs...)
}

func compileRule(md protoreflect.MethodDescriptor, ar *accessv1.AccessRule) (*rule, error) {
	r := &rule{fullMethod: policy.FullMethod(md), input: md.Input().FullName()}
	r.public = ar.GetPublic()
	r.member = ar.GetMemberSession()
	r.user = ar.GetUserSession()
	if r.member && r.user {
		// A session credential is checked against one project's keys; which one is decided by the
		// rule, so a rule cannot name both.
		return nil, fmt.Errorf("%w: %s: member_session and user_session cannot both be set", ErrInvalidRule, r.fullMethod)
	}
	r.roles = ar.GetMemberRoles()
	r.scopes = ar.GetServiceScopes()
	fields := md.Input().Fields()
	for _, name := range ar.GetCredentialFields() {
		fd := fields.ByName(protoreflect.Name(name))
		if fd == nil {
			return nil, fmt.Errorf("%w: %s: credential field %q is not in %s", ErrInvalidRule, r.fullMethod, name, r.input)
		}
		r.credFields = append(r.credFields, fd)
	}
	if name := ar.GetMemberOrganizationField(); name != "" {
		fd := fields.ByName(protoreflect.Name(name))
		if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsMap() {
			return nil, fmt.Errorf("%w: %s: member_organization_field %q is not a string field of %s", ErrInvalidRule, r.fullMethod, name, r.input)
		}
		r.orgField = fd
	}
	if name := ar.GetUserField(); name != "" {
		fd := fields.ByName(protoreflect.Name(name))
		if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() || fd.IsMap() {
			return nil, fmt.Errorf("%w: %s: user_field %q is not a string field of %s", ErrInvalidRule, r.fullMethod, name, r.input)
		}
		r.userField = fd
	}
	if p := ar.GetPermission(); p != nil {
		switch {
		case p.GetResourceId() == "" || p.GetAction() == "":
			return nil, fmt.Errorf("%w: %s: permission needs both resource_id and action", ErrInvalidRule, r.fullMethod)
		case !r.member:
			return nil, fmt.Errorf("%w: %s: permission is only meaningful with member_session", ErrInvalidRule, r.fullMethod)
		case r.orgField == nil:
			// A role grants its permissions in the member's own organization only: without the
			// request's organization there is nothing to hold the grant to.
			return nil, fmt.Errorf("%w: %s: a rule with a permission must set member_organization_field", ErrInvalidRule, r.fullMethod)
		}
		r.permission = &rbac.Check{ResourceID: p.GetResourceId(), Action: p.GetAction()}
	}
	// A stream's request messages arrive after the call is admitted, so a rule that looks into the
	// request cannot be enforced on one; refuse to start rather than enforce half a rule.
	if (md.IsStreamingClient() || md.IsStreamingServer()) && r.needsRequest() {
		return nil, fmt.Errorf("%w: %s: streaming RPCs cannot use credential_fields, member_organization_field or user_field", ErrInvalidRule, r.fullMethod)
	}
	return r, nil
}

// credentialInRequest reports whether the request sets one of the rule's credential fields.
func (r *rule) credentialInRequest(m protoreflect.Message) bool {
	for _, fd := range r.credFields {
		if m.Has(fd) {
			return true
		}
	}
	return false
}

// organizationsMatch reports whether every organization the request names is org. IDs compare in
// any letter case, as Stytch resolves them (admission keys them the same way); a slug or external
// ID does not match, since only Stytch could resolve it. A request that names none does not match:
// the tenancy check must never pass vacuously.
func (r *rule) organizationsMatch(m protoreflect.Message, org string) bool {
	if org == "" {
		return false
	}
	v := m.Get(r.orgField)
	if !r.orgField.IsList() {
		return strings.EqualFold(v.String(), org)
	}
	l := v.List()
	if l.Len() == 0 {
		return false
	}
	for i := range l.Len() {
		if !strings.EqualFold(l.Get(i).String(), org) {
			return false
		}
	}
	return true
}

// userMatches reports whether the request acts on user: its user field is empty (the handler then
// acts on the session's own user) or names user, in any letter case as Stytch compares user IDs.
func (r *rule) userMatches(m protoreflect.Message, user string) bool {
	v := m.Get(r.userField).String()
	return v == "" || user != "" && strings.EqualFold(v, user)
}
