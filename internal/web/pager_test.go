package web

import (
	"html/template"
	"net/http/httptest"
	"strings"
	"testing"
)

// Page links keep the list's filters, an unfiltered list links to
// "?page=2" (not "?&page=2"), and a page past the end says so.
func TestPagerKeepsFilters(t *testing.T) {
	r := httptest.NewRequest("GET", "/labels?status=expired&scheme=sg-cls&page=2", nil)
	pg := newPager(r, 120)
	if pg.Page != 2 || pg.Pages != 3 || pg.Beyond {
		t.Fatalf("pager %+v", pg)
	}
	if got := pg.URL(pg.Next()); got != "?page=3&scheme=sg-cls&status=expired" {
		t.Errorf("next %q", got)
	}
	if got := pg.URL(pg.Prev()); got != "?scheme=sg-cls&status=expired" {
		t.Errorf("previous (page 1) %q", got)
	}
	if got := newPager(httptest.NewRequest("GET", "/labels", nil), 120).URL(2); got != "?page=2" {
		t.Errorf("unfiltered %q", got)
	}
	far := newPager(httptest.NewRequest("GET", "/labels?page=99", nil), 120)
	if !far.Beyond || far.Prev() != 3 {
		t.Errorf("page 99 of 3: %+v", far)
	}
	// Rendered, the links keep their "=" and "&" (html/template escapes a
	// query string spliced after "?", which lost the filters).
	var b strings.Builder
	tpl, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		t.Fatal(err)
	}
	if err := tpl.ExecuteTemplate(&b, "pager", pg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `href="?page=3&amp;scheme=sg-cls&amp;status=expired"`) {
		t.Errorf("rendered pager: %s", b.String())
	}
}

// A list read by number links no deeper than store.MaxOffset rows: past
// it there is no Next or Last by number (the page would be refused).
func TestPagerStopsAtTheBound(t *testing.T) {
	pg := newPager(httptest.NewRequest("GET", "/console/applications?page=200", nil), 1_000_000)
	if pg.NextURL() != "?page=201" || pg.LastURL() != "" {
		t.Errorf("page 200: next %q, last %q", pg.NextURL(), pg.LastURL())
	}
	pg = newPager(httptest.NewRequest("GET", "/console/applications?page=201", nil), 1_000_000)
	if pg.NextURL() != "" || pg.PrevURL() != "?page=200" {
		t.Errorf("page 201: next %q, previous %q", pg.NextURL(), pg.PrevURL())
	}
}
