#!/usr/bin/env bash
# buf breaking (WIRE_JSON) of proto/ against git revisions.
#
#   scripts/breaking.sh            against the previous commit (HEAD~1) and against the API baseline,
#                                  the commit named in proto/api-baseline: what clients were last
#                                  promised. A landing of many commits cannot then break the API in
#                                  one commit and hide it behind the next. A deliberate breaking
#                                  change moves the baseline in the same commit, where review sees it.
#   scripts/breaking.sh REV        against REV only.
#
# buf's own `.git#ref=` input cannot be used: the third-party imports live in the gitignored
# .cache/protodeps, so the old revision would not build. Instead the old revision is checked out into a
# temporary worktree, given the same imports, and built into an image to compare against.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
buf="$root/tools/node_modules/.bin/buf"

check() {
  local against="$1"
  if ! git rev-parse --verify --quiet "$against^{commit}" >/dev/null; then
    echo "breaking: no $against in this clone to compare with (first commit, or a shallow clone); skipped"
    return 0
  fi
  if [[ -z "$(git ls-tree -d "$against" proto)" ]]; then
    echo "breaking: $against has no proto/ yet; no baseline to compare with; skipped"
    return 0
  fi
  local tmp
  tmp="$(mktemp -d)"
  git worktree add --detach --quiet "$tmp/old" "$against"
  mkdir -p "$tmp/old/.cache"
  cp -R .cache/protodeps "$tmp/old/.cache/protodeps"
  local rc=0
  (cd "$tmp/old" && "$buf" build proto -o "$tmp/against.binpb") && "$buf" breaking proto --against "$tmp/against.binpb" || rc=$?
  git worktree remove --force "$tmp/old" >/dev/null 2>&1 || true
  rm -rf "$tmp"
  if [[ $rc -ne 0 ]]; then
    echo "breaking: wire or JSON breaking change against $against" >&2
    return $rc
  fi
  echo "breaking: no wire or JSON breaking change against $against"
}

# The imports and buf itself come from the generate step (make generate / checkgenerate).
if [[ ! -x "$buf" || ! -d .cache/protodeps ]]; then
  ./scripts/generate.sh
fi

if [[ $# -gt 0 ]]; then
  check "$1"
  exit
fi
check HEAD~1
baseline="$(grep -v '^#' proto/api-baseline | tr -d '[:space:]')"
if [[ -z "$baseline" ]]; then
  echo "breaking: proto/api-baseline names no commit" >&2
  exit 1
fi
check "$baseline"
