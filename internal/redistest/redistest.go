package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startTimeout bounds how long redis-server may take to accept connections.
const startTimeout = 15 * time.Second

// Server is a redis-server process owned by one test.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string

	bin, dir string
	// conf is the configuration file given first (Sentinel needs one it can write); args come
	// after the common ones.
	conf string
	args []string
	// cluster: a one-node Redis Cluster, ready once it holds every slot.
	cluster bool
	// member: a node of a multi-node cluster, ready (after a restart) once it says the cluster is
	// usable; false until the cluster is formed.
	member bool
	// replica: a replica, ready once its link to the primary is up.
	replica bool

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs redis-server until the test ends. It fails the test with instructions when
// redis-server is not on PATH.
func Start(t testing.TB) *Server {
	t.Helper()
	return run(t, nil)
}

// run starts a redis-server configured by configure, called with the server (Addr chosen) before
// each attempt.
func run(t testing.TB, configure func(*Server) error) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redistest: redis-server is not installed (not on PATH); these tests need a real Redis: "+
			"run ./scripts/test-deps.sh (apt-get install -y redis-server): %v", err)
	}
	s := &Server{bin: bin, dir: t.TempDir()}
	// A free port can be taken between choosing it and redis-server binding it; try a few.
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: pick a port: %v", err)
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if configure != nil {
			if err := configure(s); err != nil {
				t.Fatalf("redistest: %v", err)
			}
		}
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("redistest: %v", lastErr)
	}
	t.Cleanup(func() { s.stop() })
	return s
}

// StartCluster runs a Redis Cluster of one node, which holds every hash slot, until the test ends:
// enough for a cluster client (it discovers the node, routes by slot) without six processes.
func StartCluster(t testing.TB) *Server {
	t.Helper()
	return run(t, func(s *Server) error {
		_, port, _ := net.SplitHostPort(s.Addr)
		// The node's view of the cluster (its ID, its slots) survives a Restart in this file.
		s.args = []string{"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(s.dir, "nodes-"+port+".conf")}
		s.cluster = true
		return nil
	})
}

// waitCluster gives the node every slot unless it has them (a restart), then waits until it
// declares the cluster usable: CLUSTER INFO is the only signal.
func waitCluster(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer func() { _ = c.Close() }()
	info, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		return fmt.Errorf("cluster info: %w", err)
	}
	if strings.Contains(info, "cluster_slots_assigned:0\r\n") {
		if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
			return fmt.Errorf("assign the slots: %w", err)
		}
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err = c.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the cluster did not become ready: %w (last: %w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// StartSentinel runs a Redis Sentinel that monitors primary under the name master until the test
// ends.
func StartSentinel(t testing.TB, primary *Server, master string) *Server {
	t.Helper()
	host, port, _ := net.SplitHostPort(primary.Addr)
	return run(t, func(s *Server) error {
		// Sentinel rewrites its configuration file: one per attempt, in the server's directory.
		_, own, _ := net.SplitHostPort(s.Addr)
		s.conf = filepath.Join(s.dir, "sentinel-"+own+".conf")
		s.args = []string{"--sentinel"}
		conf := fmt.Sprintf("sentinel monitor %s %s %s 1\n", master, host, port)
		return os.WriteFile(s.conf, []byte(conf), 0o600)
	})
}

// URL is the redis:// URL of the server (database 0).
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Client returns a go-redis client for the server, closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop terminates redis-server and waits for it to exit, as an outage would.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.stop()
}

// Restart starts redis-server again on the same address (empty: nothing is persisted).
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.stop()
	if err := s.start(); err != nil {
		t.Fatalf("redistest: restart: %v", err)
	}
}

func (s *Server) start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	// The process outlives this call; stop() ends it (SIGINT, then SIGKILL).
	var args []string
	if s.conf != "" {
		args = append(args, s.conf)
	}
	args = append(args,
		"--bind", "127.0.0.1",
		"--port", port,
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--loglevel", "warning",
		"--logfile", "", // stdout, captured below
	)
	args = append(args, s.args...)
	cmd := exec.CommandContext(context.Background(), s.bin, args...)  //nolint:gosec // the binary found on PATH, with our arguments
	out, err := os.Create(filepath.Join(s.dir, "redis-"+port+".log")) //nolint:gosec // our own temp dir
	if err != nil {
		return fmt.Errorf("create log file: %w", err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = out.Close()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	err = waitReady(s.Addr, done)
	s.mu.Lock()
	member, replica := s.member, s.replica
	s.mu.Unlock()
	switch {
	case err != nil:
	case s.cluster:
		err = waitCluster(s.Addr)
	case member:
		err = waitInfo(s.Addr, "cluster", "cluster_state:ok")
	case replica:
		err = waitInfo(s.Addr, "replication", "master_link_status:up")
	}
	if err != nil {
		s.stop()
		log, _ := os.ReadFile(filepath.Join(s.dir, "redis-"+port+".log")) //nolint:gosec // our own temp dir
		return fmt.Errorf("redis-server on %s did not become ready: %w; its log:\n%s", s.Addr, err, log)
	}
	return nil
}

// waitReady pings until redis-server answers, it exits, or startTimeout passes. Polling is the
// only readiness signal redis-server offers on its own.
func waitReady(addr string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer func() { _ = c.Close() }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("redis-server exited")
		case <-ctx.Done():
			return fmt.Errorf("%w (last ping: %w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// Kill ends redis-server with SIGKILL, as a crash or a lost machine would: no shutdown, no goodbye
// to replicas or Sentinels. Restart brings it back.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

func (s *Server) stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func freePort() (int, error) {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
