# Berth: `make up` runs it, `make test` tests it. Both install what is
# missing (Docker engine, debootstrap, the local base images) first.

GO      ?= go
BIN     := bin/berth
ARGS    ?=

.PHONY: build deps images up test vet bench clean

build:
	$(GO) build -o $(BIN) ./cmd/berth

deps:
	bash scripts/ensure-deps.sh

images: deps build
	$(BIN) images build

up: images
	$(BIN) up $(ARGS)

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

test: images vet
	$(GO) test -race -count=1 -timeout 25m ./...

bench: images
	bash scripts/bench.sh

clean:
	rm -rf bin
