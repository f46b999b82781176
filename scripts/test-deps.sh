#!/usr/bin/env bash
# Installs what the test suite needs beyond Go, from Debian:
#   redis-server  internal/redistest starts it on loopback for the Redis-backed admission,
#                 revocation and idempotency tests;
#   nginx-light   the edge test (deploy/edge_nginx_test.go) starts the real nginx on loopback with
#                 auth_request to authsvc, and `nginx -t` checks deploy/nginx/;
#   chromium      the browser tests (internal/browsertest, examples/spa) drive headless Chromium
#                 through the DevTools protocol.
# Idempotent: installs only what is missing from PATH (and /usr/sbin, where Debian puts nginx).
# Used by `make test`, `make bench`, `make screenshots` and CI (.ci/run).
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" ]]; }

missing=()
have redis-server || missing+=(redis-server)
have nginx || missing+=(nginx-light)
have chromium || missing+=(chromium)
if [[ ${#missing[@]} -eq 0 ]]; then
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "test-deps: ${missing[*]} missing and this user cannot run apt-get; install ${missing[*]}" >&2
		exit 1
	fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "test-deps: ${missing[*]} missing and apt-get is not available; install ${missing[*]}" >&2
	exit 1
fi

echo "test-deps: installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
have redis-server || { echo "test-deps: redis-server still not on PATH after apt-get install" >&2; exit 1; }
have nginx || { echo "test-deps: nginx still not on PATH after apt-get install" >&2; exit 1; }
have chromium || { echo "test-deps: chromium still not on PATH after apt-get install" >&2; exit 1; }
