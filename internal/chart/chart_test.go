package chart

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// wellFormed parses s as XML: a chart the browser cannot parse shows nothing.
func wellFormed(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		if _, err := d.Token(); err == io.EOF {
			return
		} else if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, s)
		}
	}
}

func TestBar(t *testing.T) {
	s := Bar("cw", `PSTI <"items">`, []Part{{"covered in full", 1, Full}, {"covered in part", 21, Partial}, {"not covered", 0, None}})
	wellFormed(t, s)
	for _, want := range []string{`role="img"`, "covered in part: 21", ">21</text>", "&lt;&#34;items&#34;&gt;", "(of 22)"} {
		if !strings.Contains(s, want) {
			t.Errorf("bar lacks %q", want)
		}
	}
	if strings.Count(s, "<rect") != 2 {
		t.Errorf("a zero part got a segment: %s", s)
	}
	wellFormed(t, Bar("empty", "nothing", nil))
}

func TestOverlap(t *testing.T) {
	o := Overlap{ID: "x", Title: "A and B", ALabel: "A asks for 40", BLabel: "B asks for 33",
		AOnly: Part{"only A", 10, Other}, Shared: []Part{{"as strictly", 25, Full}, {"less strictly", 5, Partial}}, BOnly: Part{"only B", 3, None}}
	s := o.SVG()
	wellFormed(t, s)
	if n := strings.Count(s, "<rect"); n != 6 {
		t.Errorf("%d segments, want 6 (A: own and two shared; B: two shared and own)", n)
	}
	for _, want := range []string{"only B: 3", "as strictly: 25", "(of 43)", "A asks for 40"} {
		if !strings.Contains(s, want) {
			t.Errorf("overlap lacks %q", want)
		}
	}
}

// The colours pass WCAG AA (4.5:1) against white, for text and labels.
func TestColoursContrast(t *testing.T) {
	for _, c := range []string{Full, Partial, None, Other} {
		if r := Contrast(c, "#ffffff"); r < 4.5 {
			t.Errorf("%s on white is %.2f:1, under 4.5:1", c, r)
		}
	}
}

func TestHeatmap(t *testing.T) {
	h := Heatmap{ID: "hm", Title: "Coverage <between> levels", Desc: "d",
		Labels: []string{"A & 1", "B"},
		Cells:  [][]HeatCell{{{100, "A covers all of A"}, {40, "A covers 2 of 5 of B"}}, {{0, "B covers none of A"}, {100, "B"}}}}
	svg := h.SVG()
	if strings.Count(svg, "<rect ") != 4 {
		t.Errorf("want one rect per cell: %s", svg)
	}
	for _, want := range []string{"A &amp; 1", "Coverage &lt;between&gt; levels", "A covers 2 of 5 of B", `fill="` + HeatColour(40) + `"`, `aria-labelledby="hm-t hm-d"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("missing %q", want)
		}
	}
	// The numbers drawn on a cell stay readable: white on the dark
	// cells, ink on the pale ones.
	for p := 0; p <= 100; p++ {
		text := ink
		if p >= whiteFrom {
			text = "#ffffff"
		}
		if c := Contrast(HeatColour(p), text); c < 4.5 {
			t.Errorf("%d%%: contrast %.2f of %s on %s", p, c, text, HeatColour(p))
		}
	}
}
