// Package harness is the process, emulator-setup and load-driving code that the load programs under
// bench/ share: bench/authbench (the benchmarks behind docs/performance.md) and bench/soak (faults
// under load, docs/reliability.md). It starts real processes on loopback (StartProc), seeds the
// Stytch emulator (NewFixture), reads a process's RSS and goroutines, and drives closed-loop load
// (Drive).
package harness
