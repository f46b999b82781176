// Command authbench runs authsvc's load benchmarks and writes docs/performance.md.
//
// scripts/bench.sh (make bench) installs ghz and hey, builds the authsvc and stytchemu binaries and
// then runs this program, which:
//
//   - starts the standalone emulator (cmd/stytchemu) and seeds it over its HTTP API: an organization,
//     members with live sessions (magic-link logins, so every session JWT is distinct), M2M clients;
//   - adds a fixed latency to every Stytch endpoint of the emulator (the network to Stytch);
//   - starts authsvc as a separate process pointed at the emulator and waits for gRPC health SERVING;
//   - runs each workload with ghz (single-RPC gRPC loads), hey (REST) or its own closed-loop driver
//     (mixed workloads, the 5-minute soak, the Stytch-bound RPCs over gRPC and REST paired with the
//     Stytch client calling the emulator directly), every load bounded both in request count and in
//     wall time;
//   - sends 300 random session tokens from one client to a fresh authsvc with admission control on
//     and counts the calls that reached Stytch (randomtokens.go);
//   - runs the floor (floor.go): the same ghz loads as W1, W2c, E3, W4 and W9b's pair against this
//     binary started with -floor as a bare grpc-go server, so each missed target shows what the
//     machine, grpc-go and the load generator cost without authsvc;
//   - samples authsvc's CPU (utime+stime from /proc/<pid>/stat) and RSS (VmRSS) per workload, counts
//     the emulator's requests around the workloads that must not reach Stytch, captures CPU
//     profiles of the session check and of a Stytch-bound RPC from authsvc's admin port, and times
//     SERVING after start with Stytch unreachable;
//   - writes the results table and the issues' targets, each MET or MISSED beside the first wave's
//     figure (wave1.go), as Markdown; the cross-replica revocation delay (revocation.go) and the
//     allocation budgets of the hottest RPCs (allocs.go, bench/budgets.txt) come from the
//     micro-benchmarks.
//
// The program is a benchmark harness, not part of authsvc: it imports authsvc's generated gRPC
// clients and its Stytch client only to drive load and to measure the direct-to-Stytch baseline.
package main
