// Package allocs holds the allocation benchmark of authsvc's hottest RPCs (allocs_test.go) that
// `make bench-check` compares with the committed budgets in bench/budgets.txt.
//
// Each RPC is called through the production wiring (internal/app: every interceptor, the access
// log at info, tracing with the default sampler, metrics) on loopback, against the Stytch emulator
// in the same process. allocs/op and B/op are what testing reports for one call as a whole: the
// gRPC (or HTTP) client, authsvc and, for Stytch-bound RPCs, the emulator. The budgets are on
// authsvc-allocs/op and authsvc-B/op: the same figures minus, for Stytch-bound RPCs, what the same
// Stytch call costs made directly with the Stytch client (the floor: the emulator's work and the
// client's own), so that the budget measures what going through authsvc adds. For the local RPCs
// there is nothing to subtract: the figure includes the caller's gRPC client, which stays constant
// between two runs of the same dependencies.
//
// The package has no code of its own; go test runs the benchmark.
package allocs
