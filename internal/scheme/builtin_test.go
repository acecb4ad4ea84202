package scheme_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/data"
	"github.com/hallmark-iot/hallmark/internal/scheme"
)

var update = flag.Bool("update", false, "rewrite golden files")

func builtinSet(t *testing.T) (scheme.Set, []scheme.Agreement) {
	t.Helper()
	schemes, agreements, err := scheme.LoadDir(data.FS, "schemes", cat(t))
	if err != nil {
		t.Fatalf("the built-in schemes do not load:\n%v", err)
	}
	return scheme.NewSet(schemes), agreements
}

func TestBuiltinSchemes(t *testing.T) {
	set, agreements := builtinSet(t)
	for _, id := range []string{"uk-psti", "sg-cls", "de-bsi-label", "fi-traficom", "us-cyber-trust-mark", "eu-cra-default", "eu-cra-important-1", "etsi-baseline",
		"eu-red-da", "jp-jc-star", "kr-kisa-iot", "au-smart-devices", "csa-product-security"} {
		if _, ok := set[id]; !ok {
			t.Errorf("scheme %s is missing", id)
		}
	}
	if cls := set["sg-cls"]; cls == nil || len(cls.Levels) != 4 || !cls.Cumulative {
		t.Fatal("Singapore's CLS must have four cumulative levels")
	}
	if set["fi-traficom"].Status != scheme.Closed {
		t.Error("Finland's label is closed to new applications")
	}
	// Legal duties keep conformity records (a statement of compliance, an
	// EU declaration of conformity), never labels.
	for _, id := range []string{"uk-psti", "eu-cra-default", "eu-cra-important-1", "eu-red-da", "au-smart-devices"} {
		if set[id].Kind != scheme.KindConformity {
			t.Errorf("%s is a legal duty: its records are conformity records, not labels", id)
		}
	}
	for _, id := range []string{"sg-cls", "de-bsi-label", "jp-jc-star", "kr-kisa-iot", "csa-product-security", "us-cyber-trust-mark"} {
		if set[id].Kind != scheme.KindLabel {
			t.Errorf("%s issues labels", id)
		}
	}
	// The FCC paused the Cyber Trust Mark in 2025-06; it takes no applications.
	if ctm := set["us-cyber-trust-mark"]; ctm.Status != scheme.Paused || ctm.Status.TakesApplications() {
		t.Errorf("the Cyber Trust Mark is %s, want paused", ctm.Status)
	}
	want := map[string]bool{"sg-fi-2021": true, "sg-de-2022": true, "sg-kr-2024": true, "sg-csa-2024": true, "uk-sg-2025": true, "uk-jp-2025": true, "sg-jp-2026": true}
	for _, a := range agreements {
		delete(want, a.ID)
	}
	if len(want) > 0 {
		t.Errorf("agreements missing: %v", want)
	}
	c := cat(t)
	// The PSTI regime requires exactly what its three requirements resolve to.
	psti, err := set.ResolveRef(c, "uk-psti")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range psti.Needs {
		if n.Method != scheme.SelfDeclaration {
			t.Errorf("PSTI %s assessed by %s; PSTI is a statement of compliance", n.Requirement.ID, n.Method)
		}
	}
	// Higher CLS levels are supersets of lower ones.
	var prev map[string]scheme.Method
	for _, l := range set["sg-cls"].Levels {
		r, _ := scheme.Resolve(c, set["sg-cls"], l.ID)
		m := r.Methods()
		for id := range prev {
			if _, ok := m[id]; !ok {
				t.Errorf("CLS level %s drops %s", l.ID, id)
			}
		}
		prev = m
	}
}

// Every built-in scheme and agreement says where its facts come from, and
// the uncertain ones say what is uncertain in a field, not in prose.
func TestBuiltinProvenance(t *testing.T) {
	set, agreements := builtinSet(t)
	for id, s := range set {
		if len(s.Sources) == 0 {
			t.Errorf("scheme %s records no source", id)
		}
	}
	for _, a := range agreements {
		if len(a.Sources) == 0 {
			t.Errorf("agreement %s records no source", a.ID)
		}
	}
	// Facts taken from a single secondary report are flagged.
	for _, id := range []string{"sg-jp-2026", "uk-jp-2025", "sg-csa-2024"} {
		for _, a := range agreements {
			if a.ID == id && len(a.Unverified) == 0 {
				t.Errorf("agreement %s rests on secondary or incomplete sources and must say so", id)
			}
		}
	}
}

// CSA defines Level 2 as every mandatory EN 303 645 provision and puts
// security by design at Level 3 (issue 11): Level 2 lists the 27 mandatory
// provisions Level 1 does not (4-1 aside), and nothing else.
func TestCLSLevelsAsCSADefinesThem(t *testing.T) {
	set, _ := builtinSet(t)
	cls := set["sg-cls"]
	l2, _ := cls.Level("2")
	if len(l2.Refs) != 27 {
		t.Errorf("CLS Level 2 lists %d entries, want the 27 remaining mandatory provisions", len(l2.Refs))
	}
	for _, ref := range l2.Refs {
		if !strings.HasPrefix(ref, "etsi-en-303-645-v2.1.1#") {
			t.Errorf("CLS Level 2 lists %s, which is not an EN 303 645 provision", ref)
		}
	}
	l3, _ := cls.Level("3")
	for _, want := range []string{"HM-DEV-1", "HM-DEV-2"} {
		if !slices.Contains(l3.Refs, want) {
			t.Errorf("security by design (%s) belongs to CLS Level 3", want)
		}
	}
	if !strings.Contains(cls.Notes, "27 mandatory provisions") || strings.Contains(cls.Notes, "28 of the 33") {
		t.Error("the CLS notes must count Level 2's provisions right")
	}
}

// renderComparison is a compact, reviewable text form of a comparison.
func renderComparison(x scheme.Comparison) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s -> %s: %d of %d (%d%%), %s\n", x.A.Label(), x.B.Label(), len(x.Covered), len(x.B.Needs), x.Percent(), x.Verdict.Outcome)
	for _, g := range x.Gaps {
		fmt.Fprintf(&b, "  gap       %s %s (%s)\n", g.Requirement.ID, g.Requirement.Title, g.Method)
	}
	for _, s := range x.Shortfalls() {
		fmt.Fprintf(&b, "  weaker    %s: %s vs %s\n", s.Requirement.ID, s.MethodA, s.MethodB)
	}
	for _, e := range x.Extra {
		fmt.Fprintf(&b, "  extra     %s %s\n", e.Requirement.ID, e.Requirement.Title)
	}
	return b.String()
}

// The comparisons behind the recorded agreements, frozen as golden files.
// Each was read against the scheme files by hand: a change here means the
// catalogue, a scheme or the comparison rule changed, and the new answer
// must be read again before the golden file is updated (go test -update).
func TestAgreementsGolden(t *testing.T) {
	set, agreements := builtinSet(t)
	c := cat(t)
	var b strings.Builder
	for _, a := range agreements {
		chk := set.Check(c, a)
		fmt.Fprintf(&b, "== %s: %s\n%s\n", a.ID, a.Title, chk.Summary)
		for _, d := range chk.Directions {
			fmt.Fprintf(&b, "-- %s -> %s: %s\n", d.From, d.To, d.Support)
			if d.Comparison != nil {
				b.WriteString(renderComparison(*d.Comparison))
			}
		}
		b.WriteString("\n")
	}
	for _, pair := range [][2]string{{"sg-cls@3", "fi-traficom"}, {"de-bsi-label", "sg-cls@2"}, {"etsi-baseline", "uk-psti"}, {"eu-cra-important-1", "eu-cra-default"}} {
		ra, err := set.ResolveRef(c, pair[0])
		if err != nil {
			t.Fatal(err)
		}
		rb, err := set.ResolveRef(c, pair[1])
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "== compare\n%s\n", renderComparison(scheme.Compare(ra, rb)))
	}
	golden(t, "agreements.txt", []byte(b.String()))
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

// Facts a policy reader can check against the scheme files, asserted
// independently of the golden file.
func TestKnownComparisons(t *testing.T) {
	set, _ := builtinSet(t)
	c := cat(t)
	cmp := func(a, b string) scheme.Comparison {
		ra, err := set.ResolveRef(c, a)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := set.ResolveRef(c, b)
		if err != nil {
			t.Fatal(err)
		}
		return scheme.Compare(ra, rb)
	}
	// Any EN 303 645 baseline covers PSTI: PSTI's deemed-compliance route.
	if x := cmp("etsi-baseline", "uk-psti"); x.Percent() != 100 {
		t.Errorf("the EN 303 645 baseline covers %d%% of PSTI, want 100", x.Percent())
	}
	// CRA important class I asks for the same requirements as the default
	// category, assessed by a third party: recognisable one way only.
	if x := cmp("eu-cra-important-1", "eu-cra-default"); x.Verdict.Outcome != scheme.Recognisable {
		t.Errorf("important class I as default: %s", x.Verdict.Outcome)
	}
	if x := cmp("eu-cra-default", "eu-cra-important-1"); x.Percent() != 100 || len(x.Shortfalls()) == 0 || x.Verdict.Outcome == scheme.Recognisable {
		t.Errorf("default as important class I: %d%%, %d shortfalls, %s", x.Percent(), len(x.Shortfalls()), x.Verdict.Outcome)
	}
	// Finland's label includes EN 303 645 recommendations CLS does not ask
	// for at any level; 5.12-1 (easy installation) is one.
	x := cmp("sg-cls@3", "fi-traficom")
	gaps := map[string]bool{}
	for _, g := range x.Gaps {
		gaps[g.Requirement.ID] = true
	}
	for _, l := range c.MappedBy("etsi-en-303-645-v2.1.1", "5.12-1") {
		if !gaps[l.Requirement] && l.Rel != "intersects-with" {
			t.Errorf("%s (from EN 5.12-1, in Finland's list) should be a gap of CLS level 3", l.Requirement)
		}
	}
	// The Germany agreement: a BSI label counts as CLS Level 2, and the
	// model must let it (security by design is a Level 3 matter).
	if x := cmp("de-bsi-label", "sg-cls@2"); x.Verdict.Outcome != scheme.Recognisable {
		t.Errorf("BSI label as CLS Level 2: %s (%d%%)", x.Verdict.Outcome, x.Percent())
	}
	// PSTI and Australia's rules ask for the same three things.
	if x := cmp("au-smart-devices", "uk-psti"); x.Percent() != 100 {
		t.Errorf("Australia's rules cover %d%% of PSTI, want 100", x.Percent())
	}
	// A label compared with a conformity record says they are different kinds.
	x0 := cmp("sg-cls@1", "uk-psti")
	found := false
	for _, r := range x0.Verdict.Reasons {
		found = found || strings.Contains(r, "conformity record")
	}
	if !found {
		t.Errorf("comparing a label with a conformity record should say so: %v", x0.Verdict.Reasons)
	}
	// A higher CLS level can always be recognised as a lower one.
	if x := cmp("sg-cls@4", "sg-cls@2"); x.Verdict.Outcome != scheme.Recognisable {
		t.Errorf("CLS 4 as CLS 2: %s", x.Verdict.Outcome)
	}
}
