package admission

import (
	"errors"
	"fmt"

	accessv1 "github.com/authsvc/authsvc/gen/go/authsvc/access/v1"
	"github.com/authsvc/authsvc/internal/policy"
)

// DefaultTable is authsvc's admission table: the budgets, idempotency and exemptions every authsvc
// RPC linked into the binary declares in its policy (the authsvc.access.v1.policy option). It fails
// when an RPC has no policy.
func DefaultTable() (Table, error) {
	rpcs, err := policy.Load(nil)
	if err != nil {
		return nil, err //nolint:wrapcheck // policy's errors name the RPC
	}
	return TableFromPolicy(rpcs)
}

// TableFromPolicy turns the RPCs' policies into admission rules. New checks the result against
// the admission policy (every limit exists) and the request messages (every field exists).
func TableFromPolicy(rpcs []policy.RPC) (Table, error) {
	t := make(Table, len(rpcs))
	var errs []error
	for _, r := range rpcs {
		p := r.Policy
		rule := Rule{Idempotent: p.GetIdempotent(), Exempt: p.GetUnlimitedBecause()}
		for _, b := range p.GetBudgets() {
			key, err := keyOf(b.GetKey())
			if err != nil {
				errs = append(errs, fmt.Errorf("admission: %s: %s: %w", r.FullMethod, b.GetLimit(), err))
				continue
			}
			if len(b.GetOrKey()) > 0 {
				or, err := keyOf(b.GetOrKey())
				if err != nil {
					errs = append(errs, fmt.Errorf("admission: %s: %s: or_key: %w", r.FullMethod, b.GetLimit(), err))
					continue
				}
				key = key.Or(or)
			}
			rule.Limits = append(rule.Limits, Apply{Limit: b.GetLimit(), Key: key, After: b.GetCountAfter()})
		}
		t[r.FullMethod] = rule
	}
	return t, errors.Join(errs...)
}

// keyOf joins the key parts a budget names.
func keyOf(parts []*accessv1.KeyPart) (Key, error) {
	var k Key
	for i, kp := range parts {
		var part Key
		switch p := kp.GetPart().(type) {
		case *accessv1.KeyPart_Ip:
			part = ByIP()
		case *accessv1.KeyPart_Caller:
			part = ByCaller()
		case *accessv1.KeyPart_Field:
			part = ByField(p.Field)
		case *accessv1.KeyPart_EmailField:
			part = ByEmail(p.EmailField)
		case *accessv1.KeyPart_PhoneField:
			part = ByPhone(p.PhoneField)
		case *accessv1.KeyPart_PhonePrefixField:
			part = ByPhonePrefix(p.PhonePrefixField)
		case *accessv1.KeyPart_OrganizationField:
			part = ByOrganization(p.OrganizationField)
		case *accessv1.KeyPart_Member:
			part = ByMember(p.Member.GetOrganizationField(), p.Member.GetField())
		case *accessv1.KeyPart_UserField:
			part = ByUser(p.UserField)
		default:
			return Key{}, errors.New("a key part with no kind")
		}
		if i == 0 {
			k = part
		} else {
			k = k.And(part)
		}
	}
	return k, nil
}
