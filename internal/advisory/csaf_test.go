package advisory

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseCSAFCorpusICS(t *testing.T) {
	dir := corpus(t, "csaf/ics")
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no ICS advisories under %s: %v", dir, err)
	}
	start := time.Now()
	var advisories, affected, ranged, models, statements, hashed int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ParseCSAF(b)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if d.Format != FormatCSAF || d.ID == "" || d.Revision == "" || d.Publisher == "" || d.Modified.IsZero() {
			t.Errorf("%s: document %s %q rev %q by %q", f, d.Format, d.ID, d.Revision, d.Publisher)
		}
		hash, err := os.ReadFile(f + ".sha512")
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckHash(b, hash, "sha512"); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		} else {
			hashed++
		}
		advisories += len(d.Advisories)
		statements += len(d.Statements)
		for _, a := range d.Advisories {
			for _, af := range a.Affected {
				affected++
				if af.Vendor == "" || af.Product == "" {
					t.Errorf("%s: %s: affected %s has no vendor or product: %+v", filepath.Base(f), a.ID, af.ProductID, af)
				}
				if af.VersionRange != "" {
					ranged++
				}
				if len(af.ModelNumbers) > 0 {
					models++
				}
			}
		}
	}
	t.Logf("%d ICS CSAF advisories in %v: %d .sha512 verified, %d vulnerabilities, %d affected products (%d with a version range, %d with model numbers), %d statements",
		len(files), time.Since(start).Round(time.Millisecond), hashed, advisories, affected, ranged, models, statements)
}

// The validator test suite names, per mandatory test, the documents that
// must fail it and those that must pass. Optional and informative tests
// only warn: their documents are valid CSAF.
type validatorTests struct {
	Tests []struct {
		ID       string
		Group    string
		Failures []struct{ Name string }
		Valid    []struct{ Name string }
	}
}

// enforced are the mandatory tests ParseCSAF applies beyond the schema.
var enforced = []string{"6.1.1", "6.1.2", "6.1.3", "6.1.4", "6.1.5", "6.1.6"}

func TestParseCSAFValidatorSuite(t *testing.T) {
	dir := corpus(t, "csaf/validator-tests")
	b, err := os.ReadFile(filepath.Join(dir, "testcases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var suite validatorTests
	if err := json.Unmarshal(b, &suite); err != nil {
		t.Fatal(err)
	}
	var valid, refused, missed int
	var missedTests []string
	for _, tc := range suite.Tests {
		for _, v := range tc.Valid {
			b, err := os.ReadFile(filepath.Join(dir, v.Name))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseCSAF(b); err != nil {
				t.Errorf("%s (%s, valid): %v", v.Name, tc.ID, err)
			}
			valid++
		}
		for _, f := range tc.Failures {
			b, err := os.ReadFile(filepath.Join(dir, f.Name))
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseCSAF(b)
			switch {
			case tc.Group != "mandatory":
				// A warning, not an invalid document.
			case err != nil:
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("%s: error does not wrap ErrInvalid: %v", f.Name, err)
				}
				refused++
			case slices.Contains(enforced, tc.ID):
				t.Errorf("%s (%s, must fail): accepted", f.Name, tc.ID)
			default:
				missed++
				if !slices.Contains(missedTests, tc.ID) {
					missedTests = append(missedTests, tc.ID)
				}
			}
		}
	}
	t.Logf("validator suite: %d valid documents read; %d documents failing mandatory tests refused, %d accepted (tests not enforced: %s)",
		valid, refused, missed, strings.Join(missedTests, " "))
}

func TestParseCSAFSpecExamples(t *testing.T) {
	dir := corpus(t, "csaf/spec-examples/csaf")
	n := 0
	err := ReadDir(os.DirFS(dir), ".", func(path string, d *Document) error {
		n++
		// rhsa-2019_1862 is a csaf_informational_advisory: no vulnerabilities.
		if len(d.Advisories)+len(d.Statements) == 0 && path != "rhsa-2019_1862.json" {
			t.Errorf("%s: read nothing", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 19 {
		t.Errorf("read %d spec examples, want 6 advisories and 13 csaf_vex", n)
	}
}
