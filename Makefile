# Hallmark: the whole test suite is `make test`; CI runs exactly that.
GO ?= go
GOLANGCI_LINT_VERSION ?= v2.5.0
FUZZTIME ?= 30s

.PHONY: test lint fuzz bench run build

# Every test, on SQLite and PostgreSQL, with the browser tests in chromium.
# Tests needing PostgreSQL or chromium skip on a laptop without them, and
# fail instead when CI=true.
test:
	$(GO) test -count=1 -timeout 15m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Run each fuzz target for FUZZTIME.
fuzz:
	$(GO) test ./internal/catalog -run '^$$' -fuzz '^FuzzLoadRequirements$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/catalog -run '^$$' -fuzz '^FuzzImportOSCAL$$' -fuzztime $(FUZZTIME)

# Go benchmarks; figures and the commands that made them live in bench/README.md.
bench:
	bench/run

build:
	$(GO) build -o hallmark ./cmd/hallmark

run:
	$(GO) run ./cmd/hallmark serve --demo
