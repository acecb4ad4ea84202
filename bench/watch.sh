#!/usr/bin/env bash
# Benchmark (a) of the post-market watch: one SBOM, cold (process start to
# result), `hallmark scan` against osv-scanner v2.4.0 on the same SBOM and
# the same Go OSV records (shared/corpus/osv/go), both offline. Each tool
# runs RUNS times (default 10), interleaved, each run a fresh process;
# prints every run, the medians and the ratio osv-scanner/hallmark.
#
#   bench/watch.sh [SBOM]        # default: proton-bridge v1.6.3 (CycloneDX JSON, 201 components)
#
# CORPUS (default ../shared/corpus from the repository root), OSV_SCANNER
# (default /tmp/osvbin/osv-scanner; install with
#   GOBIN=/tmp/osvbin go install github.com/google/osv-scanner/v2/cmd/osv-scanner@v2.4.0).
# Bounded: every process is killed after 60 s; nothing listens, nothing
# leaves the machine (osv-scanner runs with --offline and a local database).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${CORPUS:-$(cd .. && pwd)/shared/corpus}
[ -d "$CORPUS/osv/go" ] || CORPUS=/work/shared/corpus
OSV_SCANNER=${OSV_SCANNER:-/tmp/osvbin/osv-scanner}
RUNS=${RUNS:-10}
SBOM=${1:-$CORPUS/sbom/cyclonedx-examples/proton-bridge/proton-bridge-v1.6.3.bom.json}
work=$(mktemp -d "${TMPDIR:-/tmp}/hallmark-watchbench.XXXXXX")
trap 'rm -rf "$work"' EXIT

go build -o "$work/hallmark" ./cmd/hallmark
# Hallmark's database: the Go records ingested once (not timed).
timeout 600 "$work/hallmark" ingest --data "$work/data" osv "$CORPUS/osv/go" >"$work/ingest.txt"
# osv-scanner's: the same records zipped where v2.4.0 reads them
# (internal/watch/testdata/osv-scanner/README.md).
mkdir -p "$work/db/osv-scanner/Go"
(cd "$CORPUS/osv/go" && zip -q -X "$work/db/osv-scanner/Go/all.zip" ./*.json)
# v2.4.0 picks its extractor by file name.
case "$SBOM" in
*.spdx.json) ext=spdx.json ;; *.spdx) ext=spdx ;; *.xml) ext=cdx.xml ;; *) ext=cdx.json ;;
esac
cp "$SBOM" "$work/sbom.$ext"

now() { date +%s%N; }
hm=() os=()
for i in $(seq "$RUNS"); do
	t=$(now)
	timeout 60 "$work/hallmark" scan --data "$work/data" --format json "$work/sbom.$ext" >"$work/h.json" || [ $? = 4 ]
	hm+=($(($(now) - t)))
	t=$(now)
	OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY="$work/db" timeout 60 "$OSV_SCANNER" scan source --offline --format json \
		-L "$work/sbom.$ext" >"$work/o.json" 2>"$work/o.err" || [ $? = 1 ]
	os+=($(($(now) - t)))
	printf 'run %2d  hallmark %6.1f ms  osv-scanner %6.1f ms\n' "$i" "$(echo "${hm[-1]}/1000000" | bc -l)" "$(echo "${os[-1]}/1000000" | bc -l)"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%d\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mh=$(median "${hm[@]}") mo=$(median "${os[@]}")
vh=$(jq '[.results[]?.packages[]?.vulnerabilities[]?] | length' "$work/h.json")
vo=$(jq '[.results[]?.packages[]?.vulnerabilities[]?] | length' "$work/o.json")
echo "sbom $(basename "$SBOM"): hallmark reports $vh (package, vulnerability) pairs, osv-scanner $vo"
printf 'scan-cold hallmark %.1f ms  osv-scanner %.1f ms  ratio osv-scanner/hallmark %.2f  (medians of %d; load %s)\n' \
	"$(echo "$mh/1000000" | bc -l)" "$(echo "$mo/1000000" | bc -l)" "$(echo "$mo/$mh" | bc -l)" "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)"
