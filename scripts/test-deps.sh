#!/usr/bin/env bash
# Installs what the test suite needs beyond Go: redis-server, which internal/redistest starts on
# loopback for the Redis-backed admission, revocation and idempotency tests. Idempotent: does
# nothing when redis-server is already on PATH. Used by `make test` and CI (.ci/run).
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "test-deps: redis-server is missing and this user cannot run apt-get; install redis-server" >&2
		exit 1
	fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "test-deps: redis-server is missing and apt-get is not available; install redis-server" >&2
	exit 1
fi

echo "test-deps: installing redis-server with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
command -v redis-server >/dev/null 2>&1 || { echo "test-deps: redis-server still not on PATH after apt-get install" >&2; exit 1; }
