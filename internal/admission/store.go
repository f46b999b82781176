package admission

import (
	"context"
	"time"
)

// Store keeps budgets. MemoryStore serves one replica; RedisStore shares budgets between replicas.
// Keys are opaque (hashed, prefixed by the limit's name); a store never sees an email address.
type Store interface {
	// Take spends one event of the rate budget at key. When the budget is spent it returns
	// Allowed=false and how long until one event is available again.
	Take(ctx context.Context, key string, r Rate) (Decision, error)
	// Reserve counts one attempt against the failure budget at key, refusing when the budget is
	// spent (RetryAfter: until the window ends).
	Reserve(ctx context.Context, key string, f Failures) (Decision, error)
	// Refund gives back one reserved attempt that did not fail.
	Refund(ctx context.Context, key string, f Failures) error
	// Peek refuses when the failure budget at key is spent, without counting anything.
	Peek(ctx context.Context, key string, f Failures) (Decision, error)
	// Fail counts one failure against the failure budget at key (after the fact).
	Fail(ctx context.Context, key string, f Failures) error
}

// Decision is a store's answer.
type Decision struct {
	Allowed    bool
	RetryAfter time.Duration
}
