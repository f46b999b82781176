package main

// Wave 1's figure for each target, as the report of its last run printed them (docs/performance.md:
// `make bench` of 2026-11-22 07:40 UTC, 2 cores, quiet machine, before the second wave's changes).
// The report prints them beside this run's figures so that a regenerated report still shows where
// the targets started; they are constants on purpose, never read back from the file being
// rewritten. "not measured": the first wave had no such row.
//
//nolint:gosec // report text; gosec takes names such as wave1TokenGRPC for credentials (G101)
const (
	wave1JWTThroughput   = "6788 / 9616 rps = 71%"
	wave1JWTPaced1000    = "p99 2.07 ms at 1000 rps"
	wave1JWTPacedHalf    = "p99 8.79 ms at 3393 rps"
	wave1JWTFullSpeed    = "p99 17.3 ms at 6788 rps"
	wave1JWTNoStytch     = "0 calls during 79144 checks"
	wave1RESTRatio       = "4753 / 6790 rps = 70%"
	wave1TokenGRPC       = "p50 +1.04 ms (34.0 − 32.9)"
	wave1MemberGRPC      = "p50 +1.09 ms (22.4 − 21.3)"
	wave1TokenREST       = "not measured"
	wave1MemberREST      = "not measured"
	wave1CPUGRPC         = "930 µs (W9a), 625 µs (W9b)"
	wave1CPUREST         = "not measured"
	wave1IssueTokenHit   = "p50 0.35 ms"
	wave1Singleflight    = "1 token request per 50 callers, 3 rounds, 0 errors"
	wave1SingleflightAdm = "1 token request, 0 refused"
	wave1RSS             = "peak 79.3 MB"
	wave1RSSGrowth       = "+3.3% after the first minute"
	wave1Goroutines      = "29 after the soak (idle after start 33)"
	wave1Startup         = "worst of 5: 30.5 ms"
	wave1Revocation      = "not measured"
	wave1AllocBudgets    = "no budgets"
	wave1RandomTokens    = "not measured"
)
