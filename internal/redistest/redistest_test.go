package redistest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/internal/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartStopRestart(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	require.NoError(t, c.Set(t.Context(), "k", "v", 0).Err())
	v, err := c.Get(t.Context(), "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "v", v)

	srv.Stop(t)
	require.Error(t, c.Ping(t.Context()).Err(), "stopped server still answers")

	srv.Restart(t)
	require.NoError(t, c.Ping(t.Context()).Err())
	assert.Equal(t, int64(0), c.Exists(t.Context(), "k").Val(), "nothing persists across a restart")
}

// The three-master cluster splits the slots: Slot agrees with Redis, a key lives on the master
// MasterOf names, a cross-slot command is refused, and a killed master's keys fail until it is
// restarted and rejoins with its slots.
func TestShardedCluster(t *testing.T) {
	c := redistest.StartShardedCluster(t)
	require.Len(t, c.Masters, 3)
	cl := c.Client(t)
	ctx := t.Context()

	keys := map[*redistest.Server]string{}
	for i := 0; len(keys) < 3; i++ {
		k := fmt.Sprintf("key-%d", i)
		slot, err := cl.ClusterKeySlot(ctx, k).Result()
		require.NoError(t, err)
		require.Equal(t, int(slot), redistest.Slot(k), k)
		keys[c.MasterOf(k)] = k
	}
	assert.Equal(t, redistest.Slot("{user1}.a"), redistest.Slot("{user1}.b"), "hash tags pick the slot")
	for m, k := range keys {
		require.NoError(t, cl.Set(ctx, k, "v", 0).Err())
		n, err := m.Client(t).Exists(ctx, k).Result()
		require.NoError(t, err)
		assert.Equal(t, int64(1), n, "%s lives on %s", k, m.Addr)
	}
	direct := c.Masters[0].Client(t)
	var cross []any
	for _, k := range keys {
		cross = append(cross, k, "v")
	}
	err := direct.MSet(ctx, cross...).Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CROSSSLOT")

	dead := c.Masters[1]
	dead.Kill(t)
	require.Error(t, cl.Get(ctx, keys[dead]).Err(), "a key on the killed master")
	dead.Restart(t)
	c.WaitHealthy(t)
	require.Eventually(t, func() bool { return cl.Set(ctx, keys[dead], "again", 0).Err() == nil },
		10*time.Second, 20*time.Millisecond, "the restarted master serves its slots")
}

// A Sentinel group fails over to the replica when the primary is killed, and a go-redis failover
// client follows.
func TestSentinelGroupFailsOver(t *testing.T) {
	g := redistest.StartSentinelGroup(t, "fleet")
	var addrs []string
	for _, s := range g.Sentinels {
		addrs = append(addrs, s.Addr)
	}
	cl := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: g.Name, SentinelAddrs: addrs})
	t.Cleanup(func() { _ = cl.Close() })
	ctx := t.Context()
	require.NoError(t, cl.Set(ctx, "k", "v", 0).Err())
	// Replication is asynchronous: wait until the replica has the write, which is what the
	// failover below may keep (a write not yet replicated is lost with the primary, as in Redis).
	require.Equal(t, int64(1), cl.Do(ctx, "WAIT", 1, 5000).Val(), "the replica acknowledged the write")
	assert.Contains(t, g.Primary.Client(t).Info(ctx, "replication").Val(), "role:master")

	g.Primary.Kill(t)
	g.WaitPrimary(t, g.Replica.Addr)
	require.Eventually(t, func() bool { return cl.Set(ctx, "k2", "v2", 0).Err() == nil },
		10*time.Second, 20*time.Millisecond, "writes go to the promoted replica")
	assert.Equal(t, "v", g.Replica.Client(t).Get(ctx, "k").Val(), "what was replicated survives")
}
