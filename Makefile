# Berth: `make up` runs it, `make test` tests it. Both install what is
# missing (Docker engine, debootstrap, the local base images) first.

GO      ?= go
BIN     := bin/berth
ARGS    ?=

.PHONY: build deps test-deps images up test vet bench clean sdk-py-test sdk-ts-gen sdk-ts-test sdk-ts-bench

build:
	$(GO) build -o $(BIN) ./cmd/berth

deps:
	bash scripts/ensure-deps.sh

# What only the tests need (make up installs none of it).
test-deps: deps
	bash scripts/ensure-test-deps.sh

images: deps build
	$(BIN) images build

up: images
	$(BIN) up $(ARGS)

# client/ is a module of its own: ./... of the root does not reach it.
vet:
	$(GO) vet ./...
	cd client && $(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# The engine-restart test stops every container on the engine, so it runs
# alone, after the suite.
test: test-deps images vet
	$(GO) test -race -count=1 -timeout 25m ./...
	cd client && $(GO) test -race -count=1 ./...
	BERTH_ENGINE_RESTART=1 $(GO) test -count=1 -timeout 10m -run '^TestEngineRestart$$' ./e2e
	bash sdk/python/test.sh
	bash sdk/typescript/test.sh

# The Python SDK against a real berth up (standard library only).
sdk-py-test: test-deps images
	bash sdk/python/test.sh

# The TypeScript SDK's types, generated from api/openapi.yaml by the
# openapi-typescript pinned in sdk/typescript/package-lock.json.
sdk-ts-gen:
	cd sdk/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run --silent gen

# The TypeScript SDK: build, check the generated types, test against a
# real `berth up` of a fresh bin/berth.
sdk-ts-test: test-deps
	bash sdk/typescript/test.sh

# The SDK's overhead per call against raw fetch (BENCHMARKS.md).
sdk-ts-bench: build
	cd sdk/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build:test && BERTH_BIN=$(CURDIR)/$(BIN) npm run --silent bench

# The core loop's figures and the edge against nginx (BENCHMARKS.md has
# the others, each with its command).
bench: images
	$(GO) test ./e2e -run '^$$' -bench 'SandboxPreview|CLIDeploy|Rollback' -benchtime 10x
	bash scripts/bench-edge.sh 10 10 64

clean:
	rm -rf bin
