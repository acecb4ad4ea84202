package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

func (a *API) topics(w http.ResponseWriter, r *http.Request) {
	paged(w, r, a.App.Catalog().Topics)
}

func (a *API) requirements(w http.ResponseWriter, r *http.Request) {
	c := a.App.Catalog()
	q := r.URL.Query()
	if len(q.Get("q")) > 200 {
		WriteProblem(w, r, http.StatusBadRequest, "the search text is longer than 200 characters")
		return
	}
	topic := q.Get("topic")
	if topic != "" {
		if _, ok := c.Topic(strings.ToUpper(topic)); !ok {
			WriteProblem(w, r, http.StatusBadRequest, fmt.Sprintf("unknown topic %q; see /api/v1/topics", topic))
			return
		}
	}
	res := c.Search(q.Get("q"), topic)
	if res == nil {
		res = []catalog.Requirement{}
	}
	paged(w, r, res)
}

func (a *API) requirement(w http.ResponseWriter, r *http.Request) {
	req, ok := a.App.Catalog().Requirement(r.PathValue("id"))
	if !ok {
		WriteProblem(w, r, http.StatusNotFound, fmt.Sprintf("no requirement %q; list them at /api/v1/requirements", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, req)
}

// frameworkSummary is a framework without its items, for lists.
type frameworkSummary struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Short     string `json:"short"`
	Publisher string `json:"publisher"`
	Version   string `json:"version"`
	Published string `json:"published"`
	URL       string `json:"url"`
	Source    string `json:"source"`
	Items     int    `json:"item_count"`
	Unmapped  int    `json:"unmapped_count"`
}

func (a *API) frameworks(w http.ResponseWriter, r *http.Request) {
	c := a.App.Catalog()
	out := []frameworkSummary{}
	for _, f := range c.Frameworks {
		out = append(out, frameworkSummary{ID: f.ID, Title: f.Title, Short: f.Short, Publisher: f.Publisher,
			Version: f.Version, Published: f.Published, URL: f.URL, Source: f.Source,
			Items: len(f.Items), Unmapped: len(c.Unmapped(f.ID))})
	}
	paged(w, r, out)
}

// frameworkItem is an item with the requirements that reach it.
type frameworkItem struct {
	catalog.Item
	Requirements []catalog.Link `json:"requirements"`
}

func (a *API) framework(w http.ResponseWriter, r *http.Request) {
	c := a.App.Catalog()
	f, ok := c.Framework(r.PathValue("id"))
	if !ok {
		WriteProblem(w, r, http.StatusNotFound, fmt.Sprintf("no framework %q; list them at /api/v1/frameworks", r.PathValue("id")))
		return
	}
	items := make([]frameworkItem, len(f.Items))
	for i, it := range f.Items {
		links := c.MappedBy(f.ID, it.ID)
		if links == nil {
			links = []catalog.Link{}
		}
		items[i] = frameworkItem{Item: it, Requirements: links}
	}
	writeJSON(w, http.StatusOK, struct {
		catalog.Framework
		Items []frameworkItem `json:"items"`
	}{f, items})
}

func (a *API) importFramework(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id == "" {
		WriteProblem(w, r, http.StatusBadRequest, "name the new framework with ?id=, for example ?id=acme-baseline-2026")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		WriteProblem(w, r, http.StatusUnsupportedMediaType, "send an OSCAL catalog as Content-Type: application/json")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, catalog.MaxImportSize)
	f, err := catalog.ImportOSCAL(id, r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteProblem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the OSCAL catalog is larger than %d MiB; split it or remove back-matter", catalog.MaxImportSize>>20))
			return
		}
		WriteProblem(w, r, http.StatusUnprocessableEntity, "the OSCAL catalog was not imported: "+err.Error())
		return
	}
	replace := r.URL.Query().Get("replace") == "true"
	if err := a.App.ImportFramework(r.Context(), f, replace); err != nil {
		fail(w, r, err) // a conflict is 409, refused text 400, the rest logged
		return
	}
	w.Header().Set("Location", "/api/v1/frameworks/"+f.ID)
	writeJSON(w, http.StatusCreated, frameworkSummary{ID: f.ID, Title: f.Title, Short: f.Short, Version: f.Version,
		Source: f.Source, Items: len(f.Items), Unmapped: len(f.Items)})
}

// crosswalkJSON is the crosswalk answer: figures first, then every row.
type crosswalkJSON struct {
	From     string         `json:"from"`
	To       string         `json:"to"`
	Summary  string         `json:"summary"`
	Total    int            `json:"total"`
	Full     int            `json:"full"`
	Partial  int            `json:"partial"`
	None     int            `json:"none"`
	Unmapped int            `json:"unmapped"`
	Coverage float64        `json:"coverage"`
	Rows     []crosswalkRow `json:"rows"`
	Gaps     []crosswalkGap `json:"gaps"`
}

type crosswalkRow struct {
	Item         string         `json:"item"`
	Title        string         `json:"title"`
	Coverage     string         `json:"coverage"`
	Explanation  string         `json:"explanation"`
	Targets      []crosswalkHit `json:"covered_by"`
	Requirements []string       `json:"via_requirements"`
}

type crosswalkHit struct {
	Item     string `json:"item"`
	Coverage string `json:"coverage"`
}

type crosswalkGap struct {
	Item        string `json:"item"`
	Title       string `json:"title"`
	Coverage    string `json:"coverage"`
	Explanation string `json:"explanation"`
}

func (a *API) crosswalk(w http.ResponseWriter, r *http.Request) {
	x, ok := a.crosswalkFor(w, r)
	if !ok {
		return
	}
	out := crosswalkJSON{From: x.From.ID, To: x.To.ID, Summary: x.Sentence(), Total: x.Total(), Full: x.Full,
		Partial: x.Partial, None: x.None, Unmapped: x.Unmapped, Coverage: x.Coverage(),
		Rows: []crosswalkRow{}, Gaps: []crosswalkGap{}}
	for _, row := range x.Rows {
		cr := crosswalkRow{Item: row.Item.ID, Title: row.Item.Title, Coverage: string(row.Strength),
			Explanation: row.Summary, Targets: []crosswalkHit{}, Requirements: []string{}}
		for _, t := range row.Targets {
			cr.Targets = append(cr.Targets, crosswalkHit{Item: t.Item.ID, Coverage: string(t.Strength)})
		}
		for _, v := range row.Via {
			cr.Requirements = append(cr.Requirements, v.Requirement.ID)
		}
		out.Rows = append(out.Rows, cr)
	}
	for _, g := range x.Gaps() {
		out.Gaps = append(out.Gaps, crosswalkGap{Item: g.Item.ID, Title: g.Item.Title, Coverage: string(g.Strength), Explanation: g.Summary})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) crosswalkFor(w http.ResponseWriter, r *http.Request) (catalog.Crosswalk, bool) {
	from, to := r.URL.Query().Get("from"), r.URL.Query().Get("to")
	if from == "" || to == "" {
		WriteProblem(w, r, http.StatusBadRequest, "give two framework ids, as ?from=uk-psti-2023&to=etsi-en-303-645-v2.1.1")
		return catalog.Crosswalk{}, false
	}
	x, err := a.App.Catalog().Crosswalk(from, to)
	if err != nil {
		WriteProblem(w, r, http.StatusNotFound, err.Error()+"; list frameworks at /api/v1/frameworks")
		return catalog.Crosswalk{}, false
	}
	return x, true
}

func (a *API) glossary(w http.ResponseWriter, r *http.Request) {
	paged(w, r, a.App.Catalog().Glossary)
}

func (a *API) exportOSCALCatalog(w http.ResponseWriter, r *http.Request) {
	attach(w, "hallmark-catalog.oscal.json")
	writeJSON(w, http.StatusOK, a.App.Catalog().OSCAL())
}

func (a *API) exportOSCALFramework(w http.ResponseWriter, r *http.Request) {
	doc, err := a.App.Catalog().FrameworkOSCAL(r.PathValue("id"))
	if err != nil {
		WriteProblem(w, r, http.StatusNotFound, err.Error())
		return
	}
	attach(w, r.PathValue("id")+".oscal.json")
	writeJSON(w, http.StatusOK, doc)
}

func (a *API) exportOSCALMappings(w http.ResponseWriter, r *http.Request) {
	var fws []string
	if v := r.URL.Query().Get("frameworks"); v != "" {
		fws = strings.Split(v, ",")
	}
	doc, err := a.App.Catalog().OSCALMappings(fws...)
	if err != nil {
		WriteProblem(w, r, http.StatusNotFound, err.Error())
		return
	}
	attach(w, "hallmark-mappings.oscal.json")
	writeJSON(w, http.StatusOK, doc)
}

func (a *API) exportCSV(w http.ResponseWriter, r *http.Request) {
	c := a.App.Catalog()
	kind := strings.TrimPrefix(r.URL.Path, "/api/v1/export/csv/")
	var write func() error
	name := kind + ".csv"
	switch {
	case kind == "requirements":
		write = func() error { return c.WriteRequirementsCSV(w) }
	case kind == "mappings":
		write = func() error { return c.WriteMappingsCSV(w) }
	case kind == "crosswalk":
		x, ok := a.crosswalkFor(w, r)
		if !ok {
			return
		}
		name = "crosswalk-" + x.From.ID + "-to-" + x.To.ID + ".csv"
		write = func() error { return catalog.WriteCrosswalkCSV(w, x) }
	default:
		id := r.PathValue("id")
		if _, ok := c.Framework(id); !ok {
			WriteProblem(w, r, http.StatusNotFound, fmt.Sprintf("no framework %q", id))
			return
		}
		name = id + ".csv"
		write = func() error { return c.WriteFrameworkCSV(w, id) }
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	attach(w, name)
	write()
}

func attach(w http.ResponseWriter, name string) {
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
}
