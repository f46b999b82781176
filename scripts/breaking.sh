#!/usr/bin/env bash
# buf breaking (WIRE_JSON) of proto/ against a git revision, default the previous commit (HEAD~1).
#
# buf's own `.git#ref=` input cannot be used: the third-party imports live in the gitignored
# .cache/protodeps, so the old revision would not build. Instead the old revision is checked out into a
# temporary worktree, given the same imports, and built into an image to compare against.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
against="${1:-HEAD~1}"
buf="$root/tools/node_modules/.bin/buf"

if ! git rev-parse --verify --quiet "$against^{commit}" >/dev/null; then
  echo "breaking: no $against to compare with (first commit); skipped"
  exit 0
fi
if [[ -z "$(git ls-tree -d "$against" proto)" ]]; then
  echo "breaking: $against has no proto/ yet; no baseline to compare with; skipped"
  exit 0
fi
# The imports and buf itself come from the generate step (make generate / checkgenerate).
if [[ ! -x "$buf" || ! -d .cache/protodeps ]]; then
  ./scripts/generate.sh
fi

tmp="$(mktemp -d)"
cleanup() { git worktree remove --force "$tmp/old" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
git worktree add --detach --quiet "$tmp/old" "$against"
mkdir -p "$tmp/old/.cache"
cp -R .cache/protodeps "$tmp/old/.cache/protodeps"
(cd "$tmp/old" && "$buf" build proto -o "$tmp/against.binpb")
"$buf" breaking proto --against "$tmp/against.binpb"
echo "breaking: no wire or JSON breaking change against $against"
