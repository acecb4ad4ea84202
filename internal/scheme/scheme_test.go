package scheme_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/data"
	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/scheme"
)

func cat(t testing.TB) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Load(data.FS, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readGood(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseAndResolve(t *testing.T) {
	c := cat(t)
	s, err := scheme.Parse("good.yaml", []byte(readGood(t)), c)
	if err != nil {
		t.Fatal(err)
	}
	l1, err := scheme.Resolve(c, s, "1")
	if err != nil {
		t.Fatal(err)
	}
	// PSTI 3 resolves through the crosswalk. No requirement captures it (it
	// asks more than HM-UPD-12: the period may not be shortened), so the
	// requirement that overlaps it stands in, as the closest there is.
	ids := map[string]scheme.Method{}
	for _, n := range l1.Needs {
		ids[n.Requirement.ID] = n.Method
	}
	if c.Captured("uk-psti-2023", "3") {
		t.Fatal("the catalogue now captures PSTI 3; update this test")
	}
	for _, l := range c.MappedBy("uk-psti-2023", "3") {
		if _, ok := ids[l.Requirement]; !ok || l.Rel != catalog.IntersectsWith {
			t.Errorf("level 1 should need %s (%s) through uk-psti-2023#3", l.Requirement, l.Rel)
		}
	}
	l2, _ := scheme.Resolve(c, s, "2")
	if len(l2.Needs) != len(l1.Needs)+1 {
		t.Fatalf("cumulative level 2 has %d needs, level 1 %d", len(l2.Needs), len(l1.Needs))
	}
	for _, n := range l2.Needs {
		if n.Requirement.ID == "HM-AUTH-1" && (n.Method != scheme.SelfDeclaration || n.FromLevel != "1") {
			t.Errorf("inherited HM-AUTH-1 = %+v", n)
		}
		if n.Requirement.ID == "HM-VULN-1" && n.Method != scheme.LabTest {
			t.Errorf("HM-VULN-1 method %s", n.Method)
		}
	}
	if _, err := scheme.Resolve(c, s, "9"); err == nil || !strings.Contains(err.Error(), "levels: 1, 2") {
		t.Errorf("unknown level: %v", err)
	}
}

// Each broken scheme file is refused with its line and a reason an author
// can act on.
func TestValidationErrors(t *testing.T) {
	c := cat(t)
	good := readGood(t)
	cases := []struct {
		name, find, replace, want string
		also                      [2]string // a second replacement, when one is not enough
	}{
		{"unknown requirement", "- HM-VULN-1", "- HM-NOPE-1", `good.yaml:27: level "2": "HM-NOPE-1" is not a Hallmark requirement`, [2]string{}},
		{"unknown framework item", "uk-psti-2023#3", "uk-psti-2023#9", `good.yaml:21: level "1": "uk-psti-2023#9": framework uk-psti-2023 has no item "9"`, [2]string{}},
		{"gap item", "uk-psti-2023#3", "etsi-en-303-645-v2.1.1#4-1", "no Hallmark requirement maps to this item", [2]string{}},
		{"empty level", "    requirements:\n      - HM-AUTH-1\n      - uk-psti-2023#3\n", "    requirements: []\n", `level "1" requires nothing`, [2]string{}},
		{"weaker level method", "method: lab-test", "method: self-declaration", `level "2" is assessed by self-declaration, weaker than level "1"'s document-review`,
			[2]string{"method: self-declaration", "method: document-review"}},
		{"weakened requirement", "    method: lab-test\n", "    method: lab-test\n    methods: {HM-AUTH-1: self-declaration}\n", `level "2" assesses HM-AUTH-1 by self-declaration, weaker than level "1"'s document-review`,
			[2]string{"method: self-declaration", "method: document-review"}},
		{"adds nothing", "    method: lab-test\n    requirements:\n      - HM-VULN-1", "    method: self-declaration\n    requirements:\n      - HM-AUTH-1", `level "2" adds nothing to level "1"`, [2]string{}},
		{"method for a requirement not needed", "    method: lab-test\n", "    method: lab-test\n    methods: {HM-SBOM-1: lab-test}\n", "sets a method for HM-SBOM-1, which the level does not require", [2]string{}},
		{"bad method", "method: lab-test", "method: telepathy", `method "telepathy" is not one of`, [2]string{}},
		{"bad status", "status: draft", "status: maybe", `status "maybe" is not draft, active, paused or closed`, [2]string{}},
		{"validity both", "  until_support_end: true\n  cap_months: 36", "  until_support_end: true\n  months: 12", "choose months or until_support_end", [2]string{}},
		{"unknown public field", "[product_name, support_end_date]", "[product_name, colour]", `public field "colour"`, [2]string{}},
		{"unknown key", "kind: label", "kind: label\nflavour: mint", "field flavour is not a known key", [2]string{}},
		{"duplicate level", `id: "2"`, `id: "1"`, `level "1" is defined twice`, [2]string{}},
		{"impossible cvss", "      severity: [high, critical]\n", "      severity: [low]\n      cvss_min: 9.5\n", "cvss_min 9.5 can never match severities low", [2]string{}},
		{"restore without remedy", "      fix_available: true\n    then:\n      - action: restore", "      actively_exploited: true\n    then:\n      - action: restore", "a restore rule must require a remedy", [2]string{}},
		{"suspend and restore", "      - action: notify\n      - action: suspend", "      - action: suspend\n      - action: restore", "cannot both restore", [2]string{}},
		{"deadline without days", "      - action: notify\n", "      - action: deadline\n", "a deadline needs days", [2]string{}},
		{"rule with no condition", "    when:\n      fix_available: true\n", "    when: {}\n", "give at least one condition", [2]string{}},
		{"expire without support end", "      - action: restore", "      - action: expire", "an expire rule must require support_ended: true", [2]string{}},
		{"unknown severity", "[high, critical]", "[high, apocalyptic]", `severity "apocalyptic"`, [2]string{}},
		{"bad id", "id: test-scheme", "id: Test Scheme", `scheme id "Test Scheme"`, [2]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.find) {
				t.Fatalf("test data lacks %q", tc.find)
			}
			doc := strings.Replace(good, tc.find, tc.replace, 1)
			if tc.also[0] != "" {
				doc = strings.Replace(doc, tc.also[0], tc.also[1], 1)
			}
			s, err := scheme.Parse("good.yaml", []byte(doc), c)
			if err == nil {
				t.Fatalf("accepted:\n%s", doc)
			}
			if s != nil {
				t.Fatal("a scheme was returned with the error")
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestRuleMatching(t *testing.T) {
	c := cat(t)
	s, err := scheme.Parse("good.yaml", []byte(readGood(t)), c)
	if err != nil {
		t.Fatal(err)
	}
	suspend, restore := s.Rules[0].When, s.Rules[1].When
	bad := scheme.Finding{Severity: "critical", CVSS: 9.8, ActivelyExploited: true, DaysSincePublished: 45}
	if !suspend.Matches(bad) {
		t.Error("an exploited, unfixed critical finding 45 days old should match the suspend rule")
	}
	for name, f := range map[string]scheme.Finding{
		"too recent":    {Severity: "critical", ActivelyExploited: true, DaysSincePublished: 10},
		"not exploited": {Severity: "critical", DaysSincePublished: 45},
		"fixed":         {Severity: "critical", ActivelyExploited: true, DaysSincePublished: 45, FixAvailable: true},
		"medium":        {Severity: "medium", ActivelyExploited: true, DaysSincePublished: 45},
	} {
		if suspend.Matches(f) {
			t.Errorf("%s: matched the suspend rule", name)
		}
	}
	if !restore.Matches(scheme.Finding{FixAvailable: true}) || restore.Matches(bad) {
		t.Error("restore rule matches the wrong findings")
	}
	if d := suspend.Describe(); !strings.Contains(d, "exploited") || !strings.Contains(d, "30 days") {
		t.Errorf("description %q", d)
	}
}

func TestValidity(t *testing.T) {
	issued := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	support := time.Date(2032, 6, 30, 0, 0, 0, 0, time.UTC)
	early := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v          scheme.Validity
		supportEnd time.Time
		want       time.Time
	}{
		{scheme.Validity{Months: 24}, support, time.Date(2028, 1, 15, 0, 0, 0, 0, time.UTC)},
		{scheme.Validity{UntilSupportEnd: true}, support, support},
		{scheme.Validity{UntilSupportEnd: true, CapMonths: 36}, support, time.Date(2029, 1, 15, 0, 0, 0, 0, time.UTC)},
		{scheme.Validity{UntilSupportEnd: true, CapMonths: 36}, early, early},
		{scheme.Validity{UntilSupportEnd: true, CapMonths: 36}, time.Time{}, time.Date(2029, 1, 15, 0, 0, 0, 0, time.UTC)},
	} {
		if got := tc.v.Until(issued, tc.supportEnd); !got.Equal(tc.want) {
			t.Errorf("%+v with support end %v: %v, want %v", tc.v, tc.supportEnd, got, tc.want)
		}
	}
}

func TestCompareAndWhatIf(t *testing.T) {
	c := cat(t)
	s, _ := scheme.Parse("good.yaml", []byte(readGood(t)), c)
	l1, _ := scheme.Resolve(c, s, "1")
	l2, _ := scheme.Resolve(c, s, "2")
	up := scheme.Compare(l2, l1)
	if up.Verdict.Outcome != scheme.Recognisable || up.Percent() != 100 || len(up.Extra) != 1 {
		t.Errorf("level 2 as level 1: %s %d%% extra %d", up.Verdict.Outcome, up.Percent(), len(up.Extra))
	}
	down := scheme.Compare(l1, l2)
	if down.Verdict.Outcome == scheme.Recognisable || len(down.Gaps) != 1 || down.Gaps[0].Requirement.ID != "HM-VULN-1" {
		t.Errorf("level 1 as level 2: %s, gaps %+v", down.Verdict.Outcome, down.Gaps)
	}
	if !strings.Contains(strings.Join(down.Verdict.Reasons, " "), "HM-VULN-1") {
		t.Errorf("reasons do not name the gap: %v", down.Verdict.Reasons)
	}
	// Adding the missing requirement to level 1 closes the gap with level 2,
	// but at self-declaration it still falls short of level 2's lab test.
	w, err := scheme.Simulate(c, l1, []string{"HM-VULN-1"}, nil, []scheme.Resolved{l1, l2})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Rows) != 1 || w.Rows[0].CoversAfter != 100 || w.Rows[0].CoversBefore == 100 || !w.Rows[0].Changed() {
		t.Fatalf("what-if rows %+v", w.Rows)
	}
	if w.Rows[0].OutcomeAfter != scheme.Conditional {
		t.Errorf("after adding HM-VULN-1 at self-declaration: %s, want conditional (assurance shortfall)", w.Rows[0].OutcomeAfter)
	}
	for _, bad := range [][2][]string{{{"HM-NOPE-1"}, nil}, {{"HM-AUTH-1"}, nil}, {nil, {"HM-VULN-1"}}} {
		if _, err := scheme.Simulate(c, l1, bad[0], bad[1], nil); err == nil {
			t.Errorf("simulate add=%v remove=%v succeeded", bad[0], bad[1])
		}
	}
}

func FuzzParse(f *testing.F) {
	good, _ := os.ReadFile(filepath.Join("testdata", "good.yaml"))
	f.Add(good)
	f.Add([]byte(`{"id": "x", "levels": [{"id": "1", "requirements": ["HM-AUTH-1#"]}]}`))
	f.Add([]byte("levels: [{requirements: [a#b#c]}]\nrules: [{when: {cvss_min: -1}, then: [{action: deadline, days: -3}]}]"))
	c := cat(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := scheme.Parse("fuzz.yaml", b, c)
		if err != nil {
			return
		}
		// Anything accepted must resolve at every level.
		for _, l := range s.Levels {
			if _, err := scheme.Resolve(c, s, l.ID); err != nil {
				t.Fatalf("accepted scheme does not resolve level %s: %v", l.ID, err)
			}
		}
	})
}

// A kind written with its earlier name ("compliance") still reads, as a
// conformity record, from YAML and from the JSON stored scheme versions are
// kept in; an unknown kind is refused with the names to use.
func TestKindEarlierNameAndPaused(t *testing.T) {
	c := cat(t)
	doc := strings.Replace(readGood(t), "kind: label", "kind: compliance", 1)
	s, err := scheme.Parse("good.yaml", []byte(doc), c)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != scheme.KindConformity {
		t.Errorf("kind compliance read as %q, want conformity-record", s.Kind)
	}
	var fromJSON scheme.Scheme
	if err := json.Unmarshal([]byte(`{"kind": "compliance"}`), &fromJSON); err != nil || fromJSON.Kind != scheme.KindConformity {
		t.Errorf("stored kind compliance read as %q (%v)", fromJSON.Kind, err)
	}
	if _, err := scheme.Parse("good.yaml", []byte(strings.Replace(readGood(t), "kind: label", "kind: certificate", 1)), c); err == nil || !strings.Contains(err.Error(), "conformity-record") {
		t.Errorf("an unknown kind should be refused naming the kinds: %v", err)
	}
	paused, err := scheme.Parse("good.yaml", []byte(strings.Replace(readGood(t), "status: draft", "status: paused", 1)), c)
	if err != nil {
		t.Fatal(err)
	}
	if paused.Status.TakesApplications() || !scheme.Active.TakesApplications() {
		t.Error("a paused scheme takes no applications; an active one does")
	}
}

func FuzzParseRule(f *testing.F) {
	f.Add([]byte("id: exploited-30d\ndescription: Exploited, 30 days.\nwhen: {severity: [critical], actively_exploited: true}\nthen: [{action: notify}, {action: deadline, days: 30}, {action: suspend}]"))
	f.Add([]byte(`{"id": "x", "description": "y", "when": {"cvss_min": 11}, "then": [{"action": "restore"}]}`))
	f.Add([]byte("id: [\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := scheme.ParseRule(b)
		if err != nil {
			return
		}
		// Anything accepted is a rule the validator finds nothing wrong with.
		if p := r.Problems(); len(p) > 0 {
			t.Fatalf("accepted a rule with problems: %v", p)
		}
	})
}

func TestParseRule(t *testing.T) {
	r, err := scheme.ParseRule([]byte("id: exploited-30d\ndescription: Exploited, 30 days.\nwhen: {severity: [critical], actively_exploited: true}\nthen: [{action: notify}, {action: deadline, days: 30}, {action: suspend}]"))
	if err != nil || r.ID != "exploited-30d" || len(r.Then) != 3 || r.Then[1].Days != 30 {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []string{"id: x\ndescription: y\nwhen: {severity: [critical]}\nthen: [{action: suspend, days: 3}]",
		"id: x\ndescription: y\nwhen: {colour: red}\nthen: [{action: suspend}]", "- a\n- b", strings.Repeat("x", scheme.MaxRuleSize+1)} {
		if _, err := scheme.ParseRule([]byte(bad)); err == nil {
			t.Errorf("accepted %.40q", bad)
		}
	}
}
