#!/usr/bin/env bash
# Regenerates gen/ from proto/ (make generate). Offline apart from the three
# package registries (npm, the Go module proxy), and a no-op on a fresh tree:
# running it twice in a row leaves no diff.
#
# What it does, in order:
#   1. installs the pinned buf CLI and google-proto-files from npm into
#      tools/node_modules, only when missing or when tools/package-lock.json
#      changed since the last install;
#   2. assembles the third-party imports into .cache/protodeps (gitignored):
#      google/api from google-proto-files, buf/validate from the Go module
#      github.com/bufbuild/protovalidate (version pinned below), protoc-gen-openapiv2/options from the
#      grpc-gateway Go module - all at the versions go.mod / package-lock.json
#      pin, none of them committed, nothing from the BSR;
#   3. checks formatting (buf format) and lint (buf lint, STANDARD);
#   4. runs buf generate; the plugins run through `go tool`, pinned by go.mod;
#   5. writes docs/access.md (who may call what) from the RPCs' policy options;
#   6. regenerates the TypeScript client's types (clients/typescript/src/generated).
#
# Usage: scripts/generate.sh [--deps-only]
#   --deps-only  stop after steps 1 and 2 (used by scripts/breaking.sh).
#
# Environment:
#   BUF_FORMAT_WRITE=1  rewrite proto files in place instead of failing on a
#                       formatting diff (for developers; CI leaves it unset).
set -euo pipefail

deps_only=false
case "${1:-}" in
  "") ;;
  --deps-only) deps_only=true ;;
  *)
    printf 'usage: %s [--deps-only]\n' "$0" >&2
    exit 2
    ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

tools_dir="tools"
deps_dir=".cache/protodeps"
stamp="$tools_dir/node_modules/.authsvc-package-lock.sha256"

log() { printf 'generate: %s\n' "$*" >&2; }

# 1. Pinned npm tooling. The stamp records which lockfile was installed, so a
# bumped pin reinstalls while an unchanged one costs nothing.
want="$(sha256sum "$tools_dir/package-lock.json" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [[ ! -x "$tools_dir/node_modules/.bin/buf" || "$want" != "$have" ]]; then
  log "installing pinned tools into $tools_dir/node_modules"
  # `npm install --no-save` rather than `npm ci`: the lockfile pins every
  # package we install, but the registry mirror we can reach has no darwin or
  # windows builds of buf, so the lockfile cannot list those optional
  # platform packages and `npm ci` would refuse it as "out of sync".
  # --no-save keeps package.json and package-lock.json untouched, so the
  # versions installed are exactly the locked ones.
  # --ignore-scripts: buf's postinstall only caches the platform binary path;
  # the bin wrapper finds it without that, and we run no third-party scripts.
  rm -rf "$tools_dir/node_modules"
  npm install --prefix "$tools_dir" --no-save --ignore-scripts --no-audit --no-fund --loglevel=error >&2
  printf '%s\n' "$want" >"$stamp"
fi
buf="$root/$tools_dir/node_modules/.bin/buf"

# 2. Third-party imports. Rebuilt from scratch every run (a few files), so a
# stale or hand-edited copy can never leak into the generated code.
# The protovalidate module ships only .proto files (no Go package), so nothing imports it and
# `go mod tidy` would drop it from go.mod: its version is pinned here instead, and the module proxy
# (checksum-verified) delivers it into the module cache.
protovalidate_version="v1.2.2"

# pinned_mod_dir MODULE VERSION: the module cache directory of MODULE@VERSION, downloading it if needed.
pinned_mod_dir() {
  local dir
  dir="$(go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [[ -z "$dir" || ! -d "$dir" ]]; then
    log "cannot download Go module $1@$2"
    exit 1
  fi
  printf '%s\n' "$dir"
}

gomod_dir() {
  local mod="$1" dir
  dir="$(go list -m -f '{{.Dir}}' "$mod")"
  if [[ -z "$dir" ]]; then
    go mod download "$mod"
    dir="$(go list -m -f '{{.Dir}}' "$mod")"
  fi
  if [[ -z "$dir" || ! -d "$dir" ]]; then
    log "cannot locate Go module $mod (is it in go.mod?)"
    exit 1
  fi
  printf '%s\n' "$dir"
}

# copy SRC_ROOT REL...: copies each REL path under SRC_ROOT into the deps dir,
# writable (the Go module cache is read-only), failing loudly if one is missing.
copy() {
  local src_root="$1" rel
  shift
  for rel in "$@"; do
    if [[ ! -f "$src_root/$rel" ]]; then
      log "missing third-party proto $src_root/$rel"
      exit 1
    fi
    install -D -m 0644 "$src_root/$rel" "$deps_dir/$rel"
  done
}

rm -rf "$deps_dir"
mkdir -p "$deps_dir"
copy "$tools_dir/node_modules/google-proto-files" \
  google/api/annotations.proto \
  google/api/http.proto \
  google/api/field_behavior.proto
copy "$(pinned_mod_dir github.com/bufbuild/protovalidate "$protovalidate_version")/proto/protovalidate" \
  buf/validate/validate.proto
copy "$(gomod_dir github.com/grpc-ecosystem/grpc-gateway/v2)" \
  protoc-gen-openapiv2/options/annotations.proto \
  protoc-gen-openapiv2/options/openapiv2.proto

if $deps_only; then
  exit 0
fi

# 3. Format and lint our module only (the deps are ignored in buf.yaml).
if [[ "${BUF_FORMAT_WRITE:-}" == "1" ]]; then
  "$buf" format -w proto
else
  log "buf format"
  if ! "$buf" format -d --exit-code proto; then
    log "proto files are not formatted: run BUF_FORMAT_WRITE=1 $0"
    exit 1
  fi
fi
log "buf lint"
"$buf" lint proto

# 4. Generate. clean: true in buf.gen.yaml empties gen/go and gen/openapiv2
# first, so a deleted proto leaves no orphaned output; gen/openapi.go (the
# embed) lives outside both and survives.
log "buf generate"
"$buf" generate

# 5. The access table of the docs, from the policy option of every RPC (internal/policy).
log "docs/access.md"
go run ./internal/policy/docgen docs/access.md

# 6. The TypeScript client's types (clients/typescript/src/generated) from gen/openapiv2: its pinned
# npm packages are installed from its lockfile only when missing or changed.
log "clients/typescript types"
clients/typescript/scripts/install.sh
node clients/typescript/scripts/generate.mjs
log "done"
