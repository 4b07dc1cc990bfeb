# edgepurge. `make run` starts the service, `make test` runs the tests,
# `make help` (the default goal) lists every target.
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

.PHONY: help run build test test-unit test-live vet fmt redis deps sample bench bench-storm clean
.DEFAULT_GOAL := help

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: build ## start the service on 127.0.0.1:8080 against local Redis, or REDIS_URL's (dry run unless CLOUDFLARE_API_TOKEN is set)
	@if [ -n "$$REDIS_URL" ]; then echo "REDIS_URL is set: using that Redis, not a local one"; else scripts/ensure-redis.sh; fi
	@if [ -z "$(CLOUDFLARE_API_TOKEN)" ]; then echo ">>> CLOUDFLARE_API_TOKEN not set: running with EDGEPURGE_DRY_RUN=true, NOTHING WILL BE PURGED <<<"; fi
	$(RUN_ENV) $(BIN) serve --log-format text

build: ## build bin/edgepurge (static, -trimpath, version and commit in -ldflags)
	@echo "building $(BIN) (the first build downloads modules and takes a few minutes)…"
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/edgepurge

# test runs both layers: EDGEPURGE_INTEGRATION=1 turns on the integration
# layer (test/testkit/integration), where a missing part fails its test
# rather than skipping it. It first makes sure what the tests use is there:
# Redis on 127.0.0.1:6379 (started, or installed and started), varnishd
# with the xkey vmod, redis-sentinel (the scale-out tests), headless
# Chromium (the console's browser tests) and Debian's prometheus (promtool
# for the alert rules' tests, the server for test/alerts), installed when
# missing, so it works on a fresh machine.
test: vet deps ## vet, gofmt check and every test, unit and integration, with -race (starts Redis, installs varnishd, redis-sentinel, chromium, prometheus if missing)
	EDGEPURGE_INTEGRATION=1 go test -count=1 -race -timeout 15m ./...

# test-unit is the unit layer alone, what `go test ./...` runs: nothing in
# it needs Redis, varnishd, Chromium, Prometheus or a built binary; the
# integration layer's tests are skipped (`go test -v` says why).
test-unit: ## the unit layer only, in seconds: go test ./... (no Redis, varnishd or Chromium needed)
	EDGEPURGE_INTEGRATION= go test ./...

# test-live runs the conformance suite (purge/purgetest) against the real
# Cloudflare, Fastly, Akamai and CloudFront APIs, with a throwaway zone's,
# service's and distribution's credentials and a probe URL and tag no page
# serves (CloudFront waits for each invalidation to complete: minutes a case,
# hence the timeout); only its harmless cases (no purge everything, no host
# purge, nothing injected). Behind the build tag `live`, so `make test`,
# `go test ./...` and CI never run it. A CDN whose variables are not all set
# is skipped with one line naming them.
test-live: ## the conformance suite against real Cloudflare, Fastly, Akamai and CloudFront accounts (docs/cdns.md#before-the-first-deploy-make-test-live)
	@set -o pipefail; go test -count=1 -timeout 90m -tags live -run '^TestLive$$' -v ./purge/cloudflare ./purge/fastly ./purge/akamai ./purge/cloudfront | grep -Ev '^=== (RUN|PAUSE|CONT)'

# test-container builds the Dockerfile with a real Docker engine and runs
# the image (test/container): local stand-ins for its base images (no
# registry is reachable here) from busybox-static, /usr/local/go and the CA
# certificates; the image on the host's network against the real Redis and
# the Cloudflare stand-in, on a port other than 8080, read-only, with every
# capability dropped: HEALTHCHECK healthy, a signed event purged, non-root,
# no shell, `docker stop` drains and exits 0 with no 2xx lost, size under
# 25 MB; `docker-compose config` of docker-compose.yml. Then the Kubernetes
# manifests of deploy/kubernetes, decoded strictly into the API types
# (test/deploy/kubernetes, a module of its own). scripts/ensure-docker.sh
# installs docker.io when missing and starts dockerd (no bridge, no
# iptables) when none runs, and stops only a dockerd it started.
.PHONY: test-container
test-container: ## build and run the image for real, validate docker-compose.yml and deploy/kubernetes (installs and starts Docker if missing)
	@scripts/ensure-redis.sh
	@scripts/ensure-docker.sh bash -c 'set -o pipefail; EDGEPURGE_INTEGRATION=1 EDGEPURGE_CONTAINER_TEST=1 go test -count=1 -v -timeout 30m ./test/container | grep -Ev "^=== (RUN|PAUSE|CONT|NAME)"'
	cd test/deploy/kubernetes && EDGEPURGE_INTEGRATION=1 go test -count=1 ./...

# fuzz runs each fuzz target for FUZZTIME (one `go test -fuzz` per target:
# -fuzz takes one target per package run). A crasher is written to the
# package's testdata/fuzz; fix it and keep it as a regression seed.
FUZZTIME ?= 5s
FUZZ_TARGETS := internal/webhook:FuzzVerify internal/event:FuzzParseHook internal/event:FuzzParseManual \
	internal/statuspage:FuzzParse internal/plan:FuzzTemplate internal/plan:FuzzPlan
.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 5s)
	@scripts/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

vet: ## gofmt check and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	go vet ./...
	go vet -tags live ./purge/cloudflare ./purge/fastly ./purge/akamai ./purge/cloudfront
	cd test/deploy/kubernetes && go vet ./...

# redis honours REDIS_URL, as `make run` does; the tests' and the bench's
# Redis is 127.0.0.1:6379 whatever REDIS_URL says, so they call the script
# without it.
redis: ## make sure the Redis of REDIS_URL answers (default 127.0.0.1:6379; started only on this machine)
	@scripts/ensure-redis.sh "$${REDIS_URL:-}"

deps: ## make sure Redis, redis-sentinel, varnishd (with xkey), Chromium and prometheus (with promtool) are there
	@scripts/ensure-redis.sh
	@scripts/ensure-varnish.sh
	@scripts/ensure-redis-sentinel.sh
	@scripts/ensure-chromium.sh
	@scripts/ensure-prometheus.sh

# sample sends the Statuspage-shaped example to a server started by `make run`.
sample: ## send examples/statuspage-incident.json to the server of `make run`
	@curl -sS -H 'Content-Type: application/json' --data @examples/statuspage-incident.json http://$(EDGEPURGE_LISTEN)/v1/hooks/statuspage/$(EDGEPURGE_STATUSPAGE_TOKEN)

# bench runs the load generator (cmd/edgepurge-bench) against a real
# `edgepurge serve`, real Redis and the in-repo Cloudflare stand-in, and
# prints one table for the hot, many, overhead and naive scenarios, then
# the storm scenario's (escalation off and on, side by side). BEFORE_BIN,
# another edgepurge binary (say, main's), runs every scenario with it too,
# alternately, and sets both side by side (A/B).
BENCH_FLAGS ?=
STORM_FLAGS ?=
BEFORE_BIN ?=
BEFORE_FLAG = $(if $(BEFORE_BIN),--before-bin $(BEFORE_BIN))
bench: build ## run the load generator, then the storm (BENCH_FLAGS='--runs 1 --scenarios hot' for a quick look; BEFORE_BIN=path for A/B)
	@scripts/ensure-redis.sh
	go run ./cmd/edgepurge-bench --server-bin $(BIN) $(BEFORE_FLAG) $(BENCH_FLAGS)
	go run ./cmd/edgepurge-bench storm --server-bin $(BIN) $(BEFORE_FLAG) $(STORM_FLAGS)

bench-storm: build ## only the storm: 10,000 pages in 60 s, escalation off and on (STORM_FLAGS='--pages 2000 --within 20s')
	@scripts/ensure-redis.sh
	go run ./cmd/edgepurge-bench storm --server-bin $(BIN) $(BEFORE_FLAG) $(STORM_FLAGS)

fmt: ## gofmt -w every tracked Go file
	gofmt -w $$(git ls-files '*.go')

clean: ## remove bin/
	rm -rf bin
