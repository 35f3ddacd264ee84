#!/usr/bin/env bash
# `make test` as a new user's machine runs it: a fresh clone of this repository's HEAD, with
# cold Go, npm, pnpm and pip caches (empty directories, so nothing this machine built before
# is reused), and whatever pnpm the machine has (none, or Corepack's broken shim) left as it is.
# Prints how long it took. This is how the README's bare-machine figure was measured.
#
#   bash tools/bootstrap/bare-machine-test.sh [--remove-system-packages] [DIR]
#
# --remove-system-packages (root only) first runs `apt-get remove` of chromium, rabbitmq-server
# and PostgreSQL (every package `apt-get install postgresql` brings), so the run installs them
# itself, as on a machine that never had them. It changes this machine: use it on a throwaway
# one. DIR defaults to a new directory under /tmp.
set -euo pipefail

remove=0
if [[ "${1:-}" == --remove-system-packages ]]; then remove=1; shift; fi
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-$(mktemp -d /tmp/chat-bare-XXXXXX)}"
cold="$dir.cold"

if [[ $remove == 1 ]]; then
  # Only the packages: a system cluster's data in /var/lib/postgresql stays (remove, not purge),
  # and @chat/infra never uses it (it runs its own cluster under .infra).
  DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq chromium rabbitmq-server \
    postgresql postgresql-15 postgresql-client-15 postgresql-common postgresql-client-common postgresql-contrib >/dev/null
fi
rm -rf "$dir" "$cold"
mkdir -p "$cold"
git clone -q "$src" "$dir"
cd "$dir"
export GOMODCACHE="$cold/gomod" GOCACHE="$cold/gocache" GOPATH="$cold/gopath"
export npm_config_cache="$cold/npm" npm_config_store_dir="$cold/pnpm-store" PIP_NO_CACHE_DIR=1
echo "clone: $dir"
echo "pnpm on PATH: $(command -v pnpm || echo none)"
echo "rabbitmq-server: $([[ -e /usr/lib/rabbitmq/bin/rabbitmq-server ]] && echo installed || echo missing)"
echo "chromium: $([[ -e /usr/bin/chromium ]] && echo installed || echo missing)"
echo "postgresql: $(compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && echo installed || echo missing)"
start=$SECONDS
status=0
make test || status=$?
echo "make test exited $status after $((SECONDS - start)) s"
# Stop the servers this clone started, so they do not outlive the measurement.
node --import tsx tools/infra/src/cli.ts down >/dev/null 2>&1 || true
exit "$status"
