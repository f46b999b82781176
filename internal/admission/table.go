package admission

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Rule is what admission control does for one RPC.
type Rule struct {
	// Limits are the budgets the call spends, in order. Put the widest key (the IP) first: a call
	// refused by an earlier limit does not spend the later ones, so a blocked IP cannot exhaust a
	// victim's per-email budget.
	Limits []Apply
	// Idempotent: the RPC has a side effect (an email, an SMS, a created resource) and honours an
	// idempotency-key (see internal/idempotency). Whether its response carries a secret, and so
	// may only be stored encrypted, is not declared here: internal/idempotency reads it from the
	// response type's debug_redact fields.
	Idempotent bool
	// Exempt says why an RPC has no limits. A rule has Limits or Exempt, never neither, so that
	// every RPC's absence of limits is a decision someone wrote down.
	Exempt string
}

// Apply is one limit applied to a key taken from the call.
type Apply struct {
	Limit string
	Key   Key
	// After, for a failure budget, counts failures after the call instead of reserving an
	// attempt before it. Reserving is strict (concurrent guesses cannot overrun the budget) but
	// refuses legitimate concurrency beyond the budget; use After where concurrent identical calls
	// are normal and the secret is not guessable (an M2M client secret), or for coarse per-IP
	// brakes.
	After bool
}

// Key says where a limit's key comes from. Parts are joined; Or is used when a part is empty.
//
// A budget must not be escapable by spelling its target differently, so every part is canonical:
// an organization is the ID Stytch resolves it to (ByOrganization), a member its lower-case member
// ID (ByMember), a consumer user its lower-case user ID (ByUser), an email address is normalized
// (ByEmail), a phone number is its digits (ByPhone).
// ByField takes a value as it is: use it only for values Stytch itself compares exactly.
type Key struct {
	parts []keyPart
	or    *Key
}

type partKind int

const (
	partIP partKind = iota + 1
	partCaller
	partField
	partEmail
	partPhone
	partPhonePrefix
	partOrganization
	partMember
	partUser
)

type keyPart struct {
	kind  partKind
	field protoreflect.Name
	// org is the organization field a member part is resolved in.
	org protoreflect.Name
}

// callInfo is what a key may be taken from besides the request.
type callInfo struct {
	ip           netip.Addr
	caller       string
	prefixDigits int
	// ids resolves organization and member references that are not IDs; nil: no lookups, such
	// references key by their fallback (see Resolver).
	ids *Resolver
}

// ByIP keys by the client IP (see ClientIP).
func ByIP() Key { return Key{parts: []keyPart{{kind: partIP}}} }

// ByCaller keys by the authenticated caller; calls without one skip the limit.
func ByCaller() Key { return Key{parts: []keyPart{{kind: partCaller}}} }

// ByField keys by a string field of the request, as is. Not for organization or member
// references: Stytch resolves those in several spellings (ByOrganization, ByMember).
func ByField(name string) Key {
	return Key{parts: []keyPart{{kind: partField, field: protoreflect.Name(name)}}}
}

// ByEmail keys by an email address field, normalized so that case and +tags do not make a new
// budget (a+1@x and A@X reach the same mailbox).
func ByEmail(name string) Key {
	return Key{parts: []keyPart{{kind: partEmail, field: protoreflect.Name(name)}}}
}

// ByOrganization keys by an organization reference field (Stytch takes an organization ID in any
// letter case, its slug or its external ID) as the one organization it names: the lower-cased ID,
// or what the Resolver finds for a slug or external ID (see Resolver for when it cannot).
func ByOrganization(field string) Key {
	return Key{parts: []keyPart{{kind: partOrganization, field: protoreflect.Name(field)}}}
}

// ByMember keys by the member a member reference field names (a member ID in any letter case, or
// the member's external ID within the organization orgField names): its lower-case member ID.
// Member IDs are unique across organizations, so the organization's spelling does not matter.
func ByMember(orgField, memberField string) Key {
	return Key{parts: []keyPart{{kind: partMember, field: protoreflect.Name(memberField), org: protoreflect.Name(orgField)}}}
}

// ByUser keys by a consumer user ID field, lower-cased: Stytch takes a user ID in any letter case,
// so every spelling of one user is one budget. (A user's own calls are keyed by ByCaller, whose
// caller names the user by the ID in the verified session.)
func ByUser(field string) Key {
	return Key{parts: []keyPart{{kind: partUser, field: protoreflect.Name(field)}}}
}

// ByPhone keys by an E.164 phone number field (digits only).
func ByPhone(name string) Key {
	return Key{parts: []keyPart{{kind: partPhone, field: protoreflect.Name(name)}}}
}

// ByPhonePrefix keys by the first Policy.PhonePrefixDigits digits of an E.164 phone number field.
func ByPhonePrefix(name string) Key {
	return Key{parts: []keyPart{{kind: partPhonePrefix, field: protoreflect.Name(name)}}}
}

// And keys by both: the limit applies to the pair (skipped when either is empty).
func (k Key) And(o Key) Key {
	return Key{parts: append(append([]keyPart(nil), k.parts...), o.parts...), or: k.or}
}

// Or uses o when k is empty (e.g. the phone number, else the member it would be sent to).
func (k Key) Or(o Key) Key { k.or = &o; return k }

// extract returns the key's value for a call, or false when the call has none. It may ask Stytch
// (through ci.ids) what an organization or member reference names; admit extracts each limit's key
// only when the limits before it have admitted the call.
func (k *Key) extract(ctx context.Context, msg protoreflect.Message, ci *callInfo) (string, bool) {
	var b strings.Builder
	for i, p := range k.parts {
		v := p.value(ctx, msg, ci)
		if v == "" {
			if k.or != nil {
				return k.or.extract(ctx, msg, ci)
			}
			return "", false
		}
		if i > 0 {
			b.WriteByte(0) // a separator no field value contains
		}
		b.WriteString(v)
	}
	return b.String(), true
}

func (p keyPart) value(ctx context.Context, msg protoreflect.Message, ci *callInfo) string {
	switch p.kind {
	case partIP:
		return ipKey(ci.ip)
	case partCaller:
		return ci.caller
	}
	v := field(msg, p.field)
	if v == "" {
		return ""
	}
	switch p.kind {
	case partEmail:
		return normalizeEmail(v)
	case partPhone:
		return phoneDigits(v)
	case partPhonePrefix:
		d := phoneDigits(v)
		if len(d) > ci.prefixDigits {
			d = d[:ci.prefixDigits]
		}
		return d
	case partOrganization:
		org, _ := ci.ids.Organization(ctx, v)
		return org
	case partMember:
		return ci.ids.Member(ctx, field(msg, p.org), v)
	case partUser:
		return strings.ToLower(v)
	default:
		return v
	}
}

// field returns a string field of msg, "" when msg is nil or the field is unset.
func field(msg protoreflect.Message, name protoreflect.Name) string {
	if msg == nil {
		return ""
	}
	fd := msg.Descriptor().Fields().ByName(name)
	if fd == nil || !msg.Has(fd) {
		return ""
	}
	return msg.Get(fd).String()
}

// check verifies that every field the key names is a string field of in.
func (k *Key) check(in protoreflect.MessageDescriptor) error {
	for _, p := range k.parts {
		if p.kind == partIP || p.kind == partCaller {
			continue
		}
		names := []protoreflect.Name{p.field}
		if p.kind == partMember {
			names = append(names, p.org)
		}
		for _, name := range names {
			fd := in.Fields().ByName(name)
			if fd == nil {
				return fmt.Errorf("%s has no field %q", in.FullName(), name)
			}
			if fd.Kind() != protoreflect.StringKind || fd.IsList() || fd.IsMap() {
				return fmt.Errorf("%s.%s is not a singular string", in.FullName(), name)
			}
		}
	}
	if k.or != nil {
		return k.or.check(in)
	}
	return nil
}

// ipKey is the unit an IP is limited by: the address for IPv4, the /64 for IPv6 (one subscriber
// usually holds a whole /64, so per-address limits would be no limits).
func ipKey(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	if ip.Is4() || ip.Is4In6() {
		return ip.Unmap().String()
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return ip.String()
	}
	return p.String()
}

func normalizeEmail(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	local, domain, ok := strings.Cut(v, "@")
	if !ok {
		return v
	}
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	return local + "@" + domain
}

func phoneDigits(v string) string {
	var b strings.Builder
	for _, r := range v {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Table maps full gRPC method names ("/authsvc.b2b.v1.OTPsService/SmsSend") to their rules.
type Table map[string]Rule

// Idempotent reports whether the RPC honours idempotency keys.
func (t Table) Idempotent(fullMethod string) bool { return t[fullMethod].Idempotent }

// compiledRule is a Rule checked against its request message.
type compiledRule struct {
	limits     []Apply
	idempotent bool
}

// compile checks every rule against the proto registry: the method exists, its request has the
// fields the keys name, and every limit exists in the policy.
func (t Table) compile(p Policy) (map[string]compiledRule, error) {
	out := make(map[string]compiledRule, len(t))
	for method, r := range t {
		in, err := inputOf(method)
		if err != nil {
			return nil, err
		}
		if len(r.Limits) == 0 && r.Exempt == "" {
			return nil, fmt.Errorf("admission: %s has neither limits nor a written exemption", method)
		}
		for _, a := range r.Limits {
			if _, ok := p.rate(a.Limit); !ok {
				if _, ok := p.failures(a.Limit); !ok {
					return nil, fmt.Errorf("admission: %s: unknown limit %q", method, a.Limit)
				}
			}
			if err := a.Key.check(in); err != nil {
				return nil, fmt.Errorf("admission: %s: %s: %w", method, a.Limit, err)
			}
		}
		out[method] = compiledRule{limits: r.Limits, idempotent: r.Idempotent}
	}
	return out, nil
}

// inputOf finds a method's request message in the global proto registry.
func inputOf(fullMethod string) (protoreflect.MessageDescriptor, error) {
	svc, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return nil, fmt.Errorf("admission: %q is not /package.Service/Method", fullMethod)
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil, fmt.Errorf("admission: %s: unknown service: %w", fullMethod, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("admission: %s is not a service", svc)
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return nil, fmt.Errorf("admission: %s: no such method", fullMethod)
	}
	return md.Input(), nil
}
