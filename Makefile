# edgepurge. `make run` starts the service, `make test` runs the tests.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BIN     := bin/edgepurge

# Local defaults for `make run`; the environment wins. Never use these secrets
# anywhere but a developer's machine.
EDGEPURGE_LISTEN           ?= 127.0.0.1:8080
EDGEPURGE_HOSTS            ?= {page_id}.status.example.com
EDGEPURGE_KEYS             ?= statuspage:{page_id}:summary
EDGEPURGE_WEBHOOK_SECRETS  ?= whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
EDGEPURGE_STATUSPAGE_TOKEN ?= dev-statuspage-token
EDGEPURGE_API_TOKEN        ?= dev-api-token
export EDGEPURGE_LISTEN EDGEPURGE_HOSTS EDGEPURGE_KEYS EDGEPURGE_WEBHOOK_SECRETS EDGEPURGE_STATUSPAGE_TOKEN EDGEPURGE_API_TOKEN

# Without Cloudflare credentials, run says so: dry run, explicitly.
ifeq ($(strip $(CLOUDFLARE_API_TOKEN)),)
RUN_ENV := EDGEPURGE_DRY_RUN=true
else
RUN_ENV :=
endif

.PHONY: run build test vet fmt redis deps sample bench clean

run: build redis
	@if [ -z "$(CLOUDFLARE_API_TOKEN)" ]; then echo ">>> CLOUDFLARE_API_TOKEN not set: running with EDGEPURGE_DRY_RUN=true, NOTHING WILL BE PURGED <<<"; fi
	$(RUN_ENV) $(BIN) serve --log-format text

build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/edgepurge

# test first makes sure what the tests use is there: Redis on
# 127.0.0.1:6379 (started, or installed and started) and varnishd with the
# xkey vmod (installed), so it works on a fresh machine.
test: vet deps
	go test -count=1 -race -timeout 15m ./...

# fuzz runs each fuzz target for FUZZTIME (one `go test -fuzz` per target:
# -fuzz takes one target per package run). A crasher is written to the
# package's testdata/fuzz; fix it and keep it as a regression seed.
FUZZTIME ?= 5s
FUZZ_TARGETS := internal/webhook:FuzzVerify internal/event:FuzzParseHook internal/event:FuzzParseManual \
	internal/statuspage:FuzzParse internal/plan:FuzzTemplate internal/plan:FuzzPlan
.PHONY: fuzz
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} in ./$${t%%:*} for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) ./$${t%%:*}/; \
	done

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	go vet ./...

redis:
	@scripts/ensure-redis.sh

deps: redis
	@scripts/ensure-varnish.sh

# sample sends the Statuspage-shaped example to a server started by `make run`.
sample:
	curl -sS -H 'Content-Type: application/json' --data @examples/statuspage-incident.json http://$(EDGEPURGE_LISTEN)/v1/hooks/statuspage/$(EDGEPURGE_STATUSPAGE_TOKEN)

# bench runs the load generator (cmd/edgepurge-bench) against a real
# `edgepurge serve`, real Redis and the in-repo Cloudflare stand-in, and
# prints one table for the hot, many, overhead and naive scenarios.
BENCH_FLAGS ?=
bench: build redis
	go run ./cmd/edgepurge-bench --server-bin $(BIN) $(BENCH_FLAGS)

clean:
	rm -rf bin
