package insight

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Method is how a target's trend is projected to its date.
type Method string

const (
	// LinearTrend fits a straight line (least squares) through the
	// monthly values since the reference month and extends it.
	LinearTrend Method = "linear-trend"
	// RecentRate extends the change of the last twelve months.
	RecentRate Method = "recent-rate"
)

// Methods lists the projection methods.
var Methods = []Method{LinearTrend, RecentRate}

// Describe says the method in plain words, shown beside the class.
func (m Method) Describe() string {
	switch m {
	case LinearTrend:
		return "a straight line fitted (least squares) through the monthly values since the reference month, extended to the target date"
	case RecentRate:
		return "the change over the last twelve months, continued at the same pace to the target date"
	}
	return string(m)
}

// Class is how a target's projection compares with what it needs.
type Class string

const (
	OnTrack      Class = "on-track"     // projected to reach the target by its date, or already there
	Moderate     Class = "moderate"     // projected to make at least half the change needed
	Insufficient Class = "insufficient" // less than half the change needed, or none
	MovingAway   Class = "moving-away"  // projected to end further from the target than the reference
	NoData       Class = "no-data"      // too few monthly values to project
)

// Describe says the class in plain words.
func (c Class) Describe() string {
	switch c {
	case OnTrack:
		return "on track: the projection reaches the target by its date"
	case Moderate:
		return "moderate progress: the projection makes at least half the change needed, not all of it"
	case Insufficient:
		return "insufficient: the projection makes less than half the change needed, or none"
	case MovingAway:
		return "moving away: the projection ends further from the target than the reference point"
	}
	return "not enough data to project"
}

// Target is a declared target on an indicator: "by 2027-12, 90% of
// labelled cameras in our jurisdiction have 5+ years of support".
type Target struct {
	ID           string    `json:"id"`
	Organisation int64     `json:"organisation_id"`
	OrgName      string    `json:"organisation"`
	Title        string    `json:"title"`
	Indicator    string    `json:"indicator"`
	Version      int       `json:"definition_version"`
	Scope        Query     `json:"scope"`
	RefMonth     string    `json:"reference_month"`
	RefValue     float64   `json:"reference_value"`
	Value        float64   `json:"target_value"`
	Due          string    `json:"target_month"`
	Method       Method    `json:"method"`
	Supersedes   string    `json:"supersedes,omitempty"`
	DeclaredAt   time.Time `json:"declared_at"`
	SupersededBy string    `json:"superseded_by,omitempty"`
}

// Bounds of a declaration.
const (
	maxTitle     = 300
	maxHorizonYr = 30
)

// Normalise checks a declaration against its indicator's definition and
// fills what follows from it (the definition version). The reference value
// is the caller's to fill from the data when zero-valued: see RefFromSeries.
func (t *Target) Normalise(def *Definition, at time.Time) error {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	t.Title = strings.TrimSpace(t.Title)
	switch {
	case t.Title == "":
		bad("title: say the target in a sentence (\"by 2027-12, 90%% of labelled cameras have 5+ years of support\")")
	case utf8.RuneCountInString(t.Title) > maxTitle || strings.ContainsAny(t.Title, "\x00\r"):
		bad("title: at most %d characters, no control characters", maxTitle)
	}
	t.Indicator, t.Version = def.ID, def.Version
	if t.Scope.By != "" || t.Scope.From != "" || t.Scope.To != "" || t.Scope.Limit != 0 {
		bad("scope: give only filters (scheme, jurisdiction, category, manufacturer, requirement), not a cut or months")
	}
	if def.ID == "requirement-coverage" && t.Scope.Requirement == "" {
		bad("scope: a target on requirement coverage names one requirement")
	}
	if !def.Series {
		bad("indicator: %s has no monthly series, so progress cannot be tracked", def.ID)
	}
	ref, err1 := time.Parse(monthLayout, t.RefMonth)
	due, err2 := time.Parse(monthLayout, t.Due)
	now := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC)
	switch {
	case err1 != nil:
		bad("reference_month: a month as YYYY-MM")
	case ref.After(now):
		bad("reference_month: %s is in the future; the reference is a month already measured", t.RefMonth)
	}
	switch {
	case err2 != nil:
		bad("target_month: a month as YYYY-MM")
	case err1 == nil && !due.After(ref):
		bad("target_month: %s must come after the reference month %s", t.Due, t.RefMonth)
	case due.After(now.AddDate(maxHorizonYr, 0, 0)):
		bad("target_month: at most %d years ahead", maxHorizonYr)
	}
	if t.Method == "" {
		t.Method = LinearTrend
	}
	if t.Method != LinearTrend && t.Method != RecentRate {
		bad("method: one of linear-trend, recent-rate")
	}
	if math.IsNaN(t.Value) || math.IsInf(t.Value, 0) || (def.Unit == Share && (t.Value < 0 || t.Value > 1)) || t.Value < 0 {
		bad("target_value: a share from 0 to 1 (0.9 for 90%%), or a number of %s of 0 or more", def.Unit)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(errs, "; "))
	}
	return nil
}

// Digest is the SHA-256 of what was declared (everything but the id and
// who superseded it later): the log holds it, so a target changed behind
// the log's back no longer matches its entry.
func (t Target) Digest() string {
	d := t
	d.ID, d.SupersededBy = "", ""
	d.DeclaredAt = d.DeclaredAt.UTC().Truncate(time.Second)
	b, _ := json.Marshal(d)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Progress is a target measured against the data.
type Progress struct {
	Current      Num     `json:"current"`
	CurrentMonth string  `json:"current_month"`
	Reference    float64 `json:"reference"`
	Target       float64 `json:"target"`
	// Achieved is the share of the needed change made so far.
	Achieved Num `json:"achieved"`
	// Projection is the value the method projects at the target month.
	Projection Num `json:"projection"`
	// Slope is the projected change per month.
	Slope      Num     `json:"slope_per_month"`
	Class      Class   `json:"class"`
	ClassText  string  `json:"class_text"`
	Method     Method  `json:"method"`
	MethodText string  `json:"method_text"`
	Series     []Point `json:"series"`
	Projected  []Point `json:"projected"`
	Summary    string  `json:"summary"`
}

// Assess measures a target on its indicator's monthly series (the total,
// from the reference month to now).
func Assess(t Target, def *Definition, series []Point) Progress {
	p := Progress{Reference: t.RefValue, Target: t.Value, Method: t.Method, MethodText: t.Method.Describe(), Series: series,
		Current: Num(math.NaN()), Achieved: Num(math.NaN()), Projection: Num(math.NaN()), Slope: Num(math.NaN()), Class: NoData}
	var xs, ys []float64
	for i, pt := range series {
		if pt.Value.Defined() {
			xs, ys = append(xs, float64(i)), append(ys, float64(pt.Value))
			p.Current, p.CurrentMonth = pt.Value, pt.Month
		}
	}
	need := t.Value - t.RefValue
	if p.Current.Defined() && need != 0 {
		p.Achieved = Num((float64(p.Current) - t.RefValue) / need)
	}
	due, _ := time.Parse(monthLayout, t.Due)
	first, _ := time.Parse(monthLayout, t.RefMonth)
	if len(series) > 0 {
		first, _ = time.Parse(monthLayout, series[0].Month)
	}
	dueX := float64(monthsBetween(first, due))
	var slope, at float64
	switch {
	case len(xs) < 2:
		p.ClassText = p.Class.Describe()
		p.Summary = fmt.Sprintf("%s: too few monthly values yet to project (%d).", t.Title, len(xs))
		return p
	case t.Method == RecentRate:
		last := len(xs) - 1
		k := last
		for k > 0 && xs[last]-xs[k-1] <= 12 {
			k--
		}
		slope = (ys[last] - ys[k]) / math.Max(1, xs[last]-xs[k])
		at = ys[last] + slope*(dueX-xs[last])
	default:
		var a float64
		a, slope = leastSquares(xs, ys)
		at = a + slope*dueX
	}
	if def.Unit == Share {
		at = math.Max(0, math.Min(1, at))
	}
	p.Slope, p.Projection = Num(slope), Num(at)
	lastX := xs[len(xs)-1]
	for x := lastX + 1; x <= dueX; x++ {
		v := float64(p.Current) + slope*(x-lastX)
		if def.Unit == Share {
			v = math.Max(0, math.Min(1, v))
		}
		p.Projected = append(p.Projected, Point{Month: first.AddDate(0, int(x), 0).Format(monthLayout), Value: Num(v)})
	}
	p.Class = classify(t.RefValue, t.Value, float64(p.Current), at)
	p.ClassText = p.Class.Describe()
	p.Summary = fmt.Sprintf("%s: now %s (%s), from %s in %s; the target is %s by %s. Projected by %s: %s. Class: %s.",
		t.Title, def.Format(p.Current), p.CurrentMonth, def.Format(Num(t.RefValue)), t.RefMonth, def.Format(Num(t.Value)), t.Due,
		t.Method.Describe(), def.Format(p.Projection), p.Class.Describe())
	return p
}

// classify compares the projected change with the change needed.
func classify(ref, target, current, projected float64) Class {
	need := target - ref
	if need == 0 || (need > 0 && current >= target) || (need < 0 && current <= target) {
		return OnTrack // already there
	}
	// Rounded, so a flat line's floating-point dust is no progress, not a
	// move either way.
	r := math.Round((projected-ref)/need*1e9) / 1e9
	switch {
	case r >= 1:
		return OnTrack
	case r >= 0.5:
		return Moderate
	case r >= 0:
		return Insufficient
	}
	return MovingAway
}

func leastSquares(xs, ys []float64) (a, b float64) {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx, sy, sxx, sxy = sx+xs[i], sy+ys[i], sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return sy / n, 0
	}
	b = (n*sxy - sx*sy) / d
	return (sy - b*sx) / n, b
}

func monthsBetween(a, b time.Time) int {
	return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
}

// Format writes a value of this definition's unit for people: "37.5%",
// "4.2 years", "41 days", "—" when undefined.
func (d *Definition) Format(n Num) string {
	if !n.Defined() {
		return "—"
	}
	f := float64(n)
	switch d.Unit {
	case Share:
		return trimZero(fmt.Sprintf("%.1f", f*100)) + "%"
	case Years:
		return trimZero(fmt.Sprintf("%.1f", f)) + " years"
	case Days:
		return trimZero(fmt.Sprintf("%.0f", f)) + " days"
	}
	return fmt.Sprint(f)
}

func trimZero(s string) string {
	if strings.HasSuffix(s, ".0") {
		return s[:len(s)-2]
	}
	return s
}
