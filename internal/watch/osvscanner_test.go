package watch

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/sbom"
)

var goRecords = sync.OnceValues(func() ([]advisory.Advisory, error) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "osv", "go")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no OSV records in %s: %v", dir, err)
	}
	var out []advisory.Advisory
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		doc, err := advisory.ParseOSV(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, doc.Advisories...)
	}
	return out, nil
})

type golden struct {
	SBOM     string `json:"sbom"`
	Packages []struct {
		Name, Version, Ecosystem string
		IDs                      []string
	} `json:"packages"`
}

// TestOSVScannerComparison runs our matcher over the SBOMs and Go OSV
// records osv-scanner v2.4.0 was run on (testdata/osv-scanner/README.md)
// and fails on any difference not explained in differences.txt.
func TestOSVScannerComparison(t *testing.T) {
	corpus := corpusDir(t)
	advs, err := goRecords()
	if err != nil {
		t.Fatal(err)
	}
	x := NewAdvisoryIndex(advs)
	explained := readDifferences(t)
	goldens, _ := filepath.Glob(filepath.Join("testdata", "osv-scanner", "*.golden.json"))
	if len(goldens) == 0 {
		t.Fatal("no golden files")
	}
	var sboms, same, diffs int
	used := map[string]bool{}
	for _, g := range goldens {
		var want golden
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		raw, err := os.ReadFile(filepath.Join(corpus, "sbom", want.SBOM))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := sbom.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", want.SBOM, err)
		}
		sboms++
		// Both sides as "ecosystem name version id" lines.
		theirs := map[string]bool{}
		for _, p := range want.Packages {
			for _, id := range p.IDs {
				theirs[fmt.Sprintf("%s %s %s %s", p.Ecosystem, p.Name, p.Version, id)] = true
			}
		}
		ours := map[string]bool{}
		for purl, ids := range affectedIDs(x.Match(doc.Components)) {
			pk, _ := packageName(purl)
			for _, id := range ids {
				ours[fmt.Sprintf("%s %s %s %s", pk.Ecosystem, pk.Name, pk.Version, id)] = true
			}
		}
		for k := range theirs {
			if ours[k] {
				same++
			}
		}
		for _, d := range symmetricDiff(ours, theirs) {
			diffs++
			if _, ok := explained[d]; !ok {
				t.Errorf("%s: unexplained difference: %s", want.SBOM, d)
			}
			used[d] = true
		}
	}
	for d := range explained {
		if !used[d] {
			t.Errorf("differences.txt explains %q, which no longer differs", d)
		}
	}
	t.Logf("%d SBOMs, %d advisories: %d (package, advisory) matches in common, %d differences (all explained)",
		sboms, len(advs), same, diffs)
}

// symmetricDiff returns "only-ours: k" and "only-osv-scanner: k" lines, sorted.
func symmetricDiff(ours, theirs map[string]bool) []string {
	var out []string
	for k := range ours {
		if !theirs[k] {
			out = append(out, "only-ours: "+k)
		}
	}
	for k := range theirs {
		if !ours[k] {
			out = append(out, "only-osv-scanner: "+k)
		}
	}
	slices.Sort(out)
	return out
}

// readDifferences reads differences.txt: blocks of difference lines
// ("only-ours: ..." / "only-osv-scanner: ...") each followed by
// "because: " explanation lines. A difference without an explanation is
// an error.
func readDifferences(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "osv-scanner", "differences.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var pending []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "only-"):
			pending = append(pending, l)
		case strings.HasPrefix(l, "because: "):
			for _, p := range pending {
				out[p] = strings.TrimPrefix(l, "because: ")
			}
			pending = nil
		default:
			t.Fatalf("differences.txt: unexpected line %q", l)
		}
	}
	if len(pending) > 0 {
		t.Fatalf("differences.txt: %q has no explanation", pending)
	}
	return out
}
