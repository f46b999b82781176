package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// ClockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat. It is 100 on every Linux
// architecture Go supports (the kernel ABI fixes it; sysconf would need cgo).
const ClockTicks = 100

// Proc is a child process of the benchmark.
type Proc struct {
	name string
	cmd  *exec.Cmd
	done chan error
	log  *os.File
}

// StartProc starts name with args and env (added to a minimal environment), output to logPath.
func StartProc(name, bin string, args, env []string, logPath string) (*Proc, error) {
	f, err := os.Create(logPath) //nolint:gosec // path built by the harness under its work directory
	if err != nil {
		return nil, fmt.Errorf("%s: log file: %w", name, err)
	}
	cmd := exec.Command(bin, args...) //nolint:gosec,noctx // the harness's own freshly built binaries; stopped with SIGTERM, not a context
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: start: %w", name, err)
	}
	p := &Proc{name: name, cmd: cmd, done: make(chan error, 1), log: f}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM and waits (SIGKILL after a bound).
func (p *Proc) Stop() error {
	defer func() { _ = p.log.Close() }()
	select {
	case err := <-p.done:
		return fmt.Errorf("%s exited early: %w", p.name, err)
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(25 * time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop within 25s of SIGTERM (killed: %w)", p.name, <-p.done)
	}
}

// Kill sends SIGKILL (a crash: no shutdown of any kind) and waits for the exit.
func (p *Proc) Kill() {
	defer func() { _ = p.log.Close() }()
	_ = p.cmd.Process.Kill()
	<-p.done //nolint:errcheck // the exit status of a killed process says nothing
}

// Alive reports an early exit.
func (p *Proc) Alive() error {
	select {
	case err := <-p.done:
		p.done <- err
		return fmt.Errorf("%s exited: %w (see %s)", p.name, err, p.log.Name())
	default:
		return nil
	}
}

// FreePorts returns n distinct free loopback ports. The listeners are closed before the ports are
// used, which leaves a small race with other programs; on loopback in a benchmark that is acceptable.
func FreePorts(ctx context.Context, n int) ([]int, error) {
	var lc net.ListenConfig
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// CPUTicks returns utime+stime of pid in clock ticks.
func CPUTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("malformed /Proc stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /Proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return ut + st, nil
}

// RSSBytes returns VmRSS of pid.
func RSSBytes(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	return ParseVmRSS(f)
}

func ParseVmRSS(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) < 1 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("no VmRSS line")
}

// RSSSampler records the largest RSS of pid seen while it runs.
type RSSSampler struct {
	stopOnce sync.Once
	stopCh   chan struct{}
	done     chan struct{}
	maxRSS   int64
}

func SampleRSS(pid int, every time.Duration) *RSSSampler {
	s := &RSSSampler{stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if v, err := RSSBytes(pid); err == nil && v > s.maxRSS {
				s.maxRSS = v
			}
			select {
			case <-s.stopCh:
				if v, err := RSSBytes(pid); err == nil && v > s.maxRSS {
					s.maxRSS = v
				}
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *RSSSampler) Stop() int64 {
	s.stopOnce.Do(func() { close(s.stopCh) })
	<-s.done
	return s.maxRSS
}

// Goroutines reads the goroutine count from the admin port's pprof endpoint (first line:
// "goroutine profile: total N").
func Goroutines(ctx context.Context, adminAddr string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+adminAddr+"/debug/pprof/goroutine?debug=1", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("goroutine profile: %w", err)
	}
	return ParseGoroutineTotal(line)
}

func ParseGoroutineTotal(line string) (int, error) {
	v, ok := strings.CutPrefix(strings.TrimSpace(line), "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("unexpected goroutine profile header %q", line)
	}
	return strconv.Atoi(v)
}

// WaitServing polls gRPC health (overall service "") on addr until it answers SERVING and returns
// the time since start. Each attempt uses a fresh connection: one ClientConn would back off for a
// second after the first refused dial and blur the measurement.
func WaitServing(ctx context.Context, addr string, start time.Time, bound time.Duration, p *Proc) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var d net.Dialer
	for {
		if err := p.Alive(); err != nil {
			return 0, err
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("%s not SERVING within %s", p.name, bound)
		}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			time.Sleep(time.Millisecond)
			continue
		}
		_ = c.Close()
		if ok := CheckServing(ctx, addr); ok {
			return time.Since(start), nil
		}
		time.Sleep(time.Millisecond)
	}
}

func CheckServing(ctx context.Context, addr string) bool {
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return false
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	res, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	return err == nil && res.GetStatus() == healthpb.HealthCheckResponse_SERVING
}
