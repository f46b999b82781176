package redisclient_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/idempotency"
	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/revocation"
)

// Every Redis operation authsvc makes is slot-safe on a real three-master Cluster, through the
// request-path client it runs with: each admission script and pipeline, each idempotency command
// and the revocation list's transaction (SET and PUBLISH) touch one key, so none can be refused
// with CROSSSLOT (an error reply, which fails the test) or split across nodes. The keys are chosen
// so that every master serves some of them.
//
// The audit behind it: admission uses redis_rate's GCRA script (KEYS[1] only), two scripts of its
// own on KEYS[1] and a GET+PTTL pipeline on one key; idempotency uses SET NX, GET, SET and DEL, one
// key each; revocation uses GET, and SET plus PUBLISH in MULTI (PUBLISH names a channel, not a key,
// and a Cluster delivers it to every node's subscribers). None needs a hash tag.
func TestOperationsAreSlotSafeOnACluster(t *testing.T) {
	cluster := redistest.StartShardedCluster(t)
	rc := open(t, cluster.URL(), nil)
	ctx := t.Context()

	// keys returns n keys whose Redis names (prefix+key) cover every master.
	keys := func(prefix string, n int) []string {
		var out []string
		seen := map[*redistest.Server]bool{}
		for i := 0; len(out) < n || len(seen) < len(cluster.Masters); i++ {
			k := fmt.Sprintf("k%d", i)
			seen[cluster.MasterOf(prefix+k)] = true
			out = append(out, k)
		}
		return out
	}

	t.Run("admission", func(t *testing.T) {
		s := admission.NewRedisStore(rc.Redis())
		rate := admission.Rate{Events: 2, Per: time.Minute}
		fails := admission.Failures{Max: 1, Window: time.Minute}
		for _, k := range keys("authsvc:admission:", 6) {
			for range rate.Events {
				d, err := s.Take(ctx, "rate:"+k, rate)
				require.NoError(t, err, k)
				require.True(t, d.Allowed, k)
			}
			d, err := s.Take(ctx, "rate:"+k, rate)
			require.NoError(t, err, k)
			assert.False(t, d.Allowed, "%s: the budget is spent", k)

			fk := "fail:" + k
			d, err = s.Reserve(ctx, fk, fails)
			require.NoError(t, err, fk)
			require.True(t, d.Allowed, fk)
			d, err = s.Reserve(ctx, fk, fails)
			require.NoError(t, err, fk)
			assert.False(t, d.Allowed, "%s: one attempt in flight fills the budget", fk)
			require.NoError(t, s.Refund(ctx, fk, fails), fk)
			d, err = s.Peek(ctx, fk, fails)
			require.NoError(t, err, fk)
			assert.True(t, d.Allowed, "%s: refunded", fk)
			require.NoError(t, s.Fail(ctx, fk, fails), fk)
			d, err = s.Peek(ctx, fk, fails)
			require.NoError(t, err, fk)
			assert.False(t, d.Allowed, "%s: a failure counted", fk)
		}
	})

	t.Run("idempotency", func(t *testing.T) {
		s := idempotency.NewRedisStore(rc.Redis())
		for _, k := range keys("authsvc:idempotency:", 6) {
			_, claimed, err := s.Begin(ctx, k, []byte("h"), time.Minute)
			require.NoError(t, err, k)
			require.True(t, claimed, k)
			rec, claimed, err := s.Begin(ctx, k, []byte("h"), time.Minute)
			require.NoError(t, err, k)
			require.False(t, claimed, "%s: claimed once", k)
			assert.Equal(t, []byte("h"), rec.Hash)
			require.NoError(t, s.Complete(ctx, k, idempotency.Record{Hash: []byte("h"), Done: true, Response: []byte("r")}, time.Minute), k)
			rec, _, err = s.Begin(ctx, k, []byte("h"), time.Minute)
			require.NoError(t, err, k)
			assert.True(t, rec.Done, k)
			require.NoError(t, s.Release(ctx, k), k)
			_, claimed, err = s.Begin(ctx, k, []byte("h"), time.Minute)
			require.NoError(t, err, k)
			assert.True(t, claimed, "%s: released", k)
		}
	})

	t.Run("revocation", func(t *testing.T) {
		newList := func() *revocation.List {
			l, err := revocation.New(revocation.Config{Redis: rc.Redis(), Subscriber: rc.Subscriber()})
			require.NoError(t, err)
			t.Cleanup(func() { _ = l.Close() })
			return l
		}
		a, b := newList(), newList()
		require.NoError(t, b.WaitSubscribed(ctx))
		direct := cluster.Client(t)
		subjects := keys("authsvc:revoked:", 6)
		for _, k := range subjects {
			// B trusts this "not revoked" while subscribed: only the message can change its mind.
			require.False(t, b.IsRevoked(ctx, k), k)
		}
		for _, k := range subjects {
			a.Revoke(ctx, k, time.Now().Add(time.Hour))
		}
		for _, k := range subjects {
			require.Eventually(t, func() bool { return b.IsRevoked(ctx, k) }, 5*time.Second, 5*time.Millisecond,
				"%s: the published revocation reached B", k)
			assert.Equal(t, int64(1), direct.Exists(ctx, "authsvc:revoked:"+k).Val(), "%s: the key was written", k)
		}
		// A replica starting later reads the keys.
		c := newList()
		for _, k := range subjects {
			assert.True(t, c.IsRevoked(ctx, k), k)
		}
	})
}
