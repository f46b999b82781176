# authsvc developer commands. `make help` lists them.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GOLANGCI_LINT_VERSION := v2.15.0
TOOLS_BIN := $(CURDIR)/.cache/bin
GOLANGCI_LINT := $(TOOLS_BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
BUF := $(CURDIR)/tools/node_modules/.bin/buf

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Run authsvc in dev mode (embedded Stytch emulator, no credentials needed).
	go run ./cmd/authsvc

.PHONY: test
test: ## Run every test with the race detector (installs redis-server, nginx and chromium first if missing).
	./scripts/test-deps.sh
	go test -race -count=1 ./...

# Not part of `make test` (TestScreenshots skips unless AUTHSVC_SCREENSHOTS names a directory).
.PHONY: screenshots
screenshots: ## Regenerate the dev console's screenshots in docs/screenshots/ (headless Chromium against a dev-mode authsvc).
	./scripts/test-deps.sh
	AUTHSVC_SCREENSHOTS=$(CURDIR)/docs/screenshots AUTHSVC_BROWSER_TESTS=require go test -count=1 -run '^TestScreenshots$$' ./internal/devconsole/

.PHONY: generate
generate: ## Regenerate gen/ and docs/access.md from proto/ (offline: buf from npm, plugins via go tool).
	./scripts/generate.sh

.PHONY: checkgenerate
checkgenerate: generate ## Fail if gen/ or docs/access.md differ from what proto/ generates.
	@git diff --exit-code --stat -- gen/ docs/access.md clients/typescript/src/generated/ internal/devconsole/static/ || { echo "gen/, docs/access.md or the TS client types or the dev console bundle are stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all -- gen/ docs/access.md clients/typescript/src/generated/ internal/devconsole/static/)" || { git status --porcelain -- gen/ docs/access.md clients/typescript/src/generated/ internal/devconsole/static/; echo "gen/, docs/access.md or the TS client types or the dev console bundle are not committed: run 'make generate' and commit"; exit 1; }

.PHONY: breaking
breaking: ## Check proto/ for wire/JSON breaking changes against the previous commit and the API baseline (proto/api-baseline).
	./scripts/breaking.sh

$(GOLANGCI_LINT):
	mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(TOOLS_BIN)/golangci-lint $(GOLANGCI_LINT)

.PHONY: lint
lint: $(GOLANGCI_LINT) ## go vet, golangci-lint (gofumpt, errorlint, gosec, testifylint).
	go vet ./...
	$(GOLANGCI_LINT) run ./...

# FUZZTIME bounds each fuzz target (CI uses the default). A count of executions (Nx), not a
# duration: with a duration, Go 1.26's fuzz coordinator can report a spurious "context deadline
# exceeded" failure when the time is up while a worker is busy (golang/go#75804, fixed in Go 1.27).
# 20000 executions take roughly 3-15 s per target here, up to ~30 s for the whole-app targets in
# internal/app (FuzzRESTRoutes, FuzzGRPCMethods) on 2 busy cores.
FUZZTIME ?= 20000x

.PHONY: fuzz
fuzz: ## Run every fuzz target (found by name, seeds in testdata/fuzz) for FUZZTIME each.
	@for f in $$(grep -rl --include='*_test.go' '^func Fuzz' internal cmd 2>/dev/null | sort); do \
	  pkg=./$$(dirname "$$f"); \
	  for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
	    echo "== $$name ($$pkg, $(FUZZTIME))"; \
	    go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg" || exit 1; \
	  done; \
	done

.PHONY: bench
bench: ## Run the benchmarks and regenerate docs/performance.md.
	./scripts/bench.sh

# The allocation benchmark of the hottest RPCs (bench/allocs) at a fixed count: allocation counts
# per call are then reproducible to a fraction of a percent, on a busy machine too.
BENCH_ALLOCS = go test -run '^$$' -bench '^BenchmarkRPC$$' -benchtime=1000x -count=1 ./bench/allocs/

.PHONY: bench-check
bench-check: ## Fail if an RPC allocates more than its budget in bench/budgets.txt allows (+20%; ~20 s).
	@mkdir -p .cache
	$(BENCH_ALLOCS) | tee .cache/bench-allocs.txt
	go run ./bench/budgetcheck -budgets bench/budgets.txt < .cache/bench-allocs.txt

.PHONY: bench-budgets
bench-budgets: ## Rewrite bench/budgets.txt from a run of the allocation benchmark (commit it with the reason).
	@mkdir -p .cache
	$(BENCH_ALLOCS) | tee .cache/bench-allocs.txt
	go run ./bench/budgetcheck -budgets bench/budgets.txt -update < .cache/bench-allocs.txt

.PHONY: build
build: ## Build the binaries into ./bin.
	CGO_ENABLED=0 go build -trimpath -o bin/ ./cmd/...

.PHONY: soak
soak: ## Faults under load against two replicas, Redis and the emulator (≤ 10 min; SOAK_FLAGS=-short for ~1 min); docs/reliability.md.
	./scripts/test-deps.sh
	@mkdir -p .cache/soak/bin
	CGO_ENABLED=0 go build -trimpath -o .cache/soak/bin/ ./cmd/authsvc ./cmd/stytchemu
	go run ./bench/soak $(SOAK_FLAGS)
