package stytchclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/authsvc/authsvc/internal/rbac"
)

// PolicySource fetches what a [PolicyCache] caches: the project's policy,
// and an organization's custom roles (nil Org: organizations have none).
// [Client.PolicySource] is Stytch's; client/authn's is authsvc's
// RBACService.GetPolicy.
type PolicySource struct {
	Project func(ctx context.Context) (rbac.Document, error)
	Org     func(ctx context.Context, organizationID string) ([]rbac.Role, error)
}

// PolicySource is the source of a PolicyCache that asks Stytch.
func (c *Client) PolicySource() PolicySource {
	return PolicySource{
		Project: func(ctx context.Context) (rbac.Document, error) {
			r, err := c.RBACPolicy(ctx)
			if err != nil {
				return rbac.Document{}, err
			}
			return r.Policy, nil
		},
		Org: func(ctx context.Context, org string) ([]rbac.Role, error) {
			r, err := c.RBACOrgPolicy(ctx, org)
			if err != nil {
				return nil, err
			}
			return r.OrgPolicy.Roles, nil
		},
	}
}

// PolicyCacheConfig configures [NewPolicyCache].
type PolicyCacheConfig struct {
	Source PolicySource
	// MaxAge is how long a fetched policy is used before it is fetched again
	// (in the background: the stale policy answers meanwhile). Zero: 5
	// minutes, as Stytch's SDKs do.
	MaxAge time.Duration
	// MinInterval is the least time between two fetches caused by a session
	// naming a role the cached policy does not define, so that JWTs naming
	// made-up roles cannot make every check a call. Zero: 10 seconds.
	MinInterval time.Duration
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// PolicyCache caches a project's RBAC policy and its organizations' custom
// roles. Concurrent misses share one fetch (singleflight). It is safe for
// concurrent use; it starts no goroutine except a refresh it needs.
type PolicyCache struct {
	src         PolicySource
	maxAge      time.Duration
	minInterval time.Duration
	now         func() time.Time
	group       singleflight.Group
	refreshing  atomic.Bool // a background refresh is running

	mu        sync.RWMutex
	policy    *rbac.Policy // nil until the first fetch
	fetchedAt time.Time
	orgs      map[string]orgRoles
}

type orgRoles struct {
	roles     []rbac.Role  // the organization's custom roles
	policy    *rbac.Policy // the project's policy with the organization's roles
	base      *rbac.Policy // the project policy it was built on
	fetchedAt time.Time
}

const (
	defaultPolicyMaxAge      = 5 * time.Minute
	defaultPolicyMinInterval = 10 * time.Second
	policyFetchTimeout       = 10 * time.Second
)

// NewPolicyCache builds a cache; it fetches nothing until asked.
func NewPolicyCache(cfg PolicyCacheConfig) (*PolicyCache, error) {
	if cfg.Source.Project == nil {
		return nil, errors.New("stytch: PolicyCacheConfig.Source.Project is required")
	}
	pc := &PolicyCache{src: cfg.Source, maxAge: cfg.MaxAge, minInterval: cfg.MinInterval, now: cfg.Now, orgs: map[string]orgRoles{}}
	if pc.maxAge <= 0 {
		pc.maxAge = defaultPolicyMaxAge
	}
	if pc.minInterval <= 0 {
		pc.minInterval = defaultPolicyMinInterval
	}
	if pc.now == nil {
		pc.now = time.Now
	}
	return pc, nil
}

// Policy returns the project's policy: the cached one (refreshed in the
// background once older than MaxAge), or a fresh one when none is cached.
func (pc *PolicyCache) Policy(ctx context.Context) (*rbac.Policy, error) {
	pc.mu.RLock()
	p, at := pc.policy, pc.fetchedAt
	pc.mu.RUnlock()
	if p == nil {
		return pc.refresh(ctx)
	}
	if pc.now().Sub(at) >= pc.maxAge && pc.refreshing.CompareAndSwap(false, true) {
		// Detached from the request: its end must not cancel the shared fetch.
		go func() {
			defer pc.refreshing.Store(false)
			_, _ = pc.refresh(context.WithoutCancel(ctx))
		}()
	}
	return p, nil
}

// For returns the policy that decides for a session of organizationID
// holding roles. When the project's policy does not define one of roles, it
// is fetched again (at most once per MinInterval), and then, when still
// unknown, the organization's custom roles are fetched and added (cached
// for MaxAge). Roles nobody defines stay unknown and grant nothing.
func (pc *PolicyCache) For(ctx context.Context, organizationID string, roles []string) (*rbac.Policy, error) {
	p, err := pc.Policy(ctx)
	if err != nil {
		return nil, err
	}
	if len(p.Unknown(roles)) == 0 {
		return p, nil
	}
	if o, ok := pc.org(organizationID, p); ok && len(o.Unknown(roles)) == 0 {
		return o, nil
	}
	pc.mu.RLock()
	recent := pc.now().Sub(pc.fetchedAt) < pc.minInterval
	pc.mu.RUnlock()
	if !recent {
		if p, err = pc.refresh(ctx); err != nil {
			return nil, err
		}
		if len(p.Unknown(roles)) == 0 {
			return p, nil
		}
	}
	return pc.withOrg(ctx, organizationID, p)
}

// org is the cached policy of organizationID, if it was built on base and is
// no older than MaxAge.
func (pc *PolicyCache) org(organizationID string, base *rbac.Policy) (*rbac.Policy, bool) {
	pc.mu.RLock()
	defer pc.mu.RUnlock()
	o, ok := pc.orgs[organizationID]
	if !ok || o.base != base || pc.now().Sub(o.fetchedAt) >= pc.maxAge {
		return nil, false
	}
	return o.policy, true
}

// withOrg is base with organizationID's custom roles, fetched unless they
// were fetched less than MinInterval ago.
func (pc *PolicyCache) withOrg(ctx context.Context, organizationID string, base *rbac.Policy) (*rbac.Policy, error) {
	if pc.src.Org == nil || organizationID == "" {
		return base, nil
	}
	pc.mu.RLock()
	o, ok := pc.orgs[organizationID]
	pc.mu.RUnlock()
	if ok && o.base == base && pc.now().Sub(o.fetchedAt) < pc.minInterval {
		return o.policy, nil
	}
	o, err := pc.fetchOrg(ctx, organizationID, base)
	if err != nil {
		return nil, err
	}
	return o.policy, nil
}

// OrgRoles returns an organization's custom roles (cached for MaxAge).
func (pc *PolicyCache) OrgRoles(ctx context.Context, organizationID string) ([]rbac.Role, error) {
	if pc.src.Org == nil {
		return nil, nil
	}
	base, err := pc.Policy(ctx)
	if err != nil {
		return nil, err
	}
	pc.mu.RLock()
	o, ok := pc.orgs[organizationID]
	pc.mu.RUnlock()
	if !ok || pc.now().Sub(o.fetchedAt) >= pc.maxAge {
		if o, err = pc.fetchOrg(ctx, organizationID, base); err != nil {
			return nil, err
		}
	}
	return o.roles, nil
}

// fetchOrg fetches an organization's custom roles and caches them over
// base; concurrent fetches for one organization share one.
func (pc *PolicyCache) fetchOrg(ctx context.Context, organizationID string, base *rbac.Policy) (orgRoles, error) {
	v, err, _ := pc.group.Do("org\x00"+organizationID, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), policyFetchTimeout)
		defer cancel()
		roles, err := pc.src.Org(ctx, organizationID)
		if err != nil {
			return nil, fmt.Errorf("stytch: organization RBAC policy: %w", err)
		}
		o := orgRoles{roles: roles, policy: base.WithRoles(roles), base: base, fetchedAt: pc.now()}
		pc.mu.Lock()
		pc.orgs[organizationID] = o
		pc.mu.Unlock()
		return o, nil
	})
	if err != nil {
		return orgRoles{}, err //nolint:wrapcheck // wrapped inside
	}
	return v.(orgRoles), nil //nolint:forcetypeassert // the function above returns only orgRoles
}

// refresh fetches the project's policy; concurrent calls share one fetch. A
// failed fetch keeps the cached policy (returned with no error when there is
// one).
func (pc *PolicyCache) refresh(ctx context.Context) (*rbac.Policy, error) {
	v, err, _ := pc.group.Do("project", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), policyFetchTimeout)
		defer cancel()
		doc, err := pc.src.Project(ctx)
		pc.mu.Lock()
		defer pc.mu.Unlock()
		if err != nil {
			if pc.policy != nil {
				pc.fetchedAt = pc.now() // keep serving it; try again after MaxAge
				return pc.policy, nil
			}
			return nil, fmt.Errorf("stytch: RBAC policy: %w", err)
		}
		pc.policy, pc.fetchedAt = rbac.New(doc), pc.now()
		return pc.policy, nil
	})
	if err != nil {
		return nil, err //nolint:wrapcheck // wrapped inside
	}
	return v.(*rbac.Policy), nil //nolint:forcetypeassert // the function above returns only *rbac.Policy
}
