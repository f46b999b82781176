package admission

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const (
	lookupOrg    = "GET /v1/b2b/organizations/{organization_id}"
	lookupMember = "GET /v1/b2b/organizations/{organization_id}/member"
)

var resolverSeq atomic.Int64

// resolverWorld is an emulator with one organization that has a slug and an external ID, a member
// with an external ID in it, and a Resolver asking the emulator through the real Stytch client on
// the emulator's clock.
type resolverWorld struct {
	emu              *stytchemu.Server
	ids              *Resolver
	orgID, slug, ext string
	memberID, memExt string
}

func newResolverWorld(t *testing.T, cfg ResolverConfig) *resolverWorld {
	t.Helper()
	emu, err := stytchemu.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = emu.Close() })
	sc, err := stytchclient.New(stytchclient.Config{
		ProjectID: emu.ProjectID(), Secret: emu.Secret(), BaseURL: emu.URL,
		Retry: stytchclient.RetryPolicy{MaxAttempts: 1},
	})
	require.NoError(t, err)
	n := resolverSeq.Add(1)
	w := &resolverWorld{emu: emu, slug: fmt.Sprintf("acme-%d", n), ext: fmt.Sprintf("crm|acme.%d", n), memExt: fmt.Sprintf("emp-%d", n)}
	res, err := sc.OrganizationCreate(t.Context(), stytchclient.OrganizationCreateParams{
		OrganizationName: fmt.Sprintf("Acme %d", n), OrganizationSlug: w.slug, OrganizationExternalID: w.ext,
	})
	require.NoError(t, err)
	w.orgID = res.Organization.OrganizationID
	m, err := emu.CreateMember(w.orgID, stytchemu.MemberParams{Email: fmt.Sprintf("dana-%d@example.com", n), ExternalID: w.memExt})
	require.NoError(t, err)
	w.memberID = m.ID
	cfg.Directory = sc
	cfg.Now = emu.Now
	w.ids, err = NewResolver(cfg)
	require.NoError(t, err)
	emu.ResetRequests()
	return w
}

// A slug or external ID is looked up once and then answered from the cache until its TTL; an ID in
// any letter case is never looked up.
func TestResolverCachesAnswers(t *testing.T) {
	w := newResolverWorld(t, ResolverConfig{TTL: 10 * time.Minute})
	ctx := t.Context()
	for _, ref := range []string{w.orgID, strings.ToUpper(w.orgID), w.slug, w.ext, w.slug, w.ext} {
		id, ok := w.ids.Organization(ctx, ref)
		assert.True(t, ok, ref)
		assert.Equal(t, w.orgID, id, ref)
	}
	assert.Equal(t, 2, w.emu.Requests(lookupOrg), "one lookup for the slug, one for the external ID")

	w.emu.Advance(10*time.Minute + time.Second)
	id, ok := w.ids.Organization(ctx, w.slug)
	assert.True(t, ok)
	assert.Equal(t, w.orgID, id)
	assert.Equal(t, 3, w.emu.Requests(lookupOrg), "an expired answer is looked up again")
}

// A reference Stytch does not know keys by its fallback, and asking again within NegativeTTL does
// not reach Stytch.
func TestResolverNegativeCache(t *testing.T) {
	w := newResolverWorld(t, ResolverConfig{NegativeTTL: time.Minute})
	ctx := t.Context()
	for range 5 {
		id, ok := w.ids.Organization(ctx, "No-Such-Org")
		assert.False(t, ok)
		assert.Equal(t, "?no-such-org", id, "the fallback still limits: the lower-cased value in its own namespace")
	}
	assert.Equal(t, 1, w.emu.Requests(lookupOrg))
	w.emu.Advance(time.Minute + time.Second)
	w.ids.Organization(ctx, "No-Such-Org")
	assert.Equal(t, 2, w.emu.Requests(lookupOrg), "the negative answer expires")
}

// Stytch failing (here a 503) is never "no limit": the reference keys by its fallback, the
// failure is cached like an unknown reference (no lookup storm while Stytch is down) and logged,
// and once Stytch answers again the reference resolves.
func TestResolverFallsBackWhenStytchFails(t *testing.T) {
	var logs bytes.Buffer
	w := newResolverWorld(t, ResolverConfig{NegativeTTL: time.Minute, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := t.Context()
	fault, err := w.emu.AddFault(stytchemu.Fault{Pattern: lookupOrg, Status: http.StatusServiceUnavailable})
	require.NoError(t, err)

	for range 3 {
		id, ok := w.ids.Organization(ctx, w.slug)
		assert.False(t, ok)
		assert.Equal(t, "?"+w.slug, id)
	}
	assert.Equal(t, 1, w.emu.Requests(lookupOrg))
	assert.Contains(t, logs.String(), "cannot resolve an organization or member reference")
	assert.NotContains(t, logs.String(), w.slug, "the reference is not logged")

	w.emu.RemoveFault(fault)
	w.emu.Advance(time.Minute + time.Second)
	id, ok := w.ids.Organization(ctx, w.slug)
	assert.True(t, ok)
	assert.Equal(t, w.orgID, id)
}

// Lookups are rate-limited per replica: beyond the burst a new reference keys by its fallback
// without reaching Stytch, and is not cached as unknown (it is looked up once the rate allows).
func TestResolverLookupRate(t *testing.T) {
	w := newResolverWorld(t, ResolverConfig{LookupsPerSecond: 1, LookupBurst: 2})
	ctx := t.Context()
	w.ids.Organization(ctx, "random-1")
	w.ids.Organization(ctx, "random-2")
	id, ok := w.ids.Organization(ctx, w.slug)
	assert.False(t, ok, "the lookup rate is spent")
	assert.Equal(t, "?"+w.slug, id)
	assert.Equal(t, 2, w.emu.Requests(lookupOrg))

	w.emu.Advance(time.Second)
	id, ok = w.ids.Organization(ctx, w.slug)
	assert.True(t, ok)
	assert.Equal(t, w.orgID, id)
}

// Values that cannot name an organization (not one path segment, only dots, too long) are never
// looked up; a nil Resolver looks nothing up and still canonicalises IDs.
func TestResolverLooksUpOnlyReferences(t *testing.T) {
	w := newResolverWorld(t, ResolverConfig{})
	ctx := t.Context()
	for _, ref := range []string{"", "..", "a/b", "a b", "%2e%2e", strings.Repeat("a", 129)} {
		id, ok := w.ids.Organization(ctx, ref)
		assert.False(t, ok, ref)
		assert.Equal(t, unresolved(ref), id)
	}
	assert.Zero(t, w.emu.Requests("*"))

	var none *Resolver
	id, ok := none.Organization(ctx, strings.ToUpper(w.orgID))
	assert.True(t, ok)
	assert.Equal(t, w.orgID, id)
	id, ok = none.Organization(ctx, w.slug)
	assert.False(t, ok)
	assert.Equal(t, "?"+w.slug, id)
	assert.Equal(t, strings.ToLower(w.memberID), none.Member(ctx, w.slug, strings.ToUpper(w.memberID)))
	assert.Zero(t, w.emu.Requests("*"))
}

// A member ID in any case is itself, whatever the organization's spelling, with no lookup; a
// member external ID is looked up once within its resolved organization; an external ID in an
// organization that did not resolve falls back without a member lookup.
func TestResolverMembers(t *testing.T) {
	w := newResolverWorld(t, ResolverConfig{})
	ctx := t.Context()
	for _, org := range []string{w.orgID, strings.ToUpper(w.orgID), "unknown-org"} {
		assert.Equal(t, w.memberID, w.ids.Member(ctx, org, strings.ToUpper(w.memberID)))
	}
	assert.Zero(t, w.emu.Requests("*"))

	for _, org := range []string{w.orgID, strings.ToUpper(w.orgID), w.slug, w.ext} {
		assert.Equal(t, w.memberID, w.ids.Member(ctx, org, w.memExt), org)
	}
	assert.Equal(t, 1, w.emu.Requests(lookupMember), "one member lookup: the organization's spellings resolve to one ID first")
	assert.Equal(t, 2, w.emu.Requests(lookupOrg), "the slug and the external ID")

	assert.Equal(t, w.orgID+"\x00?no-such-member", w.ids.Member(ctx, w.orgID, "No-Such-Member"))
	assert.Equal(t, "?unknown-org\x00?"+w.memExt, w.ids.Member(ctx, "unknown-org", w.memExt))
	assert.Equal(t, 2, w.emu.Requests(lookupMember), "no member lookup in an unresolved organization")
}

// Concurrent callers asking for one reference all get its ID (run with -race).
func TestResolverConcurrentCallers(t *testing.T) {
	w := newResolverWorld(t, ResolverConfig{})
	ctx := t.Context()
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		wg.Go(func() { got[i], _ = w.ids.Organization(ctx, w.slug) })
	}
	wg.Wait()
	for _, id := range got {
		assert.Equal(t, w.orgID, id)
	}
	assert.GreaterOrEqual(t, w.emu.Requests(lookupOrg), 1)
}
