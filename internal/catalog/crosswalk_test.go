package catalog_test

import (
	"testing"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

// A small catalogue whose crosswalk answer can be worked out by hand.
func smallCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	items := func(ids ...string) []catalog.Item {
		var out []catalog.Item
		for _, id := range ids {
			out = append(out, catalog.Item{ID: id, Clause: "c", Title: "item " + id})
		}
		return out
	}
	a := items("a1", "a2", "a3", "a4", "a5", "a6", "a7")
	a[4].Gap = "a reporting rule, not a product property"
	fws := []catalog.Framework{
		{ID: "A", Title: "Framework A", Short: "A", Items: a},
		{ID: "B", Title: "Framework B", Short: "B", Items: items("b1", "b2", "b3")},
	}
	req := func(id string, maps ...catalog.Mapping) catalog.Requirement {
		return catalog.Requirement{ID: id, Topic: "T", Title: "title " + id, Summary: "s", Technical: "t", Why: "w",
			Verification: []catalog.Method{catalog.SelfDeclaration}, Mappings: maps}
	}
	m := func(fw, item string, rel catalog.Relationship) catalog.Mapping {
		return catalog.Mapping{Framework: fw, Item: item, Rel: rel}
	}
	reqs := []catalog.Requirement{
		req("R1", m("A", "a1", catalog.Equivalent), m("A", "a6", catalog.IntersectsWith), m("B", "b1", catalog.Equivalent)),
		req("R2", m("A", "a2", catalog.SubsetOf), m("B", "b1", catalog.SubsetOf)),
		req("R3", m("A", "a2", catalog.SubsetOf), m("B", "b2", catalog.IntersectsWith)),
		req("R4", m("A", "a3", catalog.SubsetOf), m("B", "b2", catalog.SubsetOf)),
		req("R5", m("A", "a4", catalog.Equivalent)),
		req("R6", m("A", "a7", catalog.SupersetOf), m("B", "b3", catalog.SupersetOf)),
	}
	c, err := catalog.New([]catalog.Topic{{ID: "T", Name: "Topic"}}, reqs, fws, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCrosswalkRules(t *testing.T) {
	x, err := smallCatalog(t).Crosswalk("A", "B")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]catalog.Strength{
		"a1": catalog.Full,    // equivalent requirement, met in full by b1
		"a2": catalog.Partial, // split over R2 (met) and R3 (only overlapped)
		"a3": catalog.Full,    // its one part, R4, is contained in b2
		"a4": catalog.None,    // R5 is asked for nowhere in B
		"a5": catalog.None,    // nothing maps: a gap
		"a6": catalog.Partial, // only an overlapping requirement reaches it
		"a7": catalog.Partial, // R6 is broader than b3, so b3 meets only part
	}
	for _, row := range x.Rows {
		if row.Strength != want[row.Item.ID] {
			t.Errorf("%s: %s, want %s (%s)", row.Item.ID, row.Strength, want[row.Item.ID], row.Summary)
		}
		if row.Summary == "" {
			t.Errorf("%s has no explanation", row.Item.ID)
		}
	}
	if x.Full != 2 || x.Partial != 3 || x.None != 2 || x.Unmapped != 1 {
		t.Errorf("figures full=%d partial=%d none=%d unmapped=%d, want 2 3 2 1", x.Full, x.Partial, x.None, x.Unmapped)
	}
	if got := x.Percent(); got != 28 {
		t.Errorf("percent = %d, want 28 (2 of 7, rounded down)", got)
	}
	if len(x.Gaps()) != 5 {
		t.Errorf("%d gaps, want 5", len(x.Gaps()))
	}
	if _, err := smallCatalog(t).Crosswalk("A", "nope"); err == nil {
		t.Error("crosswalk to an unknown framework succeeded")
	}
}

func TestSearch(t *testing.T) {
	c := builtin(t)
	all := c.Search("", "")
	if len(all) != len(c.Requirements) {
		t.Fatalf("empty search found %d of %d", len(all), len(c.Requirements))
	}
	pw := c.Search("PASSWORD", "")
	if len(pw) == 0 || len(pw) == len(all) {
		t.Fatalf("search for password found %d of %d", len(pw), len(all))
	}
	if got := c.Search("password", "UPD"); len(got) >= len(pw) {
		t.Errorf("topic filter did not narrow the search (%d vs %d)", len(got), len(pw))
	}
	if got := c.Search("zzzz-no-such-word", ""); len(got) != 0 {
		t.Errorf("nonsense search found %d", len(got))
	}
}
