package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// TestBrowserSchemes walks what a policy advisor does before a
// mutual-recognition talk: the scheme list, a scheme page, a comparison
// chosen with the form, the matrix heat map, and the agreements.
func TestBrowserSchemes(t *testing.T) {
	execPath := chromiumPath(t)
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			srv := servertest.Start(t, d)
			b := newBrowser(t, execPath)
			prefix := string(d) + "-"

			b.navigate(srv.URL + "/schemes")
			if n := b.count("table.schemes tbody tr"); n != 13 {
				t.Fatalf("the scheme list shows %d schemes, want 13", n)
			}
			b.clickAndWait(`a[href="/schemes/sg-cls"]`)
			if n := b.count("section.level"); n != 4 {
				t.Errorf("the CLS page shows %d levels, want 4", n)
			}
			if n := b.count("ol.rules li"); n == 0 {
				t.Error("the CLS page shows no post-market rules")
			}

			b.navigate(srv.URL + "/compare")
			b.do("choose a and b",
				chromedp.SetValue(chromedp.CSS("#a"), "sg-cls@2"),
				chromedp.SetValue(chromedp.CSS("#b"), "de-bsi-label@label"))
			b.clickAndWait(`form.search button[type="submit"]`)
			cov := strings.TrimSuffix(b.text("#coverage"), "%")
			if p, err := strconv.Atoi(cov); err != nil || p <= 0 || p >= 100 {
				t.Errorf("CLS 2 as the BSI label shows coverage %q, want a figure between 0 and 100", cov)
			}
			if v := b.text("#verdict"); !strings.Contains(v, "Recognisable with conditions") {
				t.Errorf("verdict %q", v)
			}
			if n := b.count("#gaps tbody tr"); n == 0 {
				t.Error("no gaps listed below 100% coverage")
			}
			b.screenshot(prefix + "compare")

			b.navigate(srv.URL + "/matrix")
			if n := b.count("svg.heatmap rect"); n < 121 {
				t.Errorf("the heat map has %d cells, want at least 11×11", n)
			}
			rows := b.count("#matrix-table tbody tr")
			cells := b.count("#matrix-table tbody td")
			if rows < 11 || cells != rows*rows {
				t.Errorf("the matrix table has %d rows and %d cells", rows, cells)
			}
			// The SVG and the table say the same: compare one cell.
			svgTitle := eval[string](b, `document.querySelector("svg.heatmap g title").textContent`)
			first := b.text("#matrix-table tbody td")
			if !strings.Contains(svgTitle, "("+first+"%)") {
				t.Errorf("heat map cell %q disagrees with table cell %q", svgTitle, first)
			}
			b.screenshot(prefix + "matrix")

			b.navigate(srv.URL + "/agreements")
			if n := b.count("section.agreement"); n < 7 {
				t.Errorf("%d agreements shown", n)
			}
			if p := b.consoleProblems(); len(p) > 0 {
				t.Errorf("console problems: %v", p)
			}
		})
	}
}
