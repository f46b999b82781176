package admission

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"golang.org/x/time/rate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/authsvc/authsvc/internal/redisclient"
	"github.com/authsvc/authsvc/internal/telemetry"
)

// ErrorInfo reasons of admission refusals (domain "authsvc").
const (
	// ReasonRateLimited: a budget is spent; RetryInfo says when to retry, metadata "limit" which.
	ReasonRateLimited = "rate_limited"
	// ReasonUnavailable: the shared store cannot answer and the policy for this kind of call is
	// to fail closed.
	ReasonUnavailable = "admission_unavailable"
	errorDomain       = "authsvc"
	// limitStoreUnavailable labels fail-closed refusals in the rejection metric.
	limitStoreUnavailable = "store_unavailable"
	// MetricStoreErrors counts calls whose budget the shared store could not decide, by class and
	// the fail mode applied. Prometheus: authsvc_admission_store_errors_total{class,mode}.
	MetricStoreErrors = "authsvc.admission.store_errors"
)

// Config builds a Controller.
type Config struct {
	// Policy holds the budgets; the zero value means DefaultPolicy().
	Policy Policy
	// Table maps RPCs to their limits; nil means DefaultTable() (the RPCs' policies).
	Table Table
	// Store keeps budgets; nil means a MemoryStore. With a RedisStore, Local is the fallback of
	// FailLocal.
	Store Store
	// Local is the per-replica store used when Store fails and the mode is FailLocal; nil: a new
	// MemoryStore.
	Local *MemoryStore
	// IPs finds the client IP; nil trusts no proxy but loopback.
	IPs *IPResolver
	// Caller returns an identity for the authenticated caller (a member, a consumer user, an M2M
	// client; access.Principal.CallerKey names each), "" for none. Nil: no per-caller limits.
	Caller func(ctx context.Context) string
	// Resolver resolves organization slugs and external IDs, and member external IDs, to the IDs
	// budgets are keyed on; nil resolves nothing (IDs are still canonicalised, other references
	// key by their fallback; see Resolver).
	Resolver *Resolver
	// Now is the clock of the in-memory stores; nil means time.Now.
	Now func() time.Time
	// Logger receives store failures, at most one line per 10 seconds. Nil discards.
	Logger *slog.Logger
	// Metrics counts rejections (authsvc_admission_rejections_total{limit}); nil counts nothing.
	Metrics *telemetry.AuthMetrics
	// MeterProvider creates the store-error counter; nil counts nothing.
	MeterProvider metric.MeterProvider
}

// Controller applies the admission table to calls.
type Controller struct {
	policy   Policy
	rules    map[string]compiledRule
	store    Store
	local    *MemoryStore
	shared   bool // store is not local: failures follow the fail policy
	ips      *IPResolver
	caller   func(context.Context) string
	ids      *Resolver
	log      *slog.Logger
	logEvery *rate.Sometimes
	metrics  *telemetry.AuthMetrics
	storeErr metric.Int64Counter
}

// New checks the table against the policy and the proto registry and returns a Controller.
func New(cfg Config) (*Controller, error) {
	if cfg.Policy == (Policy{}) {
		cfg.Policy = DefaultPolicy()
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("admission policy: %w", err)
	}
	if cfg.Table == nil {
		t, err := DefaultTable()
		if err != nil {
			return nil, err
		}
		cfg.Table = t
	}
	rules, err := cfg.Table.compile(cfg.Policy)
	if err != nil {
		return nil, err
	}
	c := &Controller{
		policy:   cfg.Policy,
		rules:    rules,
		store:    cfg.Store,
		local:    cfg.Local,
		ips:      cfg.IPs,
		caller:   cfg.Caller,
		ids:      cfg.Resolver,
		log:      cfg.Logger,
		logEvery: &rate.Sometimes{Interval: 10 * time.Second},
		metrics:  cfg.Metrics,
	}
	if c.local == nil {
		c.local = NewMemoryStore(0, cfg.Now)
	}
	if c.store == nil {
		c.store = c.local
	}
	_, isMem := c.store.(*MemoryStore)
	c.shared = !isMem
	if c.ips == nil {
		c.ips = NewIPResolver(nil)
	}
	if c.caller == nil {
		c.caller = func(context.Context) string { return "" }
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	mp := cfg.MeterProvider
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	c.storeErr, err = mp.Meter(telemetry.ScopeName).Int64Counter(MetricStoreErrors,
		metric.WithUnit("{call}"),
		metric.WithDescription("Calls whose budget the shared admission store could not decide, by class and the fail mode applied."))
	if err != nil {
		return nil, fmt.Errorf("admission: %s: %w", MetricStoreErrors, err)
	}
	return c, nil
}

// UnaryServerInterceptor enforces the table. Calls to methods not in it (health, reflection) pass.
func (c *Controller) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		rule, ok := c.rules[info.FullMethod]
		if !ok || len(rule.limits) == 0 {
			return handler(ctx, req)
		}
		msg, ok := req.(proto.Message)
		if !ok {
			return handler(ctx, req)
		}
		pending, err := c.admit(ctx, rule.limits, msg.ProtoReflect())
		if err != nil {
			return nil, err
		}
		resp, err := handler(ctx, req)
		if len(pending) > 0 {
			c.settle(ctx, pending, isFailedCheck(err))
		}
		return resp, err
	}
}

// reservation is a failure budget to settle after the call: a reserved attempt to give back if
// the check did not fail, or (after) a failure to count if it did.
type reservation struct {
	store Store
	key   string
	f     Failures
	after bool
}

// op is what a limit asks of a store before the call.
type op int

const (
	opTake op = iota
	opReserve
	opPeek
)

// admit spends limits in order and returns the failure attempts it reserved. On refusal it gives
// those back and returns the status to send. m is the request; nil when the limits take their keys
// from the call alone (client IP, caller). A limit's key is taken only once the limits before it
// have admitted the call, so a key that needs a lookup (an organization slug) is not looked up
// for a call its per-IP limits refuse.
func (c *Controller) admit(ctx context.Context, limits []Apply, m protoreflect.Message) ([]reservation, error) {
	ci := &callInfo{ip: c.ips.ClientIP(ctx), caller: c.caller(ctx), prefixDigits: c.policy.PhonePrefixDigits, ids: c.ids}
	var reserved []reservation
	for i := range limits {
		a := &limits[i]
		v, ok := a.Key.extract(ctx, m, ci)
		if !ok {
			continue
		}
		key := storeKey(a.Limit, v)
		o := opTake
		if _, ok := c.policy.failures(a.Limit); ok {
			o = opReserve
			if a.After {
				o = opPeek
			}
		}
		d, store, err := c.decide(ctx, o, a.Limit, key)
		if err != nil {
			c.refund(ctx, reserved)
			c.metrics.AdmissionRejected(ctx, limitStoreUnavailable)
			return nil, unavailable()
		}
		if store == nil { // failed open
			continue
		}
		if !d.Allowed {
			c.refund(ctx, reserved)
			c.metrics.AdmissionRejected(ctx, a.Limit)
			return nil, exhausted(a.Limit, d.RetryAfter)
		}
		if f, ok := c.policy.failures(a.Limit); ok {
			reserved = append(reserved, reservation{store: store, key: key, f: f, after: a.After})
		}
	}
	return reserved, nil
}

// decide asks the store, applying the fail policy when a shared store cannot answer. It returns
// the store that decided (nil when the call was let through unlimited) or an error when the call
// must be refused.
func (c *Controller) decide(ctx context.Context, o op, limit, key string) (Decision, Store, error) {
	d, err := c.ask(ctx, c.store, o, limit, key)
	if err == nil {
		return d, c.store, nil
	}
	class := classOf(limit)
	mode := c.policy.onStoreError(class)
	if !c.shared {
		mode = FailOpen // the memory store does not fail; this is defensive
	}
	c.storeErr.Add(ctx, 1, metric.WithAttributes(attribute.String("class", class.String()), attribute.String("mode", string(mode))))
	c.logEvery.Do(func() {
		// The key is a hash; the error names no request data.
		c.log.WarnContext(ctx, "admission: shared store unavailable; applying fail policy (logged at most every 10s)",
			"class", class.String(), "mode", string(mode), "error", err.Error())
	})
	switch mode {
	case FailLocal:
		d, err := c.ask(ctx, c.local, o, limit, key)
		return d, c.local, err
	case FailClosed:
		return Decision{}, nil, err
	default:
		return Decision{Allowed: true}, nil, nil
	}
}

func (c *Controller) ask(ctx context.Context, s Store, o op, limit, key string) (Decision, error) {
	if o == opTake {
		r, _ := c.policy.rate(limit)
		return s.Take(ctx, key, r)
	}
	f, _ := c.policy.failures(limit)
	if o == opPeek {
		return s.Peek(ctx, key, f)
	}
	return s.Reserve(ctx, key, f)
}

// refund gives reserved attempts back after a refusal (nothing ran, so nothing failed).
func (c *Controller) refund(ctx context.Context, reserved []reservation) {
	c.settle(ctx, reserved, false)
}

// settle closes a call's failure budgets, even when the caller has gone away: a failed check keeps
// its reservations and counts its after-the-fact failures; any other outcome gives reservations
// back.
func (c *Controller) settle(ctx context.Context, pending []reservation, failed bool) {
	ctx = context.WithoutCancel(ctx)
	for _, r := range pending {
		var err error
		switch {
		case r.after && failed:
			err = r.store.Fail(ctx, r.key, r.f)
		case !r.after && !failed:
			err = r.store.Refund(ctx, r.key, r.f)
		}
		if err != nil {
			c.logEvery.Do(func() {
				c.log.WarnContext(ctx, "admission: cannot settle a failure budget (logged at most every 10s)", "error", err.Error())
			})
		}
	}
}

// isFailedCheck tells a check the caller failed (a wrong code, an unknown or expired token, a
// malformed request) from one that succeeded or that authsvc or Stytch failed to decide: only the
// first kind counts against failure budgets.
func isFailedCheck(err error) bool {
	if err == nil {
		return false
	}
	switch status.Code(err) {
	case codes.OK, codes.Canceled, codes.DeadlineExceeded, codes.Unavailable, codes.Internal, codes.Unknown,
		codes.ResourceExhausted, codes.Unimplemented, codes.Aborted, codes.DataLoss:
		return false
	default:
		return true
	}
}

// storeKey hashes the key value so that stores hold no email address or phone number, and keys
// have a fixed size whatever the request holds.
func storeKey(limit, value string) string {
	sum := sha256.Sum256([]byte(value))
	return limit + ":" + base64.RawURLEncoding.EncodeToString(sum[:16])
}

func exhausted(limit string, retry time.Duration) error {
	st := status.New(codes.ResourceExhausted, "too many requests; retry later")
	if d, err := st.WithDetails(
		&errdetails.RetryInfo{RetryDelay: durationpb.New(retry)},
		&errdetails.ErrorInfo{Reason: ReasonRateLimited, Domain: errorDomain, Metadata: map[string]string{"limit": limit}},
	); err == nil {
		st = d
	}
	return st.Err()
}

func unavailable() error {
	st := status.New(codes.Unavailable, "temporarily unavailable; retry later")
	if d, err := st.WithDetails(
		// Sooner than the Redis client's cooldown, the retry would meet the breaker again.
		&errdetails.RetryInfo{RetryDelay: durationpb.New(redisclient.Cooldown)},
		&errdetails.ErrorInfo{Reason: ReasonUnavailable, Domain: errorDomain},
	); err == nil {
		st = d
	}
	return st.Err()
}

// remoteSessionLimits are spent before every remote session check, whichever RPC makes it.
var remoteSessionLimits = []Apply{
	{Limit: LimitSessionRemoteFailuresIP, Key: ByIP()},
	{Limit: LimitSessionRemoteFailuresCaller, Key: ByCaller()},
}

// RemoteSessionChecks is the budget of remote session checks (internal/session's Budget): failures
// per client IP and per caller, reserved before the check and kept when Stytch rejects the
// credential, so that concurrent random tokens cannot overrun the budget either.
type RemoteSessionChecks struct{ c *Controller }

// RemoteSessionChecks returns the controller's budget of remote session checks.
func (c *Controller) RemoteSessionChecks() *RemoteSessionChecks { return &RemoteSessionChecks{c: c} }

// Admit reserves the check's budgets or refuses with RESOURCE_EXHAUSTED and RetryInfo. The
// returned function settles them: a failed check keeps its reservation, any other outcome gives it
// back.
func (r *RemoteSessionChecks) Admit(ctx context.Context) (func(failed bool), error) {
	pending, err := r.c.admit(ctx, remoteSessionLimits, nil)
	if err != nil {
		return nil, err
	}
	return func(failed bool) { r.c.settle(ctx, pending, failed) }, nil
}

// Idempotent reports whether the table marks the RPC as honouring idempotency keys.
func (c *Controller) Idempotent(fullMethod string) bool { return c.rules[fullMethod].idempotent }
