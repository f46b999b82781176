package session

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"

	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// Policies gives the RBAC policy that decides for a session of an
// organization holding roles (*stytchclient.PolicyCache: cached, fetched
// again when a role is unknown to it).
type Policies interface {
	For(ctx context.Context, organizationID string, roles []string) (*rbac.Policy, error)
}

// authorizeLocally decides a B2B authorization check on a verified session
// JWT exactly as Stytch's sessions/authenticate does (internal/rbac is the
// one decision function, shared with the emulator): the check's organization
// must be the session's, and a role of the session (the JWT's roles claim:
// explicit and implicit assignments alike) must grant the action, or "*", on
// the resource. A refusal is PERMISSION_DENIED with Stytch's error type as
// the ErrorInfo reason in Stytch's domain, as a refusal by Stytch is.
// decided is false when no policy could be had: the caller asks Stytch.
func (c *Checker) authorizeLocally(ctx context.Context, res *Result, ac *stytchclient.AuthorizationCheck) (decided bool, err error) {
	s := &res.Session
	check := rbac.Check{OrganizationID: ac.OrganizationID, ResourceID: ac.ResourceID, Action: ac.Action}
	if check.OrganizationID != s.OrganizationID {
		// Tenancy needs no policy.
		return true, authorizationError(rbac.ReasonTenancy)
	}
	pol, err := c.policies.For(ctx, s.OrganizationID, s.Roles)
	if err != nil {
		return false, nil //nolint:nilerr // no policy: Stytch decides instead
	}
	d, err := pol.Authorize(s.OrganizationID, s.Roles, check)
	if err != nil {
		var re *rbac.Error
		if errors.As(err, &re) {
			return true, authorizationError(re.Reason)
		}
		return true, err //nolint:wrapcheck // rbac returns only *rbac.Error
	}
	res.Verdict = &stytchclient.AuthorizationVerdict{Authorized: true, GrantingRoles: d.GrantingRoles}
	return true, nil
}

// authorizationError is the refusal of an authorization check, with the
// messages authsvc gives Stytch's two error types (internal/stytchclient's
// status table).
func authorizationError(reason string) error {
	msg := "the session is not authorized to perform this action"
	if reason == rbac.ReasonTenancy {
		msg = "the member session belongs to another organization"
	}
	return &rpcerr.Error{Code: codes.PermissionDenied, Reason: reason, Domain: stytchclient.DomainStytch, Message: msg}
}

// reasonAuthorization is Result.Reason of a locally refused check.
func reasonAuthorization(err error) string {
	var e *rpcerr.Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return "authorization_error"
}
