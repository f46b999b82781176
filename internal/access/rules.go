package access

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	accessv1 "github.com/authsvc/authsvc/gen/go/authsvc/access/v1"
)

// rule is one RPC's AccessRule, resolved against its request message once at construction so that
// no call pays for descriptor lookups.
type rule struct {
	fullMethod string // "/authsvc.b2b.v1.SessionsService/Get"
	input      protoreflect.FullName
	missing    bool // the RPC has no access option: a defect, denied

	public     bool
	member     bool
	roles      []string
	scopes     []string
	credFields []protoreflect.FieldDescriptor
	orgField   protoreflect.FieldDescriptor
}

// needsRequest reports whether deciding needs the request message.
func (r *rule) needsRequest() bool { return len(r.credFields) > 0 || r.orgField != nil }

// ErrInvalidRule is wrapped by New's error when an access option names a field that does not exist
// or cannot be enforced.
var ErrInvalidRule = errors.New("access: invalid access rule")

// loadRules reads the access option of every method of every service whose full name starts with
// one of prefixes.
func loadRules(files *protoregistry.Files, prefixes []string) (map[string]*rule, error) {
	rules := map[string]*rule{}
	var errs []error
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		svcs := fd.Services()
		for i := range svcs.Len() {
			sd := svcs.Get(i)
			if !hasPrefix(string(sd.FullName()), prefixes) {
				continue
			}
			ms := sd.Methods()
			for j := range ms.Len() {
				r, err := compileRule(ms.Get(j))
				if err != nil {
					errs = append(errs, err)
					continue
				}
				rules[r.fullMethod] = r
			}
		}
		return true
	})
	return rules, errors.Join(errs...)
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// FullMethod returns the gRPC method name of md ("/pkg.Service/Method").
func FullMethod(md protoreflect.MethodDescriptor) string {
	return "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
}

// RuleOf returns md's access rule, or nil when it has none.
func RuleOf(md protoreflect.MethodDescriptor) *accessv1.AccessRule {
	opts := md.Options()
	if opts == nil || !proto.HasExtension(opts, accessv1.E_Access) {
		return nil
	}
	r, _ := proto.GetExtension(opts, accessv1.E_Access).(*accessv1.AccessRule)
	return r
}

func compileRule(md protoreflect.MethodDescriptor) (*rule, error) {
	r := &rule{fullMethod: FullMethod(md), input: md.Input().FullName()}
	ar := RuleOf(md)
	if ar == nil {
		r.missing = true
		return r, nil
	}
	r.public = ar.GetPublic()
	r.member = ar.GetMemberSession()
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
	// A stream's request messages arrive after the call is admitted, so a rule that looks into the
	// request cannot be enforced on one; refuse to start rather than enforce half a rule.
	if (md.IsStreamingClient() || md.IsStreamingServer()) && r.needsRequest() {
		return nil, fmt.Errorf("%w: %s: streaming RPCs cannot use credential_fields or member_organization_field", ErrInvalidRule, r.fullMethod)
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

// organizationsMatch reports whether every organization the request names is org. A request that
// names none does not match: the tenancy check must never pass vacuously.
func (r *rule) organizationsMatch(m protoreflect.Message, org string) bool {
	if org == "" {
		return false
	}
	v := m.Get(r.orgField)
	if !r.orgField.IsList() {
		return v.String() == org
	}
	l := v.List()
	if l.Len() == 0 {
		return false
	}
	for i := range l.Len() {
		if l.Get(i).String() != org {
			return false
		}
	}
	return true
}
