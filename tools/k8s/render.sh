#!/usr/bin/env bash
# Renders the chart into <outdir> for review (make k8s-render):
#   <outdir>/default.yaml      default values
#   <outdir>/production.yaml   charts/chat/ci/production-values.yaml
#   <outdir>/skaffold.yaml     the values skaffold sets (images chat-*:dev)
# Rendering runs without a cluster, so `lookup` finds nothing: the generated JWT key and service
# token are fresh on every run (a real install reuses them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-$ROOT/.k8s-render}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
cd "$ROOT"
bash tools/k8s/install-tools.sh
HELM=tools/bin/helm
KUBE_VERSION=1.31.0

render() {
  local name=$1; shift
  "$HELM" template chat charts/chat --namespace chat --kube-version "$KUBE_VERSION" "$@" >"$OUT/$name.yaml"
  printf '%-16s %3d objects  %s\n' "$name.yaml" "$(grep -c '^kind: ' "$OUT/$name.yaml")" "$OUT/$name.yaml"
}

render default
render production --values charts/chat/ci/production-values.yaml
render skaffold \
  --set auth.image.repository=chat-auth --set auth.image.tag=dev \
  --set chat.image.repository=chat-chat --set chat.image.tag=dev \
  --set gateway.image.repository=chat-gateway --set gateway.image.tag=dev \
  --set web.image.repository=chat-web --set web.image.tag=dev \
  --set logLevel=debug --set web.enabled=true \
  --set 'cors.allowedOrigins={http://127.0.0.1:5000,http://localhost:5000}'
