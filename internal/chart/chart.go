// Package chart draws small server-rendered SVG charts for the pages:
// printable, readable without script, each with a title and a description
// for screen readers (the pages put the same figures in words or a table
// beside them). Colours pass WCAG AA against white, for text and for the
// bars' white labels. It knows nothing of HTTP or of Hallmark's data.
package chart

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Colours of the parts, by the kind of part they show.
const (
	Full    = "#1a7f37" // met, covered in full (5.1:1 against white)
	Partial = "#8a5a00" // met in part, checked less strictly (5.9:1)
	None    = "#b42318" // not met, not covered (6.6:1)
	Other   = "#0b5cad" // asked for by one side only (6.7:1)
	ink     = "#1b1f24"
)

// Part is one segment of a bar.
type Part struct {
	Label string // what the part is, in words ("covered in full")
	Value int
	Color string
}

// Bar draws parts as one stacked horizontal bar, each segment labelled
// with its count (the page gives the legend in words). id makes its
// title's id unique.
func Bar(id, title string, parts []Part) string {
	const width, barH, top = 600, 34, 4
	total := 0
	for _, p := range parts {
		total += max(p.Value, 0)
	}
	var b strings.Builder
	height := top + barH + 4
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-t %s-d" class="chart bar">`,
		width, height, width, height, esc(id), esc(id))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(id), esc(title), esc(id), esc(describe(parts, total)))
	b.WriteString(`<g font-family="system-ui,sans-serif" font-size="13">`)
	x := 0.0
	for _, p := range parts {
		if p.Value <= 0 || total == 0 {
			continue
		}
		w := float64(width) * float64(p.Value) / float64(total)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %d</title></rect>`, x, top, w, barH, p.Color, esc(p.Label), p.Value)
		if w >= 24 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#ffffff" font-weight="700">%d</text>`, x+w/2, top+barH/2+5, p.Value)
		}
		x += w
	}
	if total == 0 {
		fmt.Fprintf(&b, `<rect x="0" y="%d" width="%d" height="%d" fill="#f2f4f6" stroke="#d8dde3"/>`, top, width, barH)
	}
	b.WriteString(`</g></svg>`)
	return b.String()
}

// Overlap shows what two sides ask for as two aligned bars: the shared
// part in the middle, each side's own part at its end. Shared is split
// into Parts (for instance "checked at least as strictly" and "checked
// less strictly").
type Overlap struct {
	ID     string
	Title  string
	ALabel string // the first side, e.g. "CLS Level 2 asks for 33"
	BLabel string
	AOnly  Part // asked for by A alone
	Shared []Part
	BOnly  Part // asked for by B alone
}

// SVG draws the overlap.
func (o Overlap) SVG() string {
	const width, left, barH, gap, top = 640, 0, 30, 30, 22
	shared := 0
	for _, p := range o.Shared {
		shared += max(p.Value, 0)
	}
	a, bOnly := max(o.AOnly.Value, 0), max(o.BOnly.Value, 0)
	total := a + shared + bOnly
	scale := 0.0
	if total > 0 {
		scale = float64(width-left) / float64(total)
	}
	var b strings.Builder
	yA := top
	yB := top + barH + gap
	height := yB + barH + 4
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-t %s-d" class="chart overlap">`,
		width, height, width, height, esc(o.ID), esc(o.ID))
	all := append(append([]Part{o.AOnly}, o.Shared...), o.BOnly)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(o.ID), esc(o.Title), esc(o.ID), esc(describe(all, total)))
	b.WriteString(`<g font-family="system-ui,sans-serif" font-size="13">`)
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s" font-weight="600">%s</text>`, left, yA-6, ink, esc(o.ALabel))
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s" font-weight="600">%s</text>`, left, yB-6, ink, esc(o.BLabel))
	seg := func(x float64, y int, p Part) float64 {
		if p.Value <= 0 {
			return x
		}
		w := scale * float64(p.Value)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %d</title></rect>`, x, y, w, barH, p.Color, esc(p.Label), p.Value)
		if w >= 24 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#ffffff" font-weight="700">%d</text>`, x+w/2, y+barH/2+5, p.Value)
		}
		return x + w
	}
	// A's bar: its own part, then the shared part; B's bar starts where
	// the shared part does and ends with B's own part.
	x := seg(float64(left), yA, o.AOnly)
	xs := x
	for _, p := range o.Shared {
		x = seg(x, yA, p)
	}
	x = xs
	for _, p := range o.Shared {
		x = seg(x, yB, p)
	}
	seg(x, yB, o.BOnly)
	b.WriteString(`</g></svg>`)
	return b.String()
}

func describe(parts []Part, total int) string {
	var s []string
	for _, p := range parts {
		s = append(s, fmt.Sprintf("%s: %d", p.Label, p.Value))
	}
	return fmt.Sprintf("%s (of %d).", strings.Join(s, "; "), total)
}

func esc(s string) string { return html.EscapeString(s) }

// Contrast is the WCAG 2 contrast ratio of two #rrggbb colours.
func Contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	var r, g, b int
	if _, err := fmt.Sscanf(strings.TrimPrefix(hex, "#"), "%02x%02x%02x", &r, &g, &b); err != nil {
		return 0
	}
	lin := func(c int) float64 {
		v := float64(c) / 255
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
