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
// order and should be the advisory's ecosystem. To evaluate many versions
// against one entry, compile it once with newEntry.
func Affects(a advisory.Affected, eco, version string) Verdict {
	return newEntry(&a, eco).verdict(version, nil)
}

// versionCache keeps versions parsed while matching one advisory: its
// entries often name the same module, so the same component versions,
// and parsing them was most of matching's allocations.
type versionCache map[versionKey]parsedVersion

type versionKey struct{ eco, version string }

type parsedVersion struct {
	v   semantic.Version
	err error
}

func (c versionCache) parse(eco, version string) (semantic.Version, error) {
	if c == nil {
		return parseVersion(eco, version)
	}
	k := versionKey{baseEcosystem(eco), version}
	p, ok := c[k]
	if !ok {
		p.v, p.err = parseVersion(eco, version)
		c[k] = p
	}
	return p.v, p.err
}

// entry is an affected entry prepared for one ecosystem's version order:
// its range events parsed and ranked once, so that evaluating a version
// parses only that version. A common module's advisory is evaluated
// against thousands of component versions; parsing its events for each
// was most of the time.
type entry struct {
	eco       string
	versions  map[string]bool // the normalised versions list
	ranges    []entryRange
	evaluable bool // a versions list or a range that can be evaluated
}

type entryRange struct {
	evs  []rangeEvent
	skip string // why the range cannot be evaluated (GIT, unknown type, an event refused)
}

type rangeEvent struct {
	kind byte   // 'i' introduced, 'f' fixed, 'l' last_affected, 'L' limit
	s    string // as the advisory gives it
	v    semantic.Version
	// low and high mark the events that compare without a version: an
	// introduced "0" (below every version) and a limit "*" (above).
	low, high bool
	rank      int // the event's place in version order among its range's events
}

func newEntry(a *advisory.Affected, eco string) *entry {
	e := &entry{eco: eco, evaluable: len(a.Versions) > 0}
	if len(a.Versions) > 0 {
		e.versions = make(map[string]bool, len(a.Versions))
		for _, s := range a.Versions {
			e.versions[normalizeVersion(eco, s)] = true
		}
	}
	for _, r := range a.Ranges {
		switch r.Type {
		case advisory.RangeSemver, advisory.RangeEcosystem:
		case advisory.RangeGit:
			e.ranges = append(e.ranges, entryRange{skip: "GIT range " + r.Repo})
			continue
		default:
			e.ranges = append(e.ranges, entryRange{skip: fmt.Sprintf("range of unknown type %q", r.Type)})
			continue
		}
		e.evaluable = true
		e.ranges = append(e.ranges, compileRange(eco, r.Events))
	}
	return e
}

func compileRange(eco string, events []advisory.Event) entryRange {
	evs := make([]rangeEvent, 0, len(events))
	for _, ev := range events {
		var re rangeEvent
		switch {
		case ev.Introduced != "":
			re = rangeEvent{kind: 'i', s: ev.Introduced, low: ev.Introduced == "0"}
		case ev.Fixed != "":
			re = rangeEvent{kind: 'f', s: ev.Fixed}
		case ev.LastAffected != "":
			re = rangeEvent{kind: 'l', s: ev.LastAffected}
		case ev.Limit != "":
			re = rangeEvent{kind: 'L', s: ev.Limit, high: ev.Limit == "*"}
		default:
			continue
		}
		if !re.low && !re.high {
			v, err := semantic.Parse(normalizeVersion(eco, re.s), baseEcosystem(eco))
			if err != nil {
				return entryRange{skip: fmt.Sprintf("range event %q in ecosystem %q: %v", re.s, eco, err)}
			}
			re.v = v
		}
		evs = append(evs, re)
	}
	// Rank the events in version order once; evaluating a version then
	// compares events by rank. Events that compare equal share a rank.
	order := make([]int, len(evs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return compareParsed(&evs[i], &evs[j]) })
	for k, i := range order {
		if k > 0 && compareParsed(&evs[order[k-1]], &evs[i]) == 0 {
			evs[i].rank = evs[order[k-1]].rank
		} else {
			evs[i].rank = k
		}
	}
	return entryRange{evs: evs}
}

// compareParsed orders two events of one range: "0" below everything, a
// "*" limit above. Two versions the ecosystem cannot order sort as equal,
// which keeps the order total.
func compareParsed(a, b *rangeEvent) int {
	switch {
	case a.low && b.low, a.high && b.high:
		return 0
	case a.low || b.high:
		return -1
	case b.low || a.high:
		return 1
	}
	c, err := a.v.Compare(b.v)
	if err != nil {
		return 0
	}
	return c
}

// verdict evaluates one version against the entry; cache may be nil.
func (e *entry) verdict(version string, cache versionCache) Verdict {
	version = normalizeVersion(e.eco, version)
	if version == "" {
		return Verdict{Status: StatusNotEvaluated, Reason: "the component has no version"}
	}
	pv, err := cache.parse(e.eco, version)
	if err != nil {
		return Verdict{Status: StatusNotEvaluated, Reason: err.Error()}
	}
	var v Verdict
	// The versions list is exact: OSV enumerates it from the ranges, or
	// gives it where no range can be written.
	if e.versions[version] {
		v.Status = StatusAffected
	}
	var skipped []string
	for i := range e.ranges {
		r := &e.ranges[i]
		if r.skip != "" {
			skipped = append(skipped, r.skip)
			continue
		}
		in, fixed, err := r.contains(pv)
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
		if v.Status != StatusAffected && !e.evaluable {
			v.Status = StatusNotEvaluated
		}
	}
	if v.Status != StatusAffected {
		v.Fixed = nil
	}
	return v
}

// contains walks the range's events as the OSV schema defines it: a
// version is affected after an introduced event until a fixed (exclusive)
// or last_affected (inclusive) event; a limit ends the range for
// everything at or above it. fixed is the fixed event that closes the
// interval the version is in, if any.
//
// A version is affected when the greatest introduced <= v is greater than
// every fixed <= v and every last_affected < v, and v is below every limit.
func (r *entryRange) contains(pv semantic.Version) (in bool, fixed string, err error) {
	var (
		intro, closed   = -1, -1 // indexes of the greatest introduced <= v, and fixed <= v or last_affected < v
		hasLim, underLm bool
		fixedAt         = -1 // index of the smallest fixed above v
	)
	for i := range r.evs {
		e := &r.evs[i]
		// c is the version compared to the event: -1 below, 0 equal, +1 above.
		var c int
		switch {
		case e.low:
			c = 1
		case e.high:
			c = -1
		default:
			c, err = pv.Compare(e.v)
			if err != nil {
				return false, "", fmt.Errorf("range event %q: %w", e.s, err)
			}
		}
		switch e.kind {
		case 'i':
			if c >= 0 && (intro < 0 || e.rank > r.evs[intro].rank) {
				intro = i
			}
		case 'f':
			if c >= 0 && (closed < 0 || e.rank > r.evs[closed].rank) {
				closed = i
			}
			if c < 0 && (fixedAt < 0 || e.rank < r.evs[fixedAt].rank) {
				fixedAt = i
			}
		case 'l':
			if c > 0 && (closed < 0 || e.rank > r.evs[closed].rank) {
				closed = i
			}
		case 'L':
			hasLim = true
			if c < 0 {
				underLm = true
			}
		}
	}
	if intro < 0 || (hasLim && !underLm) {
		return false, "", nil
	}
	if closed >= 0 && r.evs[closed].rank >= r.evs[intro].rank {
		return false, "", nil
	}
	if fixedAt >= 0 {
		fixed = r.evs[fixedAt].s
	}
	return true, fixed, nil
}
