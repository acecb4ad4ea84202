#!/bin/sh
# Regenerates the osv-scanner golden files; see README.md. Usage, from
# this directory:  ./generate.sh /path/to/shared/corpus /path/to/osv-scanner
set -eu
corpus=$1
scanner=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The offline database: the corpus' Go OSV records, zipped where v2.4.0
# looks for them.
mkdir -p "$work/db/osv-scanner/Go"
(cd "$corpus/osv/go" && zip -q -X "$work/db/osv-scanner/Go/all.zip" ./*.json)

# v2.4.0 picks its SBOM extractor by file name (*.cdx.json, *.cdx.xml,
# *.spdx.json, *.spdx), so each SBOM is scanned as a copy so named.
rm -f ./*.golden.json
find "$corpus/sbom" -type f \( -name '*.json' -o -name '*.xml' -o -name '*.spdx' \) | sort | while read -r f; do
	rel=${f#"$corpus/sbom/"}
	case "$rel" in
	spdx-examples/xml/*) continue ;; # SPDX XML: not an accepted format
	esac
	case "$rel" in
	*.spdx.json) ext=spdx.json ;;
	*.spdx) ext=spdx ;;
	*.json) ext=cdx.json ;;
	*.xml) ext=cdx.xml ;;
	esac
	name=$(echo "$rel" | sed 's|/|__|g')
	cp "$f" "$work/$name.$ext"
	OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY="$work/db" "$scanner" scan source --offline \
		--format json -L "$work/$name.$ext" >"$work/out.json" 2>"$work/err" || true
	[ -s "$work/out.json" ] || echo "{}" >"$work/out.json" # no packages found: no JSON
	# Keep what the comparison needs: each vulnerable package and its ids.
	jq --arg sbom "$rel" '{sbom: $sbom, packages: ([.results[]?.packages[]? | {
		name: .package.name, version: .package.version, ecosystem: .package.ecosystem,
		ids: ([.vulnerabilities[]?.id] | sort)}] | sort_by(.ecosystem, .name, .version))}' \
		"$work/out.json" >"$name.golden.json"
done
