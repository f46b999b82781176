#!/usr/bin/env bash
# make bench: authsvc's load benchmarks and micro-benchmarks, written to docs/performance.md.
#
#   make bench                     full run (< 15 min on 2 cores), rewrites docs/performance.md and
#                                  docs/profiles/session-check.top.txt and stytch-bound.top.txt
#   BENCH_QUICK=1 make bench       tiny counts, a smoke test of the harness; writes under .cache/bench/
#   BENCH_ONLY=W1,W2b,C2b make bench  only those workloads (IDs as in the report), full counts, no
#                                  micro-benchmarks; writes .cache/bench/performance-only.md
#   scripts/bench.sh --build-only  install nothing, run nothing: check that everything builds (CI)
#
# Optional: BENCH_NOTE="text" is printed at the top of the report; AUTHSVC_* and OTEL_* variables are
# passed on to the benchmarked authsvc.
#
# It installs its tools when missing (ghz through the Go module proxy into .cache/bin, hey from Debian
# or the Go module proxy, redis-server through scripts/test-deps.sh), builds authsvc and stytchemu,
# runs the micro-benchmarks, then hands over to bench/authbench, which starts the emulator with 20 ms
# added to every Stytch call, starts authsvc against it, runs every workload on loopback (each bounded
# in requests and in time) and writes the report. See bench/authbench/doc.go.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GHZ_VERSION=v0.120.0
HEY_VERSION=v0.1.4 # only for the Go-proxy fallback; Debian's package is 0.1.4 too
TOOLS_BIN="$PWD/.cache/bin"
WORK="$PWD/.cache/bench"
BIN="$WORK/bin"
GHZ="$TOOLS_BIN/ghz-$GHZ_VERSION"
QUICK="${BENCH_QUICK:-0}"
ONLY="${BENCH_ONLY:-}"

log() { printf '=== bench: %s (%ss)\n' "$*" "$SECONDS"; }

build() {
  log "build authsvc, stytchemu and the harness"
  mkdir -p "$BIN"
  CGO_ENABLED=0 go build -trimpath -o "$BIN/" ./cmd/authsvc ./cmd/stytchemu
  go build -o "$BIN/authbench" ./bench/authbench
}

if [[ "${1:-}" == "--build-only" ]]; then
  build
  log "benchmarks compile"
  go test -run '^$' -bench '^$' ./bench/... ./internal/server/ ./internal/service/ ./internal/stytchclient/verify/ ./internal/revocation/ >/dev/null
  exit 0
fi

install_ghz() {
  [[ -x "$GHZ" ]] && return
  log "install ghz $GHZ_VERSION"
  mkdir -p "$TOOLS_BIN"
  GOBIN="$TOOLS_BIN" go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
  mv "$TOOLS_BIN/ghz" "$GHZ"
}

install_hey() {
  if command -v hey >/dev/null; then
    HEY="$(command -v hey)"
    return
  fi
  if command -v apt-get >/dev/null; then
    log "install hey (apt)"
    local sudo=""
    [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
    if $sudo apt-get -o DPkg::Lock::Timeout=300 install -y hey >/dev/null ||
      { $sudo apt-get update >/dev/null && $sudo apt-get -o DPkg::Lock::Timeout=300 install -y hey >/dev/null; }; then
      HEY="$(command -v hey)"
      return
    fi
  fi
  log "install hey $HEY_VERSION (Go module proxy)"
  GOBIN="$TOOLS_BIN" go install "github.com/rakyll/hey@$HEY_VERSION"
  HEY="$TOOLS_BIN/hey"
}

micro() {
  # Hot-path micro-benchmarks, on a quiet machine before any server starts. A package that does not
  # compile (work in progress elsewhere) is reported, not fatal.
  local out="$WORK/micro.txt" benchtime="1s" count=1
  if [[ "$QUICK" == "1" ]]; then benchtime="100x" count=1; fi
  log "micro-benchmarks (-benchtime=$benchtime -count=$count)"
  : >"$out"
  local -a pkgs=(
    "./internal/server/:BenchmarkChain"
    "./internal/stytchclient/verify/:BenchmarkVerify|BenchmarkTokenHash"
    "./internal/service/:BenchmarkToStatus"
  )
  if [[ -d internal/admission ]] && compgen -G 'internal/admission/*_bench_test.go' >/dev/null; then
    pkgs+=("./internal/admission/:BenchmarkAdmission")
  fi
  # Cross-replica revocation delay (two lists on one redis-server on loopback); authbench turns its
  # p50/p99 into a target row.
  pkgs+=("./internal/revocation/:BenchmarkCrossReplicaRevocation")
  # The allocation budgets (bench/allocs at make bench-check's fixed count); authbench compares them
  # with bench/budgets.txt.
  if ! go test -run '^$' -bench '^BenchmarkRPC$' -benchtime=1000x -count=1 ./bench/allocs/ 2>&1 |
    grep -E '^(Benchmark|pkg:|cpu:|ok|FAIL|---)' >>"$out"; then
    echo "(./bench/allocs/: benchmarks did not run)" >>"$out"
  fi
  for p in "${pkgs[@]}"; do
    local pkg="${p%%:*}" pat="${p#*:}"
    if ! go test -run '^$' -bench "$pat" -benchmem -benchtime="$benchtime" -count="$count" "$pkg" 2>&1 |
      grep -E '^(Benchmark|pkg:|cpu:|ok|FAIL|---)' >>"$out"; then
      echo "($pkg: benchmarks did not run)" >>"$out"
    fi
  done
}

install_ghz
install_hey
# redis-server for the Redis-backed micro-benchmarks (admission, cross-replica revocation); the same
# script make test uses.
./scripts/test-deps.sh
build
if [[ -n "$ONLY" ]]; then
  mkdir -p "$WORK" && : >"$WORK/micro.txt"
else
  micro
fi

if [[ -n "$ONLY" ]]; then
  out="$WORK/performance-only.md" profiles="$WORK/profiles" cmd="BENCH_ONLY=$ONLY make bench" flags=(-only "$ONLY")
  if [[ "$QUICK" == "1" ]]; then flags+=(-quick); fi
elif [[ "$QUICK" == "1" ]]; then
  out="$WORK/performance-quick.md" profiles="$WORK/profiles" cmd="BENCH_QUICK=1 make bench" flags=(-quick)
else
  out="docs/performance.md" profiles="docs/profiles" cmd="make bench" flags=()
fi
# One client address sends thousands of calls a second: rate limits would turn the load into
# RESOURCE_EXHAUSTED. The admission check's own cost is in the micro-benchmarks.
export AUTHSVC_ADMISSION="${AUTHSVC_ADMISSION:-off}"
log "load (report: $out; AUTHSVC_ADMISSION=$AUTHSVC_ADMISSION)"
"$BIN/authbench" "${flags[@]}" \
  -authsvc "$BIN/authsvc" -stytchemu "$BIN/stytchemu" -ghz "$GHZ" -hey "$HEY" \
  -work "$WORK/run" -out "$out" -profile-dir "$profiles" -micro "$WORK/micro.txt" -budgets bench/budgets.txt \
  -command "$cmd" -note "${BENCH_NOTE:-}"
log "done: $out"
