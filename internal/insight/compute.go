package insight

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid marks a question the user must correct.
var ErrInvalid = errors.New("invalid")

// Limits on a question, so no request can ask for unbounded work.
const (
	MaxMonths      = 120  // a series spans at most ten years
	DefaultMonths  = 24   // the default series: the last two years
	MaxGroups      = 1000 // groups in one answer
	DefaultGroups  = 100
	seriesGroups   = 8 // groups that get a monthly series of their own
	monthLayout    = "2006-01"
	maxFilterBytes = 200
)

// Query says which figure: the cut, the scope, and the months of the series.
type Query struct {
	By           string `json:"by,omitempty"`
	Scheme       string `json:"scheme,omitempty"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
	Category     string `json:"category,omitempty"`
	Manufacturer int64  `json:"manufacturer,omitempty"`
	Requirement  string `json:"requirement,omitempty"`
	From         string `json:"from,omitempty"` // YYYY-MM
	To           string `json:"to,omitempty"`   // YYYY-MM
	Limit        int    `json:"limit,omitempty"`
}

// Num is a figure's value; NaN (no data) is written as null.
type Num float64

// MarshalJSON writes NaN and infinities as null.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// UnmarshalJSON reads null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// Defined reports whether the value is a number.
func (n Num) Defined() bool { return !math.IsNaN(float64(n)) }

// Value is one computed value: a share (Num of Den), or a median over Den
// values, with its parts.
type Value struct {
	Value Num    `json:"value"`
	Num   int    `json:"numerator"`
	Den   int    `json:"denominator"`
	Parts []Part `json:"parts,omitempty"`
}

// Part is one named part of a value: how many units, and their share of
// the denominator.
type Part struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	Share Num    `json:"share"`
}

// Point is a value at the end of one month.
type Point struct {
	Month string `json:"month"`
	Value Num    `json:"value"`
	Den   int    `json:"denominator"`
}

// Group is one cut's value.
type Group struct {
	Key    string  `json:"key"`
	Name   string  `json:"name"`
	Value  Value   `json:"value"`
	Series []Point `json:"series,omitempty"`
}

// Figure is one computed indicator: the definition version, the question,
// the moment and log checkpoint it was computed at, the total and the
// groups, the monthly series, and what it cannot say.
type Figure struct {
	Indicator  string     `json:"indicator"`
	Version    int        `json:"definition_version"`
	Name       string     `json:"name"`
	Unit       Unit       `json:"unit"`
	Query      Query      `json:"query"`
	At         time.Time  `json:"as_of"`
	Checkpoint Checkpoint `json:"checkpoint"`
	Total      Value      `json:"total"`
	Groups     []Group    `json:"groups,omitempty"`
	// GroupsTotal is how many groups there were before the limit.
	GroupsTotal int      `json:"groups_total,omitempty"`
	Series      []Point  `json:"series,omitempty"`
	Caveats     []string `json:"caveats"`
}

// Compute computes def on the market for the question.
func Compute(m *Market, def *Definition, q Query) (Figure, error) {
	e, err := newEvaluator(m, def, q)
	if err != nil {
		return Figure{}, err
	}
	months, err := q.months(m.At, def.Series)
	if err != nil {
		return Figure{}, err
	}
	f := Figure{Indicator: def.ID, Version: def.Version, Name: def.Name, Unit: def.Unit, Query: e.q, At: m.At, Checkpoint: m.Checkpoint,
		Caveats: slices.Clone(def.Caveats)}
	// The headline, at the market's moment.
	e.reset()
	def.eval(e, m.At)
	f.Total = e.value(e.total(), def)
	if e.by == ByRequirement {
		// The total counts the products each requirement was judged on.
		f.Total.Value, f.Total.Num, f.Total.Parts = Num(math.NaN()), 0, nil
	}
	groups := e.groups(def)
	f.GroupsTotal = len(groups)
	if len(groups) > e.q.Limit {
		groups = groups[:e.q.Limit]
	}
	f.Groups = groups
	// The series: the same at each month's end.
	if len(months) > 0 {
		charted := map[int]int{} // group index -> position in f.Groups
		for i := range min(len(f.Groups), seriesGroups) {
			charted[e.groupIndex[f.Groups[i].Key]] = i
		}
		for _, mo := range months {
			t := monthEnd(mo)
			if t.After(m.At) {
				t = m.At
			}
			e.reset()
			def.eval(e, t)
			label := mo.Format(monthLayout)
			tv := e.value(e.total(), def)
			f.Series = append(f.Series, Point{Month: label, Value: tv.Value, Den: tv.Den})
			for g, pos := range charted {
				gv := e.value(g, def)
				f.Groups[pos].Series = append(f.Groups[pos].Series, Point{Month: label, Value: gv.Value, Den: gv.Den})
			}
		}
	}
	f.Caveats = append(f.Caveats, e.comparability(def, f.Groups)...)
	if f.Total.Den == 0 {
		f.Caveats = append(f.Caveats, "Nothing in scope at this date: the figure is empty.")
	}
	return f, nil
}

// months lists the first day of each month of the series.
func (q Query) months(at time.Time, series bool) ([]time.Time, error) {
	if !series {
		if q.From != "" || q.To != "" {
			return nil, fmt.Errorf("%w: this indicator has no monthly series; leave out from and to", ErrInvalid)
		}
		return nil, nil
	}
	last := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC)
	if q.To != "" {
		t, err := time.Parse(monthLayout, q.To)
		if err != nil {
			return nil, fmt.Errorf("%w: to must be a month as YYYY-MM, not %q", ErrInvalid, clip(q.To))
		}
		if t.After(last) {
			return nil, fmt.Errorf("%w: to (%s) is after the figures' date (%s)", ErrInvalid, q.To, last.Format(monthLayout))
		}
		last = t
	}
	first := last.AddDate(0, -(DefaultMonths - 1), 0)
	if q.From != "" {
		t, err := time.Parse(monthLayout, q.From)
		if err != nil {
			return nil, fmt.Errorf("%w: from must be a month as YYYY-MM, not %q", ErrInvalid, clip(q.From))
		}
		first = t
	}
	if first.After(last) {
		return nil, fmt.Errorf("%w: from (%s) is after to (%s)", ErrInvalid, first.Format(monthLayout), last.Format(monthLayout))
	}
	var out []time.Time
	for t := first; !t.After(last); t = t.AddDate(0, 1, 0) {
		out = append(out, t)
		if len(out) > MaxMonths {
			return nil, fmt.Errorf("%w: a series spans at most %d months; narrow from and to", ErrInvalid, MaxMonths)
		}
	}
	return out, nil
}

// monthEnd is the last instant of the month starting at t.
func monthEnd(t time.Time) time.Time { return t.AddDate(0, 1, 0).Add(-time.Second) }

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// evaluator accumulates one evaluation of a definition at one moment:
// units (labelled versions, labels, findings, clocks) counted into the
// total and the groups of the cut.
type evaluator struct {
	m   *Market
	q   Query
	by  string
	nG  int // groups of the cut; index nG is the total
	den []int
	num []int
	val [][]float64
	prt [][]int
	// scope
	scheme, jur, cat, manu int32
	req                    int
	groupIndex             map[string]int
	groupBuf               []int32
}

func newEvaluator(m *Market, def *Definition, q Query) (*evaluator, error) {
	e := &evaluator{m: m, q: q, scheme: -1, jur: -1, cat: -1, manu: -1, req: -1}
	if len(q.Scheme)+len(q.Jurisdiction)+len(q.Category)+len(q.Requirement) > 4*maxFilterBytes {
		return nil, fmt.Errorf("%w: the filters are too long", ErrInvalid)
	}
	switch {
	case q.Limit == 0:
		e.q.Limit = DefaultGroups
	case q.Limit < 0 || q.Limit > MaxGroups:
		return nil, fmt.Errorf("%w: limit must be from 1 to %d", ErrInvalid, MaxGroups)
	}
	e.by = q.By
	if def.ID == "requirement-coverage" && q.Requirement == "" && e.by == "" {
		e.by = ByRequirement
		e.q.By = ByRequirement
	}
	if e.by != "" && !slices.Contains(def.Cuts, e.by) {
		return nil, fmt.Errorf("%w: %s cannot be cut by %q; use one of %s", ErrInvalid, def.ID, clip(e.by), strings.Join(def.Cuts, ", "))
	}
	if q.Scheme != "" {
		if e.scheme = m.SchemeIndex(q.Scheme); e.scheme < 0 {
			return nil, fmt.Errorf("%w: no scheme %q", ErrInvalid, clip(q.Scheme))
		}
	}
	if q.Jurisdiction != "" {
		// A jurisdiction with no scheme is a valid, empty scope.
		e.jur = m.Jurisdictions.Find(q.Jurisdiction)
		if e.jur < 0 {
			e.jur = -2
		}
	}
	if q.Category != "" {
		if e.cat = m.Categories.Find(q.Category); e.cat < 0 {
			e.cat = -2
		}
	}
	if q.Manufacturer != 0 {
		e.manu = -2
		for i, id := range m.ManufacturerIDs {
			if id == q.Manufacturer {
				e.manu = int32(i)
			}
		}
	}
	if q.Requirement != "" {
		if def.ID != "requirement-coverage" {
			return nil, fmt.Errorf("%w: only requirement-coverage takes a requirement", ErrInvalid)
		}
		if e.req = m.RequirementIndex(q.Requirement); e.req < 0 {
			return nil, fmt.Errorf("%w: no requirement %q in the catalogue", ErrInvalid, clip(q.Requirement))
		}
		if e.by == ByRequirement {
			return nil, fmt.Errorf("%w: give a requirement or cut by requirement, not both", ErrInvalid)
		}
	}
	switch e.by {
	case ByScheme:
		e.nG = len(m.Schemes)
	case ByJurisdiction:
		e.nG = m.Jurisdictions.Len()
	case ByCategory:
		e.nG = m.Categories.Len()
	case ByManufacturer:
		e.nG = m.Manufacturers.Len()
	case ByRequirement:
		e.nG = len(m.Requirements)
	}
	e.den, e.num = make([]int, e.nG+1), make([]int, e.nG+1)
	if len(def.Parts) > 0 {
		e.prt = make([][]int, e.nG+1)
	}
	e.val = make([][]float64, e.nG+1)
	return e, nil
}

func (e *evaluator) reset() {
	clear(e.den)
	clear(e.num)
	for i := range e.val {
		e.val[i] = e.val[i][:0]
	}
	for i := range e.prt {
		e.prt[i] = nil
	}
}

func (e *evaluator) total() int { return e.nG }

// inScope reports whether label i is within the question's filters.
func (e *evaluator) inScope(i int) bool {
	l := &e.m.Labels[i]
	if e.scheme >= 0 && l.Scheme != e.scheme {
		return false
	}
	if e.jur != -1 && e.m.schemeJur[l.Scheme] != e.jur {
		return false
	}
	v := &e.m.Versions[l.Version]
	if e.cat != -1 && v.Category != e.cat {
		return false
	}
	if e.manu != -1 && v.Manufacturer != e.manu {
		return false
	}
	return true
}

// labelGroup is the group label i falls in under the cut.
func (e *evaluator) labelGroup(i int) int32 {
	l := &e.m.Labels[i]
	switch e.by {
	case ByScheme:
		return l.Scheme
	case ByJurisdiction:
		return e.m.schemeJur[l.Scheme]
	case ByCategory:
		return e.m.Versions[l.Version].Category
	case ByManufacturer:
		return e.m.Versions[l.Version].Manufacturer
	}
	return -1
}

// eachVersion calls fn for every labelled version in scope at t (holding a
// live label in scope), once, with the groups it falls in.
func (e *evaluator) eachVersion(t time.Time, fn func(v int32, groups []int32)) {
	ls := e.m.Labels
	for i := 0; i < len(ls); {
		v := ls[i].Version
		groups := e.groupBuf[:0]
		live := false
		for ; i < len(ls) && ls[i].Version == v; i++ {
			if ls[i].Issued.After(t) || !e.inScope(i) || !e.m.StatusAt(i, t).Live() {
				continue
			}
			live = true
			if g := e.labelGroup(i); g >= 0 && !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
		e.groupBuf = groups
		if live {
			fn(v, groups)
		}
	}
}

// share counts one unit: in the denominator, and in the numerator if hit.
func (e *evaluator) share(groups []int32, hit bool) {
	h := 0
	if hit {
		h = 1
	}
	e.den[e.nG]++
	e.num[e.nG] += h
	for _, g := range groups {
		e.den[g]++
		e.num[g] += h
	}
}

// part counts one unit in part k.
func (e *evaluator) part(groups []int32, k, nParts int) {
	add := func(g int) {
		if e.prt[g] == nil {
			e.prt[g] = make([]int, nParts)
		}
		e.prt[g][k]++
	}
	add(e.nG)
	for _, g := range groups {
		add(int(g))
	}
}

// sample adds one value to a median.
func (e *evaluator) sample(groups []int32, x float64) {
	e.val[e.nG] = append(e.val[e.nG], x)
	for _, g := range groups {
		e.val[g] = append(e.val[g], x)
	}
}

// value is group g's value (g == nG: the total).
func (e *evaluator) value(g int, def *Definition) Value {
	var v Value
	switch def.Unit {
	case Share:
		v.Num, v.Den = e.num[g], e.den[g]
		v.Value = ratio(v.Num, v.Den)
	default:
		v.Den = len(e.val[g])
		v.Value = median(e.val[g])
	}
	if len(def.Parts) > 0 {
		counts := e.prt[g]
		for k, name := range def.Parts {
			c := 0
			if counts != nil {
				c = counts[k]
			}
			v.Parts = append(v.Parts, Part{Name: name, Count: c, Share: ratio(c, v.Den)})
		}
	}
	return v
}

// groups lists the cut's non-empty groups, largest first.
func (e *evaluator) groups(def *Definition) []Group {
	e.groupIndex = map[string]int{}
	var out []Group
	for g := 0; g < e.nG; g++ {
		if e.den[g] == 0 && len(e.val[g]) == 0 {
			continue
		}
		key, name := e.groupName(g)
		e.groupIndex[key] = g
		out = append(out, Group{Key: key, Name: name, Value: e.value(g, def)})
	}
	slices.SortStableFunc(out, func(a, b Group) int {
		if a.Value.Den != b.Value.Den {
			return b.Value.Den - a.Value.Den
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

func (e *evaluator) groupName(g int) (key, name string) {
	switch e.by {
	case ByScheme:
		s := e.m.Schemes[g]
		return s.ID, s.Name
	case ByJurisdiction:
		j := e.m.Jurisdictions.Name(int32(g))
		return j, j
	case ByCategory:
		c := e.m.Categories.Name(int32(g))
		return c, c
	case ByManufacturer:
		return strconv.FormatInt(e.m.ManufacturerIDs[g], 10), e.m.Manufacturers.Name(int32(g))
	case ByRequirement:
		return e.m.Requirements[g], e.m.Requirements[g]
	}
	return "", ""
}

// comparability warns when a figure that depends on the schemes' rules
// puts schemes with different rules side by side, or mixes them.
func (e *evaluator) comparability(def *Definition, groups []Group) []string {
	if !def.RulesDependent || e.scheme >= 0 {
		return nil
	}
	rules := map[string][]string{}
	for i := range e.m.Labels {
		if e.inScope(i) {
			s := e.m.Schemes[e.m.Labels[i].Scheme]
			if !slices.Contains(rules[s.Rules], s.ID) {
				rules[s.Rules] = append(rules[s.Rules], s.ID)
			}
		}
	}
	if len(rules) < 2 {
		return nil
	}
	var sets []string
	for _, ids := range rules {
		slices.Sort(ids)
		sets = append(sets, strings.Join(ids, ", "))
	}
	slices.Sort(sets)
	what := "The total mixes"
	if e.by == ByScheme || e.by == ByJurisdiction {
		what = "The groups and the total mix"
	}
	return []string{fmt.Sprintf("%s schemes whose post-market rules differ, so their figures are not comparable: %d different rule sets (%s).",
		what, len(rules), strings.Join(sets, "; "))}
}

func ratio(n, d int) Num {
	if d == 0 {
		return Num(math.NaN())
	}
	return Num(float64(n) / float64(d))
}

// median of xs (sorted in place); NaN for none.
func median(xs []float64) Num {
	if len(xs) == 0 {
		return Num(math.NaN())
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return Num(xs[n/2])
	}
	return Num((xs[n/2-1] + xs[n/2]) / 2)
}

func days(d time.Duration) float64 { return math.Max(0, math.Floor(d.Hours()/24)) }

// The indicators' evaluations.

func supportShare(years float64) func(*evaluator, time.Time) {
	return func(e *evaluator, t time.Time) {
		e.eachVersion(t, func(v int32, g []int32) {
			y, ok := e.m.Versions[v].SupportYears()
			e.share(g, ok && y >= years)
		})
	}
}

func supportMedian(e *evaluator, t time.Time) {
	e.eachVersion(t, func(v int32, g []int32) {
		if y, ok := e.m.Versions[v].SupportYears(); ok {
			e.sample(g, math.Round(y*100)/100)
		}
	})
}

var severityPart = map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "": 4}

func vulnUnfixed(e *evaluator, t time.Time) {
	e.eachVersion(t, func(v int32, g []int32) {
		worst := -1
		for _, f := range e.m.VersionFindings(v) {
			if !f.unfixedAt(t) {
				continue
			}
			k, ok := severityPart[f.Severity]
			if !ok {
				k = 4
			}
			if worst < 0 || k < worst {
				worst = k
			}
		}
		e.share(g, worst >= 0)
		if worst >= 0 {
			e.part(g, worst, 5)
		}
	})
}

func vulnExploited(e *evaluator, t time.Time) {
	e.eachVersion(t, func(v int32, g []int32) {
		hit := false
		for _, f := range e.m.VersionFindings(v) {
			if f.unfixedAt(t) && !f.Exploited.IsZero() && !f.Exploited.After(t) {
				hit = true
				break
			}
		}
		e.share(g, hit)
	})
}

func fixDays(e *evaluator, t time.Time) {
	e.eachVersion(t, func(v int32, g []int32) {
		for _, f := range e.m.VersionFindings(v) {
			if at, ok := f.fixedAt(t); ok {
				e.sample(g, days(at.Sub(f.since())))
			}
		}
	})
}

func vexDays(e *evaluator, t time.Time) {
	e.eachVersion(t, func(v int32, g []int32) {
		for _, f := range e.m.VersionFindings(v) {
			if f.Counts && !f.VEXAt.IsZero() && !f.VEXAt.After(t) && !f.FirstSeen.After(t) {
				e.sample(g, days(f.VEXAt.Sub(f.since())))
			}
		}
	})
}

func clocksMet(e *evaluator, t time.Time) {
	one := make([]int32, 1)
	e.eachVersion(t, func(v int32, g []int32) {
		for _, f := range e.m.VersionFindings(v) {
			for _, c := range f.Clocks {
				if c.Due.After(t) || (e.scheme >= 0 && c.Scheme != e.scheme) {
					continue
				}
				met := f.cleared() && !f.Updated.After(c.Due)
				groups := g
				if e.by == ByScheme {
					// Each clock counts in the scheme whose rule opened it.
					if c.Scheme < 0 || !slices.Contains(g, c.Scheme) {
						groups = nil
					} else {
						one[0] = c.Scheme
						groups = one
					}
				}
				e.share(groups, met)
			}
		}
	})
}

func unsecurable(e *evaluator, t time.Time) {
	e.eachVersion(t, func(v int32, g []int32) {
		noUpd, noUniq := e.m.Versions[v].Unsecurable()
		e.share(g, noUpd || noUniq)
		if noUpd {
			e.part(g, 0, 2)
		}
		if noUniq {
			e.part(g, 1, 2)
		}
	})
}

func labelStatus(e *evaluator, t time.Time) {
	one := make([]int32, 1)
	for i := range e.m.Labels {
		if e.m.Labels[i].Issued.After(t) || !e.inScope(i) {
			continue
		}
		st := e.m.StatusAt(i, t)
		var g []int32
		if gi := e.labelGroup(i); gi >= 0 {
			one[0] = gi
			g = one
		}
		e.share(g, st == Active)
		e.part(g, int(st)-1, len(StatusNames))
	}
}

func requirementCoverage(e *evaluator, t time.Time) {
	m := e.m
	// With a scheme or jurisdiction in scope, the products are those holding
	// a live label of it; otherwise every product's newest version.
	var labelled map[int32]bool
	if e.scheme >= 0 || e.jur != -1 {
		labelled = map[int32]bool{}
		e.eachVersion(t, func(v int32, _ []int32) { labelled[v] = true })
	}
	one := make([]int32, 1)
	for vi := range m.Versions {
		v := int32(vi)
		ver := &m.Versions[vi]
		if !ver.Newest || (e.cat != -1 && ver.Category != e.cat) || (e.manu != -1 && ver.Manufacturer != e.manu) {
			continue
		}
		if labelled != nil && !labelled[v] {
			continue
		}
		if e.by == ByRequirement {
			// Each requirement is a group; the total only counts products.
			e.den[e.nG]++
			for r := range m.Requirements {
				verdict, src := m.Evidence(v, r)
				e.den[r]++
				if verdict == Meets {
					e.num[r]++
				}
				if e.prt[r] == nil {
					e.prt[r] = make([]int, 4)
				}
				e.prt[r][evidencePart(verdict, src)]++
			}
			continue
		}
		var g []int32
		switch e.by {
		case ByCategory:
			one[0], g = ver.Category, one
		case ByManufacturer:
			one[0], g = ver.Manufacturer, one
		case ByScheme, ByJurisdiction:
			g = e.versionSchemes(v, t)
		}
		verdict, src := m.Evidence(v, e.req)
		e.share(g, verdict == Meets)
		e.part(g, evidencePart(verdict, src), 4)
	}
}

// versionSchemes are the groups (schemes or jurisdictions) of version v's
// live labels in scope at t.
func (e *evaluator) versionSchemes(v int32, t time.Time) []int32 {
	var out []int32
	lo, hi := e.m.labelRange(v)
	for i := lo; i < hi; i++ {
		if e.m.Labels[i].Issued.After(t) || !e.inScope(i) || !e.m.StatusAt(i, t).Live() {
			continue
		}
		if g := e.labelGroup(i); !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

func evidencePart(v Verdict, src Source) int {
	switch {
	case v == Meets && src == Assessed:
		return 0
	case v == Meets:
		return 1
	case v == Fails:
		return 2
	}
	return 3
}
