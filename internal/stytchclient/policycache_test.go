package stytchclient_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// fakePolicies is a policy source whose answers a test changes, counting fetches.
type fakePolicies struct {
	mu       sync.Mutex
	custom   []rbac.Role
	orgRoles map[string][]rbac.Role
	fail     bool
	block    chan struct{} // when set, fetches wait for it
	project  atomic.Int32
	org      atomic.Int32
}

func (f *fakePolicies) source() stytchclient.PolicySource {
	return stytchclient.PolicySource{
		Project: func(context.Context) (rbac.Document, error) {
			f.project.Add(1)
			if f.block != nil {
				<-f.block
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.fail {
				return rbac.Document{}, errors.New("stytch is down")
			}
			doc := rbac.Defaults()
			doc.Resources = append(doc.Resources, rbac.Resource{ResourceID: "invoices", Actions: []string{"read", "write"}})
			doc.Roles = append(doc.Roles, f.custom...)
			return doc, nil
		},
		Org: func(_ context.Context, org string) ([]rbac.Role, error) {
			f.org.Add(1)
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.orgRoles[org], nil
		},
	}
}

func (f *fakePolicies) set(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var billingAdmin = rbac.Role{RoleID: "billing_admin", Permissions: []rbac.Permission{{ResourceID: "invoices", Actions: []string{"read", "write"}}}}

func newCache(t *testing.T, f *fakePolicies, clk *fakeClock) *stytchclient.PolicyCache {
	t.Helper()
	pc, err := stytchclient.NewPolicyCache(stytchclient.PolicyCacheConfig{Source: f.source(), Now: clk.now})
	require.NoError(t, err)
	return pc
}

func TestPolicyCacheSharesOneFetch(t *testing.T) {
	f := &fakePolicies{block: make(chan struct{})}
	pc := newCache(t, f, &fakeClock{t: time.Unix(1e9, 0)})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			p, err := pc.Policy(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			assert.True(t, p.HasRole(rbac.RoleAdmin))
		})
	}
	require.Eventually(t, func() bool { return f.project.Load() == 1 }, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let the other callers join the fetch
	close(f.block)
	wg.Wait()
	assert.Equal(t, int32(1), f.project.Load(), "concurrent misses fetched more than once")
	_, err := pc.Policy(t.Context())
	require.NoError(t, err)
	assert.Equal(t, int32(1), f.project.Load(), "a cached policy was fetched again")
}

func TestPolicyCacheUnknownRoleRefreshes(t *testing.T) {
	f := &fakePolicies{}
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	pc := newCache(t, f, clk)
	p, err := pc.For(t.Context(), "org-1", []string{"stytch_member"})
	require.NoError(t, err)
	assert.False(t, p.HasRole("billing_admin"))

	// The role is added to the project's policy; a JWT naming it makes the cache fetch again
	// (once MinInterval has passed since the last fetch).
	f.set(func() { f.custom = []rbac.Role{billingAdmin} })
	clk.advance(11 * time.Second)
	p, err = pc.For(t.Context(), "org-1", []string{"stytch_member", "billing_admin"})
	require.NoError(t, err)
	assert.True(t, p.Allowed([]string{"billing_admin"}, "invoices", "write"))
	assert.Equal(t, int32(2), f.project.Load())
	assert.Equal(t, int32(0), f.org.Load(), "the organization was asked for a role the project defines")
}

func TestPolicyCacheUnknownRolesAreRateLimited(t *testing.T) {
	f := &fakePolicies{}
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	pc := newCache(t, f, clk)
	for range 50 {
		p, err := pc.For(t.Context(), "org-1", []string{"made_up"})
		require.NoError(t, err)
		assert.False(t, p.Allowed([]string{"made_up"}, "invoices", "read"))
	}
	assert.Equal(t, int32(1), f.project.Load(), "made-up roles caused project fetches")
	assert.Equal(t, int32(1), f.org.Load(), "made-up roles caused organization fetches")
}

func TestPolicyCacheOrganizationRoles(t *testing.T) {
	f := &fakePolicies{orgRoles: map[string][]rbac.Role{"org-1": {{RoleID: "acme_reader", Permissions: []rbac.Permission{{ResourceID: "invoices", Actions: []string{"read"}}}}}}}
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	pc := newCache(t, f, clk)
	p, err := pc.For(t.Context(), "org-1", []string{"stytch_member", "acme_reader"})
	require.NoError(t, err)
	assert.True(t, p.Allowed([]string{"acme_reader"}, "invoices", "read"))
	// Cached: no more fetches for that organization.
	for range 5 {
		_, err = pc.For(t.Context(), "org-1", []string{"acme_reader"})
		require.NoError(t, err)
	}
	assert.Equal(t, int32(1), f.org.Load())
	// Another organization's members do not get the role.
	p, err = pc.For(t.Context(), "org-2", []string{"acme_reader"})
	require.NoError(t, err)
	assert.False(t, p.Allowed([]string{"acme_reader"}, "invoices", "read"))
}

func TestPolicyCacheRefreshesInBackgroundAndSurvivesOutages(t *testing.T) {
	f := &fakePolicies{}
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	pc := newCache(t, f, clk)
	_, err := pc.Policy(t.Context())
	require.NoError(t, err)

	f.set(func() { f.custom = []rbac.Role{billingAdmin} })
	clk.advance(5 * time.Minute)
	p, err := pc.Policy(t.Context())
	require.NoError(t, err)
	assert.False(t, p.HasRole("billing_admin"), "a stale policy should answer while the refresh runs")
	require.Eventually(t, func() bool {
		p, _ := pc.Policy(t.Context())
		return p.HasRole("billing_admin")
	}, time.Second, time.Millisecond)

	// Stytch down: the cached policy keeps answering.
	f.set(func() { f.fail = true })
	clk.advance(5 * time.Minute)
	_, _ = pc.Policy(t.Context())
	require.Eventually(t, func() bool { return f.project.Load() == 3 }, time.Second, time.Millisecond)
	p, err = pc.Policy(t.Context())
	require.NoError(t, err)
	assert.True(t, p.HasRole("billing_admin"))

	// No policy at all and Stytch down: an error.
	empty := newCache(t, &fakePolicies{fail: true}, clk)
	_, err = empty.Policy(t.Context())
	require.Error(t, err)
}

func TestRBACEndpoints(t *testing.T) {
	emu := testkit.Emulator(t, stytchemu.WithStartTime(testStart), stytchemu.WithRBACPolicy(rbac.Example()))
	h := newHarnessFor(t, emu, emu.URL)
	ctx := t.Context()
	res, err := h.client.RBACPolicy(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, res.RequestID)
	p := rbac.New(res.Policy)
	assert.True(t, p.Allowed([]string{"billing_admin"}, "invoices", "write"))
	assert.True(t, p.Allowed([]string{rbac.RoleAdmin}, rbac.ResourceMember, "delete"))

	org, err := emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Acme"})
	require.NoError(t, err)
	orgRes, err := h.client.RBACOrgPolicy(ctx, org.ID)
	require.NoError(t, err)
	assert.Empty(t, orgRes.OrgPolicy.Roles)
	_, err = h.client.RBACOrgPolicy(ctx, "organization-test-nope")
	assert.Equal(t, "organization_not_found", stytchclient.ErrorType(err))

	pc, err := stytchclient.NewPolicyCache(stytchclient.PolicyCacheConfig{Source: h.client.PolicySource()})
	require.NoError(t, err)
	cached, err := pc.For(ctx, org.ID, []string{"stytch_member", "finance"})
	require.NoError(t, err)
	d, err := cached.Authorize(org.ID, []string{"stytch_member", "finance"}, rbac.Check{OrganizationID: org.ID, ResourceID: "invoices", Action: "void"})
	require.NoError(t, err)
	assert.Equal(t, []string{"finance"}, d.GrantingRoles)
}
