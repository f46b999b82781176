package stytchclient

import (
	"net/http"
	"time"

	"github.com/authsvc/authsvc/internal/backoff"
)

// RetryPolicy bounds automatic retries. Which requests may be retried at all
// is not configurable; see (*Client).do and the package documentation.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, first included. Zero
	// means 3; 1 disables retries.
	MaxAttempts int
	// BaseDelay is the backoff before the second attempt; it doubles per
	// attempt up to MaxDelay and is fully jittered. Zero means 100 ms.
	BaseDelay time.Duration
	// MaxDelay caps one backoff and the Retry-After hint a retry will honour.
	// Zero means 2 s.
	MaxDelay time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 3
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 100 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 2 * time.Second
	}
	return p
}

// backoff returns the full-jitter delay before attempt n+1 (n ≥ 1 attempts
// done): uniform in [0, min(MaxDelay, BaseDelay·2^(n-1))]. Full jitter keeps
// replicas that failed together from retrying together.
func (p RetryPolicy) backoff(n int) time.Duration {
	return backoff.Policy{Min: p.BaseDelay, Max: p.MaxDelay, Jitter: backoff.FullJitter}.Delay(n)
}

// retryableStatus reports whether a response status from a read-only
// endpoint is worth another attempt: gateway and availability failures, and
// Stytch's own 500. 429 is deliberately absent: rate limits are per email /
// phone / project windows, so an immediate retry just spends the budget
// again; the caller decides, with Error.RetryAfter when Stytch sent one.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
