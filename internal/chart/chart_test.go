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
