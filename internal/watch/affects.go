package watch

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/osv-scalibr/semantic"

	"github.com/hallmark-iot/hallmark/internal/advisory"
)

// Status is the outcome of evaluating one version against an advisory.
type Status uint8

// The statuses. The zero value is StatusNotAffected so that a Verdict
// nobody filled in never reads as a match.
const (
	StatusNotAffected  Status = iota
	StatusAffected            // the version is in an affected range or list
	StatusNotEvaluated        // it could not be decided; Reason says why
)

func (s Status) String() string {
	switch s {
	case StatusNotAffected:
		return "not_affected"
	case StatusAffected:
		return "affected"
	case StatusNotEvaluated:
		return "not_evaluated"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Verdict is the evaluation of one version against one affected entry.
type Verdict struct {
	Status Status
	// Fixed are the versions that would clear an affected version: per
	// range, the smallest fixed event above it. Empty when no fix is
	// known.
	Fixed []string
	// Reason says what was not evaluated: always set for
	// StatusNotEvaluated, and set for another status when part of the
	// entry (a GIT range) was skipped while the rest decided.
	Reason string
}

// Affects evaluates version of a package in OSV ecosystem eco against an
// OSV affected entry: its SEMVER and ECOSYSTEM ranges (introduced, fixed,
// last_affected, limit; several ranges are alternatives) and its versions
// list. GIT ranges order commits, not versions: they are never evaluated,
// and an entry with nothing else yields StatusNotEvaluated.
//
// The caller has matched the package identity; eco selects the version
// order and should be the advisory's ecosystem.
func Affects(a advisory.Affected, eco, version string) Verdict {
	version = normalizeVersion(eco, version)
	var v Verdict
	if version == "" {
		return Verdict{Status: StatusNotEvaluated, Reason: "the component has no version"}
	}
	pv, err := parseVersion(eco, version)
	if err != nil {
		return Verdict{Status: StatusNotEvaluated, Reason: err.Error()}
	}
	// The versions list is exact: OSV enumerates it from the ranges, or
	// gives it where no range can be written.
	for _, s := range a.Versions {
		if normalizeVersion(eco, s) == version {
			v.Status = StatusAffected
		}
	}
	var skipped []string
	evaluable := len(a.Versions) > 0
	for _, r := range a.Ranges {
		switch r.Type {
		case advisory.RangeSemver, advisory.RangeEcosystem:
		case advisory.RangeGit:
			skipped = append(skipped, "GIT range "+r.Repo)
			continue
		default:
			skipped = append(skipped, fmt.Sprintf("range of unknown type %q", r.Type))
			continue
		}
		evaluable = true
		in, fixed, err := inRange(pv, eco, r.Events)
		if err != nil {
			skipped = append(skipped, err.Error())
			continue
		}
		if in {
			v.Status = StatusAffected
			if fixed != "" && !slices.Contains(v.Fixed, fixed) {
				v.Fixed = append(v.Fixed, fixed)
			}
		}
	}
	if len(skipped) > 0 {
		v.Reason = "not evaluated: " + strings.Join(skipped, "; ")
		if v.Status != StatusAffected && !evaluable {
			v.Status = StatusNotEvaluated
		}
	}
	if v.Status != StatusAffected {
		v.Fixed = nil
	}
	return v
}

// inRange walks one range's events in version order, as the OSV schema
// defines it: a version is affected after an introduced event until a
// fixed (exclusive) or last_affected (inclusive) event; a limit ends the
// range for everything at or above it. fixed is the fixed event that
// closes the interval the version is in, if any.
func inRange(pv semantic.Version, eco string, events []advisory.Event) (in bool, fixed string, err error) {
	type ev struct {
		kind byte // 'i', 'f', 'l', 'L'
		s    string
	}
	evs := make([]ev, 0, len(events))
	for _, e := range events {
		switch {
		case e.Introduced != "":
			evs = append(evs, ev{'i', e.Introduced})
		case e.Fixed != "":
			evs = append(evs, ev{'f', e.Fixed})
		case e.LastAffected != "":
			evs = append(evs, ev{'l', e.LastAffected})
		case e.Limit != "":
			evs = append(evs, ev{'L', e.Limit})
		}
	}
	// c is the version compared to each event: -1 below, 0 equal, +1 above.
	cmp := make([]int, len(evs))
	for i, e := range evs {
		if e.kind == 'i' && e.s == "0" {
			cmp[i] = 1 // "0" is before every version of every ecosystem
			continue
		}
		if (e.kind == 'L') && e.s == "*" {
			cmp[i] = -1
			continue
		}
		c, err := pv.CompareStr(normalizeVersion(eco, e.s))
		if err != nil {
			return false, "", fmt.Errorf("range event %q in ecosystem %q: %w", e.s, eco, err)
		}
		cmp[i] = c
	}
	// Events are sorted by version in the schema's evaluation; we need
	// only the last event at or below the version (for introduced and
	// last_affected) or the position relative to each bound. A version is
	// affected when the greatest introduced <= v is greater than every
	// fixed <= v and every last_affected < v, and it is below every limit.
	var (
		intro   = -1 // index of the greatest introduced <= v
		closed  = -1 // index of the greatest fixed <= v or last_affected < v
		cmpEvs  = func(i, j int) int { return compareEvents(eco, evs[i].s, evs[j].s) }
		hasLim  bool
		underLm bool
	)
	for i, e := range evs {
		switch e.kind {
		case 'i':
			if cmp[i] >= 0 && (intro < 0 || cmpEvs(i, intro) > 0) {
				intro = i
			}
		case 'f':
			if cmp[i] >= 0 && (closed < 0 || cmpEvs(i, closed) > 0) {
				closed = i
			}
		case 'l':
			if cmp[i] > 0 && (closed < 0 || cmpEvs(i, closed) > 0) {
				closed = i
			}
		case 'L':
			hasLim = true
			if cmp[i] < 0 {
				underLm = true
			}
		}
	}
	if intro < 0 || (hasLim && !underLm) {
		return false, "", nil
	}
	if closed >= 0 && cmpEvs(closed, intro) >= 0 {
		return false, "", nil
	}
	// The fix that clears v: the smallest fixed above v (and above the
	// introduction, which every fixed above v is).
	for i, e := range evs {
		if e.kind == 'f' && cmp[i] < 0 && (fixed == "" || compareEvents(eco, e.s, fixed) < 0) {
			fixed = e.s
		}
	}
	return true, fixed, nil
}

// compareEvents orders two event versions; "0" is below everything. A
// version the ecosystem refuses sorts as equal, which keeps evaluation
// total; inRange has already refused ranges whose events cannot be
// compared with the version itself.
func compareEvents(eco, a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "0":
		return -1
	case b == "0":
		return 1
	}
	c, err := CompareVersions(eco, a, b)
	if err != nil {
		return 0
	}
	return c
}
