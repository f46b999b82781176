package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// soakSample is authsvc's state at one moment of the soak.
type soakSample struct {
	At         time.Duration
	RSS        int64
	Goroutines int
}

// soakResult is the 5-minute mixed run at 200 callers.
type soakResult struct {
	Concurrency      int
	Duration         time.Duration
	Samples          []soakSample
	GoroutinesBefore int
	// GoroutinesJustAfter is the count a second after the load ended; GoroutinesAfter the count once
	// it was back at GoroutinesBefore or the wait bound passed; AfterWait how long that took.
	GoroutinesJustAfter int
	GoroutinesAfter     int
	AfterWait           time.Duration
	// RSSAfter is VmRSS once the load ended.
	RSSAfter int64
	// LeftOver names the functions of goroutines above the idle count at the end of the wait.
	LeftOver string
}

const soakConc = 200

// soakRun drives the mixed workload at 200 callers for the soak duration, sampling RSS and
// goroutines, then waits for the goroutine count to settle.
func (b *bench) soakRun(ctx context.Context) {
	if ctx.Err() != nil || b.fx == nil {
		return
	}
	pool := &jwtPool{}
	if err := pool.Refresh(ctx, b.fx, b.fx.Sessions[:b.stytchSessions()]); err != nil {
		b.note("soak JWT refresh: " + err.Error())
		return
	}
	pid := b.svc.PID()
	res := &soakResult{Concurrency: soakConc, Duration: b.sz.soak}
	var err error
	if res.GoroutinesBefore, err = goroutines(ctx, b.adminAddr); err != nil {
		b.note("soak: goroutines before: " + err.Error())
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	// Session JWTs live 5 minutes: refresh them every 2 minutes, directly at the emulator.
	wg.Go(func() {
		t := time.NewTicker(2 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-loadCtx.Done():
				return
			case <-t.C:
				if err := pool.Refresh(loadCtx, b.fx, b.fx.Sessions[:b.stytchSessions()]); err != nil && loadCtx.Err() == nil {
					b.note("soak JWT refresh: " + err.Error())
				}
			}
		}
	})
	start := time.Now()
	var samples []soakSample
	wg.Go(func() {
		t := time.NewTicker(b.sz.soakSample)
		defer t.Stop()
		for {
			select {
			case <-loadCtx.Done():
				return
			case <-t.C:
				s := soakSample{At: time.Since(start).Round(time.Second)}
				var rerr, gerr error
				s.RSS, rerr = rssBytes(pid)
				s.Goroutines, gerr = goroutines(loadCtx, b.adminAddr)
				if rerr != nil || gerr != nil {
					continue // the load just ended (or authsvc died, which the workload reports)
				}
				samples = append(samples, s)
				fmt.Printf("authbench: soak %s rss %.1f MB goroutines %d\n", s.At, float64(s.RSS)/(1<<20), s.Goroutines)
			}
		}
	})
	into := &row{}
	// The count bound is far above what 2 cores can serve in the duration: the duration ends the soak.
	spec := b.mixedSpec(pool, soakConc, 50_000_000, b.sz.soak)
	r := b.measure(ctx, row{ID: "W8", Name: fmt.Sprintf("Soak: the mixed workload at %d callers for %s", soakConc, b.sz.soak), Tool: "authbench", Concurrency: soakConc}, false,
		b.driven(ctx, spec, mixedNames, into))
	r.Classes = into.Classes
	stopLoad()
	wg.Wait()
	res.Samples = samples
	res.RSSAfter, _ = rssBytes(pid)

	// Idle keep-alive connections to Stytch (up to 32, two goroutines each) close after the Stytch
	// client's 90 s idle timeout, so the count is followed for up to 100 s.
	t0 := time.Now()
	for {
		time.Sleep(time.Second)
		n, err := goroutines(ctx, b.adminAddr)
		if err != nil {
			break
		}
		if res.GoroutinesJustAfter == 0 {
			res.GoroutinesJustAfter = n
		}
		res.GoroutinesAfter, res.AfterWait = n, time.Since(t0).Round(time.Second)
		// Wait for the idle count of the start (not only the pre-soak count, which earlier loads
		// may have raised), within the bound.
		if n <= max(b.idleGoroutines, 1) || time.Since(t0) > b.sz.settle || ctx.Err() != nil {
			break
		}
		time.Sleep(4 * time.Second)
	}
	if res.GoroutinesAfter > b.idleGoroutines {
		// Keep the stacks of what is left, for the report's reader.
		path := filepath.Join(b.cfg.workDir, "goroutines-after-soak.txt")
		if err := fetch(ctx, "http://"+b.adminAddr+"/debug/pprof/goroutine?debug=1", path); err == nil {
			res.LeftOver = summarizeGoroutines(path)
		}
	}
	b.soak = res
}

// summarizeGoroutines names the functions the remaining goroutines were started with, from a debug=1 goroutine
// profile: "N @ ..." headers followed by "#\t0x... function+0x.. file:line" frames.
func summarizeGoroutines(path string) string {
	b, err := os.ReadFile(path) //nolint:gosec // written by the harness under its work directory
	if err != nil {
		return ""
	}
	var parts []string
	for block := range strings.SplitSeq(string(b), "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if strings.HasPrefix(lines[0], "goroutine profile:") {
			lines = lines[1:]
		}
		if len(lines) < 2 {
			continue
		}
		n, _, ok := strings.Cut(lines[0], " @ ")
		if !ok {
			continue
		}
		// The outermost frame outside the runtime is the function the goroutine was started with.
		fn := ""
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) >= 3 && f[0] == "#" && !strings.HasPrefix(f[2], "runtime.") {
				fn = f[2]
				if i := strings.LastIndex(fn, "+0x"); i > 0 {
					fn = fn[:i]
				}
			}
		}
		if fn != "" {
			parts = append(parts, n+"× "+fn)
		}
	}
	return strings.Join(parts, ", ")
}
