package watch

import (
	"slices"

	"github.com/hallmark-iot/hallmark/internal/advisory"
)

// AdvisoryIndex indexes advisories by package identity, for scanning one
// SBOM against a whole database: each component looks up only the
// advisories for its own package. It is read-only once built and safe
// for concurrent use.
type AdvisoryIndex struct {
	advs  []advisory.Advisory
	byKey map[string][]advRef
}

type advRef struct {
	adv, aff int
}

// NewAdvisoryIndex indexes advs (kept, not copied). Withdrawn advisories
// and affected entries without a package identity are left out: the
// first match nothing, the second are matched by Index, on products.
func NewAdvisoryIndex(advs []advisory.Advisory) *AdvisoryIndex {
	x := &AdvisoryIndex{advs: advs, byKey: map[string][]advRef{}}
	for i := range advs {
		if !advs[i].Withdrawn.IsZero() {
			continue
		}
		for j := range advs[i].Affected {
			id, ok := PackageIdentity(advs[i].Affected[j].Package)
			if !ok {
				continue
			}
			x.byKey[id.Key] = append(x.byKey[id.Key], advRef{i, j})
		}
	}
	return x
}

// Match returns the findings for components, in component order then
// advisory order. Components without a valid purl are skipped. An
// advisory with several affected entries for the same package (as OSV
// records split by range) gives one finding per entry that matches.
func (x *AdvisoryIndex) Match(components []Component) []Finding {
	var out []Finding
	for _, c := range components {
		if c.PURL == "" {
			continue
		}
		p, err := parsePURL(c.PURL)
		if err != nil {
			continue
		}
		id := identityOf(p)
		v := p.Version
		if v == "" {
			v = c.Version
		}
		for _, r := range x.byKey[id.Key] {
			adv := &x.advs[r.adv]
			a := adv.Affected[r.aff]
			vd := componentVerdict(a, id.Ecosystem, v)
			if vd.Status == StatusNotAffected {
				continue
			}
			out = append(out, Finding{
				AdvisoryID: adv.ID, AffectedIndex: r.aff,
				Basis: BasisPURL, Confidence: 1, Component: c.PURL,
				Status: vd.Status, Fixed: vd.Fixed, Reason: vd.Reason,
			})
		}
	}
	return out
}

// MatchComponents matches one SBOM's components against advs. To match
// many SBOMs against the same advisories, build an AdvisoryIndex once.
func MatchComponents(components []Component, advs []advisory.Advisory) []Finding {
	return NewAdvisoryIndex(advs).Match(components)
}

// affectedIDs lists, per component purl, the ids of advisories found
// affecting it, sorted and each once: what the osv-scanner comparison and
// report compare.
func affectedIDs(fs []Finding) map[string][]string {
	m := map[string][]string{}
	for _, f := range fs {
		if f.Status != StatusAffected || f.Component == "" {
			continue
		}
		if !slices.Contains(m[f.Component], f.AdvisoryID) {
			m[f.Component] = append(m[f.Component], f.AdvisoryID)
		}
	}
	for k := range m {
		slices.Sort(m[k])
	}
	return m
}
