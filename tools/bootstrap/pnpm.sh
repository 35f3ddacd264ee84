#!/usr/bin/env bash
# Puts the pinned pnpm (package.json "packageManager") at tools/bin/pnpm, which the Makefile puts
# first on PATH. Whatever else is on the machine's PATH does not matter: no pnpm at all, another
# version, or the shim `corepack enable` leaves in /usr/bin when `corepack prepare` then fails
# ("No compatible signature found in package metadata" on registries whose signing keys Corepack
# does not know). That shim crashes when run, and it makes `npm install -g pnpm` fail with EEXIST,
# so this script uses neither Corepack nor the global prefix: it installs pnpm from the npm
# registry into a project-local prefix (.cache/pnpm/<version>) and links it.
#
# Cached: a second run with the right version in place returns at once.
# Env (for the bootstrap test): CHAT_BOOTSTRAP_BIN (default tools/bin),
#                              CHAT_BOOTSTRAP_CACHE (default .cache/pnpm).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${CHAT_BOOTSTRAP_BIN:-$ROOT/tools/bin}"
CACHE="${CHAT_BOOTSTRAP_CACHE:-$ROOT/.cache/pnpm}"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

command -v node >/dev/null 2>&1 || { log "node is required (Node 20.19 or newer): https://nodejs.org/en/download"; exit 1; }
command -v npm >/dev/null 2>&1 || { log "npm is required; it ships with Node.js (Debian: apt-get install npm)"; exit 1; }

VERSION="$(node -p "require('$ROOT/package.json').packageManager.split('@')[1]")"
PREFIX="$CACHE/$VERSION"
mkdir -p "$BIN"

current() { "$BIN/pnpm" --version 2>/dev/null || true; }

if [[ "$(current)" == "$VERSION" ]]; then
  exit 0
fi

if [[ ! -x "$PREFIX/bin/pnpm" ]] || [[ "$("$PREFIX/bin/pnpm" --version 2>/dev/null || true)" != "$VERSION" ]]; then
  log "installing pnpm $VERSION into ${PREFIX#"$ROOT"/} (from the npm registry; Corepack is not used)"
  rm -rf "$PREFIX.tmp"
  # --global with a private prefix gives the usual bin/ layout without touching the machine's.
  npm install --global --prefix "$PREFIX.tmp" --no-audit --no-fund --loglevel=error "pnpm@$VERSION" >&2
  rm -rf "$PREFIX"
  mv "$PREFIX.tmp" "$PREFIX"
  # npm writes absolute symlinks into bin/ that still name the .tmp prefix; recreate them.
  ln -sfn "../lib/node_modules/pnpm/bin/pnpm.cjs" "$PREFIX/bin/pnpm"
fi

ln -sfn "$PREFIX/bin/pnpm" "$BIN/pnpm"
got="$(current)"
if [[ "$got" != "$VERSION" ]]; then
  log "pnpm at $BIN/pnpm reports '${got:-nothing}', not $VERSION"
  exit 1
fi
log "pnpm $VERSION ready at ${BIN#"$ROOT"/}/pnpm"
