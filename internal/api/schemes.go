package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/reqid"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// MaxSchemeSize bounds an uploaded scheme file.
const MaxSchemeSize = 1 << 20

func (a *API) registerSchemes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/schemes", a.schemes)
	mux.HandleFunc("POST /api/v1/schemes", a.withTokenOrAdmin(a.signedIn(a.putScheme)))
	mux.HandleFunc("GET /api/v1/schemes/{id}", a.scheme)
	mux.HandleFunc("PUT /api/v1/schemes/{id}", a.withTokenOrAdmin(a.signedIn(a.putScheme)))
	mux.HandleFunc("GET /api/v1/schemes/{id}/versions", a.schemeVersions)
	mux.HandleFunc("GET /api/v1/schemes/{id}/levels/{level}", a.level)
	mux.HandleFunc("GET /api/v1/schemes/{id}/levels/{level}/oscal", a.levelOSCAL)
	mux.HandleFunc("GET /api/v1/schemes/{id}/levels/{level}/whatif", a.whatIf)
	mux.HandleFunc("GET /api/v1/compare", a.compare)
	mux.HandleFunc("GET /api/v1/agreements", a.agreements)
	mux.HandleFunc("GET /api/v1/matrix", a.matrix)
}

type schemeSummary struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Owner         string   `json:"owner"`
	Jurisdiction  string   `json:"jurisdiction"`
	Status        string   `json:"status"`
	Kind          string   `json:"kind"`
	Version       string   `json:"version"`
	StoredVersion int      `json:"stored_version"`
	Source        string   `json:"source"`
	Levels        []string `json:"levels"`
}

func (a *API) summary(s *scheme.Scheme) schemeSummary {
	src, v := a.App.SchemeInfo(s.ID)
	out := schemeSummary{ID: s.ID, Name: s.Name, Owner: s.Owner, Jurisdiction: s.Jurisdiction, Status: string(s.Status),
		Kind: string(s.Kind), Version: s.Version, StoredVersion: v, Source: src, Levels: []string{}}
	for _, l := range s.Levels {
		out.Levels = append(out.Levels, l.ID)
	}
	return out
}

func (a *API) schemes(w http.ResponseWriter, r *http.Request) {
	out := []schemeSummary{}
	for _, s := range a.App.Schemes().Sorted() {
		out = append(out, a.summary(s))
	}
	paged(w, r, out)
}

func (a *API) findScheme(w http.ResponseWriter, r *http.Request) (*scheme.Scheme, bool) {
	s, ok := a.App.Schemes()[r.PathValue("id")]
	if !ok {
		WriteProblem(w, r, http.StatusNotFound, fmt.Sprintf("no scheme %q; list them at /api/v1/schemes", r.PathValue("id")))
	}
	return s, ok
}

func (a *API) scheme(w http.ResponseWriter, r *http.Request) {
	s, ok := a.findScheme(w, r)
	if !ok {
		return
	}
	src, current := a.App.SchemeInfo(s.ID)
	version := current
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			WriteProblem(w, r, http.StatusBadRequest, "version must be a stored version number, as listed at /api/v1/schemes/"+s.ID+"/versions")
			return
		}
		hist, err := a.App.SchemeHistory(r.Context(), s.ID)
		if err != nil {
			fail(w, r, err)
			return
		}
		found := false
		for _, h := range hist {
			if h.Version == n {
				s, version, found = h.Scheme, n, true
			}
		}
		if !found {
			WriteProblem(w, r, http.StatusNotFound, fmt.Sprintf("scheme %s has no stored version %d", s.ID, n))
			return
		}
	}
	writeJSON(w, http.StatusOK, struct {
		*scheme.Scheme
		StoredVersion  int    `json:"stored_version"`
		CurrentVersion int    `json:"current_version"`
		Source         string `json:"source"`
	}{s, version, current, src})
}

func (a *API) schemeVersions(w http.ResponseWriter, r *http.Request) {
	s, ok := a.findScheme(w, r)
	if !ok {
		return
	}
	hist, err := a.App.SchemeHistory(r.Context(), s.ID)
	if err != nil {
		fail(w, r, err)
		return
	}
	type version struct {
		Version   int    `json:"version"`
		Label     string `json:"label"`
		Status    string `json:"status"`
		Digest    string `json:"digest"`
		CreatedAt string `json:"created_at"`
	}
	out := []version{}
	for _, h := range hist {
		out = append(out, version{h.Version, h.Label, string(h.Status), h.Digest, h.CreatedAt.Format("2006-01-02T15:04:05Z")})
	}
	paged(w, r, out)
}

type needJSON struct {
	Requirement string   `json:"requirement"`
	Title       string   `json:"title"`
	Summary     string   `json:"summary"`
	Method      string   `json:"method"`
	FromLevel   string   `json:"from_level"`
	Via         []string `json:"via"`
}

func (a *API) resolveLevel(w http.ResponseWriter, r *http.Request) (scheme.Resolved, bool) {
	s, ok := a.findScheme(w, r)
	if !ok {
		return scheme.Resolved{}, false
	}
	res, err := scheme.Resolve(a.App.Catalog(), s, r.PathValue("level"))
	if err != nil {
		WriteProblem(w, r, http.StatusNotFound, err.Error())
		return scheme.Resolved{}, false
	}
	return res, true
}

func (a *API) level(w http.ResponseWriter, r *http.Request) {
	res, ok := a.resolveLevel(w, r)
	if !ok {
		return
	}
	needs := []needJSON{}
	for _, n := range res.Needs {
		needs = append(needs, needJSON{n.Requirement.ID, n.Requirement.Title, n.Requirement.Summary, string(n.Method), n.FromLevel, n.Via})
	}
	writeJSON(w, http.StatusOK, struct {
		Scheme   string          `json:"scheme"`
		Level    *scheme.Level   `json:"level"`
		Validity scheme.Validity `json:"validity"`
		Lasts    string          `json:"validity_description"`
		Total    int             `json:"total"`
		Needs    []needJSON      `json:"requirements"`
	}{res.Scheme.ID, res.Level, res.Scheme.LevelValidity(res.Level), res.Scheme.LevelValidity(res.Level).Describe(), len(needs), needs})
}

func (a *API) levelOSCAL(w http.ResponseWriter, r *http.Request) {
	res, ok := a.resolveLevel(w, r)
	if !ok {
		return
	}
	attach(w, res.Scheme.ID+"-"+res.Level.ID+".profile.json")
	writeJSON(w, http.StatusOK, res.OSCALProfile("/api/v1/export/oscal/catalog"))
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (a *API) whatIf(w http.ResponseWriter, r *http.Request) {
	res, ok := a.resolveLevel(w, r)
	if !ok {
		return
	}
	c := a.App.Catalog()
	all, err := a.App.Schemes().AllLevels(c)
	if err != nil {
		reqid.Note(r, err)
		WriteProblem(w, r, http.StatusInternalServerError, "the schemes could not be resolved")
		return
	}
	add, remove := splitList(r.URL.Query().Get("add")), splitList(r.URL.Query().Get("remove"))
	if len(add)+len(remove) == 0 {
		WriteProblem(w, r, http.StatusBadRequest, "name requirements to ?add= or ?remove=, comma-separated, e.g. ?add=HM-SBOM-1")
		return
	}
	wi, err := scheme.Simulate(c, res, add, remove, all)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	type row struct {
		Level           string `json:"level"`
		Name            string `json:"name"`
		CoversBefore    int    `json:"covers_before"`
		CoversAfter     int    `json:"covers_after"`
		CoveredByBefore int    `json:"covered_by_before"`
		CoveredByAfter  int    `json:"covered_by_after"`
		OutcomeBefore   string `json:"outcome_before"`
		OutcomeAfter    string `json:"outcome_after"`
		Changed         bool   `json:"changed"`
	}
	rows := []row{}
	for _, x := range wi.Rows {
		rows = append(rows, row{x.Other.Label(), x.Other.Name(), x.CoversBefore, x.CoversAfter, x.CoveredByBefore, x.CoveredByAfter,
			string(x.OutcomeBefore), string(x.OutcomeAfter), x.Changed()})
	}
	writeJSON(w, http.StatusOK, struct {
		Level   string   `json:"level"`
		Added   []string `json:"added"`
		Removed []string `json:"removed"`
		Before  int      `json:"requirements_before"`
		After   int      `json:"requirements_after"`
		Rows    []row    `json:"alignment"`
	}{res.Label(), add, remove, len(wi.Before.Needs), len(wi.After.Needs), rows})
}

// putScheme creates (POST) or versions (PUT) an authority's scheme.
func (a *API) putScheme(w http.ResponseWriter, r *http.Request) {
	// Who may write comes before reading the document: an authority
	// writes its own schemes and creates new ones.
	if err := a.App.CheckSchemeWrite(who(r), r.PathValue("id")); err != nil {
		fail(w, r, err)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json", "application/yaml", "application/x-yaml", "text/yaml":
	default:
		WriteProblem(w, r, http.StatusUnsupportedMediaType, "send the scheme as application/json or application/yaml")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxSchemeSize))
	if err != nil {
		WriteProblem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("a scheme file is at most %d KiB", MaxSchemeSize>>10))
		return
	}
	s, err := scheme.Parse("scheme", body, a.App.Catalog())
	if err != nil {
		writeProblemErrors(w, r, http.StatusUnprocessableEntity, "the scheme is not valid; nothing was stored", err)
		return
	}
	_, exists := a.App.Schemes()[s.ID]
	if r.Method == http.MethodPut && s.ID != r.PathValue("id") {
		WriteProblem(w, r, http.StatusBadRequest, fmt.Sprintf("the document's id %q does not match the URL's %q", s.ID, r.PathValue("id")))
		return
	}
	if r.Method == http.MethodPost && exists {
		WriteProblem(w, r, http.StatusConflict, fmt.Sprintf("scheme %s exists; PUT /api/v1/schemes/%s to publish a new version", s.ID, s.ID))
		return
	}
	v, created, err := a.App.PutScheme(r.Context(), who(r), s)
	if errors.Is(err, store.ErrConflict) {
		WriteProblem(w, r, http.StatusConflict, err.Error()+"; built-in schemes change with Hallmark's data files")
		return
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	status := http.StatusOK
	if created && v == 1 {
		status = http.StatusCreated
	}
	w.Header().Set("Location", "/api/v1/schemes/"+s.ID)
	writeJSON(w, status, struct {
		schemeSummary
		NewVersion bool `json:"new_version"`
	}{a.summary(s), created})
}

func (a *API) compare(w http.ResponseWriter, r *http.Request) {
	aref, bref := r.URL.Query().Get("a"), r.URL.Query().Get("b")
	if aref == "" || bref == "" {
		WriteProblem(w, r, http.StatusBadRequest, "give two scheme levels, as ?a=sg-cls@3&b=fi-traficom (the level may be left out for single-level schemes)")
		return
	}
	c, set := a.App.Catalog(), a.App.Schemes()
	ra, err := set.ResolveRef(c, aref)
	if err != nil {
		WriteProblem(w, r, http.StatusNotFound, "a: "+err.Error())
		return
	}
	rb, err := set.ResolveRef(c, bref)
	if err != nil {
		WriteProblem(w, r, http.StatusNotFound, "b: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, comparisonJSON(scheme.Compare(ra, rb)))
}

type reqRef struct {
	Requirement string `json:"requirement"`
	Title       string `json:"title"`
	Summary     string `json:"summary,omitempty"`
	MethodA     string `json:"method_a,omitempty"`
	MethodB     string `json:"method_b,omitempty"`
}

type comparison struct {
	A          string         `json:"a"`
	B          string         `json:"b"`
	AName      string         `json:"a_name"`
	BName      string         `json:"b_name"`
	Required   int            `json:"required"`
	Covered    int            `json:"covered"`
	Coverage   float64        `json:"coverage"`
	Percent    int            `json:"percent"`
	Verdict    scheme.Verdict `json:"verdict"`
	Gaps       []reqRef       `json:"gaps"`
	Shortfalls []reqRef       `json:"assurance_shortfalls"`
	Extra      []reqRef       `json:"extra"`
	Matches    []reqRef       `json:"covered_requirements"`
}

func comparisonJSON(x scheme.Comparison) comparison {
	out := comparison{A: x.A.Label(), B: x.B.Label(), AName: x.A.Name(), BName: x.B.Name(), Required: len(x.B.Needs),
		Covered: len(x.Covered), Coverage: x.Coverage(), Percent: x.Percent(), Verdict: x.Verdict,
		Gaps: []reqRef{}, Shortfalls: []reqRef{}, Extra: []reqRef{}, Matches: []reqRef{}}
	for _, g := range x.Gaps {
		out.Gaps = append(out.Gaps, reqRef{Requirement: g.Requirement.ID, Title: g.Requirement.Title, Summary: g.Requirement.Summary, MethodB: string(g.Method)})
	}
	for _, m := range x.Covered {
		ref := reqRef{Requirement: m.Requirement.ID, Title: m.Requirement.Title, MethodA: string(m.MethodA), MethodB: string(m.MethodB)}
		out.Matches = append(out.Matches, ref)
		if m.Shortfall() {
			out.Shortfalls = append(out.Shortfalls, ref)
		}
	}
	for _, e := range x.Extra {
		out.Extra = append(out.Extra, reqRef{Requirement: e.Requirement.ID, Title: e.Requirement.Title, MethodA: string(e.Method)})
	}
	return out
}

func (a *API) agreements(w http.ResponseWriter, r *http.Request) {
	type direction struct {
		From        string      `json:"from"`
		To          string      `json:"to"`
		Support     string      `json:"support"`
		Explanation string      `json:"explanation"`
		Comparison  *comparison `json:"comparison,omitempty"`
	}
	type agreement struct {
		scheme.Agreement
		Check      string      `json:"check"`
		Directions []direction `json:"directions"`
	}
	c, set := a.App.Catalog(), a.App.Schemes()
	out := []agreement{}
	for _, ag := range a.App.Agreements() {
		chk := set.Check(c, ag)
		item := agreement{Agreement: ag, Check: chk.Summary}
		for _, d := range chk.Directions {
			dj := direction{From: d.From, To: d.To, Support: string(d.Support), Explanation: d.Explanation}
			if d.Comparison != nil {
				cj := comparisonJSON(*d.Comparison)
				dj.Comparison = &cj
			}
			item.Directions = append(item.Directions, dj)
		}
		out = append(out, item)
	}
	paged(w, r, out)
}

func (a *API) matrix(w http.ResponseWriter, r *http.Request) {
	levels, err := a.App.Schemes().AllLevels(a.App.Catalog())
	if err != nil {
		reqid.Note(r, err)
		WriteProblem(w, r, http.StatusInternalServerError, "the schemes could not be resolved")
		return
	}
	m := scheme.BuildMatrix(levels)
	type cell struct {
		Holder  string `json:"holder"`
		Target  string `json:"target"`
		Percent int    `json:"percent"`
		Covered int    `json:"covered"`
		Of      int    `json:"of"`
		Outcome string `json:"outcome"`
	}
	var labels []string
	cells := []cell{}
	for i, l := range m.Levels {
		labels = append(labels, l.Label())
		for j, t := range m.Levels {
			c := m.Cells[i][j]
			cells = append(cells, cell{l.Label(), t.Label(), c.Percent, c.Covered, c.Required, string(c.Outcome)})
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Levels []string `json:"levels"`
		Cells  []cell   `json:"cells"`
		Note   string   `json:"note"`
	}{labels, cells, "percent: share of the target level's requirements that the holder level also requires"})
}
