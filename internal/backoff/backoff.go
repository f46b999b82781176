// Package backoff is the one backoff of authsvc's retry loops: the Stytch client's retries of
// safe requests, the JWKS cache's reloads, and the revocation list's resubscriptions. A Policy
// gives the wait after n consecutive failures, doubling from Min to Max, with the jitter the loop
// wants; Sleep waits it out unless the context ends first.
//
// Written here rather than taken from github.com/cenkalti/backoff/v5 (already in the module graph):
// its ExponentialBackOff is an iterator with state per loop, not safe for concurrent use, and its
// only jitter spreads a wait evenly around the interval, up to (1+factor) times it and so beyond
// MaxInterval. The Stytch client needs full jitter strictly under its MaxDelay (its retry budget
// depends on it) and keeps no state between requests; the loops here count their failures
// anyway, so a pure function of that count serves all three.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Jitter is how a Policy spreads its waits, so that replicas that failed together do not retry
// together.
type Jitter int

const (
	// NoJitter waits exactly the computed delay.
	NoJitter Jitter = iota
	// FullJitter waits a uniform random time in [0, delay].
	FullJitter
	// EqualJitter waits half the delay plus a uniform random time in [0, delay/2].
	EqualJitter
)

// Policy is an exponential backoff: the delay after the first failure is Min, it doubles with
// each further consecutive failure, and it never exceeds Max; Jitter then spreads it.
type Policy struct {
	Min, Max time.Duration
	Jitter   Jitter
}

// Delay returns the wait after n consecutive failures (n ≥ 1): Min·2^(n-1), at most Max, spread
// by the policy's Jitter. It is 0 for n ≤ 0 and safe for concurrent use.
func (p Policy) Delay(n int) time.Duration {
	d := p.ceiling(n)
	if d <= 0 {
		return 0
	}
	switch p.Jitter {
	case FullJitter:
		return rand.N(d + 1) //nolint:gosec // jitter, not a secret
	case EqualJitter:
		return d/2 + rand.N(d/2+1) //nolint:gosec // jitter, not a secret
	default:
		return d
	}
}

// ceiling is Min·2^(n-1) capped at Max, without overflowing.
func (p Policy) ceiling(n int) time.Duration {
	if n <= 0 || p.Min <= 0 {
		return 0
	}
	d := p.Min
	for range n - 1 {
		if d > p.Max/2 { // doubling would pass Max (or overflow)
			return p.Max
		}
		d *= 2
	}
	return min(d, p.Max)
}

// Sleep waits d, or until ctx is done; it returns ctx.Err() in the latter case (at once when d is
// not positive and ctx is already done).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
