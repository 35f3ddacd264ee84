#!/usr/bin/env bash
# All chart and Kubernetes-manifest checks, no cluster and no Docker needed (make k8s-check):
#   1. helm lint --strict (Kubernetes 1.31) on the default and the production-like values } node:test
#      (helm-lint-unittest.test.ts, with check 3's helm-unittest suites)
#   2. helm template of both value sets, every object validated against the Kubernetes API
#      schemas (kubernetes-models) plus an unknown-field check          } node:test suite
#   3. helm-unittest tests in charts/chat/tests/ (and the values.schema.json tests in node)
#   4. the dashboard's metric names (check #4 against live scrapes is wired separately)
#   5. skaffold.yaml parsed and checked against the chart                } node:test suite
#   +  the Dockerfiles (rules, hadolint) and .dockerignore                } node:test suite
# Installs helm/helm-unittest/hadolint into tools/bin first (cached).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*"; }
timed() { local t0=$SECONDS; "$@"; printf '    (%ss)\n' "$((SECONDS - t0))"; }

step "tools"
bash tools/k8s/install-tools.sh

step "1-5 and Dockerfiles: node:test suite of @chat/k8s-checks (helm lint and helm-unittest run inside it)"
if [[ ! -d tools/k8s/node_modules ]]; then
  echo "tools/k8s/node_modules is missing: run \`pnpm install\` (make deps) first" >&2
  exit 1
fi
timed pnpm --filter @chat/k8s-checks test

step "all Kubernetes checks passed"
