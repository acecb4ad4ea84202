package watch

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func TestVersionRange(t *testing.T) {
	for _, c := range []struct {
		rng     string
		in, out []string
	}{
		{"vers:generic/>=1.0|<2.3.1", []string{"1.0", "2.3.0", "2.2.99"}, []string{"0.9", "2.3.1", "3"}},
		{"vers:all/*", []string{"1", "anything-9"}, nil},
		{"vers:all/<V4.4", []string{"4.3.9", "V4.3", "v1"}, []string{"4.4", "V4.4.0", "5"}},
		{"vers:npm/>=1.0.0-beta|<1.2.0|!=1.1.0", []string{"1.0.0-beta", "1.0.0"}, []string{"1.1.0", "0.9.0", "1.0.0-alpha"}},
		{"vers:pypi/<2.0", []string{"2.0rc1", "1.9"}, []string{"2.0", "2.0.post1"}},
		{"<=4.1.2", []string{"4.1.2", "4.1", "4.0.99"}, []string{"4.1.3", "4.2"}},
		{"< 2.0", []string{"1.9.9"}, []string{"2.0", "2.0.0", "2"}},
		{"All versions < V4.33", []string{"V4.32", "4.4"}, []string{"4.33", "V5.0"}},
		{"prior to 3.4", []string{"3.3.9"}, []string{"3.4"}},
		{"versions before 1.2", []string{"1.1"}, []string{"1.2"}},
		{"all versions", []string{"0.1", "99"}, nil},
		{"1.0 through 1.9", []string{"1.0", "1.5", "1.9"}, []string{"0.9", "1.9.1", "2.0"}},
		{"v4.1 and prior", []string{"4.1", "4.0"}, []string{"4.1.1"}},
		{"2.3.6 and  below", []string{"2.3.6"}, []string{"2.3.7"}},
		{"4.x", []string{"4.0", "4.12.1"}, []string{"5.0", "3.9", "40.1"}},
		{">= 1.0 | <= 1.32", []string{"1.0", "1.32"}, []string{"0.9", "1.33"}},
		{"> V3.0 < V4.0", []string{"3.1"}, []string{"3.0", "4.0"}},
		{">= V2.3 and < V6.30.016", []string{"2.3", "6.30.15"}, []string{"2.2", "6.30.016", "6.30.16"}},
		{"<= 4.00.02", []string{"4.0.2", "4.00.01"}, []string{"4.00.03"}},
		{"< 02.07.07(10)", []string{"02.07.07(09)", "2.7.6"}, []string{"02.07.07(10)", "02.07.08"}},
		{"10 | 11", []string{"10", "11"}, []string{"12", "10.1"}},
		{"vers:all/>=2.3<V3.0", []string{"2.3", "2.9"}, []string{"2.2", "3.0"}},
		{"All BIOS versions < V25.02.08", []string{"25.2.7"}, []string{"25.02.08"}},
		{"2.0 and later", []string{"2.0", "3"}, []string{"1.9"}},
	} {
		r, err := ParseVersionRange(c.rng)
		if err != nil {
			t.Errorf("ParseVersionRange(%q): %v", c.rng, err)
			continue
		}
		for _, v := range c.in {
			if ok, err := r.Contains(v); !ok || err != nil {
				t.Errorf("%q should contain %q (got %v, %v)", c.rng, v, ok, err)
			}
		}
		for _, v := range c.out {
			if ok, err := r.Contains(v); ok || err != nil {
				t.Errorf("%q should not contain %q (got %v, %v)", c.rng, v, ok, err)
			}
		}
	}
	for _, s := range []string{"", "NMC2 <= 6.9.6", "< June 30 2015", "<=the_first_5_digits_of_serial_number_22081",
		"HD 16 | HD23", "vers:", "vers:generic/>=abc", "All versions using Shared HIS", "< V14 SP1 Upd 9"} {
		if _, err := ParseVersionRange(s); !errors.Is(err, ErrUnparsedRange) {
			t.Errorf("ParseVersionRange(%q) = %v, want ErrUnparsedRange", s, err)
		}
	}
	// A product version that is not a version is an error, never a match.
	r, _ := ParseVersionRange("< 2.0")
	if ok, err := r.Contains("unknown"); ok || err == nil {
		t.Errorf("Contains(unknown) = %v, %v; want an error", ok, err)
	}
}

// TestFreeTextCorpus counts the version expressions of the ICS advisories
// ParseVersionRange understands, and fails if the share drops: the counts
// are quoted in ParseVersionRange's comment.
func TestFreeTextCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 4,965 CSAF files")
	}
	dir := corpusDir(t, "csaf", "ics")
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CSAF files under %s: %v", dir, err)
	}
	type count struct{ ok, all int }
	counts := map[string]*count{"product_version_range": {}, "product_version": {}}
	refused := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			ProductTree struct {
				Branches []csafBranch `json:"branches"`
			} `json:"product_tree"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var walk func([]csafBranch)
		walk = func(bs []csafBranch) {
			for _, br := range bs {
				if c := counts[br.Category]; c != nil {
					c.all++
					if _, err := ParseVersionRange(br.Name); err == nil {
						c.ok++
					} else {
						refused[br.Name]++
					}
				}
				walk(br.Branches)
			}
		}
		walk(doc.ProductTree.Branches)
	}
	for cat, c := range counts {
		t.Logf("%s: %d of %d understood (%.1f%%)", cat, c.ok, c.all, 100*float64(c.ok)/float64(c.all))
		if c.all == 0 || float64(c.ok) < 0.75*float64(c.all) {
			t.Errorf("%s: only %d of %d understood", cat, c.ok, c.all)
		}
	}
	if testing.Verbose() {
		names := make([]string, 0, len(refused))
		for n := range refused {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool { return refused[names[i]] > refused[names[j]] })
		for _, n := range names[:min(40, len(names))] {
			t.Logf("refused %4d× %q", refused[n], n)
		}
	}
}

type csafBranch struct {
	Category string       `json:"category"`
	Name     string       `json:"name"`
	Branches []csafBranch `json:"branches"`
}
