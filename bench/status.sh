#!/usr/bin/env bash
# Public status lookups under concurrent load from a second process.
#
# Starts the real binary (`hallmark serve --demo`: 2,000 products, ~1,800
# labels, SQLite) on a loopback port with a fresh --data directory, saves
# the bytes of three public answers into files, serves those files with a
# plain net/http file server (bench/staticd) on another loopback port, then
# runs bench/loadgen (a separate process) against each Hallmark URL and the
# static file of the same bytes, alternating in 5 slices so that the load
# other processes put on the machine weighs on both alike:
#
#   status-list   GET /status/suspension/0          (signed status list credential, cached)
#   label-status  GET /api/v1/labels/{id}/status    (JSON, read from the database)
#   label-page    GET /labels/{id}                   (HTML page, database + template)
#
# Each line reports requests/s, p50/p90/p99 latency; each "ratio" line is
# Hallmark's throughput over the static file's (target >= 0.3). The status
# list is also compared with the same bytes served from memory
# (status-list-mem), the cheapest answer possible.
#
# Environment: DUR (default 10s per URL), CONNS (16), HM_PORT (18080),
# STATIC_PORT (18081).
set -euo pipefail
cd "$(dirname "$0")/.."

DUR=${DUR:-10s}
CONNS=${CONNS:-16}
HM_PORT=${HM_PORT:-18080}
STATIC_PORT=${STATIC_PORT:-18081}
hm=http://127.0.0.1:$HM_PORT
static=http://127.0.0.1:$STATIC_PORT

work=$(mktemp -d "${TMPDIR:-/tmp}/hallmark-bench-status.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

for port in "$HM_PORT" "$STATIC_PORT"; do
	if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
		echo "status.sh: something already listens on 127.0.0.1:$port (set HM_PORT / STATIC_PORT)" >&2
		exit 1
	fi
done

go build -o "$work/hallmark" ./cmd/hallmark
go build -o "$work/loadgen" ./bench/loadgen
go build -o "$work/staticd" ./bench/staticd

# wait_up URL PID: until URL answers, while PID lives (at most 5 minutes).
wait_up() {
	for _ in $(seq 3000); do
		curl -fs -o /dev/null "$1" && return 0
		kill -0 "$2" 2>/dev/null || { echo "status.sh: the server for $1 exited" >&2; return 1; }
		sleep 0.1
	done
	echo "status.sh: $1 did not come up" >&2
	return 1
}

start=$(date +%s)
"$work/hallmark" serve --demo --addr "127.0.0.1:$HM_PORT" --data "$work/data" >"$work/serve.log" 2>&1 &
pids+=($!)
wait_up "$hm/healthz" "${pids[-1]}" || { tail -20 "$work/serve.log" >&2; exit 1; }
echo "# hallmark serve --demo up in $(($(date +%s) - start)) s: $(grep -o 'labels=[0-9]* expired=[0-9]*' "$work/serve.log" | tail -1)"

id=$(curl -fsS "$hm/api/v1/labels?status=active&limit=1" | sed -n 's/.*"id": *"\(HM-[^"]*\)".*/\1/p' | head -1)
[ -n "$id" ] || { echo "status.sh: no active label in the demo" >&2; exit 1; }
mkdir "$work/static"
curl -fsS "$hm/status/suspension/0" -o "$work/static/status-suspension-0.jwt"
curl -fsS "$hm/api/v1/labels/$id/status" -o "$work/static/label-status.json"
curl -fsS "$hm/labels/$id" -o "$work/static/label-page.html"

"$work/staticd" -addr "127.0.0.1:$STATIC_PORT" -dir "$work/static" &
pids+=($!)
wait_up "$static/label-status.json" "${pids[-1]}"

echo "# label $id; $CONNS connections, $DUR per URL (5 alternating slices) after 1 s warm-up; $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/loadgen" -name status-list -c "$CONNS" -d "$DUR" -target "$hm/status/suspension/0" -peer "$static/status-suspension-0.jwt"
"$work/loadgen" -name status-list-mem -c "$CONNS" -d "$DUR" -target "$hm/status/suspension/0" -peer "$static/mem/status-suspension-0.jwt"
"$work/loadgen" -name label-status -c "$CONNS" -d "$DUR" -target "$hm/api/v1/labels/$id/status" -peer "$static/label-status.json"
"$work/loadgen" -name label-page -c "$CONNS" -d "$DUR" -target "$hm/labels/$id" -peer "$static/label-page.html"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg); total $(($(date +%s) - start)) s"
