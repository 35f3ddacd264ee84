#!/usr/bin/env bash
# Puts schemathesis at tools/bin/schemathesis, installed from PyPI with the pins of
# tools/bootstrap/schemathesis.requirements.txt into a project-local venv under
# .cache/schemathesis/. The schemathesis gate (tests/system/schemathesis.test.ts) runs it from
# there. pip installs only into that venv: the machine's Python is never changed.
#
# A venv needs Python's ensurepip, which Debian moves out of python3 into the python3-venv
# package: on a Debian 12 without it, `python3 -m venv` fails ("ensurepip is not available").
# As root with apt-get, this script then installs python3-venv; otherwise it says what is
# missing and how to get it, and exits 1. The gate then fails with that message: it never skips.
#
# Cached: the venv's directory is named for the pinned version, the Python version and a
# checksum of the requirements file, and is marked complete only once pip succeeded, so a
# second run returns at once and prints nothing, and an interrupted install starts over.
# Env (for the bootstrap test): CHAT_PYTHON (default python3), CHAT_BOOTSTRAP_BIN (default
# tools/bin), CHAT_SCHEMATHESIS_CACHE (default .cache/schemathesis).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${CHAT_BOOTSTRAP_BIN:-$ROOT/tools/bin}"
CACHE="${CHAT_SCHEMATHESIS_CACHE:-$ROOT/.cache/schemathesis}"
PYTHON="${CHAT_PYTHON:-python3}"
REQUIREMENTS="$ROOT/tools/bootstrap/schemathesis.requirements.txt"

# shellcheck source=tools/bootstrap/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  log "$PYTHON is required for schemathesis (Python 3.9 or newer). Debian: apt-get install -y python3 python3-venv"
  exit 1
fi
pyversion="$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)'; then
  log "schemathesis needs Python 3.9 or newer; $PYTHON is $pyversion"
  exit 1
fi

want="$(sed -n 's/^schemathesis==//p' "$REQUIREMENTS")"
VENV="$CACHE/$want-py$pyversion-$(cksum <"$REQUIREMENTS" | cut -d' ' -f1)"
mkdir -p "$BIN"

ready() {
  [[ -f "$VENV/.complete" && "$(readlink "$BIN/schemathesis" 2>/dev/null || true)" == "$VENV/bin/schemathesis" ]] || return 1
  [[ "$("$BIN/schemathesis" --version 2>/dev/null || true)" == *" $want" ]]
}
if ready; then
  exit 0
fi

# A venv whose scripts no longer run (its directory was moved: a venv records its own absolute
# path) is rebuilt like one that never completed.
venv_works() {
  [[ -f "$VENV/.complete" && "$("$VENV/bin/schemathesis" --version 2>/dev/null || true)" == *" $want" ]]
}

if ! venv_works; then
  if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    apt_install python3-venv "$PYTHON ($pyversion) has no ensurepip, which python3 -m venv needs" || exit 1
    if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
      log "python3-venv is installed, but $PYTHON still has no ensurepip: it is not Debian's python3."
      log "Put a Python with venv support first on PATH, or set CHAT_PYTHON to one."
      exit 1
    fi
  fi
  log "installing schemathesis $want into ${VENV#"$ROOT"/} (PyPI, pinned; Python $pyversion)"
  start=$SECONDS
  # A venv records its own absolute path in its scripts, so it is built where it stays; a
  # directory without the .complete mark is a failed or interrupted attempt and is rebuilt.
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" >&2
  if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQUIREMENTS" >&2; then
    log "pip could not install schemathesis $want from PyPI (the reason is above)."
    exit 1
  fi
  touch "$VENV/.complete"
  log "schemathesis $want installed in $((SECONDS - start)) s"
fi

ln -sfn "$VENV/bin/schemathesis" "$BIN/schemathesis"
if ! ready; then
  log "$BIN/schemathesis reports '$("$BIN/schemathesis" --version 2>&1 || true)', not schemathesis $want"
  exit 1
fi
log "schemathesis $want ready at ${BIN#"$ROOT"/}/schemathesis"
