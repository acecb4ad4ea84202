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
		// 13 technical sub-outcomes; the four non-technical outcomes whole.
		"nist-ir-8425":                17,
		"nist-ir-8425a":               10,
		"uk-psti-2023":                3,
		"eu-cra-annex-i":              22,
		"eu-cra-obligations":          10,
		"en-18031-1-2024":             31,
		"en-18031-2-2024":             28, // of 40: the rest unverified, and said so
		"en-18031-3-2024":             28, // of 34
		"au-smart-devices-rules-2025": 3,
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

// Every item of every built-in framework is either captured by a
// requirement (equivalent, subset-of or superset-of) or explained in
// gaps.yaml: an item only overlapped (intersects-with) is a gap too, and
// must say so, or a crosswalk would silently count it as covered in part.
func TestEveryItemCapturedOrExplained(t *testing.T) {
	c := builtin(t)
	for _, f := range c.Frameworks {
		for _, it := range f.Items {
			if !c.Captured(f.ID, it.ID) && strings.TrimSpace(it.Gap) == "" {
				var via []string
				for _, l := range c.MappedBy(f.ID, it.ID) {
					via = append(via, l.Requirement)
				}
				t.Errorf("%s#%s is not captured by any requirement (only overlapped by %v) and has no reason in gaps.yaml", f.ID, it.ID, via)
			}
		}
	}
}

// EN 303 645 v3.1.3 keeps v2.1.1's provision numbers (splitting some into
// A and B parts): a requirement mapped to a v2.1.1 provision must map to
// the same-numbered v3.1.3 provision, or to one of its parts, or a reader
// comparing a scheme on v3.1.3 loses it without a word.
func TestV311AndV313MappingsAgree(t *testing.T) {
	c := builtin(t)
	v3, _ := c.Framework("etsi-en-303-645-v3.1.3")
	parts := map[string][]string{} // v2.1.1 number -> v3.1.3 items keeping it
	for _, it := range v3.Items {
		base := strings.TrimRight(it.ID, "AB")
		parts[base] = append(parts[base], it.ID)
	}
	parts["4-1"] = []string{"5.0-1"} // renumbered, not split
	// v3.1.3 moved the on-by-default half of 5.3-6 into 5.3-4B.
	parts["5.3-6"] = append(parts["5.3-6"], "5.3-4B")
	for _, r := range c.Requirements {
		mapped := map[string]bool{}
		for _, m := range r.Mappings {
			if m.Framework == "etsi-en-303-645-v3.1.3" {
				mapped[m.Item] = true
			}
		}
		for _, m := range r.Mappings {
			if m.Framework != "etsi-en-303-645-v2.1.1" {
				continue
			}
			ok := false
			for _, p := range parts[m.Item] {
				ok = ok || mapped[p]
			}
			if !ok {
				t.Errorf("%s maps to v2.1.1 %s (%s) but to none of v3.1.3 %v", r.ID, m.Item, m.Rel, parts[m.Item])
			}
		}
	}
	// And the v3.1.3 items only overlapped are in the gap report, with a reason.
	for _, id := range []string{"5.1-2A", "5.6-4A", "5.6-4B", "6-6", "6-7", "6-8"} {
		it, ok := c.Item("etsi-en-303-645-v3.1.3", id)
		if !ok || it.Gap == "" || c.Captured("etsi-en-303-645-v3.1.3", id) {
			t.Errorf("v3.1.3 %s should be reported as a gap (only overlapped), with its reason", id)
		}
	}
}

// Every built-in framework says where its facts were checked, and when.
func TestBuiltinFrameworksHaveSources(t *testing.T) {
	c := builtin(t)
	for _, f := range c.Frameworks {
		if len(f.Sources) == 0 {
			t.Errorf("%s records no source", f.ID)
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
	// Requirement 3 is met by law (Schedule 2), not by content: PSTI asks
	// more of the support period than 5.3-13 does, and the row says both.
	for _, row := range x.Rows {
		if row.Item.ID == "3" && (!row.Deemed || !strings.Contains(row.Summary, "Deemed met by law") || !strings.Contains(row.Summary, "By content alone")) {
			t.Errorf("PSTI 3 should be deemed met by law and say what the contents alone give: %q", row.Summary)
		}
	}
	// The route is to V2.1.1 only: the regulations name that edition.
	x3, _ := c.Crosswalk("uk-psti-2023", "etsi-en-303-645-v3.1.3")
	for _, row := range x3.Rows {
		if row.Deemed {
			t.Errorf("PSTI %s is deemed met through v3.1.3, which the regulations do not name", row.Item.ID)
		}
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
