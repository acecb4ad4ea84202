package insight

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WhatIf asks: if a scheme's level also required these conditions, which
// of the products it labels now would not qualify on present evidence?
type WhatIf struct {
	Scheme     string
	SchemeName string
	Level      string
	LevelName  string
	// Needs are the requirements the level already asks for: a condition
	// among them changes nothing.
	Needs []string
	Add   []Condition
	// Title gives a requirement's title, for the plain-words answer.
	Title func(id string) string
	// List bounds the products listed (default 100, at most 10,000).
	List int
}

// Limits of a what-if answer.
const (
	DefaultListed = 100
	MaxListed     = 10000
)

// ConditionResult is how the labelled products fare on one condition.
type ConditionResult struct {
	Condition Condition `json:"condition"`
	Words     string    `json:"words"`
	Already   bool      `json:"already_required"`
	// Meets: shown to meet it; Fails: the evidence says they do not;
	// NoEvidence: neither (they would need an assessment).
	Meets      int `json:"meets"`
	Declared   int `json:"meets_by_declaration"`
	Fails      int `json:"fails"`
	NoEvidence int `json:"no_evidence"`
	// Short is Fails + NoEvidence: held back by this condition.
	Short int `json:"held_back"`
	// Only counts the products this condition alone holds back: they meet
	// every other condition.
	Only int `json:"held_back_by_this_alone"`
	// Evidence says how the registry shows it.
	Evidence string `json:"evidence"`
}

// Breakdown is a what-if's count in one category or for one manufacturer.
type Breakdown struct {
	Key       string `json:"key"`
	Name      string `json:"name"`
	Labelled  int    `json:"labelled"`
	WouldFail int    `json:"would_not_qualify"`
}

// Held is one labelled product the proposal would hold back.
type Held struct {
	Label        string   `json:"label"`
	VersionID    int64    `json:"version_id"`
	Category     string   `json:"category"`
	Manufacturer string   `json:"manufacturer"`
	Fails        []string `json:"fails"`       // conditions the evidence says it does not meet
	NoEvidence   []string `json:"no_evidence"` // conditions nothing shows either way
}

// WhatIfResult is the answer, current rules beside proposed ones.
type WhatIfResult struct {
	Scheme     string     `json:"scheme"`
	Level      string     `json:"level"`
	Add        []string   `json:"add"`
	At         time.Time  `json:"as_of"`
	Checkpoint Checkpoint `json:"checkpoint"`
	// Labelled is how many products hold a live label of the level now:
	// all of them qualify under the current rules.
	Labelled int `json:"labelled"`
	// Qualify is how many would under the proposed rules.
	Qualify      int               `json:"qualify_under_proposal"`
	WouldFail    int               `json:"would_not_qualify"`
	FailEvidence int               `json:"fail_on_evidence"`
	NoEvidence   int               `json:"no_evidence_either_way"`
	Conditions   []ConditionResult `json:"conditions"`
	// Bottleneck is the condition holding back the most products (-1: none).
	Bottleneck     int         `json:"bottleneck"`
	ByCategory     []Breakdown `json:"by_category"`
	ByManufacturer []Breakdown `json:"by_manufacturer"`
	Held           []Held      `json:"held_back"`
	HeldTotal      int         `json:"held_back_total"`
	Summary        string      `json:"summary"`
	Caveats        []string    `json:"caveats"`
}

// RunWhatIf answers w on the market.
func RunWhatIf(m *Market, w WhatIf) (WhatIfResult, error) {
	si := m.SchemeIndex(w.Scheme)
	switch {
	case si < 0:
		return WhatIfResult{}, fmt.Errorf("%w: no scheme %q", ErrInvalid, clip(w.Scheme))
	case len(w.Add) == 0:
		return WhatIfResult{}, fmt.Errorf("%w: name at least one condition to add", ErrInvalid)
	case len(w.Add) > MaxConditions:
		return WhatIfResult{}, fmt.Errorf("%w: at most %d conditions at once", ErrInvalid, MaxConditions)
	}
	switch {
	case w.List == 0:
		w.List = DefaultListed
	case w.List < 0 || w.List > MaxListed:
		return WhatIfResult{}, fmt.Errorf("%w: list must be from 1 to %d", ErrInvalid, MaxListed)
	}
	seen := map[string]bool{}
	for _, c := range w.Add {
		if c.Kind == CondRequirement && m.RequirementIndex(c.Requirement) < 0 {
			return WhatIfResult{}, fmt.Errorf("%w: no requirement %q in the catalogue", ErrInvalid, clip(c.Requirement))
		}
		if seen[c.String()] {
			return WhatIfResult{}, fmt.Errorf("%w: %s is named twice", ErrInvalid, c.String())
		}
		seen[c.String()] = true
	}
	res := WhatIfResult{Scheme: w.Scheme, Level: w.Level, At: m.At, Checkpoint: m.Checkpoint, Bottleneck: -1}
	for _, c := range w.Add {
		res.Add = append(res.Add, c.String())
		cr := ConditionResult{Condition: c, Words: c.Words(w.Title), Already: c.Kind == CondRequirement && slices.Contains(w.Needs, c.Requirement)}
		switch c.Kind {
		case CondSupport:
			cr.Evidence = "the declared support end date against the release date"
		case CondSBOM:
			cr.Evidence = "whether an SBOM was uploaded to the registry"
		default:
			cr.Evidence = "assessors' verdicts"
			if fr := FactRule(c.Requirement); fr != "" {
				cr.Evidence += "; else " + fr
			}
		}
		res.Conditions = append(res.Conditions, cr)
	}
	cats := map[int32]*Breakdown{}
	manus := map[int32]*Breakdown{}
	verdicts := make([]Verdict, len(w.Add))
	at := m.At
	for i := range m.Labels {
		l := &m.Labels[i]
		if l.Scheme != si || l.Level != w.Level || l.Issued.After(at) || !m.StatusAt(i, at).Live() {
			continue
		}
		res.Labelled++
		v := l.Version
		ver := &m.Versions[v]
		short := 0
		var h Held
		for k, c := range w.Add {
			x, src := m.Judge(v, c)
			verdicts[k] = x
			cr := &res.Conditions[k]
			switch x {
			case Meets:
				cr.Meets++
				if src == Declared {
					cr.Declared++
				}
			case Fails:
				cr.Fails++
				h.Fails = append(h.Fails, c.String())
			default:
				cr.NoEvidence++
				h.NoEvidence = append(h.NoEvidence, c.String())
			}
			if x != Meets {
				short++
			}
		}
		if short == 1 {
			for k := range w.Add {
				if verdicts[k] != Meets {
					res.Conditions[k].Only++
				}
			}
		}
		cb := breakdown(cats, ver.Category, func() (string, string) {
			n := m.Categories.Name(ver.Category)
			return n, n
		})
		mb := breakdown(manus, ver.Manufacturer, func() (string, string) {
			return strconv.FormatInt(m.ManufacturerIDs[ver.Manufacturer], 10), m.Manufacturers.Name(ver.Manufacturer)
		})
		cb.Labelled++
		mb.Labelled++
		if short == 0 {
			res.Qualify++
			continue
		}
		res.WouldFail++
		cb.WouldFail++
		mb.WouldFail++
		if len(h.Fails) > 0 {
			res.FailEvidence++
		} else {
			res.NoEvidence++
		}
		res.HeldTotal++
		if len(res.Held) < w.List {
			h.Label, h.VersionID = l.ID, ver.ID
			h.Category, h.Manufacturer = m.Categories.Name(ver.Category), m.Manufacturers.Name(ver.Manufacturer)
			res.Held = append(res.Held, h)
		}
	}
	for k := range res.Conditions {
		cr := &res.Conditions[k]
		cr.Short = cr.Fails + cr.NoEvidence
		if cr.Short > 0 && (res.Bottleneck < 0 || cr.Short > res.Conditions[res.Bottleneck].Short ||
			cr.Short == res.Conditions[res.Bottleneck].Short && cr.Only > res.Conditions[res.Bottleneck].Only) {
			res.Bottleneck = k
		}
	}
	res.ByCategory = sortedBreakdown(cats)
	res.ByManufacturer = sortedBreakdown(manus)
	slices.SortStableFunc(res.Held, func(a, b Held) int { return strings.Compare(a.Label, b.Label) })
	res.Summary = whatIfSummary(w, res)
	res.Caveats = []string{caveatLabelled,
		"\"No evidence\" means no assessment recorded a verdict on the requirement and the declared facts do not speak to it: such products would need an assessment, and many may pass it.",
		"Declared facts are the manufacturers' word; an assessment could find otherwise.",
		"Products still in assessment, or labelled at other levels, are not counted."}
	return res, nil
}

func breakdown(m map[int32]*Breakdown, k int32, name func() (string, string)) *Breakdown {
	b := m[k]
	if b == nil {
		key, n := name()
		b = &Breakdown{Key: key, Name: n}
		m[k] = b
	}
	return b
}

func sortedBreakdown(m map[int32]*Breakdown) []Breakdown {
	out := make([]Breakdown, 0, len(m))
	for _, b := range m {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b Breakdown) int {
		if a.WouldFail != b.WouldFail {
			return b.WouldFail - a.WouldFail
		}
		if a.Labelled != b.Labelled {
			return b.Labelled - a.Labelled
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func whatIfSummary(w WhatIf, r WhatIfResult) string {
	var words []string
	for _, c := range r.Conditions {
		words = append(words, c.Words)
	}
	// SchemeName names the level in full when the caller has its name.
	level := w.SchemeName
	if level == "" {
		level = w.Scheme + " at level " + w.Level
	}
	if r.Labelled == 0 {
		return fmt.Sprintf("No product holds a live label of %s now, so the proposal would hold none back.", level)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "If %s also required %s, %s of the %s products it labels now (%s) would not qualify on present evidence",
		level, joinAnd(words), count(r.WouldFail), count(r.Labelled), pct(r.WouldFail, r.Labelled))
	if r.WouldFail > 0 {
		fmt.Fprintf(&b, ": %s fail on the evidence and %s have no evidence either way", count(r.FailEvidence), count(r.NoEvidence))
	}
	b.WriteString(".")
	if r.Bottleneck >= 0 {
		c := r.Conditions[r.Bottleneck]
		if len(r.Conditions) > 1 {
			fmt.Fprintf(&b, " The bottleneck is %s: %s products do not meet it, %s of them meet everything else.", c.Words, count(c.Short), count(c.Only))
		} else {
			fmt.Fprintf(&b, " %s products are not shown to meet %s: %s fail it on the evidence and %s have none.", count(c.Short), c.Words, count(c.Fails), count(c.NoEvidence))
		}
	}
	for _, c := range r.Conditions {
		if c.Already {
			fmt.Fprintf(&b, " The level already requires %s.", c.Condition.Requirement)
		}
	}
	fmt.Fprintf(&b, " Current rules: %s qualify; proposed rules: %s (%s).", count(r.Labelled), count(r.Qualify), pct(r.Qualify, r.Labelled))
	return b.String()
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// count writes n with thousands separators.
func count(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + count(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// pct is n of d as a whole percentage ("37%"), "—" for none.
func pct(n, d int) string {
	if d == 0 {
		return "—"
	}
	return strconv.Itoa(int(float64(n)*100/float64(d)+0.5)) + "%"
}

// Count and Percent are the same for templates and other packages.
func Count(n int) string      { return count(n) }
func Percent(n, d int) string { return pct(n, d) }
