package admission

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/authsvc/authsvc/internal/stytchclient"
)

// Directory is what the Resolver asks Stytch: *stytchclient.Client. Both endpoints take an
// organization ID, slug or external ID, and a member ID or external ID.
type Directory interface {
	OrganizationGet(ctx context.Context, organizationID string) (*stytchclient.OrganizationResult, error)
	MemberGet(ctx context.Context, p stytchclient.MemberGetParams) (*stytchclient.MemberOrgResult, error)
}

// ResolverConfig builds a Resolver. Zero values take the defaults.
type ResolverConfig struct {
	// Directory is asked what a slug or external ID names. Required.
	Directory Directory
	// Now is the clock of cache expiry and of the lookup rate; nil means time.Now.
	Now func() time.Time
	// Size bounds the cache (entries); default 10 000.
	Size int
	// TTL is how long a resolved reference is trusted (a slug can be given to another
	// organization); default 10 minutes.
	TTL time.Duration
	// NegativeTTL is how long a reference Stytch did not resolve (unknown, or Stytch failed) keys
	// by its fallback without asking again; default 1 minute.
	NegativeTTL time.Duration
	// LookupsPerSecond and LookupBurst bound this replica's lookups; default 10 per second, 20 at
	// once. Beyond them a reference keys by its fallback.
	LookupsPerSecond float64
	LookupBurst      int
	// Timeout bounds one lookup, retries included; default 2 seconds.
	Timeout time.Duration
	// Logger receives lookup failures other than "not found", at most one line per 10 seconds
	// (never the reference: an external ID may be an email address). Nil discards.
	Logger *slog.Logger
}

// Resolver turns the organization and member references a request may carry into the canonical
// identity a budget is keyed on, so that no spelling Stytch accepts for one target opens a fresh
// budget:
//
//   - an organization or member ID (organization-test-<uuid>, member-live-<uuid>, ...) in any
//     letter case is its lower-case form, without asking anyone: Stytch resolves IDs in any case
//     and generates them in lower case;
//   - an organization slug or external ID, or a member external ID, is the ID Stytch resolves it
//     to (GET /v1/b2b/organizations/{organization_id}, GET .../{organization_id}/member),
//     remembered in a bounded LRU cache, misses included.
//
// Looking references up on behalf of anonymous callers must not become a way to make authsvc
// call Stytch without limit. So: the table spends every per-IP budget before a key that needs a
// lookup (an IP that sends random slugs is refused after its attempt and failure budgets, the
// unknown organization counting as a failure at Stytch); a reference Stytch does not resolve is
// cached as such (NegativeTTL), so repeating it costs nothing; lookups are rate-limited per
// replica and bounded in time; and only values shaped like a reference Stytch could accept are
// looked up at all.
//
// When a reference cannot be resolved (unknown to Stytch, Stytch failing or slow, the lookup rate
// spent, no Resolver configured) it keys by its fallback: "?" and the lower-cased value, a
// namespace no ID shares. That still limits (every spelling of that value in any case shares it);
// it never means "no limit". The cost is that while a slug stays unresolved its budget is not the
// one of the organization's ID: an attacker who can keep lookups failing (by exhausting the lookup
// rate) gains one budget per such spelling, not an unlimited number.
type Resolver struct {
	dir      Directory
	now      func() time.Time
	cache    *lru.Cache[string, resolved]
	lookups  *rate.Limiter
	group    singleflight.Group
	ttl      time.Duration
	negTTL   time.Duration
	timeout  time.Duration
	log      *slog.Logger
	logEvery *rate.Sometimes
}

// resolved is a cached answer: the lower-case ID, or ok false for a reference Stytch did not
// resolve.
type resolved struct {
	id      string
	ok      bool
	expires time.Time
}

// NewResolver returns a Resolver asking cfg.Directory.
func NewResolver(cfg ResolverConfig) (*Resolver, error) {
	if cfg.Directory == nil {
		return nil, errors.New("admission: resolver: no Directory")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Size <= 0 {
		cfg.Size = 10_000
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 10 * time.Minute
	}
	if cfg.NegativeTTL <= 0 {
		cfg.NegativeTTL = time.Minute
	}
	if cfg.LookupsPerSecond <= 0 {
		cfg.LookupsPerSecond = 10
	}
	if cfg.LookupBurst <= 0 {
		cfg.LookupBurst = 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cache, err := lru.New[string, resolved](cfg.Size)
	if err != nil {
		return nil, fmt.Errorf("admission: resolver cache: %w", err)
	}
	return &Resolver{
		dir:      cfg.Directory,
		now:      cfg.Now,
		cache:    cache,
		lookups:  rate.NewLimiter(rate.Limit(cfg.LookupsPerSecond), cfg.LookupBurst),
		ttl:      cfg.TTL,
		negTTL:   cfg.NegativeTTL,
		timeout:  cfg.Timeout,
		log:      cfg.Logger,
		logEvery: &rate.Sometimes{Interval: 10 * time.Second},
	}, nil
}

// Stytch IDs: a type prefix and a UUID. Only the shapes of the resources the table keys on are
// canonicalised without a lookup.
var (
	orgIDShape    = regexp.MustCompile(`^(?i)organization-(test|live)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	memberIDShape = regexp.MustCompile(`^(?i)member-(test|live)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	// referenceShape is what Stytch could take as a slug or external ID (the characters of the API's
	// stytch_organization_ref rule); anything else cannot name a target and is not looked up.
	referenceShape = regexp.MustCompile(`^[A-Za-z0-9._~|-]{1,128}$`)
)

// unresolved is the fallback key of a reference that was not resolved: its own namespace ("?"
// is in no ID), every letter case of the value sharing it.
func unresolved(ref string) string { return "?" + strings.ToLower(ref) }

func lookable(ref string) bool {
	return referenceShape.MatchString(ref) && strings.Trim(ref, ".") != ""
}

// Organization returns the canonical key of an organization reference (an ID in any case, a slug,
// an external ID) and whether it names a known organization's ID (false: the fallback key). A nil
// Resolver canonicalises IDs and falls back for everything else.
func (r *Resolver) Organization(ctx context.Context, ref string) (string, bool) {
	if orgIDShape.MatchString(ref) {
		return strings.ToLower(ref), true
	}
	if r == nil || !lookable(ref) {
		return unresolved(ref), false
	}
	id, ok := r.resolve(ctx, "org\x00"+ref, orgIDShape, func(ctx context.Context) (string, error) {
		res, err := r.dir.OrganizationGet(ctx, ref)
		if err != nil {
			return "", err
		}
		return res.Organization.OrganizationID, nil
	})
	if !ok {
		return unresolved(ref), false
	}
	return id, true
}

// Member returns the canonical key of a member reference: a member ID in any case is its
// lower-case form (member IDs are unique across organizations, so it needs neither its
// organization nor a lookup); an external ID is the member ID Stytch resolves it to within the
// organization orgRef names, looked up only once that organization is resolved. A nil Resolver
// canonicalises IDs and falls back for everything else.
func (r *Resolver) Member(ctx context.Context, orgRef, ref string) string {
	if memberIDShape.MatchString(ref) {
		return strings.ToLower(ref)
	}
	org, orgResolved := r.Organization(ctx, orgRef)
	fallback := org + "\x00" + unresolved(ref)
	if r == nil || !orgResolved || !lookable(ref) {
		return fallback
	}
	id, ok := r.resolve(ctx, "member\x00"+org+"\x00"+ref, memberIDShape, func(ctx context.Context) (string, error) {
		res, err := r.dir.MemberGet(ctx, stytchclient.MemberGetParams{OrganizationID: org, MemberID: ref})
		if err != nil {
			return "", err
		}
		return res.Member.MemberID, nil
	})
	if !ok {
		return fallback
	}
	return id
}

// errNotAnID is a lookup answer that is not an ID of the expected shape.
var errNotAnID = errors.New("answer is not an ID of the expected type")

// resolve answers from the cache, or looks key up once for all concurrent callers (when the
// lookup rate allows) and caches the answer, positive or negative. want is the shape of a valid
// answer.
func (r *Resolver) resolve(ctx context.Context, key string, want *regexp.Regexp, lookup func(context.Context) (string, error)) (string, bool) {
	if e, ok := r.cache.Get(key); ok && r.now().Before(e.expires) {
		return e.id, e.ok
	}
	v, _, _ := r.group.Do(key, func() (any, error) {
		if e, ok := r.cache.Get(key); ok && r.now().Before(e.expires) {
			return e, nil // answered while this caller waited for the group
		}
		if !r.lookups.AllowN(r.now(), 1) {
			// Not cached: the reference is fine, only this moment is busy.
			return resolved{}, nil
		}
		// The lookup serves every caller waiting on key: one caller going away must not fail it.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		defer cancel()
		id, err := lookup(lctx)
		if err == nil && !want.MatchString(id) {
			err = errNotAnID
		}
		e := resolved{id: strings.ToLower(id), ok: err == nil, expires: r.now().Add(r.ttl)}
		if err != nil {
			e = resolved{expires: r.now().Add(r.negTTL)}
			if !stytchclient.IsNotFound(err) {
				r.logEvery.Do(func() {
					r.log.WarnContext(ctx, "admission: cannot resolve an organization or member reference; keying it by its fallback (logged at most every 10s)",
						"error", err.Error())
				})
			}
		}
		r.cache.Add(key, e)
		return e, nil
	})
	e, _ := v.(resolved)
	return e.id, e.ok
}
