package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/catalog"

	"github.com/hallmark-iot/hallmark/internal/chart"
	"github.com/hallmark-iot/hallmark/internal/scheme"
)

func (h *Web) schemes(w http.ResponseWriter, r *http.Request) {
	type row struct {
		*scheme.Scheme
		Source  string
		Version int
	}
	var rows []row
	for _, s := range h.App.Schemes().Sorted() {
		src, v := h.App.SchemeInfo(s.ID)
		rows = append(rows, row{s, src, v})
	}
	h.render(w, r, http.StatusOK, "schemes", struct {
		page
		Schemes []row
	}{h.page(r, "Schemes", "schemes"), rows})
}

func (h *Web) scheme(w http.ResponseWriter, r *http.Request) {
	s, ok := h.App.Schemes()[r.PathValue("id")]
	if !ok {
		h.NotFound(w, r, "There is no scheme "+r.PathValue("id")+".")
		return
	}
	c := h.App.Catalog()
	var levels []scheme.Resolved
	for _, l := range s.Levels {
		res, err := scheme.Resolve(c, s, l.ID)
		if err != nil {
			h.NotFound(w, r, err.Error())
			return
		}
		levels = append(levels, res)
	}
	src, version := h.App.SchemeInfo(s.ID)
	var others []scheme.Resolved
	if all, err := h.App.Schemes().AllLevels(c); err == nil {
		others = all
	}
	h.render(w, r, http.StatusOK, "scheme", struct {
		page
		Scheme  *scheme.Scheme
		Levels  []scheme.Resolved
		Source  string
		Version int
		Others  []scheme.Resolved
	}{h.page(r, s.Name, "schemes"), s, levels, src, version, others})
}

func (h *Web) compare(w http.ResponseWriter, r *http.Request) {
	c, set := h.App.Catalog(), h.App.Schemes()
	all, _ := set.AllLevels(c)
	a, b := r.URL.Query().Get("a"), r.URL.Query().Get("b")
	data := struct {
		page
		Levels  []scheme.Resolved
		A, B    string
		X       *scheme.Comparison
		Picture template.HTML
		Strict  int // shared requirements A checks at least as strictly
	}{page: h.page(r, "Compare schemes", "compare"), Levels: all, A: a, B: b}
	if a == "" && b == "" {
		data.A, data.B = "sg-cls@3", "fi-traficom@label"
	}
	if a != "" || b != "" {
		ra, err := set.ResolveRef(c, a)
		if err != nil {
			h.badRequest(w, r, "Choose the first scheme level from the list: "+err.Error()+".")
			return
		}
		rb, err := set.ResolveRef(c, b)
		if err != nil {
			h.badRequest(w, r, "Choose the second scheme level from the list: "+err.Error()+".")
			return
		}
		x := scheme.Compare(ra, rb)
		data.X = &x
		short := len(x.Shortfalls())
		data.Strict = len(x.Covered) - short
		data.Picture = template.HTML(chart.Overlap{ID: "overlap", Title: "What A and B ask for",
			ALabel: fmt.Sprintf("A, %s: %d requirements", ra.Name(), len(ra.Needs)),
			BLabel: fmt.Sprintf("B, %s: %d requirements", rb.Name(), len(rb.Needs)),
			AOnly:  chart.Part{Label: "only A asks for", Value: len(x.Extra), Color: chart.Other},
			Shared: []chart.Part{{Label: "both, A as strictly", Value: data.Strict, Color: chart.Full},
				{Label: "both, A less strictly", Value: short, Color: chart.Partial}},
			BOnly: chart.Part{Label: "only B asks for", Value: len(x.Gaps), Color: chart.None}}.SVG())
		data.A, data.B = ra.Label(), rb.Label()
		data.Title = "Compare " + ra.Name() + " with " + rb.Name()
	}
	h.render(w, r, http.StatusOK, "compare", data)
}

func (h *Web) matrix(w http.ResponseWriter, r *http.Request) {
	levels, err := h.App.Schemes().AllLevels(h.App.Catalog())
	if err != nil {
		h.badRequest(w, r, err.Error())
		return
	}
	m := scheme.BuildMatrix(levels)
	h.render(w, r, http.StatusOK, "matrix", struct {
		page
		M   scheme.Matrix
		SVG template.HTML
	}{h.page(r, "Scheme matrix", "matrix"), m, heatmap(m)})
}

func (h *Web) agreements(w http.ResponseWriter, r *http.Request) {
	c, set := h.App.Catalog(), h.App.Schemes()
	var checks []scheme.AgreementCheck
	for _, a := range h.App.Agreements() {
		checks = append(checks, set.Check(c, a))
	}
	h.render(w, r, http.StatusOK, "agreements", struct {
		page
		Checks []scheme.AgreementCheck
	}{h.page(r, "Mutual recognition", "agreements"), checks})
}

func (h *Web) whatIf(w http.ResponseWriter, r *http.Request) {
	c, set := h.App.Catalog(), h.App.Schemes()
	s, ok := set[r.PathValue("id")]
	if !ok {
		h.NotFound(w, r, "There is no scheme "+r.PathValue("id")+".")
		return
	}
	base, err := scheme.Resolve(c, s, r.PathValue("level"))
	if err != nil {
		h.NotFound(w, r, err.Error())
		return
	}
	all, _ := set.AllLevels(c)
	q := r.URL.Query()
	add, remove := cleanList(q["add"]), cleanList(q["remove"])
	data := struct {
		page
		Base    scheme.Resolved
		Missing []catalog.Requirement
		Result  *scheme.WhatIf
		Add     []string
		Remove  []string
		Checked map[string]bool
		Share   string
	}{page: h.page(r, "What if: "+base.Name(), "schemes"), Base: base, Add: add, Remove: remove, Checked: map[string]bool{}}
	if len(add)+len(remove) > 64 {
		h.badRequest(w, r, "Choose at most 64 requirements to add or remove at once.")
		return
	}
	have := base.Methods()
	for _, req := range c.Requirements {
		if _, ok := have[req.ID]; !ok {
			data.Missing = append(data.Missing, req)
		}
	}
	for _, id := range append(append([]string{}, add...), remove...) {
		data.Checked[id] = true
	}
	// The shareable address of this very what-if: the selection in two
	// comma-separated lists.
	share := url.Values{}
	if len(add) > 0 {
		share.Set("add", strings.Join(add, ","))
	}
	if len(remove) > 0 {
		share.Set("remove", strings.Join(remove, ","))
	}
	data.Share = h.App.Config().PublicURL + r.URL.Path
	if len(share) > 0 {
		data.Share += "?" + share.Encode()
	}
	if len(add)+len(remove) > 0 {
		res, err := scheme.Simulate(c, base, add, remove, all)
		if err != nil {
			h.badRequest(w, r, "That change cannot be simulated: "+err.Error()+".")
			return
		}
		data.Result = &res
	}
	h.render(w, r, http.StatusOK, "whatif", data)
}

// cleanList accepts repeated form values and comma-separated ones.
func cleanList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// heatmap draws the matrix: rows are the label held, columns the level it
// would be recognised as. The same figures are in the table beside it.
func heatmap(m scheme.Matrix) template.HTML {
	h := chart.Heatmap{ID: "hm", Title: "Coverage between scheme levels",
		Desc: "Each cell is the share of the column level's requirements that the row level also requires. The table below holds the same figures."}
	for _, l := range m.Levels {
		h.Labels = append(h.Labels, shortName(l))
	}
	for i := range m.Levels {
		row := make([]chart.HeatCell, len(m.Levels))
		for j := range m.Levels {
			c := m.Cells[i][j]
			row[j] = chart.HeatCell{Percent: c.Percent, Tip: fmt.Sprintf("%s covers %d of %d requirements of %s (%d%%)",
				shortName(m.Levels[i]), c.Covered, c.Required, shortName(m.Levels[j]), c.Percent)}
		}
		h.Cells = append(h.Cells, row)
	}
	return template.HTML(h.SVG())
}
