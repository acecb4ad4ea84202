# Hallmark: the whole test suite is `make test`; CI runs exactly that.
GO ?= go
SHELL := /bin/bash
FUZZTIME ?= 30s

.PHONY: test lint fuzz bench run build vuln

# Every test, on SQLite and PostgreSQL, with the browser tests in chromium.
# Tests needing PostgreSQL or chromium skip on a laptop without them, and
# fail instead when CI=true.
# The summary at the end lists every skipped test with its reason.
test:
	set -o pipefail; $(GO) test -count=1 -timeout 15m -json ./... | $(GO) run ./internal/tools/testsummary

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Run each fuzz target for FUZZTIME.
fuzz:
	$(GO) test ./internal/catalog -run '^$$' -fuzz '^FuzzLoadRequirements$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/catalog -run '^$$' -fuzz '^FuzzImportOSCAL$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/scheme -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/sbom -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/label -run '^$$' -fuzz '^FuzzDecodeList$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/label -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/tlog -run '^$$' -fuzz '^FuzzParseEntry$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/tlog -run '^$$' -fuzz '^FuzzParseReceipt$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/auth -run '^$$' -fuzz '^FuzzCheckPassword$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/auth -run '^$$' -fuzz '^FuzzClientIP$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/auth -run '^$$' -fuzz '^FuzzCheckDevice$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/auth -run '^$$' -fuzz '^FuzzParseTokenExpiry$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/input -run '^$$' -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/notify -run '^$$' -fuzz '^FuzzCheckURL$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/advisory -run '^$$' -fuzz '^FuzzParseOSV$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/advisory -run '^$$' -fuzz '^FuzzParseCSAF$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/advisory -run '^$$' -fuzz '^FuzzParseVEX$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/advisory -run '^$$' -fuzz '^FuzzParseKEV$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/advisory -run '^$$' -fuzz '^FuzzReadOSVZip$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/feed -run '^$$' -fuzz '^FuzzFingerprints$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/backup -run '^$$' -fuzz '^FuzzParseManifest$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/tools/testsummary -run '^$$' -fuzz '^FuzzSummary$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/i18n -run '^$$' -fuzz '^FuzzNegotiate$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/scheme -run '^$$' -fuzz '^FuzzParseRule$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/insight -run '^$$' -fuzz '^FuzzParseQuery$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/insight -run '^$$' -fuzz '^FuzzReadMetadata$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/trustlist -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/peer -run '^$$' -fuzz '^FuzzParseBundle$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/tlogpolicy -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/agreement -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/store -run '^$$' -fuzz '^FuzzParseLabelKey$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/store -run '^$$' -fuzz '^FuzzParseProductKey$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/cdn -run '^$$' -fuzz '^FuzzHeaders$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s

# govulncheck against the Go vulnerability records in ../shared/corpus (this
# environment cannot reach vuln.go.dev); with network access, plain
# `govulncheck ./...` does the same against the live database.
GOVULNCHECK_VERSION ?= v1.8.0
VULNDB ?= $(CURDIR)/../shared/corpus/osv/go
vuln:
	$(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	rm -rf /tmp/hallmark-vulndb && $(GO) run ./internal/tools/vulndb $(VULNDB) /tmp/hallmark-vulndb
	$$($(GO) env GOPATH)/bin/govulncheck -db file:///tmp/hallmark-vulndb ./...

# Go benchmarks; figures and the commands that made them live in bench/README.md.
bench:
	bench/run

build:
	$(GO) build -o hallmark ./cmd/hallmark

run:
	$(GO) run ./cmd/hallmark serve --demo
