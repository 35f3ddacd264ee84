# One entry point for humans and CI. Every target installs what it needs first, so a fresh
# clone on a fresh machine only needs Node 20, Go, Python 3 and (as root) apt for RabbitMQ,
# PostgreSQL and, where python3 lacks venv support, python3-venv.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

INFRA := node --import tsx tools/infra/src/cli.ts
export PATH := $(CURDIR)/tools/bin:$(PATH)

.PHONY: help deps infra infra-down typecheck lint test test-unit up bench kind dev k8s-render k8s-check k8s-tools build schemathesis

help: ## List targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

deps: ## Install pnpm (pinned, project-local in tools/bin) and the workspace packages
	bash tools/bootstrap/pnpm.sh
	pnpm install --frozen-lockfile --prefer-offline

infra: deps ## Start (or reuse) MongoDB-wire and RabbitMQ servers and print their URLs
	$(INFRA) up

infra-down: ## Stop only the servers `make infra` started
	$(INFRA) down

build: deps ## Compile every service to dist/
	pnpm run build

typecheck: deps ## Typecheck all code, tests included
	pnpm exec tsc -b services/common services/auth services/chat services/gateway
	pnpm exec tsc -p tsconfig.check.json
	pnpm --filter './clients/*' --workspace-concurrency=1 typecheck

lint: deps ## ESLint
	pnpm exec eslint .

k8s-tools: ## Install helm and helm-unittest into tools/bin (cached)
	bash tools/k8s/install-tools.sh

k8s-check: k8s-tools deps ## Lint, render, schema-validate and unit-test the Helm chart
	bash tools/k8s/check.sh

k8s-render: k8s-tools ## Render every manifest into .k8s-render/
	bash tools/k8s/render.sh .k8s-render

schemathesis: ## Install schemathesis (pinned, from PyPI) into a project-local venv, linked at tools/bin (cached)
	bash tools/bootstrap/schemathesis.sh

test: deps k8s-tools schemathesis ## Install everything, start infra, typecheck, lint and run every test
	$(INFRA) up
	@# Chromium for the web client's browser tests. Tolerated when it cannot be installed: those
	@# tests then skip, and the summary's last lines say so and why.
	bash tools/bootstrap/chromium.sh || echo '[bootstrap] no Chromium: the browser tests will skip (the reason is above)'
	$(MAKE) --no-print-directory typecheck lint
	@# The tests find the servers themselves through @chat/infra (MONGO_URL/AMQP_URL are not
	@# exported here: servers given by env cannot be stopped, so failure-injection tests would skip).
	status=0; pnpm -r --workspace-concurrency=1 --no-bail --reporter=append-only test 2>&1 | tee .test-output.log || status=$$?; \
	  node tools/summarize-tests.mjs .test-output.log && exit $$status

up: deps ## Run the whole system locally (infra + auth, chat, gateway) in the foreground
	$(INFRA) up
	set -a; eval "$$($(INFRA) up --env --quiet)"; set +a && node --import tsx tools/dev/up.ts

bench: deps ## Benchmarks; writes tools/bench/results/<date>.json and BENCHMARKS.md
	$(INFRA) up
	set -a; eval "$$($(INFRA) up --env --quiet)"; set +a && node --import tsx tools/bench/src/run.ts

kind: ## Create the kind cluster from k8s/kind-cluster.yaml
	kind create cluster --config k8s/kind-cluster.yaml

dev: ## skaffold dev against the current kube context (kind profile)
	skaffold dev -p kind --port-forward
