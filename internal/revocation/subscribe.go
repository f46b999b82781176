package revocation

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/authsvc/authsvc/internal/backoff"
)

const (
	// channel carries every revocation to every replica; the keys stay the source of truth.
	channel = "authsvc:revocations"

	kindSession = 's'
	kindMember  = 'm'

	// idlePing: after this long without a message the subscription pings Redis, and it gives the
	// connection up as dead when nothing at all (not even the pong) has come back deadAfter after
	// the ping. A connection that died silently (no reset) would otherwise look healthy for
	// minutes while the replica trusts "not revoked" answers for SubscribedRecheckAfter.
	idlePing  = time.Second
	deadAfter = 3 * time.Second
	// retryMin and retryMax bound the wait between attempts to subscribe while Redis fails.
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

// subscription is the List's Redis pub/sub: one goroutine (run) receives; Close ends it.
//
// go-redis's PubSub.Channel would also reconnect and ping, but it swallows the errors (they could
// not be counted or logged) and keeps a silently dead connection until a ping write fails; the
// loop below uses the lower-level ReceiveTimeout instead.
type subscription struct {
	rdb     redis.UniversalClient // Config.Subscriber, or Config.Redis
	closing context.Context       // done once Close is called
	cancel  context.CancelFunc    // ends closing
	done    chan struct{}         // closed when run returns

	mu     sync.Mutex
	ps     *redis.PubSub // replaced when its connection is given up as dead
	closed bool
	wake   chan struct{} // closed and replaced whenever isSubscribed changes
}

// subscribe starts the subscription. It does not touch the network: the goroutine connects, so
// an unreachable Redis does not delay startup.
func (l *List) subscribe(rdb redis.UniversalClient) {
	s := &subscription{
		rdb:  rdb,
		done: make(chan struct{}),
		ps:   rdb.Subscribe(context.Background()), // no channel yet: no connection yet
		wake: make(chan struct{}),
	}
	s.closing, s.cancel = context.WithCancel(context.Background())
	l.sub = s
	go l.run(s)
}

// Close ends the subscription and the retries of revocations Redis refused, and waits for their
// goroutines; it closes neither Redis client.
// Close is safe to call more than once, and on a List without Redis.
func (l *List) Close() error {
	if l.retry != nil {
		l.retry.close()
	}
	s := l.sub
	if s == nil {
		return nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.cancel()
	ps := s.ps
	s.mu.Unlock()
	err := ps.Close() // unblocks a receive in progress
	<-s.done
	if err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("revocation: close subscription: %w", err)
	}
	return nil
}

// WaitSubscribed blocks until this replica is subscribed to revocations (Redis confirmed the
// subscription and it has not failed since), or ctx ends. Without Redis there is nothing to wait
// for and it returns at once. authsvc does not wait for it to serve; tests use it so that a
// revocation published next is certain to be heard.
func (l *List) WaitSubscribed(ctx context.Context) error {
	s := l.sub
	if s == nil {
		return nil
	}
	for {
		s.mu.Lock()
		ok, wake := l.isSubscribed.Load(), s.wake
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-wake:
		case <-s.closing.Done():
			return errors.New("revocation: list closed")
		case <-ctx.Done():
			return fmt.Errorf("revocation: wait for the subscription: %w", ctx.Err())
		}
	}
}

// run receives until Close. Messages are applied as they come, on this goroutine: nothing is
// queued in the process, and a replica too slow to keep up is disconnected by Redis (its output
// buffer limit for pub/sub clients), which the resubscription then covers.
func (l *List) run(s *subscription) {
	defer close(s.done)
	ctx := context.Background()
	ps := s.ps
	var (
		register = true    // SUBSCRIBE still to be sent on ps
		failures int       // consecutive
		pingedAt time.Time // zero: no ping outstanding
		everOK   bool      // a subscription was confirmed once
		lastErr  error     // the last failure since the last confirmed subscription
	)
	for {
		var (
			msg any
			err error
		)
		if register {
			// Registers the channel on ps even when Redis is unreachable: every later receive
			// then (re)connects and sends SUBSCRIBE itself.
			register = false
			if err = ps.Subscribe(ctx, channel); err != nil {
				err = fmt.Errorf("subscribe: %w", err)
			}
		} else {
			msg, err = ps.ReceiveTimeout(ctx, idlePing)
			if err != nil && isTimeout(err) {
				switch {
				case pingedAt.IsZero():
					// The pong comes back as a message. A ping that cannot be written breaks the
					// connection, and go-redis reconnects on the next receive.
					if err = ps.Ping(ctx); err == nil {
						pingedAt = time.Now()
						continue
					}
					err = fmt.Errorf("ping: %w", err)
				case time.Since(pingedAt) < deadAfter:
					continue
				default:
					err = fmt.Errorf("no reply from Redis within %s of a ping", deadAfter)
					if ps = s.replace(); ps == nil {
						return
					}
					register, pingedAt = true, time.Time{}
				}
			}
		}
		if s.stopped() {
			return
		}
		if err != nil {
			failures++
			lastErr = err
			l.setSubscribed(false)
			l.failed(ctx, "subscribe", err)
			if backoff.Sleep(s.closing, resubscribeWait(failures)) != nil {
				return
			}
			continue
		}
		failures, pingedAt = 0, time.Time{}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == channel {
				l.subscribed(ctx, everOK, lastErr)
				everOK, lastErr = true, nil
			}
		case *redis.Message:
			l.apply(ctx, m.Payload)
		}
	}
}

// subscribed: Redis confirmed the subscription. Any revocation published while this replica was
// not subscribed was missed, so every cached "not revoked" answer is dropped (and lookups in
// flight are told not to cache theirs) before the longer trust applies: the next check of each
// session asks Redis, whose keys hold every revocation.
func (l *List) subscribed(ctx context.Context, again bool, lastErr error) {
	l.dropClean()
	l.setSubscribed(true)
	switch {
	case lastErr != nil:
		l.log.InfoContext(ctx, "revocation list: subscribed to revocations again; cached answers dropped",
			"after_error", lastErr.Error())
	case again:
		l.log.InfoContext(ctx, "revocation list: subscribed to revocations again; cached answers dropped")
	default:
		l.log.DebugContext(ctx, "revocation list: subscribed to revocations")
	}
	if l.hooks.subscribed != nil {
		l.hooks.subscribed()
	}
}

// dropClean forgets every cached "not revoked" answer, and tells lookups in flight not to cache
// theirs.
func (l *List) dropClean() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sessions.clean.Purge()
	l.members.clean.Purge()
	l.gen++
}

// apply records a revocation another replica (or this one) published.
func (l *List) apply(ctx context.Context, payload string) {
	kind, subject, e, err := decodeMessage(payload)
	var t *table
	switch {
	case err != nil:
	case kind == kindSession:
		t = &l.sessions
	case kind == kindMember:
		t = &l.members
	default:
		err = fmt.Errorf("unknown kind %q", kind)
	}
	if err != nil {
		// A revocation this replica cannot read is a revocation it missed.
		l.dropClean()
		l.errs.Add(ctx, 1, metric.WithAttributes(attribute.String("op", "message")))
		l.logEvery.Do(func() {
			l.log.WarnContext(ctx, "revocation list: unreadable message on "+channel+"; cached answers dropped (logged at most every 10s)",
				"error", err.Error())
		})
		l.observeApplied("")
		return
	}
	if now := l.now(); subject != "" && now.Before(e.until) {
		l.remember(t, subject, e, now, true)
	}
	l.observeApplied(subject)
}

func (l *List) observeApplied(subject string) {
	if l.hooks.applied != nil {
		l.hooks.applied(subject)
	}
}

// encodeMessage writes "<kind> <entry> <subject>", the entry as in the Redis key; the subject
// comes last so that it may contain anything.
func encodeMessage(kind byte, subject string, e entry) string {
	return string(kind) + " " + encodeEntry(e) + " " + subject
}

func decodeMessage(s string) (kind byte, subject string, e entry, err error) {
	kindText, rest, ok1 := strings.Cut(s, " ")
	entryText, subject, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || len(kindText) != 1 {
		return 0, "", entry{}, errors.New("not <kind> <entry> <subject>")
	}
	if e, err = decodeEntry(entryText); err != nil {
		return 0, "", entry{}, err
	}
	return kindText[0], subject, e, nil
}

// setSubscribed sets isSubscribed and wakes WaitSubscribed. While it is false (not yet
// confirmed, or failed since), "not revoked" answers are trusted for RecheckAfter only.
func (l *List) setSubscribed(v bool) {
	s := l.sub
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.isSubscribed.Swap(v) != v {
		close(s.wake)
		s.wake = make(chan struct{})
	}
}

// replace gives up ps for a new PubSub (not yet connected); nil once closed.
func (s *subscription) replace() *redis.PubSub {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	_ = s.ps.Close()
	s.ps = s.rdb.Subscribe(context.Background())
	return s.ps
}

func (s *subscription) stopped() bool { return s.closing.Err() != nil }

// resubscribeWait is the wait before attempt n+1 after n consecutive failures: none after the
// first (go-redis has usually reconnected already, as after a Redis restart), then doubling from
// retryMin to retryMax.
func resubscribeWait(failures int) time.Duration {
	if failures <= 1 {
		return 0
	}
	return backoff.Policy{Min: retryMin, Max: retryMax}.Delay(failures - 1)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
