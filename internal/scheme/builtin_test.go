package scheme_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
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
	for _, id := range []string{"uk-psti", "sg-cls", "de-bsi-label", "fi-traficom", "us-cyber-trust-mark", "eu-cra-default", "eu-cra-important-1", "etsi-baseline"} {
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
	if set["uk-psti"].Kind != scheme.KindConformity {
		t.Error("PSTI is a legal duty: its records are conformity records, not labels")
	}
	if len(agreements) < 3 {
		t.Errorf("%d agreements recorded, want Singapore's three", len(agreements))
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
	// A higher CLS level can always be recognised as a lower one.
	if x := cmp("sg-cls@4", "sg-cls@2"); x.Verdict.Outcome != scheme.Recognisable {
		t.Errorf("CLS 4 as CLS 2: %s", x.Verdict.Outcome)
	}
}
