package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/chart"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

type topicGroup struct {
	Topic        catalog.Topic
	Requirements []catalog.Requirement
	Lang         string // of the titles and summaries, when not English
}

func (h *Web) catalog(w http.ResponseWriter, r *http.Request) {
	c := h.App.Catalog()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 200 {
		h.badRequest(w, r, "The search text is longer than 200 characters; use a few key words.")
		return
	}
	topic := r.URL.Query().Get("topic")
	if topic != "" {
		if _, ok := c.Topic(topic); !ok {
			h.badRequest(w, r, "There is no topic "+topic+".")
			return
		}
	}
	results := c.Search(q, topic)
	var groups []topicGroup
	for _, t := range c.Topics {
		g := topicGroup{Topic: t}
		for _, req := range results {
			if req.Topic == t.ID {
				g.Requirements = append(g.Requirements, req)
			}
		}
		if len(g.Requirements) > 0 {
			groups = append(groups, g)
		}
	}
	pg := h.page(r, "Catalogue", "catalog")
	// The plain summaries in the visitor's language where there is one.
	for gi := range groups {
		for ri, req := range groups[gi].Requirements {
			if t, in := h.App.RequirementText(req, string(pg.Lang)); in != "en" {
				groups[gi].Requirements[ri].Title, groups[gi].Requirements[ri].Summary = t.Title, t.Summary
				groups[gi].Lang = in
			}
		}
	}
	h.render(w, r, http.StatusOK, "catalog", struct {
		page
		Catalog  *catalog.Catalog
		Q, Topic string
		Results  []catalog.Requirement
		Groups   []topicGroup
	}{pg, c, q, topic, results, groups})
}

type mappingGroup struct {
	Framework catalog.Framework
	Links     []mappingLink
}

type mappingLink struct {
	FrameworkID string
	Item        catalog.Item
	Rel         catalog.Relationship
	Note        string
}

func (h *Web) requirement(w http.ResponseWriter, r *http.Request) {
	c := h.App.Catalog()
	req, ok := c.Requirement(r.PathValue("id"))
	if !ok {
		h.NotFound(w, r, "There is no requirement "+r.PathValue("id")+" in the catalogue.")
		return
	}
	topic, _ := c.Topic(req.Topic)
	// Group mappings by framework, in the catalogue's framework order.
	var groups []mappingGroup
	for _, f := range c.Frameworks {
		g := mappingGroup{Framework: f}
		for _, m := range req.Mappings {
			if m.Framework != f.ID {
				continue
			}
			it, _ := c.Item(m.Framework, m.Item)
			g.Links = append(g.Links, mappingLink{FrameworkID: f.ID, Item: it, Rel: m.Rel, Note: m.Note})
		}
		if len(g.Links) > 0 {
			groups = append(groups, g)
		}
	}
	pg := h.page(r, req.ID+" "+req.Title, "catalog")
	plain, in := h.App.RequirementText(req, string(pg.Lang))
	h.render(w, r, http.StatusOK, "requirement", struct {
		page
		Requirement catalog.Requirement
		Topic       catalog.Topic
		Mappings    []mappingGroup
		Plain       catalog.Text
		PlainLang   string
	}{pg, req, topic, groups, plain, in})
}

type frameworkRow struct {
	catalog.Framework
	Items, Unmapped int
}

func (h *Web) frameworks(w http.ResponseWriter, r *http.Request) {
	c := h.App.Catalog()
	var rows []frameworkRow
	for _, f := range c.Frameworks {
		rows = append(rows, frameworkRow{Framework: f, Items: len(f.Items), Unmapped: len(c.Unmapped(f.ID))})
	}
	h.render(w, r, http.StatusOK, "frameworks", struct {
		page
		Frameworks []frameworkRow
	}{h.page(r, "Frameworks", "frameworks"), rows})
}

type clauseView struct {
	ID, Title string
	Items     []itemView
}

type itemView struct {
	Item  catalog.Item
	Links []catalog.Link
}

func (h *Web) framework(w http.ResponseWriter, r *http.Request) {
	c := h.App.Catalog()
	f, ok := c.Framework(r.PathValue("id"))
	if !ok {
		h.NotFound(w, r, "There is no framework "+r.PathValue("id")+".")
		return
	}
	var clauses []clauseView
	for _, cl := range f.Clauses() {
		cv := clauseView{ID: cl.ID, Title: cl.Title}
		for _, it := range cl.Items {
			cv.Items = append(cv.Items, itemView{Item: it, Links: c.MappedBy(f.ID, it.ID)})
		}
		clauses = append(clauses, cv)
	}
	h.render(w, r, http.StatusOK, "framework", struct {
		page
		Framework catalog.Framework
		Clauses   []clauseView
	}{h.page(r, f.Short, "frameworks"), f, clauses})
}

// matrix is the From × To grid of a crosswalk, cell values "full",
// "partial" or "".
type matrix struct {
	Cols []string
	Rows []matrixRow
}

type matrixRow struct {
	Label string
	Cells []string
}

// maxMatrixCells keeps the grid readable; larger pairs show the table only.
const maxMatrixCells = 6000

func buildMatrix(x catalog.Crosswalk) *matrix {
	if len(x.From.Items)*len(x.To.Items) > maxMatrixCells {
		return nil
	}
	m := &matrix{}
	col := map[string]int{}
	for i, it := range x.To.Items {
		m.Cols = append(m.Cols, it.ID)
		col[it.ID] = i
	}
	for _, row := range x.Rows {
		cells := make([]string, len(x.To.Items))
		for _, t := range row.Targets {
			cells[col[t.Item.ID]] = string(t.Strength)
		}
		m.Rows = append(m.Rows, matrixRow{Label: row.Item.ID, Cells: cells})
	}
	return m
}

func (h *Web) crosswalk(w http.ResponseWriter, r *http.Request) {
	c := h.App.Catalog()
	from, to := r.URL.Query().Get("from"), r.URL.Query().Get("to")
	data := struct {
		page
		Frameworks []catalog.Framework
		From, To   string
		X          *crosswalkView
	}{page: h.page(r, "Crosswalk", "crosswalk"), Frameworks: c.Frameworks, From: from, To: to}
	if from == "" && to == "" {
		// A useful first view: does EN 303 645 give PSTI compliance?
		data.From, data.To = "uk-psti-2023", "etsi-en-303-645-v2.1.1"
	}
	if from != "" || to != "" {
		x, err := c.Crosswalk(from, to)
		if err != nil {
			h.badRequest(w, r, "Choose two frameworks from the lists: "+err.Error()+".")
			return
		}
		data.Title = "Crosswalk: " + x.To.Short + " → " + x.From.Short
		data.X = &crosswalkView{Crosswalk: x, Matrix: buildMatrix(x), GapGroups: groupGaps(x.Gaps()),
			Bar: template.HTML(chart.Bar("cw-bar", fmt.Sprintf("Items of %s met by %s", x.From.Short, x.To.Short), []chart.Part{
				{Label: "covered in full", Value: x.Full, Color: chart.Full},
				{Label: "covered in part", Value: x.Partial, Color: chart.Partial},
				{Label: "not covered", Value: x.None, Color: chart.None}}))}
	}
	h.render(w, r, http.StatusOK, "crosswalk", data)
}

type crosswalkView struct {
	catalog.Crosswalk
	Matrix    *matrix
	Bar       template.HTML // full / partial / none with the counts
	GapGroups []gapGroup
}

// gapGroup is the gaps that one sentence explains: said once, with the
// items it is about, rather than the same sentence twenty times.
type gapGroup struct {
	Summary string
	Rows    []catalog.CrosswalkRow
}

func groupGaps(rows []catalog.CrosswalkRow) []gapGroup {
	var out []gapGroup
	at := map[string]int{}
	for _, r := range rows {
		if r.Deemed {
			continue
		}
		i, ok := at[r.Summary]
		if !ok {
			i = len(out)
			at[r.Summary] = i
			out = append(out, gapGroup{Summary: r.Summary})
		}
		out[i].Rows = append(out[i].Rows, r)
	}
	return out
}

func (h *Web) glossary(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "glossary", struct {
		page
		Terms []catalog.Term
	}{h.page(r, "Glossary", "glossary"), h.App.Catalog().Glossary})
}
