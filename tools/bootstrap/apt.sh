# Sourced by the bootstrap scripts that need a Debian package: one way to install it, or to say
# exactly what is missing and how to get it. Never run on its own.
#
#   apt_install PACKAGE WHAT   # WHAT: why it is needed, e.g. "for the browser tests; about a minute"
#
# As root with apt-get: `apt-get update` then `apt-get install -y PACKAGE`. Otherwise (no apt-get,
# not root) or when either step fails: a message on stderr naming the package and the command, and
# a non-zero return, so the caller can exit with it.

log() { printf '[bootstrap] %s\n' "$*" >&2; }

apt_install() {
  local package="$1" what="$2"
  local how="Install it with: sudo apt-get update && sudo apt-get install -y $package (Debian/Ubuntu)"
  if ! command -v apt-get >/dev/null 2>&1; then
    log "$package is needed ($what), and apt-get is not available here."
    log "Install it with your system's package manager."
    return 1
  fi
  if [[ "$(id -u)" != 0 ]]; then
    log "$package is needed ($what), and installing it needs root."
    log "$how"
    return 1
  fi
  log "installing Debian's $package ($what)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get update -qq >&2; then
    log "apt-get update failed. $how"
    return 1
  fi
  if ! apt-get install -y -qq "$package" >&2; then
    log "apt-get install $package failed. $how"
    return 1
  fi
}
