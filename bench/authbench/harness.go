package main

import "github.com/authsvc/authsvc/bench/internal/harness"

// The process, setup and driver code lives in bench/internal/harness, shared with bench/soak; these
// names keep authbench's code as it was written.
type (
	proc      = harness.Proc
	fixture   = harness.Fixture
	session   = harness.Session
	jwtPool   = harness.JWTPool
	Latencies = harness.Latencies
	op        = harness.Op
	driveSpec = harness.DriveSpec
)

var (
	startProc           = harness.StartProc
	freePorts           = harness.FreePorts
	cpuTicks            = harness.CPUTicks
	rssBytes            = harness.RSSBytes
	parseVmRSS          = harness.ParseVmRSS
	sampleRSS           = harness.SampleRSS
	goroutines          = harness.Goroutines
	parseGoroutineTotal = harness.ParseGoroutineTotal
	waitServing         = harness.WaitServing
	summarize           = harness.Summarize
	percentile          = harness.Percentile
	drive               = harness.Drive
	fmtDur              = harness.FmtDur
	emuControl          = harness.EmuControl
	upstreamCount       = harness.UpstreamCount
	setLatency          = harness.SetLatency
	waitEmulator        = harness.WaitEmulator
	newFixture          = harness.NewFixture
)

const clockTicks = harness.ClockTicks
