#!/usr/bin/env bash
# Checks proto/ for breaking changes (buf.yaml: WIRE_JSON, i.e. wire and JSON
# compatibility, since REST clients depend on field names too) against a git
# revision, by default the previous commit: scripts/breaking.sh [REV].
#
# Why not `buf breaking --against .git#ref=...`: buf.yaml's third-party module
# (.cache/protodeps) is gitignored, so the revision read from git cannot
# compile. Instead the baseline's proto/ and buf.yaml are extracted to a temp
# dir next to the same third-party imports, and compared as a directory.
#
# A revision without proto/ (no baseline yet) is reported and passes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rev="${1:-HEAD~1}"

log() { printf 'breaking: %s\n' "$*" >&2; }

if ! git rev-parse --verify --quiet "$rev^{commit}" >/dev/null; then
  log "revision $rev does not exist; no baseline, nothing to compare"
  exit 0
fi
if ! git cat-file -e "$rev:proto" 2>/dev/null || ! git cat-file -e "$rev:buf.yaml" 2>/dev/null; then
  log "revision $rev has no proto/ or buf.yaml; no baseline, nothing to compare"
  exit 0
fi

scripts/generate.sh --deps-only

base="$(mktemp -d)"
trap 'rm -rf "$base"' EXIT
git archive "$rev" proto buf.yaml | tar -x -C "$base"
mkdir -p "$base/.cache"
cp -R .cache/protodeps "$base/.cache/protodeps"

log "buf breaking against $rev ($(git rev-parse --short "$rev"))"
tools/node_modules/.bin/buf breaking --against "$base"
log "no breaking changes"
