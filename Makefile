# motcua: `make run` starts the kiosk, `make test` is what CI runs.
# Both install the system packages they need (packaging/install-deps.sh).
SHELL := /bin/bash
export LANG := C.UTF-8
export LC_ALL := C.UTF-8
export CGO_ENABLED := 1

GO ?= go
BIN := bin/motcua
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Where `make run` keeps its data; override: make run DATA_DIR=/srv/motcua
DATA_DIR ?= $(HOME)/.local/share/motcua
# The window's layout: kiosk (citizens) or counter (staff): make run MODE=counter.
# Unset, [window] mode in the configuration file decides (else kiosk).
# More flags for `motcua run`: make run RUN_ARGS="--kiosk" (fullscreen) or
# RUN_ARGS="--headless". With no display (DISPLAY, WAYLAND_DISPLAY) it runs
# headless and says so.
MODE ?=
RUN_ARGS ?=

.PHONY: all deps build run test bench load lint fmt clean screenshots

all: build

deps:
	@packaging/install-deps.sh

build: deps
	$(GO) build -o $(BIN) ./cmd/motcua

run: build
	$(BIN) run --data-dir "$(DATA_DIR)" $(if $(MODE),--mode "$(MODE)") $(RUN_ARGS)

# The window under Xvfb, driven by keyboard, photographed into docs/screenshots.
screenshots: deps
	packaging/screenshots.sh

# test runs every package, then the portal's whole suite again on the
# province back ends (PostgreSQL records, SeaweedFS uploads) and three
# portal processes on them.
test: deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags load ./cmd/motcua-load/ ./cmd/motcua/
	$(GO) test -count=1 -timeout 12m ./...
	MOTCUA_TEST_PORTAL_DB=postgres MOTCUA_TEST_PORTAL_UPLOADS=s3 $(GO) test -count=1 -timeout 10m ./sync/portal/
	MOTCUA_TEST_PORTAL_DB=postgres MOTCUA_TEST_PORTAL_UPLOADS=s3 $(GO) test -count=1 -timeout 10m -run 'TestThreePortalProcesses|TestPortalKeepsUploadsInS3Bucket|TestPortalRecordsInPostgres' ./cmd/motcua/

bench: deps
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./... | tee bench.out

# The portal under simulated kiosks (docs/benchmarks.md): 1,000 kiosks x 20
# applications by default; e.g. make load LOAD_ARGS="--kiosks 100 --apps 5".
LOAD_ARGS ?=
load: deps
	$(GO) run -tags load ./cmd/motcua-load $(LOAD_ARGS)

lint: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin bench.out
