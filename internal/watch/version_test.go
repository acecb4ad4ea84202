package watch

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir returns the shared test corpus beside the repository, skipping
// the test when it is absent (a developer checkout) but failing on CI,
// where its absence would silently hide every corpus test.
func corpusDir(t testing.TB, sub ...string) string {
	t.Helper()
	dir := filepath.Join(append([]string{"..", "..", "..", "shared", "corpus"}, sub...)...)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("test corpus missing on CI: %v", err)
		}
		t.Skipf("test corpus not present (%v); see /work/shared/corpus", err)
	}
	return dir
}

// versionFixtures maps each ordered list in the corpus' versions/ folder
// (osv-scalibr's semantic testdata) to the OSV ecosystems it is ground truth
// for. The test fails if a file appears that is not listed, so none is
// skipped unnoticed.
var versionFixtures = map[string][]string{
	"alpine-versions.txt":              {"Alpine:v3.19"},
	"alpine-versions-generated.txt":    {"Alpine"},
	"cran-versions.txt":                {"CRAN"},
	"cran-versions-generated.txt":      {"CRAN"},
	"debian-versions.txt":              {"Debian:12", "Ubuntu:22.04"},
	"debian-versions-generated.txt":    {"Debian"},
	"hackage-versions.txt":             {"Hackage"},
	"maven-versions.txt":               {"Maven"},
	"maven-versions-generated.txt":     {"Maven"},
	"nuget-versions.txt":               {"NuGet"},
	"packagist-versions.txt":           {"Packagist"},
	"packagist-versions-generated.txt": {"Packagist"},
	"pub-versions.txt":                 {"Pub"},
	"pypi-versions.txt":                {"PyPI"},
	"pypi-versions-generated.txt":      {"PyPI"},
	"redhat-versions.txt":              {"Red Hat", "Rocky Linux", "AlmaLinux", "openSUSE"},
	"rubygems-versions.txt":            {"RubyGems"},
	"rubygems-versions-generated.txt":  {"RubyGems"},
	"semver-versions.txt":              {"Go", "npm", "crates.io", "Hex"},
}

// TestVersionOrderCorpus checks every "a <op> b" line of every list, both
// ways round (a<b implies b>a), for every ecosystem the list stands for.
func TestVersionOrderCorpus(t *testing.T) {
	dir := corpusDir(t, "versions")
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no version lists in %s: %v", dir, err)
	}
	for _, f := range files {
		ecos, ok := versionFixtures[filepath.Base(f)]
		if !ok {
			t.Errorf("%s: no ecosystem mapped for this list", filepath.Base(f))
			continue
		}
		lines := readVersionLines(t, f)
		for _, eco := range ecos {
			t.Run(filepath.Base(f)+"/"+eco, func(t *testing.T) {
				failed := 0
				for _, l := range lines {
					for _, c := range [][3]string{{l.a, l.op, l.b}, {l.b, flip(l.op), l.a}} {
						got, err := CompareVersions(eco, c[0], c[2])
						if err != nil {
							t.Errorf("line %d: %v", l.n, err)
							failed++
							continue
						}
						if want := opResult(c[1]); got != want {
							failed++
							if failed <= 10 {
								t.Errorf("line %d: %s %s %s, got %d", l.n, c[0], c[1], c[2], got)
							}
						}
					}
				}
				t.Logf("%d comparisons, %d wrong", 2*len(lines), failed)
			})
		}
	}
}

type versionLine struct {
	n        int
	a, op, b string
}

func readVersionLines(t *testing.T, path string) []versionLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []versionLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "# ") || strings.HasPrefix(line, "// ") {
			continue
		}
		p := strings.Split(line, " ")
		if len(p) != 3 || opResult(p[1]) == 2 {
			t.Fatalf("%s:%d: unexpected line %q", path, n, line)
		}
		out = append(out, versionLine{n, p[0], p[1], p[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no comparisons", path)
	}
	return out
}

func opResult(op string) int {
	switch op {
	case "<":
		return -1
	case "=":
		return 0
	case ">":
		return 1
	}
	return 2
}

func flip(op string) string {
	switch op {
	case "<":
		return ">"
	case ">":
		return "<"
	}
	return op
}

func TestGoLeadingV(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"v1.2.3", "1.2.3", 0},
		{"v0.0.0-20191016112426-3962a5ea8da1", "0.0.1", -1},
		{"v1.10.0", "1.9.0", 1},
	} {
		got, err := CompareVersions("Go", c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("CompareVersions(Go, %q, %q) = %d, %v; want %d", c.a, c.b, got, err, c.want)
		}
	}
	if _, err := CompareVersions("Nonesuch", "1", "2"); err == nil {
		t.Error("unknown ecosystem compared without error")
	}
}
