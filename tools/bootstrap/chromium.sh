#!/usr/bin/env bash
# Makes sure /usr/bin/chromium exists for the web client's browser tests (clients/web/test),
# which drive it through playwright-core. Debian's `chromium` package is used rather than
# Playwright's own download: it comes from the same apt mirror as RabbitMQ, so it installs on
# a machine whose only way out is the Debian mirror and the package registries.
#
# Cached: returns at once when /usr/bin/chromium is there. Otherwise, as root with apt-get,
# runs `apt-get update` once and `apt-get install -y chromium`. When it cannot (not root, no
# apt-get, or the install fails), it says what is missing and how to get it, and exits 1; the
# Makefile carries on and the browser tests then skip, saying why.
# Env (for tests): CHAT_CHROMIUM_PATH (default /usr/bin/chromium).
set -euo pipefail

CHROMIUM="${CHAT_CHROMIUM_PATH:-/usr/bin/chromium}"

# shellcheck source=tools/bootstrap/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

if [[ -x "$CHROMIUM" ]]; then
  exit 0
fi

apt_install chromium "for the browser tests; about a minute" || exit 1
if [[ ! -x "$CHROMIUM" ]]; then
  log "the chromium package installed, but $CHROMIUM is still missing."
  exit 1
fi
log "chromium ready at $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
