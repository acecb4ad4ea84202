package scheme

import (
	"fmt"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

// Agreement is a recorded mutual-recognition agreement between schemes.
type Agreement struct {
	ID        string  `yaml:"id" json:"id"`
	Title     string  `yaml:"title" json:"title"`
	Parties   []Party `yaml:"parties" json:"parties"`
	Mutual    bool    `yaml:"mutual" json:"mutual"`
	Signed    string  `yaml:"signed,omitempty" json:"signed,omitempty"`
	Effective string  `yaml:"effective,omitempty" json:"effective,omitempty"`
	// Renewed is when the parties last renewed or widened it.
	Renewed     string `yaml:"renewed,omitempty" json:"renewed,omitempty"`
	Ended       string `yaml:"ended,omitempty" json:"ended,omitempty"`
	Description string `yaml:"description" json:"description"`
	Notes       string `yaml:"notes,omitempty" json:"notes,omitempty"`
	// Sources and Unverified as for a scheme: where the dates and terms
	// were checked, and what could not be confirmed.
	Sources    []catalog.Source     `yaml:"sources,omitempty" json:"sources,omitempty"`
	Unverified []catalog.Unverified `yaml:"unverified,omitempty" json:"unverified,omitempty"`
}

// Party is one side of an agreement: a scheme at a level.
type Party struct {
	Scheme string `yaml:"scheme" json:"scheme"`
	Level  string `yaml:"level" json:"level"`
}

// Ref is "scheme@level".
func (p Party) Ref() string { return p.Scheme + "@" + p.Level }

type agreementsFile struct {
	Agreements []Agreement `yaml:"agreements"`
}

// ParseAgreements reads agreements.yaml. A party whose scheme Hallmark does
// not model is allowed (the check then says it cannot judge); a party naming
// a modelled scheme must name one of its levels.
func ParseAgreements(name string, b []byte, schemes []*Scheme) ([]Agreement, error) {
	var f agreementsFile
	root, err := catalog.DecodeYAML(name, b, &f)
	if err != nil {
		return nil, err
	}
	set := NewSet(schemes)
	var errs catalog.Errors
	seen := map[string]bool{}
	for i := range f.Agreements {
		a := &f.Agreements[i]
		a.Description = strings.TrimSpace(a.Description)
		a.Notes = strings.TrimSpace(a.Notes)
		for j := range a.Unverified {
			a.Unverified[j].Note = strings.TrimSpace(a.Unverified[j].Note)
		}
		line := lineOf(root, "agreements", i)
		bad := func(format string, args ...any) {
			errs = append(errs, catalog.Error{File: name, Line: line, Msg: fmt.Sprintf(format, args...)})
		}
		if !validSchemeID(a.ID) || seen[a.ID] {
			bad("agreement id %q must be unique, lowercase letters, digits and dashes", a.ID)
		}
		seen[a.ID] = true
		// The signing day is not always published; the date it took effect then stands.
		if a.Title == "" || a.Signed == "" && a.Effective == "" {
			bad("agreement %s needs a title and a signed or effective date", a.ID)
		}
		if len(a.Parties) != 2 {
			bad("agreement %s must name exactly two parties", a.ID)
		}
		for _, msg := range catalog.ValidateProvenance("agreement "+a.ID, a.Sources, a.Unverified) {
			bad("%s", msg)
		}
		for _, p := range a.Parties {
			sc, ok := set[p.Scheme]
			if !ok {
				continue
			}
			if _, ok := sc.Level(p.Level); !ok {
				bad("agreement %s: scheme %s has no level %q", a.ID, p.Scheme, p.Level)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return f.Agreements, nil
}

// Support is how far the catalogue supports one direction of an agreement.
type Support string

const (
	Supported   Support = "supported"
	Partly      Support = "partly-supported"
	Unsupported Support = "not-supported"
	Unknown     Support = "cannot-check"
)

// AgreementCheck holds the evidence for an agreement, direction by direction.
type AgreementCheck struct {
	Agreement  Agreement
	Directions []DirectionCheck
	Summary    string
}

// DirectionCheck is one direction: can a label of From be recognised as To?
type DirectionCheck struct {
	From, To    string
	Support     Support
	Comparison  *Comparison
	Explanation string
}

// Check compares an agreement's parties in each direction it covers.
func (s Set) Check(c *catalog.Catalog, a Agreement) AgreementCheck {
	out := AgreementCheck{Agreement: a}
	if len(a.Parties) != 2 {
		out.Summary = "The agreement does not name two parties."
		return out
	}
	dirs := [][2]Party{{a.Parties[0], a.Parties[1]}}
	if a.Mutual {
		dirs = append(dirs, [2]Party{a.Parties[1], a.Parties[0]})
	}
	var supports []Support
	for _, d := range dirs {
		dc := DirectionCheck{From: d[0].Ref(), To: d[1].Ref()}
		from, errA := s.ResolveRef(c, d[0].Ref())
		to, errB := s.ResolveRef(c, d[1].Ref())
		if errA != nil || errB != nil {
			dc.Support = Unknown
			missing := d[0].Scheme
			if errA == nil {
				missing = d[1].Scheme
			}
			dc.Explanation = fmt.Sprintf("%s is not modelled in Hallmark, so the catalogue cannot say whether %s covers %s.", missing, d[0].Ref(), d[1].Ref())
		} else {
			x := Compare(from, to)
			dc.Comparison = &x
			switch x.Verdict.Outcome {
			case Recognisable:
				dc.Support = Supported
			case Conditional:
				dc.Support = Partly
			default:
				dc.Support = Unsupported
			}
			dc.Explanation = x.Verdict.Summary
		}
		supports = append(supports, dc.Support)
		out.Directions = append(out.Directions, dc)
	}
	out.Summary = summarise(a, supports)
	return out
}

func summarise(a Agreement, s []Support) string {
	all := func(want Support) bool {
		for _, x := range s {
			if x != want {
				return false
			}
		}
		return true
	}
	switch {
	case all(Supported):
		return "The catalogue supports this agreement: each side's label needs everything the other's does, at the same or stronger assurance."
	case all(Unknown):
		return "The catalogue cannot check this agreement: a party's scheme is not modelled in Hallmark."
	case all(Unsupported):
		return "The catalogue does not support this agreement as recorded: the levels differ substantially. Recognition may rest on assessments or arrangements outside the requirements modelled here."
	}
	return "The catalogue supports this agreement in part: see each direction for what one side lacks or checks less strictly."
}
