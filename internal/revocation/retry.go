package revocation

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authsvc/authsvc/internal/backoff"
)

// retryPolicy spaces the attempts to write again a revocation Redis did not take: soon after the
// failure (a timeout under load is usually brief), at most every few seconds during an outage.
var retryPolicy = backoff.Policy{Min: 50 * time.Millisecond, Max: 2 * time.Second, Jitter: backoff.EqualJitter}

// retrier writes again, in the background, the revocations put could not write to Redis. The
// revoking replica rejects them at once from its own table; without the retries the other
// replicas would never hear of them (no key for their lookups, no message for their
// subscription) and would accept the session's JWTs until they expire. With them, a Redis
// timeout or outage only delays the others' knowledge until Redis takes the write.
//
// A pending write names a table and a subject, not an entry: each attempt writes what this
// replica's table holds for the subject then, which is the widest revocation it knows (two
// revocations of one subject merge there), and one that has lapsed is dropped.
type retrier struct {
	closing context.Context
	cancel  context.CancelFunc

	mu      sync.Mutex
	pending map[pendingKey]struct{}
	running bool // the goroutine is on
	closed  bool
	// runs counts the goroutines not yet returned; one is started only under mu while !closed,
	// so close's Wait, after it set closed, races no Add.
	runs sync.WaitGroup
}

type pendingKey struct {
	t       *table
	subject string
}

func newRetrier() *retrier {
	r := &retrier{pending: make(map[pendingKey]struct{})}
	r.closing, r.cancel = context.WithCancel(context.Background())
	return r
}

// retryLater queues a write of subject's revocation and starts the goroutine if it is not on.
func (l *List) retryLater(t *table, subject string) {
	r := l.retry
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.pending[pendingKey{t, subject}] = struct{}{}
	if !r.running {
		r.running = true
		r.runs.Add(1)
		go l.retryLoop(r)
	}
}

// retryLoop writes the pending revocations until none is left or the list closes.
func (l *List) retryLoop(r *retrier) {
	defer r.runs.Done()
	ctx := context.Background()
	written := 0
	for attempt := 1; ; attempt++ {
		if backoff.Sleep(r.closing, retryPolicy.Delay(attempt)) != nil {
			return
		}
		for _, k := range r.snapshot() {
			e, ok := l.current(k.t, k.subject)
			if !ok {
				r.forget(k)
				continue
			}
			if err := l.write(ctx, k.t, k.subject, e, l.now()); err != nil {
				l.failed(ctx, "revoke_retry", err)
				break
			}
			l.forgetWritten(r, k, e)
			written++
		}
		if r.stopIfEmpty() {
			l.log.InfoContext(ctx, "revocation list: revocations Redis had refused are now written and published",
				"revocations", written, "attempts", attempt)
			return
		}
	}
}

func (r *retrier) snapshot() []pendingKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]pendingKey, 0, len(r.pending))
	for k := range r.pending {
		keys = append(keys, k)
	}
	return keys
}

// forgetWritten drops k once e, which was just written, is still what this replica holds for it.
// A revocation of the same subject merged since then (its own write may have failed too) keeps k
// pending for the next attempt. The check and the delete hold r.mu, under which a failed write
// queues k again, so neither can slip between them.
func (l *List) forgetWritten(r *retrier, k pendingKey, e entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := l.current(k.t, k.subject); ok && (!cur.at.Equal(e.at) || !cur.until.Equal(e.until)) {
		return
	}
	delete(r.pending, k)
}

func (r *retrier) forget(k pendingKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pending, k)
}

// stopIfEmpty ends the goroutine's run when nothing is pending: the next failure starts another.
func (r *retrier) stopIfEmpty() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) > 0 {
		return false
	}
	r.running = false
	return true
}

// close stops the goroutine and waits for it. Revocations still pending are left to the other
// replicas' recheck of Redis keys, which this replica could not write: they are lost to them,
// as they would be with the replica gone.
func (r *retrier) close() {
	r.mu.Lock()
	r.closed = true
	r.cancel()
	r.mu.Unlock()
	r.runs.Wait()
}

// current is this replica's revocation of subject in t, if it has not lapsed.
func (l *List) current(t *table, subject string) (entry, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	e, ok := t.revoked[subject]
	if !ok || !l.now().Before(e.until) {
		return entry{}, false
	}
	return e, true
}

// write stores e in Redis and publishes it, in one transaction: the key (read by replicas that
// missed the message or start later) and the message (for the replicas listening now) are
// written together or not at all.
func (l *List) write(ctx context.Context, t *table, subject string, e entry, now time.Time) error {
	// The Stytch revocation already happened; a caller hanging up must not skip recording it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.redisTimeout)
	defer cancel()
	_, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, t.redisPrefix+subject, encodeEntry(e), e.until.Sub(now))
		p.Publish(ctx, channel, encodeMessage(t.kind, subject, e))
		return nil
	})
	return err
}
