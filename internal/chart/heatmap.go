package chart

import (
	"fmt"
	"strings"
)

// Heatmap is a square grid of percentages between the same labels on both
// axes (the scheme matrix: rows are the level held, columns the level it
// would be recognised as). Darker is higher; each cell shows its number
// and a tooltip, and the page gives the same figures in a table.
type Heatmap struct {
	ID, Title, Desc string
	Labels          []string
	Cells           [][]HeatCell // Cells[row][column], len(Labels) square
}

// HeatCell is one cell: a percentage, and its tooltip in words.
type HeatCell struct {
	Percent int
	Tip     string
}

// SVG draws the heatmap. Presentation attributes only: the pages' CSP
// forbids inline styles.
func (h Heatmap) SVG() string {
	const cell, left, top, right = 34, 190, 175, 140
	n := len(h.Labels)
	width, height := left+n*cell+right, top+n*cell+10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-t %s-d" class="chart heatmap">`,
		width, height, width, height, esc(h.ID), esc(h.ID))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(h.ID), esc(h.Title), esc(h.ID), esc(h.Desc))
	fmt.Fprintf(&b, `<g font-family="system-ui,sans-serif" font-size="11" fill="%s">`, ink)
	for i, l := range h.Labels {
		y := top + i*cell + cell/2 + 4
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, left-6, y, esc(l))
		x := left + i*cell + cell/2 + 4
		fmt.Fprintf(&b, `<text transform="translate(%d,%d) rotate(-60)">%s</text>`, x, top-6, esc(l))
	}
	for i := range h.Cells {
		for j, c := range h.Cells[i] {
			if i >= n || j >= n {
				continue
			}
			p := min(max(c.Percent, 0), 100)
			x, y := left+j*cell, top+i*cell
			text := ink
			if p >= whiteFrom {
				text = "#ffffff"
			}
			fmt.Fprintf(&b, `<g><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#ffffff"/><text x="%d" y="%d" font-size="10" text-anchor="middle" fill="%s">%d</text></g>`,
				esc(c.Tip), x, y, cell, cell, HeatColour(p), x+cell/2, y+cell/2+4, text, c.Percent)
		}
	}
	b.WriteString(`</g></svg>`)
	return b.String()
}

// HeatColour runs from pale grey (0%) to dark green (100%) in two bands
// with a step between them at whiteFrom, so that the number on every cell
// reads at 4.5:1 or better: ink below the step, white from it. (One
// straight ramp leaves a middle where neither does.)
func HeatColour(p int) string {
	p = min(max(p, 0), 100)
	lo, hi := [3]int{242, 244, 246}, [3]int{115, 149, 128} // ink band
	from, span := 0, whiteFrom-1
	if p >= whiteFrom {
		lo, hi = [3]int{80, 123, 95}, [3]int{10, 70, 30} // white band
		from, span = whiteFrom, 100-whiteFrom
	}
	var c [3]int
	for k := range c {
		c[k] = lo[k] + (hi[k]-lo[k])*(p-from)/span
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

// whiteFrom is the percentage from which a cell's number is white.
const whiteFrom = 60
