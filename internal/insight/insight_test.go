package insight

import (
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/scheme"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// smallMarket is a market small enough to check every figure by hand:
//
//	v1 camera  M1  2024-01-01 → 2030-01-01 (6 y)   automatic, unique password, SBOM
//	v2 camera  M2  2025-01-01 → 2027-06-01 (2.4 y)  no updates, shared default password
//	v3 router  M1  2023-06-01 → no support end      manual updates
//	v4 router  M2  2024-06-01 → 2026-07-01 (2.1 y)
//
//	L1 v1 A@1 issued 2025-01-10, active
//	L2 v2 A@1 issued 2025-02-10, suspended 2025-06-15
//	L3 v3 B@x issued 2025-03-01, revoked 2025-05-01
//	L4 v4 B@x issued 2025-04-01, active
//	L5 v1 B@x issued 2025-05-01, active
func smallMarket() *Market {
	b := NewBuilder(day("2025-12-15"), Checkpoint{Origin: "test/log", Size: 9, Root: "cm9vdA=="},
		[]SchemeInfo{{ID: "A", Name: "Scheme A", Jurisdiction: "SG", Rules: "r1"}, {ID: "B", Name: "Scheme B", Jurisdiction: "DE", Rules: "r2"}},
		[]string{"HM-AUTH-1", "HM-AUTH-3", "HM-UPD-4", "HM-SBOM-1"})
	b.AddVersion(VersionRow{ID: 1, Product: 10, ManufacturerID: 100, Manufacturer: "M1", Category: "camera", Release: day("2024-01-01"), SupportEnd: day("2030-01-01"),
		UpdateMode: "automatic", PasswordType: "unique-per-device", SBOM: true})
	b.AddVersion(VersionRow{ID: 2, Product: 20, ManufacturerID: 200, Manufacturer: "M2", Category: "camera", Release: day("2025-01-01"), SupportEnd: day("2027-06-01"),
		UpdateMode: "none", PasswordType: "shared-default"})
	b.AddVersion(VersionRow{ID: 3, Product: 30, ManufacturerID: 100, Manufacturer: "M1", Category: "router", Release: day("2023-06-01"), UpdateMode: "manual"})
	b.AddVersion(VersionRow{ID: 4, Product: 40, ManufacturerID: 200, Manufacturer: "M2", Category: "router", Release: day("2024-06-01"), SupportEnd: day("2026-07-01")})
	for _, l := range []struct {
		id      string
		v       int64
		sc, lvl string
	}{{"L1", 1, "A", "1"}, {"L2", 2, "A", "1"}, {"L3", 3, "B", "x"}, {"L4", 4, "B", "x"}, {"L5", 1, "B", "x"}, {"L6", 3, "A", "1"}} {
		b.AddLabel(l.id, l.v, l.sc, l.lvl)
	}
	for _, e := range []struct{ id, at, st string }{
		{"L1", "2025-01-10", "active"}, {"L2", "2025-02-10", "active"}, {"L2", "2025-06-15", "suspended"},
		{"L3", "2025-03-01", "active"}, {"L3", "2025-05-01", "revoked"}, {"L4", "2025-04-01", "active"}, {"L5", "2025-05-01", "active"},
		// L6 has no logged issue at this checkpoint: it is not in the market.
	} {
		b.AddEvent(e.id, day(e.at), e.st, 0)
	}
	b.AddFinding(FindingRow{VersionID: 1, Flaw: "CVE-1", Severity: "critical", Published: day("2025-03-01"), FirstSeen: day("2025-03-05"),
		State: "fixed", Updated: day("2025-04-04"), Counts: true, Response: "none"})
	b.AddFinding(FindingRow{VersionID: 2, Flaw: "CVE-2", Severity: "high", Published: day("2025-05-01"), FirstSeen: day("2025-05-02"),
		Exploited: day("2025-05-20"), State: "open", Updated: day("2025-06-01"), Counts: true, Response: "none",
		Clocks: map[string]time.Time{"A/exploited": day("2025-06-01")}})
	b.AddFinding(FindingRow{VersionID: 4, Flaw: "CVE-3", Severity: "medium", FirstSeen: day("2025-07-01"), State: "not-affected",
		Updated: day("2025-08-01"), VEXAt: day("2025-08-01"), Counts: true, Response: "not-affected"})
	b.AddFinding(FindingRow{VersionID: 4, Flaw: "CVE-4", Severity: "critical", FirstSeen: day("2025-07-01"), State: "review", Updated: day("2025-07-01")})
	b.AddVerdict(1, "HM-AUTH-3", "pass")
	b.AddVerdict(2, "HM-UPD-4", "pass") // an assessment outweighs the declared facts
	return b.Market()
}

func compute(t *testing.T, m *Market, id string, q Query) Figure {
	t.Helper()
	def, err := Lookup(id, 0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Compute(m, def, q)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func seriesAt(t *testing.T, f Figure, month string) Point {
	t.Helper()
	for _, p := range f.Series {
		if p.Month == month {
			return p
		}
	}
	t.Fatalf("%s: no point for %s in %v", f.Indicator, month, f.Series)
	return Point{}
}

func share(t *testing.T, what string, v Value, num, den int) {
	t.Helper()
	if v.Num != num || v.Den != den {
		t.Errorf("%s = %d/%d, want %d/%d", what, v.Num, v.Den, num, den)
	}
}

func TestIndicatorsByHand(t *testing.T) {
	m := smallMarket()
	if len(m.Labels) != 5 {
		t.Fatalf("%d labels in the market, want 5 (L6's issue is not logged)", len(m.Labels))
	}
	// Live at the date: L1, L2 (suspended), L4, L5; L3 was revoked. v1 counts once.
	share(t, "support-2y", compute(t, m, "support-2y", Query{}).Total, 3, 3)
	f := compute(t, m, "support-5y", Query{By: ByScheme})
	share(t, "support-5y", f.Total, 1, 3)
	for _, g := range f.Groups {
		share(t, "support-5y in "+g.Key, g.Value, 1, 2)
	}
	if f.Checkpoint.Size != 9 || !f.At.Equal(day("2025-12-15")) {
		t.Errorf("figure cites %+v at %s", f.Checkpoint, f.At)
	}
	// In April every version was live; v3 declares no support end.
	p := seriesAt(t, compute(t, m, "support-2y", Query{}), "2025-04")
	if p.Den != 4 || math.Abs(float64(p.Value)-0.75) > 1e-12 {
		t.Errorf("support-2y in 2025-04 = %v of %d, want 0.75 of 4", p.Value, p.Den)
	}
	if med := compute(t, m, "support-median", Query{}).Total; med.Den != 3 || math.Abs(float64(med.Value)-2.41) > 0.01 {
		t.Errorf("median support = %v over %d, want 2.41 over 3", med.Value, med.Den)
	}
	// Vulnerabilities: only CVE-2 is open at the date; CVE-1 was fixed, CVE-3
	// cleared by VEX, CVE-4 awaits review.
	v := compute(t, m, "vuln-unfixed", Query{})
	share(t, "vuln-unfixed", v.Total, 1, 3)
	if v.Total.Parts[1].Name != "high" || v.Total.Parts[1].Count != 1 || v.Total.Parts[0].Count != 0 {
		t.Errorf("parts = %+v, want one high", v.Total.Parts)
	}
	// At the end of March CVE-1 was still unfixed (fixed 4 April).
	if p := seriesAt(t, v, "2025-03"); p.Den != 3 || math.Abs(float64(p.Value)-1.0/3) > 1e-12 {
		t.Errorf("vuln-unfixed in 2025-03 = %v of %d, want 1/3", p.Value, p.Den)
	}
	share(t, "vuln-exploited", compute(t, m, "vuln-exploited", Query{}).Total, 1, 3)
	if f := compute(t, m, "fix-days", Query{}).Total; f.Value != 34 || f.Den != 1 {
		t.Errorf("fix-days = %v over %d, want 34 over 1", f.Value, f.Den)
	}
	if f := compute(t, m, "vex-days", Query{}).Total; f.Value != 31 || f.Den != 1 {
		t.Errorf("vex-days = %v over %d, want 31 (no publication date: from first seen)", f.Value, f.Den)
	}
	share(t, "clocks-met", compute(t, m, "clocks-met", Query{}).Total, 0, 1)
	u := compute(t, m, "unsecurable", Query{})
	share(t, "unsecurable", u.Total, 1, 3)
	if u.Total.Parts[0].Count != 1 || u.Total.Parts[1].Count != 1 {
		t.Errorf("unsecurable parts = %+v", u.Total.Parts)
	}
	ls := compute(t, m, "label-status", Query{By: ByJurisdiction})
	share(t, "label-status", ls.Total, 3, 5)
	if got := ls.Total.Parts; got[0].Count != 3 || got[1].Count != 1 || got[2].Count != 1 {
		t.Errorf("status parts = %+v", got)
	}
	if !strings.Contains(strings.Join(ls.Caveats, " "), "not comparable") {
		t.Errorf("label-status across schemes with different rules carries no comparability caveat: %v", ls.Caveats)
	}
	if c := compute(t, m, "label-status", Query{Scheme: "A"}).Caveats; strings.Contains(strings.Join(c, " "), "rule sets") {
		t.Errorf("one scheme's figure warns about comparing schemes: %v", c)
	}
	// Scoped to one category and manufacturer.
	share(t, "support-5y cameras of M2", compute(t, m, "support-5y", Query{Category: "camera", Manufacturer: 200}).Total, 0, 1)
	share(t, "support-5y of an unknown category", compute(t, m, "support-5y", Query{Category: "kettle"}).Total, 0, 0)
}

func TestRequirementCoverageByHand(t *testing.T) {
	m := smallMarket()
	f := compute(t, m, "requirement-coverage", Query{})
	got := map[string]Value{}
	for _, g := range f.Groups {
		got[g.Key] = g.Value
	}
	// Four newest versions. AUTH-1 from the password type: v1 meets, v2 fails.
	share(t, "HM-AUTH-1", got["HM-AUTH-1"], 1, 4)
	if p := got["HM-AUTH-1"].Parts; p[1].Count != 1 || p[2].Count != 1 || p[3].Count != 2 {
		t.Errorf("HM-AUTH-1 parts = %+v, want 1 declared, 1 fails, 2 without evidence", p)
	}
	share(t, "HM-AUTH-3 (assessed only)", got["HM-AUTH-3"], 1, 4)
	// UPD-4: v1 declares automatic updates; v2's assessment passes it
	// although it declares none; v3 declares manual (fails).
	share(t, "HM-UPD-4", got["HM-UPD-4"], 2, 4)
	share(t, "HM-SBOM-1", got["HM-SBOM-1"], 1, 4)
	one := compute(t, m, "requirement-coverage", Query{Requirement: "HM-UPD-4", By: ByCategory})
	share(t, "HM-UPD-4 total", one.Total, 2, 4)
	if _, err := Compute(m, mustDef(t, "requirement-coverage"), Query{Requirement: "HM-NOPE-1"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown requirement: %v", err)
	}
}

func mustDef(t *testing.T, id string) *Definition {
	t.Helper()
	d, err := Lookup(id, 0)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestQueryBounds(t *testing.T) {
	m := smallMarket()
	d := mustDef(t, "support-5y")
	for _, q := range []Query{{By: "colour"}, {From: "2025-13"}, {From: "1990-01"}, {To: "2030-01"}, {From: "2025-06", To: "2025-01"},
		{Limit: 5000}, {Scheme: "nope"}, {Requirement: "HM-AUTH-1"}} {
		if _, err := Compute(m, d, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: err = %v, want ErrInvalid", q, err)
		}
	}
	if _, err := Lookup("support-5y", 7); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown definition version: %v", err)
	}
	f := compute(t, m, "support-5y", Query{From: "2025-01", To: "2025-06"})
	if len(f.Series) != 6 || f.Series[0].Month != "2025-01" {
		t.Errorf("series = %v", f.Series)
	}
}

func TestWhatIfByHand(t *testing.T) {
	m := smallMarket()
	add := []Condition{{Kind: CondSupport, Years: 5}, {Kind: CondRequirement, Requirement: "HM-UPD-4"}, {Kind: CondRequirement, Requirement: "HM-AUTH-3"}}
	r, err := RunWhatIf(m, WhatIf{Scheme: "A", Level: "1", Add: add})
	if err != nil {
		t.Fatal(err)
	}
	// L1 (v1) and L2 (v2, suspended but live) hold A@1.
	if r.Labelled != 2 || r.WouldFail != 1 || r.Qualify != 1 || r.FailEvidence != 1 {
		t.Fatalf("labelled %d, would fail %d, qualify %d, fail on evidence %d; want 2, 1, 1, 1", r.Labelled, r.WouldFail, r.Qualify, r.FailEvidence)
	}
	c := r.Conditions
	if c[0].Fails != 1 || c[0].Meets != 1 || c[1].Meets != 2 || c[2].Meets != 1 || c[2].NoEvidence != 1 {
		t.Errorf("conditions = %+v", c)
	}
	if r.Bottleneck != 0 || !strings.Contains(r.Summary, "1 of the 2") {
		t.Errorf("bottleneck %d, summary %q", r.Bottleneck, r.Summary)
	}
	if len(r.Held) != 1 || r.Held[0].Label != "L2" || len(r.Held[0].Fails) != 1 || r.Held[0].Fails[0] != "support>=5" {
		t.Errorf("held = %+v", r.Held)
	}
	// Alone, HM-AUTH-3 holds back v2, which has no verdict on it.
	r, _ = RunWhatIf(m, WhatIf{Scheme: "A", Level: "1", Add: add[2:]})
	if r.WouldFail != 1 || r.NoEvidence != 1 || r.Conditions[0].Only != 1 {
		t.Errorf("HM-AUTH-3 alone: %+v", r)
	}
	for _, w := range []WhatIf{{Scheme: "nope", Level: "1", Add: add}, {Scheme: "A", Level: "1"},
		{Scheme: "A", Level: "1", Add: []Condition{{Kind: CondRequirement, Requirement: "HM-NOPE-9"}}},
		{Scheme: "A", Level: "1", Add: []Condition{add[0], add[0]}}} {
		if _, err := RunWhatIf(m, w); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", w, err)
		}
	}
	for _, s := range []string{"support>=0", "support>=x", "firmware", "support>=99"} {
		if _, err := ParseCondition(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseCondition(%q) = %v", s, err)
		}
	}
	if c, err := ParseCondition("support>=5"); err != nil || c.Years != 5 {
		t.Errorf("support>=5: %+v %v", c, err)
	}
}

func TestReplayByHand(t *testing.T) {
	m := smallMarket()
	tr, fa := true, false
	rule := scheme.Rule{ID: "exploited-10d", Description: "Exploited and unfixed for ten days: suspend.",
		When: scheme.Condition{Severity: []string{"high", "critical"}, ActivelyExploited: &tr, FixAvailable: &fa},
		Then: []scheme.Action{{Kind: scheme.Notify}, {Kind: scheme.Deadline, Days: 10}, {Kind: scheme.Suspend}}}
	r, err := RunReplay(m, Replay{Rule: rule, Scheme: "A"})
	if err != nil {
		t.Fatal(err)
	}
	// CVE-2 on v2 became known exploited on 20 May: the clock runs to 30
	// May, when L2 was still active; it was really suspended on 15 June.
	if r.Considered != 2 || r.Changed != 1 || r.Anyway != 1 || r.Never != 0 {
		t.Fatalf("replay = %+v", r)
	}
	l := r.Labels[0]
	if l.Label != "L2" || !l.When.Equal(day("2025-05-30")) || l.Earlier == nil || *l.Earlier != 16 || l.Flaws[0] != "CVE-2" {
		t.Errorf("row = %+v", l)
	}
	if r.MedianEarlier != 16 || !strings.Contains(r.Summary, "1 A labels would have been suspended in 2025") {
		t.Errorf("median %v, summary %q", r.MedianEarlier, r.Summary)
	}
	// A rule that never fires changes nothing; an invalid one is refused.
	none := rule
	none.When.Severity = []string{"low"}
	if r, _ := RunReplay(m, Replay{Rule: none}); r.Changed != 0 || r.Considered != 5 {
		t.Errorf("low-only rule: %+v", r)
	}
	bad := rule
	bad.Then = []scheme.Action{{Kind: scheme.Notify}}
	if _, err := RunReplay(m, Replay{Rule: bad}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a rule without a status change: %v", err)
	}
	bad.Then = nil
	if _, err := RunReplay(m, Replay{Rule: bad}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a rule without actions: %v", err)
	}
}

func TestTargetProgress(t *testing.T) {
	def := mustDef(t, "support-5y")
	mk := func(vals ...float64) []Point {
		var ps []Point
		start := day("2025-01-01")
		for i, v := range vals {
			ps = append(ps, Point{Month: start.AddDate(0, i, 0).Format("2006-01"), Value: Num(v), Den: 10})
		}
		return ps
	}
	tg := Target{Title: "90% by 2025-12", RefMonth: "2025-01", RefValue: 0.5, Value: 0.9, Due: "2025-12", Method: LinearTrend}
	for _, tc := range []struct {
		vals []float64
		want Class
	}{
		{[]float64{0.5, 0.55, 0.6, 0.65}, OnTrack},         // +0.05 a month: 0.5 + 11*0.05 = 1.05 (capped at 1)
		{[]float64{0.5, 0.52, 0.54, 0.56}, Moderate},       // 0.72: 55% of the change
		{[]float64{0.5, 0.505, 0.51, 0.515}, Insufficient}, // 0.555: 14%
		{[]float64{0.5, 0.48, 0.46, 0.44}, MovingAway},
		{[]float64{0.5, 0.95}, OnTrack}, // already there
	} {
		p := Assess(tg, def, mk(tc.vals...))
		if p.Class != tc.want {
			t.Errorf("%v: class %s (projection %v), want %s", tc.vals, p.Class, p.Projection, tc.want)
		}
	}
	if p := Assess(tg, def, mk(0.5)); p.Class != NoData {
		t.Errorf("one point: %s", p.Class)
	}
	rec := tg
	rec.Method = RecentRate
	// Four months from 0.5 to 0.6: 0.025 a month, 0.775 by December (69%).
	if p := Assess(rec, def, mk(0.5, 0.5, 0.5, 0.5, 0.6)); p.Class != Moderate || math.Abs(float64(p.Slope)-0.025) > 1e-9 ||
		math.Abs(float64(p.Projection)-0.775) > 1e-9 || len(p.Projected) != 7 {
		t.Errorf("recent rate: %s slope %v projection %v", p.Class, p.Slope, p.Projection)
	}
	// Declarations are checked.
	at := day("2025-06-15")
	for _, bad := range []Target{
		{Title: "", RefMonth: "2025-01", Value: 0.9, Due: "2026-01"},
		{Title: "x", RefMonth: "2025-09", Value: 0.9, Due: "2026-01"},
		{Title: "x", RefMonth: "2025-01", Value: 1.5, Due: "2026-01"},
		{Title: "x", RefMonth: "2025-01", Value: 0.9, Due: "2024-01"},
		{Title: "x", RefMonth: "2025-01", Value: 0.9, Due: "2026-01", Method: "hope"},
		{Title: "x", RefMonth: "2025-01", Value: 0.9, Due: "2026-01", Scope: Query{By: ByScheme}},
	} {
		if err := bad.Normalise(def, at); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	good := Target{Title: "x", RefMonth: "2025-01", RefValue: 0.5, Value: 0.9, Due: "2026-01", DeclaredAt: at}
	if err := good.Normalise(def, at); err != nil || good.Version != 1 || good.Method != LinearTrend {
		t.Fatalf("%+v: %v", good, err)
	}
	// The digest covers what was declared, not the id.
	d := good.Digest()
	good.ID = "T-1"
	if good.Digest() != d {
		t.Error("the id changed the digest")
	}
	good.Value = 0.8
	if good.Digest() == d {
		t.Error("a changed target value kept the digest")
	}
}

// Every definition is complete and its texts are public prose.
func TestCatalogue(t *testing.T) {
	ids := map[string]bool{}
	for _, d := range Definitions() {
		if ids[d.ID] {
			t.Errorf("%s listed twice", d.ID)
		}
		ids[d.ID] = true
		if d.Name == "" || d.Meaning == "" || d.Formula == "" || len(d.Caveats) == 0 || len(d.Reads) == 0 || d.eval == nil || d.Version < 1 {
			t.Errorf("%s is incomplete", d.ID)
		}
		if len(d.Digest()) != 64 {
			t.Errorf("%s digest", d.ID)
		}
	}
	for _, want := range []string{"support-2y", "support-5y", "support-median", "vuln-unfixed", "vuln-exploited", "fix-days", "vex-days",
		"clocks-met", "unsecurable", "label-status", "requirement-coverage"} {
		if !ids[want] {
			t.Errorf("indicator %s missing", want)
		}
	}
}

func TestBundle(t *testing.T) {
	m := smallMarket()
	f := compute(t, m, "vuln-unfixed", Query{By: ByScheme, From: "2025-10"})
	csv := string(CSV(f))
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	// total, 2 groups, 3 months of total, 3 of each group.
	if len(lines) != 1+1+2+3+6 || !strings.HasPrefix(lines[0], "indicator,definition_version,as_of,checkpoint_size,checkpoint_root") ||
		!strings.Contains(lines[0], "part_critical") {
		t.Fatalf("csv:\n%s", csv)
	}
	if !strings.Contains(lines[1], ",9,cm9vdA==,scheme,,total,2025-12,0.3333333333333333,1,3,0,1,0,0,0") {
		t.Errorf("total row: %s", lines[1])
	}
	md := NewMetadata(f, mustDef(t, "vuln-unfixed"), "https://hallmark.example", "https://hallmark.example/indicators/vuln-unfixed?by=scheme")
	if !strings.Contains(md.Citation, "checkpoint 9 (root cm9vdA==)") || !strings.Contains(md.Citation, "definition version 1") || len(md.DefinitionDigest) != 64 {
		t.Errorf("citation %q", md.Citation)
	}
	q, err := ParseQuery(map[string][]string{"by": {"category"}, "manufacturer": {"200"}, "from": {"2025-01"}})
	if err != nil || q.By != ByCategory || q.Manufacturer != 200 || q.Values().Encode() != "by=category&from=2025-01&manufacturer=200" {
		t.Errorf("ParseQuery: %+v %v", q, err)
	}
	for _, bad := range []map[string][]string{{"colour": {"red"}}, {"manufacturer": {"x"}}, {"by": {"a", "b"}}, {"limit": {"0"}}} {
		if _, err := ParseQuery(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	m := smallMarket()
	f := compute(t, m, "label-status", Query{By: ByScheme})
	f.Checkpoint.Root = "dGhpcnR5LXR3by1ieXRlcy1vZi1hLXJvb3QtaGFzaCE="
	b, _ := json.Marshal(NewMetadata(f, mustDef(t, "label-status"), "https://h.example", "https://h.example/indicators/label-status"))
	md, err := ReadMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := Compare(f, md.Figure); len(d) != 0 {
		t.Errorf("a figure read back differs from itself: %v", d)
	}
	other := md.Figure
	other.Total.Num++
	other.Series = other.Series[1:]
	if d := Compare(f, other); len(d) != 2 {
		t.Errorf("differences: %v", d)
	}
	for _, bad := range []string{`{}`, `{"figure": {"indicator": "x", "definition_version": 1, "checkpoint": {"root_hash": "nope"}}}`, `[`} {
		if _, err := ReadMetadata([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func FuzzReadMetadata(f *testing.F) {
	m := smallMarket()
	def, _ := Lookup("support-5y", 0)
	fig, _ := Compute(m, def, Query{By: ByCategory})
	fig.Checkpoint.Root = "dGhpcnR5LXR3by1ieXRlcy1vZi1hLXJvb3QtaGFzaCE="
	b, _ := json.Marshal(NewMetadata(fig, def, "https://h.example", "u"))
	f.Add(b)
	f.Add([]byte(`{"figure": {"indicator": "support-5y", "definition_version": 1, "query": {"by": "colour"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := ReadMetadata(b)
		if err != nil {
			return
		}
		// Whatever is accepted can be asked again without a panic.
		if d, err := Lookup(md.Figure.Indicator, md.Figure.Version); err == nil {
			Compute(m, d, md.Figure.Query)
		}
		Compare(md.Figure, md.Figure)
	})
}

func FuzzParseQuery(f *testing.F) {
	f.Add("by=scheme&from=2025-01&to=2025-06&manufacturer=7")
	f.Add("requirement=HM-UPD-4&limit=0")
	f.Add("from=9999-99&by=a&by=b")
	m := smallMarket()
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			return
		}
		for _, d := range Definitions() {
			Compute(m, d, q) // refusals are errors, never panics
		}
		if _, err := ParseCondition(raw); err == nil && len(raw) > 40 && !strings.HasPrefix(raw, "HM-") {
			t.Fatalf("accepted a long condition %q", raw)
		}
	})
}
