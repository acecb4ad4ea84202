package advisory

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestVEXGolden reads every OpenVEX, CycloneDX VEX and CSAF VEX example
// of the corpus through Parse and compares its statements with
// testdata/golden/<set>/<file>.json, which -update writes.
func TestVEXGolden(t *testing.T) {
	sets := map[string]string{
		"openvex":   corpus(t, "vex/openvex-examples"),
		"cyclonedx": corpus(t, "vex/cyclonedx-examples"),
		"csaf-vex":  corpus(t, "csaf/spec-examples/csaf/csaf_vex"),
	}
	want := map[string]Format{"openvex": FormatOpenVEX, "cyclonedx": FormatCycloneDXVEX, "csaf-vex": FormatCSAFVEX}
	counts := map[string]int{}
	for set, dir := range sets {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			if set == "cyclonedx" && !bytes.Contains(b, []byte(`"vulnerabilities"`)) {
				return nil // an SBOM that a VEX case refers to
			}
			doc, err := Parse(b)
			if err != nil {
				t.Errorf("%s/%s: %v", set, rel, err)
				return nil
			}
			f := want[set]
			if set == "openvex" && strings.HasPrefix(rel, "csaf") {
				f = FormatCSAFVEX
			}
			if doc.Format != f || len(doc.Statements) == 0 {
				t.Errorf("%s/%s: format %s with %d statements", set, rel, doc.Format, len(doc.Statements))
			}
			counts[set] += len(doc.Statements)
			golden(t, filepath.Join("testdata", "golden", set, strings.ReplaceAll(rel, string(filepath.Separator), "_")), doc.Statements)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("statements read: %v", counts)
}

func golden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what was read:\n%s", path, got)
	}
}

func TestParseKEVCorpus(t *testing.T) {
	dir := corpus(t, "kev")
	b, err := os.ReadFile(filepath.Join(dir, "known_exploited_vulnerabilities.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	ransom := 0
	for _, e := range d.Exploited {
		if e.Ransomware {
			ransom++
		}
		if e.DateAdded.IsZero() || e.DueDate.IsZero() || !strings.HasPrefix(e.CVE, "CVE-") {
			t.Errorf("entry %+v", e)
		}
	}
	if d.Format != FormatKEV || d.ID != "2025.08.25" || len(d.Exploited) != 1404 || ransom != 293 {
		t.Errorf("KEV %s %s: %d entries, %d ransomware", d.Format, d.ID, len(d.Exploited), ransom)
	}
	// The schema is applied: a CVE id out of pattern is refused, by path.
	bad := bytes.Replace(b, []byte(`"cveID": "CVE-2025-48384"`), []byte(`"cveID": "CVE-25-1"`), 1)
	if _, err := ParseKEV(bad); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "KEV 2025.08.25: vulnerabilities[0].cveID") {
		t.Errorf("bad cveID: %v", err)
	}
}

func TestParseDetects(t *testing.T) {
	for in, want := range map[string]string{
		`{"bomFormat":"CycloneDX","specVersion":"1.5","vulnerabilities":[{"id":"CVE-1","analysis":{"state":"bogus"},"affects":[{"ref":"x"}]}]}`: "vulnerabilities[0].analysis.state: unknown state",
		`{"@context":"https://openvex.dev/ns/v0.2.0","@id":"v1","statements":[{"vulnerability":{"name":"CVE-1"},"status":"maybe"}]}`:            "v1: statements[0].status: unknown status",
		`{"document":{"csaf_version":"2.0"}}`: "does not match the schema",
		`{"hello":"world"}`:                   "not a CSAF, OSV, KEV, OpenVEX or CycloneDX document",
		`[1]`:                                 "not a JSON object",
		`{"catalogVersion":"x"}`:              "KEV x: (document): does not match the schema",
	} {
		_, err := Parse([]byte(in))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
}
