// Package redistest runs a real redis-server on loopback for tests: a random port, a temporary
// directory, no persistence, stopped when the test ends.
//
// Tests that need Redis fail (they do not skip) when redis-server is not installed, so that a
// machine without it cannot pass the suite by silently testing less. ./scripts/test-deps.sh
// installs it (make test runs that script first).
package redistest
