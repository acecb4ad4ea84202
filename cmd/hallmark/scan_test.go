package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hallmark ingest stores an OSV record; hallmark scan then finds it in an
// SBOM offline, exits 4, and its JSON is osv-scanner's shape.
func TestIngestThenScan(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	osv := filepath.Join(dir, "osv")
	os.MkdirAll(osv, 0o700)
	os.WriteFile(filepath.Join(osv, "HM-TEST-SCAN-1.json"), []byte(`{"schema_version": "1.6.0", "id": "HM-TEST-SCAN-1", "modified": "2026-11-01T00:00:00Z",
		"aliases": ["CVE-2099-7001"], "affected": [{"package": {"ecosystem": "Go", "name": "example.test/flawed"},
		"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}]}]}]}`), 0o600)
	sbom := filepath.Join(dir, "bom.cdx.json")
	os.WriteFile(sbom, []byte(`{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": [
		{"type": "library", "name": "example.test/flawed", "version": "v1.1.0", "purl": "pkg:golang/example.test/flawed@v1.1.0"},
		{"type": "library", "name": "example.test/fine", "version": "v1.1.0", "purl": "pkg:golang/example.test/fine@v1.1.0"}]}`), 0o600)

	code, out, errs := hallmark(t, "", "ingest", "--data", data, "osv", osv)
	if code != 0 || !strings.Contains(out, "1 stored") {
		t.Fatalf("ingest: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = hallmark(t, "", "scan", "--data", data, sbom)
	if code != 4 || !strings.Contains(out, "HM-TEST-SCAN-1") || !strings.Contains(out, "fixed in 1.2.0") || strings.Contains(out, "example.test/fine") {
		t.Fatalf("scan: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = hallmark(t, "", "scan", "--data", data, "--format", "json", sbom)
	var doc struct {
		Results []struct {
			Packages []struct {
				Package         struct{ Name, Version, Ecosystem string }
				Vulnerabilities []struct {
					ID      string
					Aliases []string
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 4 || len(doc.Results) != 1 || len(doc.Results[0].Packages) != 1 {
		t.Fatalf("scan --format json: exit %d, %v\n%s", code, err, out)
	}
	p := doc.Results[0].Packages[0]
	if p.Package.Name != "example.test/flawed" || p.Package.Ecosystem != "Go" || len(p.Vulnerabilities) != 1 || p.Vulnerabilities[0].ID != "HM-TEST-SCAN-1" {
		t.Fatalf("scan --format json: %+v", p)
	}
	// The same record again changes nothing.
	if code, out, _ = hallmark(t, "", "ingest", "--data", data, "osv", osv); code != 0 || !strings.Contains(out, "0 stored, 1 unchanged") {
		t.Fatalf("second ingest: exit %d\n%s", code, out)
	}
}
