// Package brief writes briefings: one question (an indicator's trend, a
// what-if, a replay, a target, a scheme comparison) answered in plain words
// for policy readers, with server-rendered charts, the data tables behind
// them, the caveats, links to the definitions and the glossary, and a
// dated citation line naming the log checkpoint. One briefing renders as a
// printable HTML document, as Markdown, and as PDF (the same HTML printed
// by headless Chromium).
package brief

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/chart"
	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/scheme"
)

// Briefing is one answered question.
type Briefing struct {
	Title    string
	Question string
	// Summary is the answer in plain words, first.
	Summary  []string
	Sections []Section
	Caveats  []string
	// Links are the definitions, pages and downloads behind the figures.
	Links []Link
	// Glossary names the terms used, each linked to the glossary.
	Glossary   []Link
	Citation   string
	URL        string // the briefing's stable address
	Instance   string // the Hallmark it comes from
	Date       time.Time
	Checkpoint insight.Checkpoint
}

// Section is one part of a briefing: words, a chart, the table behind it.
type Section struct {
	Heading string
	Text    []string
	SVG     string // a chart from package chart (already escaped SVG)
	Table   *Table
}

// Table is a data table.
type Table struct {
	Caption string
	Head    []string
	Rows    [][]string
	// Numeric marks the columns to right-align.
	Numeric []bool
}

// Link is a labelled address.
type Link struct{ Text, URL string }

func glossaryLinks(base string, terms []string) []Link {
	var out []Link
	for _, t := range terms {
		out = append(out, Link{t, base + "/glossary#" + anchor(t)})
	}
	return out
}

// anchor is the glossary page's id of a term (as the web package writes it).
func anchor(s string) string {
	return "term-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
}

func citeLine(title, base string, at time.Time, cp insight.Checkpoint, url string) string {
	return fmt.Sprintf("Hallmark (%s), \"%s\", %s, log checkpoint %d (root %s). %s", base, title, at.UTC().Format("2 January 2006 15:04 UTC"), cp.Size, cp.Root, url)
}

// Indicator briefs an indicator's figure: its trend, its groups, its parts.
func Indicator(f insight.Figure, def *insight.Definition, base, url string) Briefing {
	format := func(v float64) string { return def.Format(insight.Num(v)) }
	b := Briefing{Title: def.Name, Question: def.Meaning, Instance: base, URL: url, Date: f.At, Checkpoint: f.Checkpoint,
		Caveats: f.Caveats, Glossary: glossaryLinks(base, def.Glossary), Citation: insight.Citation(f, base, url)}
	scope := f.Query.Scope()
	b.Summary = append(b.Summary, fmt.Sprintf("%s, %s: %s%s, as of %s.", def.Name, scope, def.Format(f.Total.Value), counted(def, f.Total),
		f.At.UTC().Format("2 January 2006")))
	if n := len(f.Series); n >= 2 {
		first, last := firstDefined(f.Series), f.Series[n-1]
		if first >= 0 && first < n-1 && last.Value.Defined() {
			b.Summary = append(b.Summary, fmt.Sprintf("In %s it was %s; by %s, %s (%s).", f.Series[first].Month, def.Format(f.Series[first].Value),
				last.Month, def.Format(last.Value), change(def, f.Series[first].Value, last.Value)))
		}
	}
	if len(f.Groups) > 0 {
		hi, lo := extremes(f.Groups)
		if hi >= 0 && lo >= 0 && hi != lo {
			b.Summary = append(b.Summary, fmt.Sprintf("By %s it ranges from %s (%s) to %s (%s).", f.Query.By,
				def.Format(f.Groups[lo].Value.Value), f.Groups[lo].Name, def.Format(f.Groups[hi].Value.Value), f.Groups[hi].Name))
		}
	}
	b.Summary = append(b.Summary, "How it is computed: "+def.Formula)
	// The trend.
	if len(f.Series) > 0 {
		line := chart.Line{ID: "trend", Title: def.Name + " by month", Format: format, Share: def.Unit == insight.Share}
		line.Series = append(line.Series, series("all in scope", f.Series))
		for i, g := range f.Groups {
			if i >= 6 || len(g.Series) == 0 {
				break
			}
			line.Series = append(line.Series, series(g.Name, g.Series))
		}
		t := &Table{Caption: "Value at the end of each month", Head: []string{"Month", "Value", "Counted"}, Numeric: []bool{false, true, true}}
		for _, p := range f.Series {
			t.Rows = append(t.Rows, []string{p.Month, def.Format(p.Value), strconv.Itoa(p.Den)})
		}
		b.Sections = append(b.Sections, Section{Heading: "Over time", Text: []string{"Rebuilt from the label decisions in the transparency log: each month's value is the state at the month's end."},
			SVG: line.SVG(), Table: t})
	}
	// The groups.
	if len(f.Groups) > 0 {
		bars := chart.Bars{ID: "groups", Title: def.Name + " by " + f.Query.By, Format: format, Share: def.Unit == insight.Share}
		t := &Table{Caption: def.Name + " by " + f.Query.By, Head: []string{strings.ToUpper(f.Query.By[:1]) + f.Query.By[1:], "Value", numHead(def), "Of"},
			Numeric: []bool{false, true, true, true}}
		for _, p := range partNames(f) {
			t.Head = append(t.Head, p)
			t.Numeric = append(t.Numeric, true)
		}
		for i, g := range f.Groups {
			if i < 30 {
				bars.Rows = append(bars.Rows, chart.BarRow{Label: g.Name, Value: float64(g.Value.Value)})
			}
			t.Rows = append(t.Rows, valueRow(g.Name, def, g.Value))
		}
		text := []string{}
		if f.GroupsTotal > len(f.Groups) {
			text = append(text, fmt.Sprintf("The %d largest of %d groups.", len(f.Groups), f.GroupsTotal))
		}
		b.Sections = append(b.Sections, Section{Heading: "By " + f.Query.By, Text: text, SVG: bars.SVG(), Table: t})
	}
	// The parts of the total.
	if len(f.Total.Parts) > 0 {
		st := chart.Stacked{ID: "parts", Title: def.Name + ": parts", Parts: partNames(f)}
		row := chart.StackRow{Label: "all in scope"}
		t := &Table{Caption: "Parts of the total", Head: []string{"Part", "Count", "Share"}, Numeric: []bool{false, true, true}}
		for _, p := range f.Total.Parts {
			row.Counts = append(row.Counts, p.Count)
			t.Rows = append(t.Rows, []string{p.Name, strconv.Itoa(p.Count), pctOf(p.Share)})
		}
		st.Rows = append(st.Rows, row)
		for i, g := range f.Groups {
			if i >= 12 {
				break
			}
			gr := chart.StackRow{Label: g.Name}
			for _, p := range g.Value.Parts {
				gr.Counts = append(gr.Counts, p.Count)
			}
			st.Rows = append(st.Rows, gr)
		}
		b.Sections = append(b.Sections, Section{Heading: "Parts", SVG: st.SVG(), Table: t})
	}
	b.Sections = append(b.Sections, Section{Heading: "Definition", Text: []string{
		def.Meaning, "Formula: " + def.Formula, fmt.Sprintf("Definition version %d, in effect since %s (SHA-256 %s).", def.Version, def.Published, def.Digest()),
		"Reads: " + strings.Join(def.Reads, "; ") + "."}})
	b.Links = []Link{{"The definition", base + "/indicators/" + def.ID + "/definition"}, {"The figure's page", strings.Replace(url, "/briefings/indicators/", "/indicators/", 1)},
		{"Data (CSV)", dataURL(base, def.ID, f.Query, "data.csv")}, {"Metadata (JSON): definition, sources, checkpoint, caveats", dataURL(base, def.ID, f.Query, "metadata.json")}}
	return b
}

func dataURL(base, id string, q insight.Query, file string) string {
	u := base + "/indicators/" + id + "/" + file
	if enc := q.Values().Encode(); enc != "" {
		u += "?" + enc
	}
	return u
}

func numHead(def *insight.Definition) string {
	if def.Unit == insight.Share {
		return "Counted in"
	}
	return "Values"
}

func valueRow(name string, def *insight.Definition, v insight.Value) []string {
	num := strconv.Itoa(v.Num)
	if def.Unit != insight.Share {
		num = "—"
	}
	row := []string{name, def.Format(v.Value), num, strconv.Itoa(v.Den)}
	for _, p := range v.Parts {
		row = append(row, strconv.Itoa(p.Count))
	}
	return row
}

func partNames(f insight.Figure) []string {
	var out []string
	parts := f.Total.Parts
	if len(parts) == 0 && len(f.Groups) > 0 {
		parts = f.Groups[0].Value.Parts
	}
	for _, p := range parts {
		out = append(out, p.Name)
	}
	return out
}

func counted(def *insight.Definition, v insight.Value) string {
	switch {
	case def.Unit == insight.Share && v.Den > 0:
		return fmt.Sprintf(" (%s of %s)", insight.Count(v.Num), insight.Count(v.Den))
	case v.Den > 0:
		return fmt.Sprintf(" (over %s values)", insight.Count(v.Den))
	}
	return ""
}

func change(def *insight.Definition, a, b insight.Num) string {
	d := float64(b) - float64(a)
	switch {
	case math.Abs(d) < 1e-12:
		return "no change"
	case def.Unit == insight.Share:
		return fmt.Sprintf("%+.1f percentage points", d*100)
	}
	return fmt.Sprintf("%+.1f %s", d, def.Unit)
}

func firstDefined(ps []insight.Point) int {
	for i, p := range ps {
		if p.Value.Defined() {
			return i
		}
	}
	return -1
}

func extremes(gs []insight.Group) (hi, lo int) {
	hi, lo = -1, -1
	for i, g := range gs {
		if !g.Value.Value.Defined() || g.Value.Den < 3 {
			continue // a group of one or two says little
		}
		if hi < 0 || g.Value.Value > gs[hi].Value.Value {
			hi = i
		}
		if lo < 0 || g.Value.Value < gs[lo].Value.Value {
			lo = i
		}
	}
	return hi, lo
}

func series(name string, ps []insight.Point) chart.Series {
	s := chart.Series{Name: name}
	for _, p := range ps {
		s.Points = append(s.Points, chart.Point{Label: p.Month, Value: float64(p.Value)})
	}
	return s
}

func pctOf(n insight.Num) string {
	if !n.Defined() {
		return "—"
	}
	return strconv.FormatFloat(math.Round(float64(n)*1000)/10, 'f', -1, 64) + "%"
}

// WhatIf briefs a what-if on the market: current rules beside proposed ones.
func WhatIf(r insight.WhatIfResult, levelName, base, url string) Briefing {
	title := "What if " + levelName + " also required " + strings.Join(r.Add, ", ")
	b := Briefing{Title: title, Question: "Which of the products the level labels now would not qualify, on present evidence, if it also required this?",
		Summary: []string{r.Summary}, Caveats: r.Caveats, Instance: base, URL: url, Date: r.At, Checkpoint: r.Checkpoint,
		Glossary: glossaryLinks(base, []string{"Label", "Conformity assessment", "Self-declaration", "Support period", "SBOM"})}
	b.Citation = citeLine(title, base, r.At, r.Checkpoint, url)
	bars := chart.Bars{ID: "rules", Title: "Qualifying products: current rules beside proposed", Format: func(v float64) string { return insight.Count(int(v)) },
		Rows: []chart.BarRow{{Label: "current rules", Value: float64(r.Labelled)}, {Label: "proposed rules", Value: float64(r.Qualify)}}}
	b.Sections = append(b.Sections, Section{Heading: "Current rules, proposed rules", SVG: bars.SVG(), Table: &Table{
		Caption: "Products labelled at the level now", Head: []string{"", "Qualify", "Would not", "Of which fail on evidence", "Of which no evidence"},
		Numeric: []bool{false, true, true, true, true},
		Rows: [][]string{{"Current rules", insight.Count(r.Labelled), "0", "—", "—"},
			{"Proposed rules", insight.Count(r.Qualify), insight.Count(r.WouldFail), insight.Count(r.FailEvidence), insight.Count(r.NoEvidence)}}}})
	ct := &Table{Caption: "Each condition on its own", Head: []string{"Condition", "Meets", "of which declared", "Fails", "No evidence", "Held back", "Held back by this alone", "Evidence read"},
		Numeric: []bool{false, true, true, true, true, true, true, false}}
	cb := chart.Bars{ID: "conditions", Title: "Products held back by each condition", Format: func(v float64) string { return insight.Count(int(v)) }}
	for i, c := range r.Conditions {
		name := c.Words
		if i == r.Bottleneck {
			name += " (the bottleneck)"
		}
		ct.Rows = append(ct.Rows, []string{name, insight.Count(c.Meets), insight.Count(c.Declared), insight.Count(c.Fails), insight.Count(c.NoEvidence),
			insight.Count(c.Short), insight.Count(c.Only), c.Evidence})
		cb.Rows = append(cb.Rows, chart.BarRow{Label: c.Condition.String(), Value: float64(c.Short)})
	}
	b.Sections = append(b.Sections, Section{Heading: "The conditions", SVG: cb.SVG(), Table: ct})
	breakdown := func(heading, col string, bs []insight.Breakdown) {
		t := &Table{Caption: heading, Head: []string{col, "Labelled", "Would not qualify", "Share"}, Numeric: []bool{false, true, true, true}}
		for i, x := range bs {
			if i >= 50 {
				break
			}
			t.Rows = append(t.Rows, []string{x.Name, insight.Count(x.Labelled), insight.Count(x.WouldFail), insight.Percent(x.WouldFail, x.Labelled)})
		}
		text := []string{}
		if len(bs) > 50 {
			text = append(text, fmt.Sprintf("The 50 most affected of %d.", len(bs)))
		}
		b.Sections = append(b.Sections, Section{Heading: heading, Text: text, Table: t})
	}
	breakdown("By category", "Category", r.ByCategory)
	breakdown("By manufacturer", "Manufacturer", r.ByManufacturer)
	ht := &Table{Caption: "The products held back", Head: []string{"Label", "Category", "Manufacturer", "Fails", "No evidence"}}
	for _, h := range r.Held {
		ht.Rows = append(ht.Rows, []string{h.Label, h.Category, h.Manufacturer, strings.Join(h.Fails, ", "), strings.Join(h.NoEvidence, ", ")})
	}
	text := []string{}
	if r.HeldTotal > len(r.Held) {
		text = append(text, fmt.Sprintf("The first %d of %d, by label id; the API lists up to 10,000.", len(r.Held), r.HeldTotal))
	}
	b.Sections = append(b.Sections, Section{Heading: "The list", Text: text, Table: ht})
	b.Links = []Link{{"The what-if's page", strings.Replace(url, "/briefings/whatif/", "/whatif?level=", 1)}}
	return b
}

// Replay briefs a counterfactual replay of a proposed rule.
func Replay(r insight.ReplayResult, base, url string) Briefing {
	title := "Replaying the rule " + r.Rule.ID + " over the logged history"
	b := Briefing{Title: title, Question: "Had this post-market rule applied, which labels would have changed, and when? " + r.Rule.Description,
		Summary: []string{r.Summary, "The rule: when " + r.Rule.When.Describe() + ", " + actionsText(r.Rule.Then) + "."},
		Caveats: r.Caveats, Instance: base, URL: url, Date: r.At, Checkpoint: r.Checkpoint,
		Glossary: glossaryLinks(base, []string{"Vulnerability", "Exploited vulnerability", "Label", "Transparency log"})}
	b.Citation = citeLine(title, base, r.At, r.Checkpoint, url)
	bars := chart.Bars{ID: "years", Title: "Labels the rule would have changed, by year", Format: func(v float64) string { return insight.Count(int(v)) }}
	yt := &Table{Caption: "By year", Head: []string{"Year", "Labels"}, Numeric: []bool{false, true}}
	for _, y := range r.ByYear {
		bars.Rows = append(bars.Rows, chart.BarRow{Label: strconv.Itoa(y.Year), Value: float64(y.Count)})
		yt.Rows = append(yt.Rows, []string{strconv.Itoa(y.Year), insight.Count(y.Count)})
	}
	b.Sections = append(b.Sections, Section{Heading: "Current rules beside the proposed rule", Text: []string{fmt.Sprintf(
		"Of %s labels considered, the rule would have changed %s: %s that the current rules changed too, later, and %s that they never changed.",
		insight.Count(r.Considered), insight.Count(r.Changed), insight.Count(r.Anyway), insight.Count(r.Never))}, SVG: bars.SVG(), Table: yt})
	lt := &Table{Caption: "The labels", Head: []string{"Label", "Scheme", "Category", "Manufacturer", "Would have", "On", "Really", "Days earlier", "Flaws"}}
	for _, l := range r.Labels {
		really, earlier := "never", "—"
		if !l.Actual.IsZero() {
			really = l.Actual.Format(time.DateOnly)
		}
		if l.Earlier != nil {
			earlier = strconv.Itoa(*l.Earlier)
		}
		lt.Rows = append(lt.Rows, []string{l.Label, l.Scheme, l.Category, l.Manufacturer, l.Action, l.When.Format(time.DateOnly), really, earlier, strings.Join(l.Flaws, ", ")})
	}
	b.Sections = append(b.Sections, Section{Heading: "The list", Table: lt})
	return b
}

func actionsText(as []scheme.Action) string {
	var parts []string
	for _, a := range as {
		if a.Kind == scheme.Deadline {
			parts = append(parts, fmt.Sprintf("give the manufacturer %d days", a.Days))
			continue
		}
		parts = append(parts, string(a.Kind))
	}
	return strings.Join(parts, ", then ")
}

// TargetBrief is what a target briefing needs.
type TargetBrief struct {
	Target     insight.Target
	Definition *insight.Definition
	Progress   insight.Progress
	Checkpoint insight.Checkpoint
	Logged     bool
	LogIndex   int64
	Intact     bool
}

// Target briefs a declared target and its progress.
func Target(t TargetBrief, at time.Time, base, url string) Briefing {
	def, p := t.Definition, t.Progress
	b := Briefing{Title: t.Target.Title, Question: fmt.Sprintf("%s declared a target on \"%s\" (%s). Is it on track?", t.Target.OrgName, def.Name, t.Target.Scope.Scope()),
		Summary: []string{p.Summary, "Method: " + p.MethodText + ". Class: " + p.ClassText + "."}, Instance: base, URL: url, Date: at, Checkpoint: t.Checkpoint,
		Caveats: def.Caveats, Glossary: glossaryLinks(base, append([]string{"Transparency log"}, def.Glossary...))}
	switch {
	case !t.Logged:
		b.Summary = append(b.Summary, "The declaration is not yet in the transparency log; its receipt follows within seconds.")
	case t.Intact:
		b.Summary = append(b.Summary, fmt.Sprintf("The declaration is entry %d of the transparency log and matches it: it has not been changed since it was declared.", t.LogIndex))
	default:
		b.Summary = append(b.Summary, fmt.Sprintf("Warning: the stored declaration no longer matches entry %d of the transparency log; it was changed behind the log's back.", t.LogIndex))
	}
	b.Citation = citeLine(t.Target.Title, base, at, t.Checkpoint, url)
	format := func(v float64) string { return def.Format(insight.Num(v)) }
	line := chart.Line{ID: "target", Title: t.Target.Title, Format: format, Share: def.Unit == insight.Share,
		Mark: chart.Point{Label: t.Target.Due, Value: t.Target.Value}, MarkName: "target"}
	line.Series = append(line.Series, series("measured", p.Series))
	if len(p.Projected) > 0 && len(p.Series) > 0 {
		proj := series("projected ("+string(p.Method)+")", append([]insight.Point{p.Series[len(p.Series)-1]}, p.Projected...))
		proj.Dashed = true
		line.Series = append(line.Series, proj)
	}
	tt := &Table{Caption: "Measured and projected", Head: []string{"Month", "Value", "Kind"}, Numeric: []bool{false, true, false}}
	for _, pt := range p.Series {
		tt.Rows = append(tt.Rows, []string{pt.Month, def.Format(pt.Value), "measured"})
	}
	for _, pt := range p.Projected {
		tt.Rows = append(tt.Rows, []string{pt.Month, def.Format(pt.Value), "projected"})
	}
	tt.Rows = append(tt.Rows, []string{t.Target.Due, def.Format(insight.Num(t.Target.Value)), "target"})
	b.Sections = append(b.Sections, Section{Heading: "Progress", SVG: line.SVG(), Table: tt})
	b.Sections = append(b.Sections, Section{Heading: "The declaration", Table: &Table{Head: []string{"", ""}, Rows: [][]string{
		{"Organisation", t.Target.OrgName}, {"Indicator", fmt.Sprintf("%s (definition version %d)", def.Name, t.Target.Version)},
		{"Scope", t.Target.Scope.Scope()}, {"Reference", def.Format(insight.Num(t.Target.RefValue)) + " in " + t.Target.RefMonth},
		{"Target", def.Format(insight.Num(t.Target.Value)) + " by " + t.Target.Due}, {"Method", string(t.Target.Method) + ": " + t.Target.Method.Describe()},
		{"Declared", t.Target.DeclaredAt.UTC().Format("2 January 2006 15:04 UTC")}, {"Supersedes", orNone(t.Target.Supersedes)},
		{"Superseded by", orNone(t.Target.SupersededBy)}, {"Declaration SHA-256", t.Target.Digest()}}}})
	b.Links = []Link{{"The target's page", base + "/targets/" + t.Target.ID}, {"The indicator's definition", base + "/indicators/" + def.ID + "/definition"}}
	return b
}

func orNone(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// Compare briefs a scheme comparison: could a label of A be recognised as B?
func Compare(x scheme.Comparison, verdict string, base, url string, at time.Time, cp insight.Checkpoint) Briefing {
	title := "Could a label of " + x.A.Name() + " be recognised as " + x.B.Name() + "?"
	v := x.Verdict
	b := Briefing{Title: title, Question: "Does " + x.A.Name() + " require everything " + x.B.Name() + " does, at least as strictly?",
		Instance: base, URL: url, Date: at, Checkpoint: cp, Glossary: glossaryLinks(base, []string{"Mutual recognition", "Crosswalk", "Conformity assessment"})}
	b.Summary = append(b.Summary, fmt.Sprintf("%s: %s covers %d%% of the %d requirements %s asks for.", verdict, x.A.Name(), x.Percent(), len(x.B.Needs), x.B.Name()))
	b.Summary = append(b.Summary, v.Reasons...)
	b.Citation = fmt.Sprintf("Hallmark (%s), \"%s\", %s, from the scheme definitions in force (log checkpoint %d, root %s). %s", base, title,
		at.UTC().Format("2 January 2006 15:04 UTC"), cp.Size, cp.Root, url)
	bars := chart.Bars{ID: "cover", Title: "Requirements of " + x.B.Name(), Format: func(v float64) string { return insight.Count(int(v)) },
		Rows: []chart.BarRow{{Label: "also required by " + x.A.Label(), Value: float64(len(x.Covered))}, {Label: "not required by " + x.A.Label(), Value: float64(len(x.Gaps))},
			{Label: "checked less strictly", Value: float64(len(x.Shortfalls()))}}}
	gt := &Table{Caption: "Requirements " + x.A.Label() + " does not ask for", Head: []string{"Requirement", "Title"}}
	for _, g := range x.Gaps {
		gt.Rows = append(gt.Rows, []string{g.Requirement.ID, g.Requirement.Title})
	}
	b.Sections = append(b.Sections, Section{Heading: "Coverage", SVG: bars.SVG(), Table: gt})
	st := &Table{Caption: "Checked less strictly by " + x.A.Label(), Head: []string{"Requirement", x.A.Label(), x.B.Label()}}
	for _, m := range x.Shortfalls() {
		st.Rows = append(st.Rows, []string{m.Requirement.ID, string(m.MethodA), string(m.MethodB)})
	}
	if len(st.Rows) > 0 {
		b.Sections = append(b.Sections, Section{Heading: "Weaker assessments", Table: st})
	}
	b.Links = []Link{{"The comparison's page", base + "/compare?" + (urlValues{"a": x.A.Label(), "b": x.B.Label()}).encode()}}
	return b
}

type urlValues map[string]string

func (v urlValues) encode() string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v[k]))
	}
	return strings.Join(parts, "&")
}
