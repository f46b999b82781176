package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The fault detectors of the deployments below are tuned for tests: a node (or a primary) that
// stops answering is declared down after FailureDetection rather than Redis's default of 15 s
// (cluster-node-timeout) or 30 s (Sentinel's down-after-milliseconds). Short enough to keep a
// failover test to a few seconds, long enough that a busy 2-core machine does not trigger one.
const FailureDetection = time.Second

// Cluster is a Redis Cluster of three masters on loopback (no replicas), the hash slots split
// evenly between them: keys of one operation that hash to different slots usually land on
// different processes, so a cross-slot operation fails here as it would in production.
type Cluster struct {
	// Masters are the nodes; Masters[i] holds the slots Slots[i].
	Masters []*Server
	// Slots are the inclusive slot ranges of each master.
	Slots [][2]int
}

// StartShardedCluster runs a three-master Redis Cluster until the test ends. Each node keeps its
// cluster configuration (ID, slots, peers) in its directory, so a node restarted with Restart
// rejoins with its slots (and no data: nothing is persisted).
func StartShardedCluster(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{Slots: [][2]int{{0, 5460}, {5461, 10922}, {10923, 16383}}}
	var buses []int
	for range c.Slots {
		var bus int
		c.Masters = append(c.Masters, run(t, func(s *Server) error {
			_, port, _ := net.SplitHostPort(s.Addr)
			// The bus port defaults to port+10000, which can pass 65535: choose it.
			var err error
			bus, err = freePort()
			if err != nil {
				return fmt.Errorf("pick a bus port: %w", err)
			}
			s.args = []string{
				"--cluster-enabled", "yes",
				"--cluster-config-file", filepath.Join(s.dir, "nodes-"+port+".conf"),
				"--cluster-port", strconv.Itoa(bus),
				"--cluster-node-timeout", strconv.FormatInt(FailureDetection.Milliseconds(), 10),
			}
			return nil
		}))
		buses = append(buses, bus)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	first := newClient(c.Masters[0].Addr)
	defer func() { _ = first.Close() }()
	for i, m := range c.Masters {
		cl := newClient(m.Addr)
		err := cl.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", c.Slots[i][0], c.Slots[i][1]).Err()
		_ = cl.Close()
		if err != nil {
			t.Fatalf("redistest: assign slots to %s: %v", m.Addr, err)
		}
		if i > 0 {
			host, port, _ := net.SplitHostPort(m.Addr)
			if err := first.Do(ctx, "CLUSTER", "MEET", host, port, buses[i]).Err(); err != nil {
				t.Fatalf("redistest: cluster meet %s: %v", m.Addr, err)
			}
		}
	}
	for _, m := range c.Masters {
		if err := waitInfo(m.Addr, "cluster", "cluster_state:ok", "cluster_known_nodes:3"); err != nil {
			t.Fatalf("redistest: the cluster did not form: %v", err)
		}
		m.mu.Lock()
		m.member = true
		m.mu.Unlock()
	}
	return c
}

// URL is the redis+cluster:// URL naming every master as a seed node (internal/redisclient).
func (c *Cluster) URL() string {
	u := "redis+cluster://" + c.Masters[0].Addr
	for i, m := range c.Masters[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + m.Addr
	}
	return u
}

// Client returns a go-redis cluster client, closed when the test ends.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	addrs := make([]string, len(c.Masters))
	for i, m := range c.Masters {
		addrs[i] = m.Addr
	}
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// MasterOf is the master holding key's hash slot.
func (c *Cluster) MasterOf(key string) *Server {
	slot := Slot(key)
	for i, r := range c.Slots {
		if slot >= r[0] && slot <= r[1] {
			return c.Masters[i]
		}
	}
	panic("redistest: slot out of range") // the ranges cover 0..16383
}

// WaitHealthy waits until every master says the cluster is usable (after a Restart, say).
func (c *Cluster) WaitHealthy(t testing.TB) {
	t.Helper()
	for _, m := range c.Masters {
		if err := waitInfo(m.Addr, "cluster", "cluster_state:ok"); err != nil {
			t.Fatalf("redistest: cluster not healthy: %v", err)
		}
	}
}

// Slot is Redis Cluster's hash slot of key: CRC16 of the key, or of its hash tag (the first
// non-empty {...}), modulo 16384.
func Slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key) % 16384)
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster hashes keys
// with.
func crc16(s string) uint16 {
	var crc uint16
	for i := range len(s) {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// SentinelGroup is a primary, one replica and three Sentinels that watch them with quorum 2: the
// smallest group that fails over on its own when the primary dies.
type SentinelGroup struct {
	// Name is the name the Sentinels know the primary by (master_name=).
	Name             string
	Primary, Replica *Server
	Sentinels        []*Server
}

// StartSentinelGroup runs a Sentinel group until the test ends: the replica is in sync and every
// Sentinel knows the replica when it returns.
func StartSentinelGroup(t testing.TB, name string) *SentinelGroup {
	t.Helper()
	// The replica's first sync is a diskless one that Redis delays by default (5 s) in case more
	// replicas come: none will.
	g := &SentinelGroup{Name: name, Primary: run(t, func(s *Server) error {
		s.args = []string{"--repl-diskless-sync-delay", "0"}
		return nil
	})}
	phost, pport, _ := net.SplitHostPort(g.Primary.Addr)
	g.Replica = run(t, func(s *Server) error {
		s.args = []string{"--replicaof", phost, pport}
		s.replica = true
		return nil
	})
	_, rport, _ := net.SplitHostPort(g.Replica.Addr)
	// Each Sentinel is told about the replica and the Sentinels started before it, so that none
	// has to wait for the discovery messages (every 2 s) before it can reach a quorum.
	type known struct{ addr, id string }
	var earlier []known
	for range 3 {
		id := newRunID()
		s := run(t, func(s *Server) error {
			_, own, _ := net.SplitHostPort(s.Addr)
			s.conf = filepath.Join(s.dir, "sentinel-"+own+".conf")
			s.args = []string{"--sentinel"}
			var b strings.Builder
			fmt.Fprintf(&b, "sentinel myid %s\n", id)
			fmt.Fprintf(&b, "sentinel monitor %s %s %s 2\n", name, phost, pport)
			fmt.Fprintf(&b, "sentinel down-after-milliseconds %s %d\n", name, FailureDetection.Milliseconds())
			fmt.Fprintf(&b, "sentinel failover-timeout %s %d\n", name, 4*FailureDetection.Milliseconds())
			fmt.Fprintf(&b, "sentinel known-replica %s %s %s\n", name, phost, rport)
			for _, k := range earlier {
				h, p, _ := net.SplitHostPort(k.addr)
				fmt.Fprintf(&b, "sentinel known-sentinel %s %s %s %s\n", name, h, p, k.id)
			}
			return os.WriteFile(s.conf, []byte(b.String()), 0o600)
		})
		earlier = append(earlier, known{s.Addr, id})
		g.Sentinels = append(g.Sentinels, s)
	}
	for i, s := range g.Sentinels {
		if err := waitSentinel(s.Addr, name, i); err != nil {
			t.Fatalf("redistest: sentinel %s: %v", s.Addr, err)
		}
	}
	return g
}

// URL is the redis+sentinel:// URL naming the three Sentinels (internal/redisclient).
func (g *SentinelGroup) URL() string {
	u := "redis+sentinel://" + g.Sentinels[0].Addr + "/0?master_name=" + g.Name
	for _, s := range g.Sentinels[1:] {
		u += "&addr=" + s.Addr
	}
	return u
}

// WaitPrimary waits until every Sentinel that answers names addr as the primary (after a
// failover, say), within startTimeout.
func (g *SentinelGroup) WaitPrimary(t testing.TB, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		agreed, last := 0, ""
		for _, s := range g.Sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
			got, err := c.GetMasterAddrByName(ctx, g.Name).Result()
			_ = c.Close()
			if err == nil && len(got) == 2 && net.JoinHostPort(got[0], got[1]) == addr {
				agreed++
			} else if err == nil && len(got) == 2 {
				last = net.JoinHostPort(got[0], got[1])
			}
		}
		if agreed == len(g.Sentinels) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("redistest: the Sentinels did not agree on %s as the primary (one says %q)", addr, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitSentinel waits until the Sentinel at addr monitors name with one replica and knows at least
// others other Sentinels (the ones it was told about; the rest it learns within 2 s).
func waitSentinel(addr, name string, others int) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c := redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer func() { _ = c.Close() }()
	for {
		m, err := c.Master(ctx, name).Result()
		n, _ := strconv.Atoi(m["num-other-sentinels"])
		if err == nil && m["num-slaves"] == "1" && n >= others {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last: %v, %w)", ctx.Err(), m, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitInfo polls INFO section (CLUSTER INFO for "cluster") at addr until it holds every line in
// want, within startTimeout.
func waitInfo(addr, section string, want ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c := newClient(addr)
	defer func() { _ = c.Close() }()
	for {
		var info string
		var err error
		if section == "cluster" {
			info, err = c.ClusterInfo(ctx).Result()
		} else {
			info, err = c.Info(ctx, section).Result()
		}
		ok := err == nil
		for _, w := range want {
			ok = ok && strings.Contains(info, w+"\r\n")
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: INFO %s never showed %v: %w (last: %q, %w)", addr, section, want, ctx.Err(), info, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func newClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
}

// newRunID is a Sentinel ID: 40 hex digits.
func newRunID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
