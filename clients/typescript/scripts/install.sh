#!/usr/bin/env bash
# Installs the TypeScript client's pinned npm packages into clients/typescript/node_modules from the
# committed package-lock.json (npm ci), only when they are missing or the lockfile changed since
# the last install. Used by scripts/generate.sh and by the Go test in this folder; needs node and
# npm (Node 20 or newer) and reaches only the npm registry.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

stamp="node_modules/.authsvc-package-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [[ -d node_modules && "$want" == "$have" ]]; then
  exit 0
fi
printf 'clients/typescript: installing pinned npm packages\n' >&2
# --ignore-scripts: none of these packages needs an install script, and we run no third-party ones.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
printf '%s\n' "$want" >"$stamp"
