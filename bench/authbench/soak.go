package main

import (
	"context"
	"fmt"
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
}

const soakConc = 200

// soakRun drives the mixed workload at 200 callers for the soak duration, sampling RSS and
// goroutines, then waits for the goroutine count to settle.
func (b *bench) soakRun(ctx context.Context) {
	if ctx.Err() != nil || b.fx == nil {
		return
	}
	pool := &jwtPool{}
	if err := pool.refresh(ctx, b.fx, b.fx.sessions[:b.stytchSessions()]); err != nil {
		b.note("soak JWT refresh: " + err.Error())
		return
	}
	pid := b.svc.pid()
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
				if err := pool.refresh(loadCtx, b.fx, b.fx.sessions[:b.stytchSessions()]); err != nil && loadCtx.Err() == nil {
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
		if n <= res.GoroutinesBefore || time.Since(t0) > b.sz.settle || ctx.Err() != nil {
			break
		}
		time.Sleep(4 * time.Second)
	}
	b.soak = res
}
