package catalog_test

import (
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/data"
	"github.com/hallmark-iot/hallmark/internal/catalog"
)

func builtin(t testing.TB) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Load(data.FS, "catalog")
	if err != nil {
		t.Fatalf("the built-in catalogue does not load:\n%v", err)
	}
	return c
}

// The frameworks and their item counts are facts from the standards
// (see shared/STANDARDS.md); a change here means the data lost an item.
func TestBuiltinFrameworks(t *testing.T) {
	c := builtin(t)
	want := map[string]int{
		"etsi-en-303-645-v2.1.1": 68,
		"etsi-en-303-645-v3.1.3": 78,
		"nist-ir-8259a":          6,
		"nist-ir-8259b":          4,
		"nist-ir-8425":           10,
		"uk-psti-2023":           3,
		"eu-cra-annex-i":         22,
	}
	for id, n := range want {
		f, ok := c.Framework(id)
		if !ok {
			t.Errorf("framework %s is missing", id)
			continue
		}
		if len(f.Items) != n {
			t.Errorf("%s has %d items, want %d", id, len(f.Items), n)
		}
	}
	en, _ := c.Framework("etsi-en-303-645-v2.1.1")
	var m, r int
	for _, it := range en.Items {
		switch it.Status {
		case catalog.Mandatory:
			m++
		case catalog.Recommended:
			r++
		}
	}
	if m != 33 || r != 35 {
		t.Errorf("EN 303 645 v2.1.1 has %d mandatory and %d recommended provisions, want 33 and 35", m, r)
	}
}

func TestBuiltinRequirements(t *testing.T) {
	c := builtin(t)
	if len(c.Requirements) < 40 {
		t.Fatalf("%d requirements, want at least 40", len(c.Requirements))
	}
	for _, r := range c.Requirements {
		if !strings.HasPrefix(r.ID, "HM-"+r.Topic+"-") {
			t.Errorf("%s: id should be HM-%s-<n> for its topic", r.ID, r.Topic)
		}
		// Policy readers get a short summary; allow a little slack over 60.
		if n := len(strings.Fields(r.Summary)); n > 70 {
			t.Errorf("%s: the plain summary has %d words; keep it near 60", r.ID, n)
		}
		if len(r.Mappings) == 0 {
			t.Errorf("%s maps to no framework item", r.ID)
		}
		if r.Unsecurable && r.UnsecurableNote == "" {
			t.Errorf("%s is marked un-securable without saying why", r.ID)
		}
	}
	if len(c.Glossary) < 25 {
		t.Errorf("%d glossary terms, want a useful glossary", len(c.Glossary))
	}
}

// Every item of the frameworks that labels and laws rest on is either
// reached by a requirement or explained as a gap.
func TestEveryKeyItemMappedOrExplained(t *testing.T) {
	c := builtin(t)
	for _, id := range []string{"etsi-en-303-645-v2.1.1", "uk-psti-2023", "eu-cra-annex-i", "nist-ir-8425"} {
		f, _ := c.Framework(id)
		for _, it := range f.Items {
			if len(c.MappedBy(id, it.ID)) == 0 && strings.TrimSpace(it.Gap) == "" {
				t.Errorf("%s#%s is neither mapped nor listed in gaps.yaml", id, it.ID)
			}
		}
	}
}

// PSTI's deemed-compliance route: a product meeting EN 303 645 v2.1.1 meets
// all three PSTI requirements. This is the crosswalk a UK policy reader
// checks first.
func TestPSTICoveredByEN303645(t *testing.T) {
	c := builtin(t)
	x, err := c.Crosswalk("uk-psti-2023", "etsi-en-303-645-v2.1.1")
	if err != nil {
		t.Fatal(err)
	}
	if x.Full != 3 || x.Total() != 3 || x.Percent() != 100 {
		t.Fatalf("PSTI covered %d of %d by EN 303 645, want 3 of 3:\n%+v", x.Full, x.Total(), x.Gaps())
	}
	want := map[string]string{"1": "5.1-1", "2": "5.2-1", "3": "5.3-13"}
	for _, row := range x.Rows {
		found := false
		for _, t := range row.Targets {
			if t.Item.ID == want[row.Item.ID] && t.Strength == catalog.Full {
				found = true
			}
		}
		if !found {
			t.Errorf("PSTI %s should be covered in full through EN %s; got %+v", row.Item.ID, want[row.Item.ID], row.Targets)
		}
	}
	// The converse does not hold: three legal requirements cannot cover a
	// 68-provision standard.
	back, _ := c.Crosswalk("etsi-en-303-645-v2.1.1", "uk-psti-2023")
	if back.Percent() > 10 {
		t.Errorf("PSTI claims to cover %d%% of EN 303 645", back.Percent())
	}
}
