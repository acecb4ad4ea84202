package insight

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/watch"
)

// Replay asks: had this post-market rule applied over the logged history,
// which labels would have changed status, and when?
type Replay struct {
	Rule scheme.Rule
	// Scheme limits the rule to one scheme's labels ("" for every scheme).
	Scheme string
	List   int // rows listed (default 100, at most 10,000)
}

// Replayed is one label the rule would have changed.
type Replayed struct {
	Label        string    `json:"label"`
	Scheme       string    `json:"scheme"`
	Category     string    `json:"category"`
	Manufacturer string    `json:"manufacturer"`
	Action       string    `json:"action"`
	When         time.Time `json:"when"`
	// Actual is when the label reached the same status in the real
	// history after When (zero: it never did).
	Actual time.Time `json:"actual,omitzero"`
	// Earlier is how many days before the real change it would have come.
	Earlier *int     `json:"days_earlier,omitempty"`
	Flaws   []string `json:"flaws,omitempty"`
}

// YearCount is how many labels the rule would have changed in one year.
type YearCount struct {
	Year  int `json:"year"`
	Count int `json:"count"`
}

// ReplayResult is the counterfactual history, current rules beside the
// proposed one.
type ReplayResult struct {
	Rule       scheme.Rule `json:"rule"`
	Scheme     string      `json:"scheme,omitempty"`
	At         time.Time   `json:"as_of"`
	Checkpoint Checkpoint  `json:"checkpoint"`
	Action     string      `json:"action"`
	Considered int         `json:"labels_considered"`
	Changed    int         `json:"labels_changed"`
	// Anyway: changed by the real history too, later; Never: not at all.
	Anyway        int         `json:"changed_anyway_later"`
	Never         int         `json:"never_changed"`
	MedianEarlier Num         `json:"median_days_earlier"`
	ByYear        []YearCount `json:"by_year"`
	Labels        []Replayed  `json:"labels"`
	Summary       string      `json:"summary"`
	Caveats       []string    `json:"caveats"`
}

var replayTargets = map[scheme.ActionKind]Status{scheme.Suspend: Suspended, scheme.Revoke: Revoked, scheme.Expire: Expired}

// RunReplay replays r over the market's history.
func RunReplay(m *Market, r Replay) (ReplayResult, error) {
	if probs := r.Rule.Problems(); len(probs) > 0 {
		return ReplayResult{}, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(probs, "; "))
	}
	var action scheme.ActionKind
	for _, a := range r.Rule.Then {
		if _, ok := replayTargets[a.Kind]; ok {
			action = a.Kind
		}
	}
	if action == "" {
		return ReplayResult{}, fmt.Errorf("%w: the rule changes no label's status; give it a suspend, revoke or expire action to replay", ErrInvalid)
	}
	si := int32(-1)
	if r.Scheme != "" {
		if si = m.SchemeIndex(r.Scheme); si < 0 {
			return ReplayResult{}, fmt.Errorf("%w: no scheme %q", ErrInvalid, clip(r.Scheme))
		}
	}
	switch {
	case r.List == 0:
		r.List = DefaultListed
	case r.List < 0 || r.List > MaxListed:
		return ReplayResult{}, fmt.Errorf("%w: list must be from 1 to %d", ErrInvalid, MaxListed)
	}
	target := replayTargets[action]
	res := ReplayResult{Rule: r.Rule, Scheme: r.Scheme, At: m.At, Checkpoint: m.Checkpoint, Action: string(action)}
	rules := []scheme.Rule{r.Rule}
	years := map[int]int{}
	var earlier []float64
	for i := range m.Labels {
		l := &m.Labels[i]
		if si >= 0 && l.Scheme != si {
			continue
		}
		res.Considered++
		when, flaws, ok := m.firstFiring(i, rules, action, target)
		if !ok {
			continue
		}
		res.Changed++
		years[when.Year()]++
		row := Replayed{Label: l.ID, Scheme: m.Schemes[l.Scheme].ID, Action: string(action), When: when, Flaws: flaws}
		ver := &m.Versions[l.Version]
		row.Category, row.Manufacturer = m.Categories.Name(ver.Category), m.Manufacturers.Name(ver.Manufacturer)
		for _, e := range m.LabelEvents(i) {
			if e.Status == target && !e.At.Before(when) {
				row.Actual = e.At
				d := int(days(e.At.Sub(when)))
				row.Earlier = &d
				earlier = append(earlier, float64(d))
				break
			}
		}
		if row.Actual.IsZero() {
			res.Never++
		} else {
			res.Anyway++
		}
		if len(res.Labels) < r.List {
			res.Labels = append(res.Labels, row)
		}
	}
	res.MedianEarlier = median(earlier)
	for y, n := range years {
		res.ByYear = append(res.ByYear, YearCount{y, n})
	}
	slices.SortFunc(res.ByYear, func(a, b YearCount) int { return a.Year - b.Year })
	slices.SortStableFunc(res.Labels, func(a, b Replayed) int { return a.When.Compare(b.When) })
	res.Summary = replaySummary(r, res)
	res.Caveats = []string{
		"The replay runs the rule over the findings the watch holds now, on the days their facts changed (first seen, published, known exploited, fixed, support ended); flaws ingested late are replayed from the day they were first seen.",
		"The watch keeps each finding's present state and the manufacturer's present answer, not their history: an answer given late is taken as given throughout.",
		"Each label is changed at most once, at the first moment the rule would have acted while the label's real status allowed it; what the real history did afterwards is not re-simulated.",
		caveatMatches,
	}
	return res, nil
}

// firstFiring is the first moment the rules would have taken action on
// label i while its real status allowed it, and the flaws behind it.
func (m *Market) firstFiring(i int, rules []scheme.Rule, action scheme.ActionKind, target Status) (time.Time, []string, bool) {
	l := &m.Labels[i]
	ver := &m.Versions[l.Version]
	evs := m.LabelEvents(i)
	allowed := func(t time.Time) bool {
		st := m.StatusAt(i, t)
		if action == scheme.Suspend {
			return st == Active
		}
		return st.Live() && st != target
	}
	var best time.Time
	var flaws []string
	consider := func(t time.Time, flaw string) {
		switch {
		case best.IsZero() || t.Before(best):
			best, flaws = t, []string{flaw}
		case t.Equal(best) && flaw != "" && !slices.Contains(flaws, flaw):
			flaws = append(flaws, flaw)
		}
	}
	supportEnd := time.Time{}
	if !ver.SupportEnd.IsZero() {
		supportEnd = ver.SupportEnd.AddDate(0, 0, 1)
	}
	// Rules about the label alone (support ended) hold without findings.
	for _, r := range rules {
		if r.When.LabelLevel() && !supportEnd.IsZero() {
			for _, t := range append([]time.Time{maxTime(supportEnd, l.Issued)}, eventTimes(evs)...) {
				if !t.Before(supportEnd) && !t.After(m.At) && allowed(t) {
					for _, p := range watch.EvaluateLabel(rules, scheme.Finding{SupportEnded: true}) {
						if p.Action == action {
							consider(t, "")
						}
					}
					break
				}
			}
		}
	}
	for _, f := range m.VersionFindings(l.Version) {
		if !f.Counts || f.State == "review" || f.State == "disputed" {
			continue
		}
		start := maxTime(f.FirstSeen, l.Issued)
		end := m.At
		if f.State == "not-affected" || f.State == "retracted" {
			end = f.Updated // cleared: the rules stop looking at it
		}
		if start.After(end) {
			continue
		}
		// The moments the finding's facts change, and the label's.
		times := []time.Time{start}
		for _, r := range rules {
			if d := r.When.DaysSincePublishedMin; d != nil && !f.Published.IsZero() {
				times = append(times, f.Published.AddDate(0, 0, *d))
			}
		}
		times = append(times, f.Exploited, f.Updated, supportEnd)
		times = append(times, eventTimes(evs)...)
		clocks := map[string]time.Time{}
		for k := 0; k < len(times); k++ {
			slices.SortFunc(times[k:], func(a, b time.Time) int { return a.Compare(b) })
			t := times[k]
			if t.IsZero() || t.Before(start) || t.After(end) || (!best.IsZero() && t.After(best)) {
				continue
			}
			for _, p := range watch.Evaluate(rules, f.asSchemeFinding(ver, t), clocks, t) {
				switch {
				case p.Action == scheme.Deadline:
					clocks[p.RuleID] = p.Deadline
					times = append(times, p.Deadline) // look again when it runs out
				case p.Action == action && allowed(t):
					consider(t, f.Flaw)
				}
			}
		}
	}
	return best, flaws, !best.IsZero()
}

// asSchemeFinding is the finding as a rule's conditions would have seen it at t.
func (f *Finding) asSchemeFinding(v *Version, t time.Time) scheme.Finding {
	fixed := f.State == "fixed" && !f.Updated.After(t)
	sf := scheme.Finding{Severity: f.Severity, CVSS: f.CVSS, UpstreamFix: f.Upstream, FixAvailable: fixed || f.Response == "fixed",
		ManufacturerResponse: f.Response, ActivelyExploited: !f.Exploited.IsZero() && !f.Exploited.After(t)}
	if sf.ManufacturerResponse == "" {
		sf.ManufacturerResponse = "none"
	}
	if fixed {
		sf.ManufacturerResponse = "fixed"
	}
	if !f.Published.IsZero() {
		sf.DaysSincePublished = int(t.Sub(f.Published).Hours() / 24)
	}
	sf.SupportEnded = !v.SupportEnd.IsZero() && !t.Before(v.SupportEnd.AddDate(0, 0, 1))
	return sf
}

func eventTimes(evs []Event) []time.Time {
	out := make([]time.Time, len(evs))
	for i, e := range evs {
		out[i] = e.At
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

var actionPast = map[string]string{"suspend": "suspended", "revoke": "revoked", "expire": "expired"}

func replaySummary(r Replay, res ReplayResult) string {
	past := actionPast[res.Action]
	scope := "labels"
	if r.Scheme != "" {
		scope = r.Scheme + " labels"
	}
	if res.Changed == 0 {
		return fmt.Sprintf("Under this rule, none of the %s %s would have been %s over the logged history.", count(res.Considered), scope, past)
	}
	var b strings.Builder
	last := res.ByYear[len(res.ByYear)-1]
	fmt.Fprintf(&b, "Under this rule, %s %s would have been %s in %d", count(last.Count), scope, past, last.Year)
	if len(res.ByYear) > 1 {
		fmt.Fprintf(&b, " (%s of %s in all since %d)", count(res.Changed), count(res.Considered), res.ByYear[0].Year)
	} else {
		fmt.Fprintf(&b, " (of %s)", count(res.Considered))
	}
	days := strconv.FormatFloat(float64(res.MedianEarlier), 'f', -1, 64)
	switch {
	case res.Anyway == 1:
		fmt.Fprintf(&b, "; the one that was %s anyway would have been so %s days earlier", past, days)
	case res.Anyway > 1:
		fmt.Fprintf(&b, "; the %s that were %s anyway would have been so a median of %s days earlier", count(res.Anyway), past, days)
	}
	switch {
	case res.Never == 1:
		fmt.Fprintf(&b, "; one was never %s under the current rules", past)
	case res.Never > 1:
		fmt.Fprintf(&b, "; %s were never %s under the current rules", count(res.Never), past)
	}
	b.WriteString(".")
	return b.String()
}
