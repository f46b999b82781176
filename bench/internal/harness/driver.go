package harness

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Latencies summarises one set of request latencies.
type Latencies struct {
	Count    int
	Errors   int
	P50, P95 time.Duration
	P99, Max time.Duration
	// FirstError is one error message, for the report when Errors > 0.
	FirstError string
}

// Summarize computes nearest-rank percentiles of d (which it sorts in place).
func Summarize(d []time.Duration, errs int, firstErr string) Latencies {
	slices.Sort(d)
	l := Latencies{Count: len(d), Errors: errs, FirstError: firstErr}
	if len(d) == 0 {
		return l
	}
	l.P50, l.P95, l.P99 = Percentile(d, 50), Percentile(d, 95), Percentile(d, 99)
	l.Max = d[len(d)-1]
	return l
}

// Percentile is the nearest-rank Percentile of sorted d: the smallest value with at least p% of the
// samples at or below it.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := max(int(math.Ceil(float64(len(sorted))*p/100)), 1)
	rank = min(rank, len(sorted))
	return sorted[rank-1]
}

// Op is one request of a driven workload; i is the request's sequence number.
type Op func(ctx context.Context, i int64) error

// DriveSpec describes a closed-loop load: Concurrency workers, each sending its next request as soon
// as the previous one returned, until Total requests were sent or MaxDuration passed.
type DriveSpec struct {
	Concurrency int
	Total       int64
	MaxDuration time.Duration
	// Ops are the request kinds; ClassOf picks the kind of request i (nil: always 0).
	Ops     []Op
	ClassOf func(i int64) int
	// PerCallTimeout bounds each request.
	PerCallTimeout time.Duration
}

// DriveResult is the outcome of drive: totals over every request, and per class.
type DriveResult struct {
	Elapsed time.Duration
	All     Latencies
	Classes []Latencies
}

// RPS is the achieved throughput.
func (r DriveResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.All.Count) / r.Elapsed.Seconds()
}

// Drive runs a closed-loop load. It is hand-written rather than ghz because ghz sends one RPC per
// run, and the mixed workloads need several RPC kinds, long runs with JWTs refreshed on the way, and
// the Stytch client called in process for the direct baseline.
func Drive(ctx context.Context, s DriveSpec) DriveResult {
	if s.ClassOf == nil {
		s.ClassOf = func(int64) int { return 0 }
	}
	if s.PerCallTimeout <= 0 {
		s.PerCallTimeout = 10 * time.Second
	}
	deadline := time.Now().Add(s.MaxDuration)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	type workerOut struct {
		lat      [][]time.Duration
		errs     []int
		firstErr []string
	}
	outs := make([]workerOut, s.Concurrency)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range s.Concurrency {
		wg.Go(func() {
			o := workerOut{lat: make([][]time.Duration, len(s.Ops)), errs: make([]int, len(s.Ops)), firstErr: make([]string, len(s.Ops))}
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= s.Total {
					break
				}
				c := s.ClassOf(i)
				cctx, ccancel := context.WithTimeout(ctx, s.PerCallTimeout)
				t0 := time.Now()
				err := s.Ops[c](cctx, i)
				d := time.Since(t0)
				ccancel()
				if err != nil {
					// Cut by the duration bound: not a failure of the request. The clock is checked as
					// well as ctx, because gRPC's own deadline timer can fire just before ctx's.
					if ctx.Err() != nil || !time.Now().Before(deadline) {
						break
					}
					o.errs[c]++
					if o.firstErr[c] == "" {
						o.firstErr[c] = err.Error()
					}
				}
				o.lat[c] = append(o.lat[c], d)
			}
			outs[w] = o
		})
	}
	wg.Wait()
	res := DriveResult{Elapsed: time.Since(start), Classes: make([]Latencies, len(s.Ops))}
	var all []time.Duration
	allErrs, allFirst := 0, ""
	for c := range s.Ops {
		var lat []time.Duration
		errs, first := 0, ""
		for _, o := range outs {
			lat = append(lat, o.lat[c]...)
			errs += o.errs[c]
			if first == "" {
				first = o.firstErr[c]
			}
		}
		all = append(all, lat...)
		allErrs += errs
		if allFirst == "" {
			allFirst = first
		}
		res.Classes[c] = Summarize(lat, errs, first)
	}
	res.All = Summarize(all, allErrs, allFirst)
	return res
}

// FmtDur formats a latency in milliseconds with enough digits for sub-millisecond values.
func FmtDur(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d == 0:
		return "–"
	case ms < 10:
		return fmt.Sprintf("%.2f", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f", ms)
	default:
		return fmt.Sprintf("%.0f", ms)
	}
}
