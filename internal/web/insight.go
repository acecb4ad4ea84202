package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hallmark-iot/hallmark/internal/brief"
	"github.com/hallmark-iot/hallmark/internal/chart"
	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/server"
)

// Evidence for policy: the dashboard, indicator pages with their charts,
// tables and downloads, the market what-if, the replay of a proposed rule,
// targets and transparency reports, and briefings (HTML, Markdown, PDF).

func (h *Web) registerInsight(handle func(string, http.HandlerFunc)) {
	handle("GET /dashboard", h.dashboard)
	handle("GET /indicators", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/dashboard", http.StatusFound) })
	handle("GET /indicators/{id}", h.indicator)
	handle("GET /indicators/{id}/definition", h.definition)
	handle("GET /indicators/{id}/data.csv", h.indicatorData)
	handle("GET /indicators/{id}/metadata.json", h.indicatorData)
	handle("GET /whatif", h.marketWhatIf)
	handle("GET /replay", h.replay)
	handle("GET /targets", h.targets)
	handle("GET /targets/{id}", h.target)
	handle("GET /reports", h.report)
	handle("GET /reports/{id}", h.publishedReport)
	handle("GET /briefings/{kind}/{name}", h.briefing)
	handle("POST /console/targets", h.signedIn(h.declareTarget))
}

// insightProblem shows an error of the figures as a page.
func (h *Web) insightProblem(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, server.ErrNoLog):
		w.Header().Set("Retry-After", "5")
		h.render(w, r, http.StatusServiceUnavailable, "error", struct {
			page
			Message string
		}{h.page(r, "Figures not ready", ""), "Figures cite a checkpoint of the transparency log, which has none yet. Try again in a few seconds."})
	case errors.Is(err, server.ErrInvalid):
		h.badRequest(w, r, strings.TrimPrefix(err.Error(), "invalid: "))
	case server.IsNotFound(err):
		h.NotFound(w, r, "There is nothing at this address.")
	default:
		h.fail(w, r, err)
	}
}

// tile is one indicator on the dashboard.
type tile struct {
	Def     *insight.Definition
	Value   string
	Counted string
	Change  string
	SVG     template.HTML
	Err     string
}

func (h *Web) dashboard(w http.ResponseWriter, r *http.Request) {
	var tiles []tile
	var cp insight.Checkpoint
	var at time.Time
	for _, def := range h.App.Indicators() {
		t := tile{Def: def}
		f, _, err := h.App.Indicator(r.Context(), def.ID, 0, insight.Query{})
		if errors.Is(err, server.ErrNoLog) {
			h.insightProblem(w, r, err)
			return
		}
		if err != nil {
			t.Err = err.Error()
			tiles = append(tiles, t)
			continue
		}
		cp, at = f.Checkpoint, f.At
		t.Value = def.Format(f.Total.Value)
		t.Counted = countedText(def, f.Total)
		if def.ID == "requirement-coverage" {
			t.Value = fmt.Sprintf("%d requirements", len(f.Groups))
			t.Counted = fmt.Sprintf("over %s registered products", insight.Count(f.Total.Den))
		}
		if n := len(f.Series); n > 1 && f.Series[0].Value.Defined() && f.Series[n-1].Value.Defined() {
			t.Change = "since " + f.Series[0].Month + ": " + changeText(def, f.Series[0].Value, f.Series[n-1].Value)
		}
		if len(f.Series) > 0 {
			t.SVG = template.HTML(lineChart("dash-"+def.ID, def, f, 0).SVG())
		} else if len(f.Groups) > 0 {
			bars := chart.Bars{ID: "dash-" + def.ID, Title: def.Name, Share: true, Format: formatter(def)}
			for i, g := range f.Groups {
				if i >= 8 {
					break
				}
				bars.Rows = append(bars.Rows, chart.BarRow{Label: g.Name, Value: float64(g.Value.Value)})
			}
			t.SVG = template.HTML(bars.SVG())
		}
		tiles = append(tiles, t)
	}
	h.render(w, r, http.StatusOK, "dashboard", struct {
		page
		Tiles      []tile
		Checkpoint insight.Checkpoint
		At         time.Time
	}{h.page(r, "Policy dashboard", "dashboard"), tiles, cp, at})
}

func formatter(def *insight.Definition) func(float64) string {
	return func(v float64) string { return def.Format(insight.Num(v)) }
}

// lineChart draws a figure's series: the total and up to groups of its groups.
func lineChart(id string, def *insight.Definition, f insight.Figure, groups int) chart.Line {
	c := chart.Line{ID: id, Title: def.Name + ", by month", Format: formatter(def), Share: def.Unit == insight.Share}
	add := func(name string, ps []insight.Point) {
		s := chart.Series{Name: name}
		for _, p := range ps {
			s.Points = append(s.Points, chart.Point{Label: p.Month, Value: float64(p.Value)})
		}
		c.Series = append(c.Series, s)
	}
	add("all in scope", f.Series)
	for i, g := range f.Groups {
		if i >= groups {
			break
		}
		if len(g.Series) > 0 {
			add(g.Name, g.Series)
		}
	}
	return c
}

func countedText(def *insight.Definition, v insight.Value) string {
	switch {
	case def.Unit == insight.Share:
		return fmt.Sprintf("%s of %s", insight.Count(v.Num), insight.Count(v.Den))
	case v.Den > 0:
		return fmt.Sprintf("over %s values", insight.Count(v.Den))
	}
	return "no data"
}

func changeText(def *insight.Definition, a, b insight.Num) string {
	d := float64(b) - float64(a)
	switch {
	case math.Abs(d) < 1e-12:
		return "no change"
	case def.Unit == insight.Share:
		return fmt.Sprintf("%+.1f points", d*100)
	}
	return fmt.Sprintf("%+.1f %s", d, def.Unit)
}

// figureView is what an indicator page shows.
type figureView struct {
	page
	Def        *insight.Definition
	Fig        insight.Figure
	Query      insight.Query
	Line, Bars template.HTML
	Stacked    template.HTML
	Rows       []groupRow
	Parts      []string
	Series     []seriesRow
	Links      map[string]string
	Citation   string
	Schemes    []*scheme.Scheme
	Juris      []string
	Categories []string
	Cuts       []string
}

type groupRow struct {
	Key, Name, Value, Num, Den string
	Parts                      []string
}

type seriesRow struct{ Month, Value, Den string }

func (h *Web) figure(r *http.Request) (insight.Figure, *insight.Definition, error) {
	q, err := insight.ParseQuery(r.URL.Query())
	if err != nil {
		return insight.Figure{}, nil, fmt.Errorf("%w: %s", server.ErrInvalid, strings.TrimPrefix(err.Error(), "invalid: "))
	}
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		if version, err = strconv.Atoi(v); err != nil || version < 1 {
			return insight.Figure{}, nil, fmt.Errorf("%w: version is a whole number from 1", server.ErrInvalid)
		}
	}
	return h.App.Indicator(r.Context(), r.PathValue("id"), version, q)
}

func (h *Web) indicator(w http.ResponseWriter, r *http.Request) {
	f, def, err := h.figure(r)
	if err != nil {
		if def == nil && !errors.Is(err, server.ErrNoLog) {
			if _, lerr := insight.Lookup(r.PathValue("id"), 0); lerr != nil {
				h.NotFound(w, r, "There is no indicator "+r.PathValue("id")+". The dashboard lists them all.")
				return
			}
		}
		h.insightProblem(w, r, err)
		return
	}
	v := figureView{page: h.page(r, def.Name, "dashboard"), Def: def, Fig: f, Query: f.Query, Cuts: def.Cuts, Categories: registry.Categories,
		Schemes: h.App.Schemes().Sorted()}
	for _, s := range v.Schemes {
		if !slices.Contains(v.Juris, s.Jurisdiction) {
			v.Juris = append(v.Juris, s.Jurisdiction)
		}
	}
	slices.Sort(v.Juris)
	if len(f.Series) > 0 {
		v.Line = template.HTML(lineChart("trend", def, f, 6).SVG())
		for _, p := range f.Series {
			v.Series = append(v.Series, seriesRow{p.Month, def.Format(p.Value), strconv.Itoa(p.Den)})
		}
	}
	if len(f.Groups) > 0 {
		bars := chart.Bars{ID: "groups", Title: def.Name + " by " + f.Query.By, Share: def.Unit == insight.Share, Format: formatter(def)}
		for i, g := range f.Groups {
			if i < 30 {
				bars.Rows = append(bars.Rows, chart.BarRow{Label: g.Name, Value: float64(g.Value.Value)})
			}
		}
		v.Bars = template.HTML(bars.SVG())
	}
	for _, p := range f.Total.Parts {
		v.Parts = append(v.Parts, p.Name)
	}
	if len(v.Parts) == 0 && len(f.Groups) > 0 {
		for _, p := range f.Groups[0].Value.Parts {
			v.Parts = append(v.Parts, p.Name)
		}
	}
	row := func(key, name string, x insight.Value) groupRow {
		g := groupRow{Key: key, Name: name, Value: def.Format(x.Value), Num: strconv.Itoa(x.Num), Den: strconv.Itoa(x.Den)}
		if def.Unit != insight.Share {
			g.Num = "—"
		}
		for _, p := range x.Parts {
			g.Parts = append(g.Parts, fmt.Sprintf("%d (%s)", p.Count, def.Format(p.Share)))
		}
		return g
	}
	if f.Total.Den > 0 || len(f.Groups) == 0 {
		v.Rows = append(v.Rows, row("", "All in scope", f.Total))
	}
	for _, g := range f.Groups {
		v.Rows = append(v.Rows, row(g.Key, g.Name, g.Value))
	}
	if len(f.Total.Parts) > 0 {
		st := chart.Stacked{ID: "parts", Title: def.Name + ": parts", Parts: v.Parts}
		st.Rows = append(st.Rows, stackRow("all in scope", f.Total))
		for i, g := range f.Groups {
			if i < 12 {
				st.Rows = append(st.Rows, stackRow(g.Name, g.Value))
			}
		}
		v.Stacked = template.HTML(st.SVG())
	}
	v.Links = h.figureLinks(def.ID, f.Query)
	v.Citation = insight.Citation(f, h.App.Config().PublicURL, v.Links["self"])
	h.render(w, r, http.StatusOK, "indicator", v)
}

func stackRow(name string, v insight.Value) chart.StackRow {
	s := chart.StackRow{Label: name}
	for _, p := range v.Parts {
		s.Counts = append(s.Counts, p.Count)
	}
	return s
}

// figureLinks are a figure's stable addresses: page, downloads, briefings.
func (h *Web) figureLinks(id string, q insight.Query) map[string]string {
	base := h.App.Config().PublicURL
	qs := ""
	if enc := q.Values().Encode(); enc != "" {
		qs = "?" + enc
	}
	return map[string]string{
		"self": base + "/indicators/" + id + qs, "csv": "/indicators/" + id + "/data.csv" + qs, "metadata": "/indicators/" + id + "/metadata.json" + qs,
		"api": "/api/v1/indicators/" + id + qs, "brief": "/briefings/indicators/" + id + qs, "md": "/briefings/indicators/" + id + ".md" + qs,
		"pdf": "/briefings/indicators/" + id + ".pdf" + qs, "definition": "/indicators/" + id + "/definition"}
}

func (h *Web) indicatorData(w http.ResponseWriter, r *http.Request) {
	f, def, err := h.figure(r)
	if err != nil {
		h.insightProblem(w, r, err)
		return
	}
	links := h.figureLinks(def.ID, f.Query)
	name := def.ID + "-" + f.At.UTC().Format("20060102") + "-cp" + strconv.FormatUint(f.Checkpoint.Size, 10)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if strings.HasSuffix(r.URL.Path, ".csv") {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		w.Write(insight.CSV(f))
		return
	}
	md := insight.NewMetadata(f, def, h.App.Config().PublicURL, links["self"])
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.metadata.json"`)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(md)
}

func (h *Web) definition(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	versions := insight.Versions(id)
	if len(versions) == 0 {
		h.NotFound(w, r, "There is no indicator "+id+". The dashboard lists them all.")
		return
	}
	cur := versions[len(versions)-1]
	var terms []string
	for _, t := range cur.Glossary {
		terms = append(terms, t)
	}
	h.render(w, r, http.StatusOK, "definition", struct {
		page
		Def      *insight.Definition
		Versions []*insight.Definition
		Terms    []string
	}{h.page(r, "Definition: "+cur.Name, "dashboard"), cur, versions, terms})
}

func (h *Web) marketWhatIf(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	all, _ := h.App.Schemes().AllLevels(h.App.Catalog())
	data := struct {
		page
		Levels []scheme.Resolved
		Level  string
		Add    string
		Reqs   []string
		Result *insight.WhatIfResult
		Name   string
		Chart  template.HTML
		Cond   template.HTML
		Brief  string
	}{page: h.page(r, "What if a level also required…", "dashboard"), Levels: all, Level: q.Get("level"), Add: strings.Join(q["add"], ", ")}
	for _, req := range h.App.Catalog().Requirements {
		data.Reqs = append(data.Reqs, req.ID)
	}
	if data.Level == "" {
		data.Level, data.Add = "sg-cls@2", "support>=5, HM-UPD-4"
		h.render(w, r, http.StatusOK, "market_whatif", data)
		return
	}
	if len(data.Add) > 2000 {
		h.badRequest(w, r, "The conditions are longer than 2,000 characters.")
		return
	}
	res, err := h.App.MarketWhatIf(r.Context(), data.Level, q["add"], 0)
	if err != nil {
		h.insightProblem(w, r, err)
		return
	}
	data.Result = &res
	data.Name = data.Level
	if rs, err := h.App.Schemes().ResolveRef(h.App.Catalog(), data.Level); err == nil {
		data.Name = rs.Name()
	}
	count := func(v float64) string { return insight.Count(int(v)) }
	data.Chart = template.HTML(chart.Bars{ID: "rules", Title: "Products that qualify: current rules beside proposed", Format: count,
		Rows: []chart.BarRow{{Label: "current rules", Value: float64(res.Labelled)}, {Label: "proposed rules", Value: float64(res.Qualify)}}}.SVG())
	cb := chart.Bars{ID: "conds", Title: "Products each condition holds back", Format: count}
	for _, c := range res.Conditions {
		cb.Rows = append(cb.Rows, chart.BarRow{Label: c.Condition.String(), Value: float64(c.Short)})
	}
	data.Cond = template.HTML(cb.SVG())
	data.Brief = "/briefings/whatif/" + url.PathEscape(res.Scheme+"@"+res.Level) + "?" + url.Values{"add": q["add"]}.Encode()
	data.Title = "What if " + data.Name + " also required " + strings.Join(res.Add, ", ")
	h.render(w, r, http.StatusOK, "market_whatif", data)
}

const defaultRule = `id: exploited-14d-suspend
description: An exploited high or critical vulnerability without a fix suspends the label after 14 days.
when:
  severity: [high, critical]
  actively_exploited: true
  fix_available: false
then:
  - action: notify
  - action: deadline
    days: 14
  - action: suspend
`

func (h *Web) replay(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := struct {
		page
		Rule    string
		Scheme  string
		Schemes []*scheme.Scheme
		Result  *insight.ReplayResult
		Chart   template.HTML
		Brief   string
	}{page: h.page(r, "Replay a proposed rule", "dashboard"), Rule: q.Get("rule"), Scheme: q.Get("scheme"), Schemes: h.App.Schemes().Sorted()}
	if data.Rule == "" {
		data.Rule = defaultRule
		h.render(w, r, http.StatusOK, "replay", data)
		return
	}
	rule, err := scheme.ParseRule([]byte(data.Rule))
	if err != nil {
		h.badRequest(w, r, "The rule cannot be replayed as written: "+err.Error())
		return
	}
	res, err := h.App.Replay(r.Context(), rule, data.Scheme, 0)
	if err != nil {
		h.insightProblem(w, r, err)
		return
	}
	data.Result = &res
	bars := chart.Bars{ID: "years", Title: "Labels the rule would have changed, by year", Format: func(v float64) string { return insight.Count(int(v)) }}
	for _, y := range res.ByYear {
		bars.Rows = append(bars.Rows, chart.BarRow{Label: strconv.Itoa(y.Year), Value: float64(y.Count)})
	}
	data.Chart = template.HTML(bars.SVG())
	data.Brief = "/briefings/replay/" + url.PathEscape(orAll(data.Scheme)) + "?" + url.Values{"rule": {data.Rule}}.Encode()
	h.render(w, r, http.StatusOK, "replay", data)
}

func orAll(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

func (h *Web) targets(w http.ResponseWriter, r *http.Request) {
	var org int64
	if v := r.URL.Query().Get("organisation"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			h.badRequest(w, r, "organisation is an organisation id, a number.")
			return
		}
		org = n
	}
	vs, err := h.App.Targets(r.Context(), org)
	if err != nil {
		h.insightProblem(w, r, err)
		return
	}
	p := h.page(r, "Declared targets", "dashboard")
	h.render(w, r, http.StatusOK, "targets", struct {
		page
		Targets    []server.TargetView
		Indicators []*insight.Definition
		Methods    []insight.Method
		CanDeclare bool
		LastMonth  string
		NextYear   string
	}{p, vs, h.App.Indicators(), insight.Methods, p.SignedIn, time.Now().AddDate(0, -1, 0).Format("2006-01"), time.Now().AddDate(1, 0, 0).Format("2006-01")})
}

func (h *Web) target(w http.ResponseWriter, r *http.Request) {
	v, err := h.App.Target(r.Context(), r.PathValue("id"))
	if err != nil {
		h.insightProblem(w, r, err)
		return
	}
	b := brief.Target(brief.Of(v), time.Now(), h.App.Config().PublicURL, h.App.Config().PublicURL+"/targets/"+v.Target.ID)
	var svg template.HTML
	var table *brief.Table
	if len(b.Sections) > 0 {
		svg, table = template.HTML(b.Sections[0].SVG), b.Sections[0].Table
	}
	h.render(w, r, http.StatusOK, "target", struct {
		page
		V     server.TargetView
		Chart template.HTML
		Table *brief.Table
		Brief brief.Briefing
	}{h.page(r, v.Target.Title, "dashboard"), v, svg, table, b})
}

// declareTarget is the console's form for a target.
func (h *Web) declareTarget(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	val, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(r.PostFormValue("target_value")), "%"), 64)
	if err != nil {
		h.badRequest(w, r, "Give the target value as a number: a share as a percentage (90) or a number of days or years.")
		return
	}
	def, err := insight.Lookup(r.PostFormValue("indicator"), 0)
	if err != nil {
		h.badRequest(w, r, "Choose an indicator from the list.")
		return
	}
	if def.Unit == insight.Share {
		val /= 100
	}
	d := server.TargetDeclaration{Target: insight.Target{Title: r.PostFormValue("title"), Indicator: def.ID, RefMonth: r.PostFormValue("reference_month"),
		Value: val, Due: r.PostFormValue("target_month"), Method: insight.Method(r.PostFormValue("method")), Supersedes: strings.TrimSpace(r.PostFormValue("supersedes")),
		Scope: insight.Query{Scheme: r.PostFormValue("scheme"), Jurisdiction: r.PostFormValue("jurisdiction"), Category: r.PostFormValue("category")}}}
	t, err := h.App.DeclareTarget(r.Context(), principal(r), d)
	if err != nil {
		h.insightProblem(w, r, err)
		return
	}
	http.Redirect(w, r, "/targets/"+t.ID, http.StatusSeeOther)
}

func (h *Web) report(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	org, err := strconv.ParseInt(q.Get("organisation"), 10, 64)
	period := q.Get("period")
	if period == "" {
		period = time.Now().AddDate(0, -1, 0).Format("2006-01")
	}
	if err != nil || org <= 0 {
		h.badRequest(w, r, "Give the organisation (?organisation=ID) and the month (?period=YYYY-MM).")
		return
	}
	rep, err := h.App.TransparencyReport(r.Context(), org, period)
	if err != nil {
		h.insightProblem(w, r, err)
		return
	}
	published, _ := h.App.Reports(r.Context(), org)
	h.render(w, r, http.StatusOK, "report", struct {
		page
		Rep       server.Report
		Published bool
		Intact    bool
		List      any
	}{h.page(r, "Transparency report: "+rep.OrgName+", "+period, "dashboard"), rep, false, false, published})
}

func (h *Web) publishedReport(w http.ResponseWriter, r *http.Request) {
	rep, intact, err := h.App.PublishedReport(r.Context(), r.PathValue("id"))
	if err != nil {
		h.insightProblem(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "report", struct {
		page
		Rep       server.Report
		Published bool
		Intact    bool
		List      any
	}{h.page(r, "Transparency report: "+rep.OrgName+", "+rep.Period, "dashboard"), rep, true, intact, nil})
}

// Briefings. The name's extension picks the format: none for HTML, .md
// for Markdown, .pdf for PDF.

// pdfs renders one PDF at a time (each starts a Chromium) and keeps the
// last few, keyed by the briefing's address and the market they were
// computed on.
type pdfCache struct {
	slot  chan struct{}
	mu    sync.Mutex
	order []string
	bytes map[string][]byte
}

var pdfs = &pdfCache{slot: make(chan struct{}, 1), bytes: map[string][]byte{}}

const pdfCacheSize = 16

func (c *pdfCache) get(k string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.bytes[k]
	return b, ok
}

func (c *pdfCache) put(k string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.bytes[k]; ok {
		return
	}
	c.bytes[k] = b
	c.order = append(c.order, k)
	if len(c.order) > pdfCacheSize {
		delete(c.bytes, c.order[0])
		c.order = c.order[1:]
	}
}

func (h *Web) briefing(w http.ResponseWriter, r *http.Request) {
	kind, name := r.PathValue("kind"), r.PathValue("name")
	format := "html"
	switch {
	case strings.HasSuffix(name, ".md"):
		format, name = "md", strings.TrimSuffix(name, ".md")
	case strings.HasSuffix(name, ".pdf"):
		format, name = "pdf", strings.TrimSuffix(name, ".pdf")
	}
	full := h.App.Config().PublicURL + "/briefings/" + kind + "/" + url.PathEscape(name)
	if r.URL.RawQuery != "" {
		full += "?" + r.URL.RawQuery
	}
	b, err := brief.For(r.Context(), h.App, kind, name, r.URL.Query(), full)
	if err != nil {
		if errors.Is(err, brief.ErrNoSuchBriefing) {
			h.NotFound(w, r, err.Error())
			return
		}
		h.insightProblem(w, r, err)
		return
	}
	file := kind + "-" + strings.NewReplacer("@", "-", "~", "-vs-", "/", "-").Replace(name) + "-" + b.Date.UTC().Format("20060102")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch format {
	case "md":
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.Header().Set("Content-Disposition", `inline; filename="`+file+`.md"`)
		w.Write(b.Markdown())
		return
	}
	html, err := b.HTML()
	if err != nil {
		h.insightProblem(w, r, err)
		return
	}
	if format == "html" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src "+brief.StyleHash()+"; img-src data:; frame-ancestors 'none'")
		w.Header().Set("Referrer-Policy", "same-origin")
		w.Write(html)
		return
	}
	key := full + fmt.Sprintf("#%d#%d", b.Checkpoint.Size, h.App.LabelGeneration())
	pdf, ok := pdfs.get(key)
	if !ok {
		select {
		case pdfs.slot <- struct{}{}:
		case <-time.After(30 * time.Second):
			http.Error(w, "Other PDFs are being printed; try again in a minute, or print the HTML briefing.", http.StatusServiceUnavailable)
			return
		case <-r.Context().Done():
			return
		}
		pdf, err = brief.PDF(r.Context(), html, "")
		<-pdfs.slot
		if errors.Is(err, brief.ErrNoChromium) {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		if err != nil {
			slog.Error("PDF briefing", "path", r.URL.Path, "err", err)
			http.Error(w, "The PDF could not be printed; the HTML briefing prints the same.", http.StatusInternalServerError)
			return
		}
		pdfs.put(key, pdf)
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+file+`.pdf"`)
	w.Write(pdf)
}

// briefingAs turns a briefing's address into its PDF or Markdown one: the
// extension goes on the name, before the query.
func briefingAs(u, ext string) string {
	path, q, ok := strings.Cut(u, "?")
	if ok {
		return path + ext + "?" + q
	}
	return path + ext
}
