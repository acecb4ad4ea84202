// Charts of figures over time and across groups, for the indicator pages
// and briefings. Like the rest of the package: SVG written on the server,
// with a title and a description for screen readers; every page puts the
// same figures in a table beside the chart.

package chart

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Palette are the series colours: distinguishable with the common colour
// blindnesses (Okabe and Ito's set, darkened), each at least 3:1 against
// white as WCAG asks of graphics.
var Palette = []string{"#0b5cad", "#b35900", "#1a7f37", "#a3127a", "#5b4bb7", "#8a5a00", "#00758f", "#b42318"}

const (
	textInk  = "#1b1f24"
	gridInk  = "#d8dde3"
	axisInk  = "#57606a"
	fontAttr = `font-family="system-ui,sans-serif" font-size="12"`
)

// Point is one value of a series; NaN is a gap (no data that month).
type Point struct {
	Label string // the x position's name: a month, "2026-11"
	Value float64
}

// Series is one line.
type Series struct {
	Name   string
	Points []Point
	Dashed bool // a projection, not data
}

// Line is a line chart of series sharing their x positions.
type Line struct {
	ID     string
	Title  string
	Series []Series
	// Format writes a value for the axis and the tooltips ("37%").
	Format func(float64) string
	// Share fixes the y axis to 0..1 (a proportion).
	Share bool
	// Mark is a point to show on its own (a target), when Label is set.
	Mark     Point
	MarkName string
}

// SVG draws the chart.
func (c Line) SVG() string {
	const width, plotHeight = 640, 280
	const left, right, top, axisBottom = 84, 16, 16, 64
	// The legend wraps onto as many rows as it needs, under the axis.
	type entry struct {
		name   string
		col    string
		dashed bool
		mark   bool
		x      float64
		row    int
	}
	var legend []entry
	if len(c.Series) > 1 || c.Mark.Label != "" {
		lx, row := float64(left), 0
		add := func(e entry) {
			w := 30 + 6.5*float64(len([]rune(e.name)))
			if lx+w > width && lx > float64(left) {
				lx, row = float64(left), row+1
			}
			e.x, e.row = lx, row
			legend = append(legend, e)
			lx += w
		}
		for si, s := range c.Series {
			add(entry{name: s.Name, col: Palette[si%len(Palette)], dashed: s.Dashed})
		}
		if c.Mark.Label != "" {
			add(entry{name: c.MarkName, col: textInk, mark: true})
		}
	}
	rows := 0
	if len(legend) > 0 {
		rows = legend[len(legend)-1].row + 1
	}
	height := plotHeight + 18*rows
	bottom := axisBottom + 18*rows
	format := c.Format
	if format == nil {
		format = func(v float64) string { return trimNum(v) }
	}
	// The x positions: every label in order of first appearance.
	var xs []string
	index := map[string]int{}
	addX := func(l string) {
		if _, ok := index[l]; !ok {
			index[l] = len(xs)
			xs = append(xs, l)
		}
	}
	for _, s := range c.Series {
		for _, p := range s.Points {
			addX(p.Label)
		}
	}
	if c.Mark.Label != "" {
		addX(c.Mark.Label)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for _, p := range s.Points {
			if !math.IsNaN(p.Value) {
				lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
			}
		}
	}
	if c.Mark.Label != "" && !math.IsNaN(c.Mark.Value) {
		lo, hi = math.Min(lo, c.Mark.Value), math.Max(hi, c.Mark.Value)
	}
	if c.Share {
		lo, hi = 0, 1
	} else {
		if math.IsInf(lo, 1) {
			lo, hi = 0, 1
		}
		// Five ticks at a round step (1, 2 or 5 times a power of ten).
		lo = math.Min(0, lo)
		step := niceCeil(math.Max(hi-lo, 1e-9) / 4)
		hi = lo + 4*step
	}
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	x := func(i int) float64 {
		if len(xs) <= 1 {
			return float64(left) + plotW/2
		}
		return float64(left) + plotW*float64(i)/float64(len(xs)-1)
	}
	y := func(v float64) float64 { return float64(top) + plotH*(1-(v-lo)/(hi-lo)) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-t %s-d" class="chart line">`,
		width, height, width, height, attr(c.ID), attr(c.ID))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, attr(c.ID), text(c.Title), attr(c.ID), text(c.describe(format)))
	fmt.Fprintf(&b, `<g %s fill="%s">`, fontAttr, textInk)
	// Grid and y axis: five ticks.
	for k := 0; k <= 4; k++ {
		v := lo + (hi-lo)*float64(k)/4
		yy := y(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`, left, yy, width-right, yy, gridInk)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`, left-6, yy+4, text(format(v)))
	}
	// x labels: at most about ten, always the first and the last.
	step := max(1, (len(xs)+9)/10)
	for i, l := range xs {
		if i%step != 0 && i != len(xs)-1 {
			continue
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="end" transform="rotate(-40 %.1f %d)">%s</text>`, x(i), height-bottom+16, x(i), height-bottom+16, text(l))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, left, height-bottom, width-right, height-bottom, axisInk)
	if math.IsInf(hiData(c), -1) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="14">No data in these months</text>`, float64(left)+plotW/2, float64(top)+plotH/2)
	}
	for si, s := range c.Series {
		col := Palette[si%len(Palette)]
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		// A gap (NaN) breaks the line.
		var path strings.Builder
		pen := false
		for _, p := range s.Points {
			if math.IsNaN(p.Value) {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, x(index[p.Label]), y(p.Value))
			pen = true
		}
		if path.Len() > 0 {
			fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2.5"%s/>`, strings.TrimSpace(path.String()), col, dash)
		}
		for _, p := range s.Points {
			if math.IsNaN(p.Value) {
				continue
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s, %s: %s</title></circle>`,
				x(index[p.Label]), y(p.Value), col, text(s.Name), text(p.Label), text(format(p.Value)))
		}
	}
	if c.Mark.Label != "" && !math.IsNaN(c.Mark.Value) {
		mx, my := x(index[c.Mark.Label]), y(c.Mark.Value)
		fmt.Fprintf(&b, `<path d="M%.1f %.1f l7 7 l-7 7 l-7 -7 z" fill="%s"><title>%s, %s: %s</title></path>`, mx, my-7, textInk,
			text(c.MarkName), text(c.Mark.Label), text(format(c.Mark.Value)))
	}
	// The legend, under the axis labels.
	for _, e := range legend {
		y := plotHeight + 18*e.row + 10
		if e.mark {
			fmt.Fprintf(&b, `<path d="M%.1f %d l6 6 l-6 6 l-6 -6 z" fill="%s"/>`, e.x+9, y-10, e.col)
		} else {
			dash := ""
			if e.dashed {
				dash = ` stroke-dasharray="6 4"`
			}
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2.5"%s/>`, e.x, y-4, e.x+18, y-4, e.col, dash)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`, e.x+22, y, text(e.name))
	}
	b.WriteString(`</g></svg>`)
	return b.String()
}

// hiData is the largest value drawn, -Inf when there is none.
func hiData(c Line) float64 {
	hi := math.Inf(-1)
	for _, s := range c.Series {
		for _, p := range s.Points {
			if !math.IsNaN(p.Value) {
				hi = math.Max(hi, p.Value)
			}
		}
	}
	return hi
}

func (c Line) describe(format func(float64) string) string {
	var parts []string
	for _, s := range c.Series {
		var first, last *Point
		for i := range s.Points {
			if math.IsNaN(s.Points[i].Value) {
				continue
			}
			if first == nil {
				first = &s.Points[i]
			}
			last = &s.Points[i]
		}
		if first == nil {
			parts = append(parts, s.Name+": no data")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %s in %s, %s in %s", s.Name, format(first.Value), first.Label, format(last.Value), last.Label))
	}
	if c.Mark.Label != "" {
		parts = append(parts, fmt.Sprintf("%s: %s by %s", c.MarkName, format(c.Mark.Value), c.Mark.Label))
	}
	return strings.Join(parts, "; ") + "."
}

// Bars is a horizontal bar chart: one bar per row, its value written beside it.
type Bars struct {
	ID     string
	Title  string
	Rows   []BarRow
	Format func(float64) string
	Share  bool // values are proportions: the scale is 0..1
}

// BarRow is one row of a bar chart; NaN draws no bar and says "no data".
type BarRow struct {
	Label string
	Value float64
}

// SVG draws the chart.
func (c Bars) SVG() string {
	const width, rowH, labelW, valueW = 640, 24, 230, 70
	format := c.Format
	if format == nil {
		format = func(v float64) string { return trimNum(v) }
	}
	hi := 0.0
	for _, r := range c.Rows {
		if !math.IsNaN(r.Value) {
			hi = math.Max(hi, r.Value)
		}
	}
	if c.Share {
		hi = 1
	} else if hi == 0 {
		hi = 1
	}
	height := rowH*len(c.Rows) + 8
	barW := float64(width - labelW - valueW)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-t %s-d" class="chart bars">`,
		width, height, width, height, attr(c.ID), attr(c.ID))
	var desc []string
	for _, r := range c.Rows {
		desc = append(desc, r.Label+": "+valueText(format, r.Value))
	}
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s.</desc>`, attr(c.ID), text(c.Title), attr(c.ID), text(strings.Join(desc, "; ")))
	fmt.Fprintf(&b, `<g %s fill="%s">`, fontAttr, textInk)
	for i, r := range c.Rows {
		yy := 4 + i*rowH
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end"><title>%s</title>%s</text>`, labelW-8, yy+16, text(r.Label), text(clipText(r.Label, 32)))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#f2f4f6"/>`, labelW, yy+3, barW, rowH-6)
		w := 0.0
		if !math.IsNaN(r.Value) && r.Value > 0 {
			w = barW * math.Min(1, r.Value/hi)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`, labelW, yy+3, w, rowH-6, Palette[0],
				text(r.Label), text(format(r.Value)))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`, float64(labelW)+barW+6, yy+16, text(valueText(format, r.Value)))
	}
	b.WriteString(`</g></svg>`)
	return b.String()
}

// Stacked is a horizontal bar per row split into named parts (a status
// distribution): counts, each row scaled to its own total.
type Stacked struct {
	ID    string
	Title string
	Parts []string // names, in order; colours follow the palette
	Rows  []StackRow
}

// StackRow is one row of a stacked chart.
type StackRow struct {
	Label  string
	Counts []int
}

// SVG draws the chart, with a legend above it.
func (c Stacked) SVG() string {
	const width, rowH, labelW, top = 640, 24, 230, 28
	height := top + rowH*len(c.Rows) + 8
	barW := float64(width - labelW - 16)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-t %s-d" class="chart stacked">`,
		width, height, width, height, attr(c.ID), attr(c.ID))
	var desc []string
	for _, r := range c.Rows {
		var ps []string
		for k, n := range r.Counts {
			if k < len(c.Parts) {
				ps = append(ps, fmt.Sprintf("%s %d", c.Parts[k], n))
			}
		}
		desc = append(desc, r.Label+": "+strings.Join(ps, ", "))
	}
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s.</desc>`, attr(c.ID), text(c.Title), attr(c.ID), text(strings.Join(desc, "; ")))
	fmt.Fprintf(&b, `<g %s fill="%s">`, fontAttr, textInk)
	lx := float64(labelW)
	for k, p := range c.Parts {
		fmt.Fprintf(&b, `<rect x="%.1f" y="6" width="12" height="12" fill="%s"/><text x="%.1f" y="16">%s</text>`, lx, Palette[k%len(Palette)], lx+16, text(p))
		lx += 28 + 7*float64(len([]rune(p)))
	}
	for i, r := range c.Rows {
		yy := top + i*rowH
		total := 0
		for _, n := range r.Counts {
			total += max(n, 0)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end"><title>%s</title>%s</text>`, labelW-8, yy+16, text(r.Label), text(clipText(r.Label, 32)))
		x := float64(labelW)
		for k, n := range r.Counts {
			if n <= 0 || total == 0 || k >= len(c.Parts) {
				continue
			}
			w := barW * float64(n) / float64(total)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s, %s: %d of %d</title></rect>`,
				x, yy+3, w, rowH-6, Palette[k%len(Palette)], text(r.Label), text(c.Parts[k]), n, total)
			x += w
		}
	}
	b.WriteString(`</g></svg>`)
	return b.String()
}

func valueText(format func(float64) string, v float64) string {
	if math.IsNaN(v) {
		return "no data"
	}
	return format(v)
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimNum(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// text escapes s for SVG text and titles; attr for attribute values.
func text(s string) string { return html.EscapeString(s) }
func attr(s string) string { return html.EscapeString(s) }
