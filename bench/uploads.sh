#!/usr/bin/env bash
# What SBOM uploads cost a real server in resident memory (issue 10, item 1:
# any accepted upload under 256 MiB above the idle RSS; four at once do not
# fail). Builds the binary and runs bench/uploadrss against it: a fresh
# data directory, one server start per case, the peak RSS sampled every
# 5 ms while the case's uploads are answered. About a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/hallmark-bench-uploads.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/hallmark" ./cmd/hallmark
go run ./bench/uploadrss -bin "$work/hallmark"
