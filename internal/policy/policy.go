// Package policy reads each authsvc RPC's policy: the authsvc.access.v1.policy method option that
// declares, in the proto, who may call the RPC, which admission budgets a call spends, whether it
// honours an idempotency key and whether a client may retry it.
//
// The layers that enforce a policy read it through Load, at construction: internal/access (the
// access rule), internal/admission (budgets, idempotency), the Go client (retries). Load fails on
// an RPC without a policy, so authsvc refuses to start rather than serve an RPC nobody decided
// about. Markdown renders the same policies as docs/access.md (make generate).
package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	accessv1 "github.com/authsvc/authsvc/gen/go/authsvc/access/v1"
)

// ServicePrefix starts the full name of every service whose RPCs must carry a policy.
const ServicePrefix = "authsvc."

// RPC is one RPC and its policy.
type RPC struct {
	// FullMethod is the gRPC method name, "/authsvc.b2b.v1.SessionsService/Get".
	FullMethod string
	Method     protoreflect.MethodDescriptor
	Policy     *accessv1.Policy
}

// ErrInvalid is wrapped by Load's error when a policy is missing or incomplete.
var ErrInvalid = errors.New("policy: invalid RPC policy")

// Of returns md's policy, or nil when it has none.
func Of(md protoreflect.MethodDescriptor) *accessv1.Policy {
	opts := md.Options()
	if opts == nil || !proto.HasExtension(opts, accessv1.E_Policy) {
		return nil
	}
	p, _ := proto.GetExtension(opts, accessv1.E_Policy).(*accessv1.Policy)
	return p
}

// FullMethod returns the gRPC method name of md ("/pkg.Service/Method").
func FullMethod(md protoreflect.MethodDescriptor) string {
	return "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
}

// Load returns the policy of every RPC of every service in files whose full name starts with
// ServicePrefix, sorted by method name. Every such RPC must have a policy with an access rule,
// and budgets or a written reason for having none; otherwise Load fails naming each RPC, and the
// binary must not start.
func Load(files *protoregistry.Files) ([]RPC, error) {
	if files == nil {
		files = protoregistry.GlobalFiles
	}
	var out []RPC
	var errs []error
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		svcs := fd.Services()
		for i := range svcs.Len() {
			sd := svcs.Get(i)
			if !strings.HasPrefix(string(sd.FullName()), ServicePrefix) {
				continue
			}
			ms := sd.Methods()
			for j := range ms.Len() {
				md := ms.Get(j)
				r := RPC{FullMethod: FullMethod(md), Method: md, Policy: Of(md)}
				if err := check(r); err != nil {
					errs = append(errs, err)
					continue
				}
				out = append(out, r)
			}
		}
		return true
	})
	slices.SortFunc(out, func(a, b RPC) int { return strings.Compare(a.FullMethod, b.FullMethod) })
	return out, errors.Join(errs...)
}

func check(r RPC) error {
	p := r.Policy
	switch {
	case p == nil:
		return fmt.Errorf("%w: %s has no authsvc.access.v1.policy option", ErrInvalid, r.FullMethod)
	case p.GetAccess() == nil:
		return fmt.Errorf("%w: %s: the policy has no access rule", ErrInvalid, r.FullMethod)
	case len(p.GetBudgets()) == 0 && p.GetUnlimitedBecause() == "":
		return fmt.Errorf("%w: %s: the policy has neither budgets nor unlimited_because", ErrInvalid, r.FullMethod)
	case len(p.GetBudgets()) > 0 && p.GetUnlimitedBecause() != "":
		return fmt.Errorf("%w: %s: the policy has both budgets and unlimited_because", ErrInvalid, r.FullMethod)
	}
	for _, b := range p.GetBudgets() {
		if b.GetLimit() == "" || len(b.GetKey()) == 0 {
			return fmt.Errorf("%w: %s: a budget needs a limit and a key", ErrInvalid, r.FullMethod)
		}
	}
	return nil
}

// Retried returns the RPCs a client may retry on UNAVAILABLE ("package.Service/Method", without
// the leading slash, as gRPC service configs name them) with the reason each is safe to repeat.
func Retried(rpcs []RPC) map[string]string {
	out := map[string]string{}
	for _, r := range rpcs {
		if why := r.Policy.GetRetrySafeBecause(); why != "" {
			out[strings.TrimPrefix(r.FullMethod, "/")] = why
		}
	}
	return out
}
