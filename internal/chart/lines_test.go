package chart

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
)

func parses(t *testing.T, s string) {
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

func pct(v float64) string { return trimNum(v*100) + "%" }

func TestLine(t *testing.T) {
	c := Line{ID: "s5", Title: `Support <5y> & more`, Share: true, Format: pct,
		Series: []Series{{Name: "all", Points: []Point{{"2026-01", 0.25}, {"2026-02", math.NaN()}, {"2026-03", 0.5}}},
			{Name: "projection", Dashed: true, Points: []Point{{"2026-03", 0.5}, {"2026-04", 0.6}}}},
		Mark: Point{"2026-06", 0.9}, MarkName: "target"}
	s := c.SVG()
	parses(t, s)
	for _, want := range []string{`role="img"`, "Support &lt;5y&gt; &amp; more", "all: 25% in 2026-01, 50% in 2026-03", "target: 90% by 2026-06",
		"stroke-dasharray", "all, 2026-03: 50%"} {
		if !strings.Contains(s, want) {
			t.Errorf("line chart lacks %q", want)
		}
	}
	// The gap in February breaks the line: two pieces of path for "all".
	if strings.Count(s, "M") < 3 {
		t.Errorf("the gap did not break the line")
	}
	parses(t, Line{ID: "e", Title: "empty"}.SVG())
}

func TestBarsAndStacked(t *testing.T) {
	s := Bars{ID: "b", Title: "by scheme", Share: true, Format: pct, Rows: []BarRow{{"sg-cls", 0.5}, {"de-bsi-label", math.NaN()}}}.SVG()
	parses(t, s)
	if !strings.Contains(s, "de-bsi-label: no data") || !strings.Contains(s, ">50%</text>") {
		t.Errorf("bars: %s", s)
	}
	st := Stacked{ID: "st", Title: "status", Parts: []string{"active", "suspended"}, Rows: []StackRow{{"all", []int{3, 1}}}}.SVG()
	parses(t, st)
	if !strings.Contains(st, "all, suspended: 1 of 4") {
		t.Errorf("stacked: %s", st)
	}
}

// The palette's colours stand out from white as graphics must (3:1).
func TestPaletteContrast(t *testing.T) {
	for _, c := range Palette {
		if r := contrastOf(c); r < 3 {
			t.Errorf("%s on white is %.2f:1", c, r)
		}
	}
}

func contrastOf(hex string) float64 {
	var r, g, b int
	if n, _ := fmtSscanf(hex, &r, &g, &b); n != 3 {
		return 0
	}
	lin := func(c int) float64 {
		v := float64(c) / 255
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
	return 1.05 / (l + 0.05)
}

func fmtSscanf(hex string, r, g, b *int) (int, error) {
	return fmt.Sscanf(strings.TrimPrefix(hex, "#"), "%02x%02x%02x", r, g, b)
}
