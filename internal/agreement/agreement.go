// Package agreement is a mutual-recognition agreement between two
// federated authorities as both record it in their logs: the two parties
// (authority, scheme, version, level), the level equivalence they agree
// on, and the catalogue comparison it was checked against, direction by
// direction. When either scheme publishes a new version the comparison is
// recomputed; coverage below the recorded one is drift, and the agreement
// is flagged with what changed. Pure: no HTTP, no SQL.
package agreement

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/hallmark-iot/hallmark/internal/scheme"
)

// MaxBytes bounds a recorded agreement document.
const MaxBytes = 256 << 10

// Side is one party: an authority's scheme at a level, at a version.
type Side struct {
	Authority string `json:"authority"` // the authority's URL (its issuer id)
	Scheme    string `json:"scheme"`
	Version   int    `json:"version"`
	Level     string `json:"level"`
}

// Ref is "scheme@level".
func (s Side) Ref() string { return s.Scheme + "@" + s.Level }

// Direction is one direction of the comparison: how much of To's level a
// From label needs too.
type Direction struct {
	From    string   `json:"from"` // "authority scheme@level v3"
	To      string   `json:"to"`
	Percent int      `json:"coverage_percent"`
	Covered int      `json:"covered"`
	Needs   int      `json:"needs"`
	Gaps    []string `json:"gaps"`    // requirement ids To needs and From does not
	Outcome string   `json:"outcome"` // the comparison's verdict
}

// Record is the agreement as logged.
type Record struct {
	ID      string      `json:"id"`
	Title   string      `json:"title"`
	Parties [2]Side     `json:"parties"`
	Checked []Direction `json:"checked"` // both directions, at the parties' versions
	At      time.Time   `json:"recorded_at"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// Compare is one direction between two resolved levels.
func Compare(fromSide, toSide Side, from, to scheme.Resolved) Direction {
	x := scheme.Compare(from, to)
	d := Direction{From: name(fromSide), To: name(toSide), Percent: x.Percent(), Covered: len(x.Covered), Needs: len(to.Needs),
		Outcome: string(x.Verdict.Outcome)}
	for _, g := range x.Gaps {
		d.Gaps = append(d.Gaps, g.Requirement.ID)
	}
	slices.Sort(d.Gaps)
	return d
}

func name(s Side) string { return fmt.Sprintf("%s %s v%d", s.Authority, s.Ref(), s.Version) }

// New builds a record and checks it: an id, a title, two parties on two
// authorities, both directions computed.
func New(id, title string, a, b Side, ab, ba Direction, at time.Time) (Record, error) {
	r := Record{ID: id, Title: title, Parties: [2]Side{a, b}, Checked: []Direction{ab, ba}, At: at.UTC().Truncate(time.Second)}
	return r, r.Validate()
}

// Validate checks a record's shape and bounds.
func (r Record) Validate() error {
	switch {
	case !idPattern.MatchString(r.ID):
		return fmt.Errorf("agreement id %q: lowercase letters, digits and dashes, at most 64", r.ID)
	case r.Title == "" || len(r.Title) > 300:
		return errors.New("an agreement needs a title of at most 300 characters")
	case r.Parties[0].Authority == r.Parties[1].Authority:
		return errors.New("an agreement between federated authorities names two different authorities")
	case len(r.Checked) != 2:
		return errors.New("an agreement records both directions of its comparison")
	}
	for _, p := range r.Parties {
		if p.Authority == "" || p.Scheme == "" || p.Level == "" || p.Version < 1 || len(p.Authority)+len(p.Scheme)+len(p.Level) > 2048 {
			return fmt.Errorf("party %+v: an authority, a scheme, a version and a level are needed", p)
		}
	}
	for _, d := range r.Checked {
		if d.Percent < 0 || d.Percent > 100 || len(d.Gaps) > 10000 {
			return fmt.Errorf("direction %s -> %s: coverage %d%% and %d gaps are out of range", d.From, d.To, d.Percent, len(d.Gaps))
		}
	}
	return nil
}

// Marshal is the canonical document; Digest its SHA-256, as logged.
func (r Record) Marshal() []byte { b, _ := json.Marshal(r); return b }

// Digest is the hex SHA-256 of the canonical document.
func (r Record) Digest() string {
	sum := sha256.Sum256(r.Marshal())
	return hex.EncodeToString(sum[:])
}

// Parse reads a record document (a stored one, or a peer's), bounded.
func Parse(b []byte) (Record, error) {
	var r Record
	if len(b) > MaxBytes {
		return r, fmt.Errorf("agreement document of %d bytes, over %d", len(b), MaxBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("agreement document: %v", err)
	}
	return r, r.Validate()
}

// Change is one way an agreement no longer holds as recorded.
type Change struct {
	From       string   `json:"from"`
	To         string   `json:"to"`
	WasPercent int      `json:"was_percent"`
	NowPercent int      `json:"now_percent"`
	NewGaps    []string `json:"new_gaps"` // requirements To now needs that From does not, and did not lack before
	Versions   string   `json:"versions"` // which scheme versions changed
}

// Drift compares the recorded directions with recomputed ones (now, in
// the same order): a direction whose coverage fell is a change.
func Drift(r Record, now [2]Side, dirs []Direction) []Change {
	var out []Change
	for i, d := range dirs {
		if i >= len(r.Checked) {
			break
		}
		was := r.Checked[i]
		if d.Percent >= was.Percent {
			continue // as good as recorded, or better
		}
		c := Change{From: d.From, To: d.To, WasPercent: was.Percent, NowPercent: d.Percent}
		for _, g := range d.Gaps {
			if !slices.Contains(was.Gaps, g) {
				c.NewGaps = append(c.NewGaps, g)
			}
		}
		var vs []string
		for j, p := range r.Parties {
			if now[j].Version != p.Version {
				vs = append(vs, fmt.Sprintf("%s %s v%d -> v%d", p.Authority, p.Scheme, p.Version, now[j].Version))
			}
		}
		c.Versions = fmt.Sprint(vs)
		out = append(out, c)
	}
	return out
}

// Summary says a change in one sentence.
func (c Change) Summary() string {
	s := fmt.Sprintf("%s now covers %d%% of %s, down from %d%% when the agreement was recorded", c.From, c.NowPercent, c.To, c.WasPercent)
	if len(c.NewGaps) > 0 {
		s += fmt.Sprintf("; newly missing: %v", c.NewGaps)
	}
	if c.Versions != "[]" && c.Versions != "" {
		s += "; changed: " + c.Versions
	}
	return s
}
