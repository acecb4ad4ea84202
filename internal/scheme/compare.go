package scheme

import (
	"fmt"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

// Outcome is the verdict on recognising one label as another.
type Outcome string

const (
	Recognisable    Outcome = "recognisable"
	Conditional     Outcome = "recognisable-with-conditions"
	NotRecognisable Outcome = "not-recognisable"
)

// ConditionalThreshold is the coverage at or above which the gaps are few
// enough to close by a supplementary assessment rather than a new one.
const ConditionalThreshold = 0.8

// Match is a requirement both levels need.
type Match struct {
	Requirement catalog.Requirement
	MethodA     Method
	MethodB     Method
}

// Shortfall reports whether A assesses the requirement less strictly than B.
func (m Match) Shortfall() bool { return m.MethodA.Rank() < m.MethodB.Rank() }

// Comparison answers "could a label of A be recognised as a label of B?":
// which of B's requirements A also needs, at what assurance, and what A adds.
type Comparison struct {
	A, B    Resolved
	Covered []Match // B's requirements that A needs too
	Gaps    []Need  // B's requirements A does not need
	Extra   []Need  // A's requirements B does not need
	Verdict Verdict
}

// Verdict is the outcome with its reasons, in plain words.
type Verdict struct {
	Outcome Outcome  `json:"outcome"`
	Summary string   `json:"summary"`
	Reasons []string `json:"reasons"`
}

// Coverage is the share of B's requirements A needs, from 0 to 1.
func (c Comparison) Coverage() float64 {
	if len(c.B.Needs) == 0 {
		return 1
	}
	return float64(len(c.Covered)) / float64(len(c.B.Needs))
}

// Percent is Coverage as a whole percentage, rounded down.
func (c Comparison) Percent() int {
	if len(c.B.Needs) == 0 {
		return 100
	}
	return len(c.Covered) * 100 / len(c.B.Needs)
}

// Shortfalls are the covered requirements A assesses less strictly than B.
func (c Comparison) Shortfalls() []Match {
	var out []Match
	for _, m := range c.Covered {
		if m.Shortfall() {
			out = append(out, m)
		}
	}
	return out
}

// Compare compares level a with level b.
func Compare(a, b Resolved) Comparison {
	x := Comparison{A: a, B: b}
	am, bm := a.Methods(), b.Methods()
	for _, n := range b.Needs {
		if m, ok := am[n.Requirement.ID]; ok {
			x.Covered = append(x.Covered, Match{Requirement: n.Requirement, MethodA: m, MethodB: n.Method})
		} else {
			x.Gaps = append(x.Gaps, n)
		}
	}
	for _, n := range a.Needs {
		if _, ok := bm[n.Requirement.ID]; !ok {
			x.Extra = append(x.Extra, n)
		}
	}
	x.Verdict = x.verdict()
	return x
}

func (x Comparison) verdict() Verdict {
	v := Verdict{}
	short := x.Shortfalls()
	an, bn := x.A.Name(), x.B.Name()
	switch {
	case len(x.Gaps) == 0 && len(short) == 0:
		v.Outcome = Recognisable
		v.Summary = fmt.Sprintf("Recognisable: a label of %s needs every one of the %d requirements of %s, each checked at least as strictly.", an, len(x.B.Needs), bn)
	case x.Coverage() >= ConditionalThreshold:
		v.Outcome = Conditional
		v.Summary = fmt.Sprintf("Recognisable with conditions: a label of %s needs %d of the %d requirements of %s (%d%%); the rest, and any requirement checked less strictly, would need a supplementary assessment.", an, len(x.Covered), len(x.B.Needs), bn, x.Percent())
	default:
		v.Outcome = NotRecognisable
		v.Summary = fmt.Sprintf("Not recognisable as it stands: a label of %s needs only %d of the %d requirements of %s (%d%%).", an, len(x.Covered), len(x.B.Needs), bn, x.Percent())
	}
	if len(x.Gaps) > 0 {
		var titles []string
		for _, g := range x.Gaps {
			titles = append(titles, g.Requirement.ID+" "+strings.ToLower(g.Requirement.Title))
		}
		v.Reasons = append(v.Reasons, fmt.Sprintf("%s does not ask for %s that %s asks for: %s.", an, plural(len(x.Gaps), "requirement"), bn, strings.Join(titles, "; ")))
	}
	if len(short) > 0 {
		var parts []string
		for _, m := range short {
			parts = append(parts, fmt.Sprintf("%s (%s rather than %s)", m.Requirement.ID, m.MethodA, m.MethodB))
		}
		v.Reasons = append(v.Reasons, fmt.Sprintf("%s checks %s less strictly: %s.", an, plural(len(short), "shared requirement"), strings.Join(parts, "; ")))
	}
	if len(x.Extra) > 0 {
		v.Reasons = append(v.Reasons, fmt.Sprintf("%s also asks for %s %s does not, which a recognition in this direction does not need.", an, plural(len(x.Extra), "requirement"), bn))
	}
	if x.B.Scheme.Status == Closed {
		v.Reasons = append(v.Reasons, fmt.Sprintf("%s is closed to new labels, so recognition could only concern labels already issued.", x.B.Scheme.Name))
	}
	if x.A.Scheme.Status == Closed {
		v.Reasons = append(v.Reasons, fmt.Sprintf("%s is closed to new labels; only existing labels could be recognised.", x.A.Scheme.Name))
	}
	for i, s := range []*Scheme{x.A.Scheme, x.B.Scheme} {
		if s.Status == Paused && (i == 0 || s != x.A.Scheme) {
			v.Reasons = append(v.Reasons, fmt.Sprintf("%s is paused: it takes no new applications for now.", s.Name))
		}
	}
	if x.A.Scheme.Kind != x.B.Scheme.Kind {
		v.Reasons = append(v.Reasons, fmt.Sprintf("%s keeps %ss and %s keeps %ss: a recognition between them means one counts towards the other's requirements, not that one becomes the other.", x.A.Scheme.Name, x.A.Scheme.Kind.Record(), x.B.Scheme.Name, x.B.Scheme.Kind.Record()))
	}
	va, vb := x.A.Scheme.LevelValidity(x.A.Level), x.B.Scheme.LevelValidity(x.B.Level)
	if va != vb {
		v.Reasons = append(v.Reasons, fmt.Sprintf("Validity differs: %s lasts %s, %s lasts %s.", an, va.Describe(), bn, vb.Describe()))
	}
	if len(v.Reasons) == 0 {
		v.Reasons = append(v.Reasons, "The two levels ask for the same requirements with the same assessment.")
	}
	return v
}

// Cell is one entry of the matrix: how level Row covers level Col.
type Cell struct {
	Percent  int
	Outcome  Outcome
	Covered  int
	Required int
}

// Matrix compares every scheme level with every other.
type Matrix struct {
	Levels []Resolved
	Cells  [][]Cell // Cells[i][j]: how Levels[i] covers Levels[j]
}

// AllLevels resolves every level of every scheme in the set, in scheme-id
// then level order.
func (s Set) AllLevels(c *catalog.Catalog) ([]Resolved, error) {
	var out []Resolved
	for _, sc := range s.Sorted() {
		for _, l := range sc.Levels {
			r, err := Resolve(c, sc, l.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// BuildMatrix compares every pair of levels.
func BuildMatrix(levels []Resolved) Matrix {
	m := Matrix{Levels: levels, Cells: make([][]Cell, len(levels))}
	for i, a := range levels {
		m.Cells[i] = make([]Cell, len(levels))
		for j, b := range levels {
			x := Compare(a, b)
			m.Cells[i][j] = Cell{Percent: x.Percent(), Outcome: x.Verdict.Outcome, Covered: len(x.Covered), Required: len(b.Needs)}
		}
	}
	return m
}

// WhatIf is the effect of changing one level's requirements on its
// alignment with every other level.
type WhatIf struct {
	Before, After Resolved
	Added         []string
	Removed       []string
	Rows          []WhatIfRow
}

// WhatIfRow is one other level, before and after the change.
type WhatIfRow struct {
	Other Resolved
	// Covers: how much of Other the changed level covers (could its label
	// be recognised as Other?). CoveredBy: how much of the changed level
	// Other covers (could Other's label be recognised as it?).
	CoversBefore, CoversAfter       int
	CoveredByBefore, CoveredByAfter int
	OutcomeBefore, OutcomeAfter     Outcome
}

// Changed reports whether the row moved.
func (r WhatIfRow) Changed() bool {
	return r.CoversBefore != r.CoversAfter || r.CoveredByBefore != r.CoveredByAfter || r.OutcomeBefore != r.OutcomeAfter
}

// Amend returns r with requirements added (at the level's own method) and
// removed. Unknown, duplicate or absent ids are errors.
func Amend(c *catalog.Catalog, r Resolved, add, remove []string) (Resolved, error) {
	have := map[string]Need{}
	for _, n := range r.Needs {
		have[n.Requirement.ID] = n
	}
	out := Resolved{Scheme: r.Scheme, Level: r.Level}
	drop := map[string]bool{}
	for _, id := range remove {
		if _, ok := have[id]; !ok {
			return Resolved{}, fmt.Errorf("%s does not require %s, so it cannot be removed", r.Label(), id)
		}
		drop[id] = true
	}
	extra := map[string]bool{}
	for _, id := range add {
		if _, ok := c.Requirement(id); !ok {
			return Resolved{}, fmt.Errorf("%q is not a Hallmark requirement", id)
		}
		if _, ok := have[id]; ok {
			return Resolved{}, fmt.Errorf("%s already requires %s", r.Label(), id)
		}
		if drop[id] {
			return Resolved{}, fmt.Errorf("%s is both added and removed", id)
		}
		extra[id] = true
	}
	for _, req := range c.Requirements {
		switch {
		case drop[req.ID]:
		case extra[req.ID]:
			out.Needs = append(out.Needs, Need{Requirement: req, Method: r.Level.Method, Via: []string{"what-if"}, FromLevel: r.Level.ID})
		default:
			if n, ok := have[req.ID]; ok {
				out.Needs = append(out.Needs, n)
			}
		}
	}
	return out, nil
}

// Simulate compares the level before and after a change with every other.
func Simulate(c *catalog.Catalog, before Resolved, add, remove []string, others []Resolved) (WhatIf, error) {
	after, err := Amend(c, before, add, remove)
	if err != nil {
		return WhatIf{}, err
	}
	w := WhatIf{Before: before, After: after, Added: add, Removed: remove}
	for _, o := range others {
		if o.Label() == before.Label() {
			continue
		}
		xb, xa := Compare(before, o), Compare(after, o)
		w.Rows = append(w.Rows, WhatIfRow{
			Other:           o,
			CoversBefore:    xb.Percent(),
			CoversAfter:     xa.Percent(),
			CoveredByBefore: Compare(o, before).Percent(),
			CoveredByAfter:  Compare(o, after).Percent(),
			OutcomeBefore:   xb.Verdict.Outcome,
			OutcomeAfter:    xa.Verdict.Outcome,
		})
	}
	return w, nil
}
