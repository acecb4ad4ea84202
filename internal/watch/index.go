package watch

import (
	"slices"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/advisory"
)

// Index is an inverted index of product versions: from package identity,
// CPE vendor:product, model number, GTIN, firmware hash and name token to
// the product versions that have them, so that matching an advisory
// touches only the versions that share an identifier with it.
//
// Components are interned: the same purl@version in many product
// versions is stored once, and its verdict is computed once per Match.
// An Index is not safe for concurrent use; guard it, or build one per
// goroutine.
type Index struct {
	slots []slot
	free  []uint32
	byID  map[int64]uint32

	comps   []comp
	compIDs map[string]uint32 // raw purl → comps index

	pkgs   map[string][]posting // identity key → components in product versions
	cpes   map[string][]uint32  // CPE vendor:product → slots
	models map[string][]uint32  // modelKey → slots
	gtins  map[string][]uint32  // GTIN-14 → slots
	hashes map[string][]uint32  // "alg:hex" → slots
	names  map[string][]uint32  // product name token → slots
}

type slot struct {
	id    int64
	live  bool
	comps []uint32
	ids   ProductIDs
}

type comp struct {
	purl, version, key, eco string
}

type posting struct {
	slot, comp uint32
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{
		byID:    map[int64]uint32{},
		compIDs: map[string]uint32{},
		pkgs:    map[string][]posting{},
		cpes:    map[string][]uint32{},
		models:  map[string][]uint32{},
		gtins:   map[string][]uint32{},
		hashes:  map[string][]uint32{},
		names:   map[string][]uint32{},
	}
}

// Len is the number of product versions indexed.
func (x *Index) Len() int { return len(x.byID) }

// Add indexes a product version's components (those with a valid purl;
// the others cannot be matched by identity) and identifiers, replacing
// what was indexed for versionID before.
func (x *Index) Add(versionID int64, components []Component, ids ProductIDs) {
	x.Remove(versionID)
	var s uint32
	if n := len(x.free); n > 0 {
		s, x.free = x.free[n-1], x.free[:n-1]
	} else {
		s = uint32(len(x.slots))
		x.slots = append(x.slots, slot{})
	}
	sl := slot{id: versionID, live: true, ids: ids}
	for _, c := range components {
		ci, ok := x.intern(c)
		if !ok {
			continue
		}
		k := x.comps[ci].key
		ps := x.pkgs[k]
		// This version's postings are the tail of the list: a duplicate
		// component is found there without scanning the version's list.
		dup := false
		for i := len(ps) - 1; i >= 0 && ps[i].slot == s; i-- {
			dup = dup || ps[i].comp == ci
		}
		if dup {
			continue
		}
		sl.comps = append(sl.comps, ci)
		x.pkgs[k] = append(ps, posting{s, ci})
	}
	sl.comps = slices.Clip(sl.comps)
	x.slots[s] = sl
	x.byID[versionID] = s
	for _, k := range productKeys(ids) {
		m := x.productMap(k.kind)
		m[k.key] = append(m[k.key], s)
	}
}

// intern returns the component table index of c's purl@version, adding
// it when new.
func (x *Index) intern(c Component) (uint32, bool) {
	if c.PURL == "" {
		return 0, false
	}
	if ci, ok := x.compIDs[c.PURL]; ok {
		return ci, true
	}
	p, err := parsePURL(c.PURL)
	if err != nil {
		return 0, false
	}
	id := identityOf(p)
	v := p.Version
	if v == "" {
		v = c.Version
	}
	ci := uint32(len(x.comps))
	x.comps = append(x.comps, comp{purl: c.PURL, version: v, key: id.Key, eco: id.Ecosystem})
	x.compIDs[c.PURL] = ci
	return ci, true
}

// Remove drops a product version from the index; removing one that is
// not there does nothing.
func (x *Index) Remove(versionID int64) {
	s, ok := x.byID[versionID]
	if !ok {
		return
	}
	sl := &x.slots[s]
	for _, ci := range sl.comps {
		k := x.comps[ci].key
		x.pkgs[k] = slices.DeleteFunc(x.pkgs[k], func(p posting) bool { return p.slot == s })
		if len(x.pkgs[k]) == 0 {
			delete(x.pkgs, k)
		}
	}
	// Components stay in the table, unreferenced ones too: it is bounded
	// by the distinct purls ever indexed, which interning keeps small, and
	// re-adding a version (the common case) finds them again.
	for _, k := range productKeys(sl.ids) {
		m := x.productMap(k.kind)
		m[k.key] = slices.DeleteFunc(m[k.key], func(t uint32) bool { return t == s })
		if len(m[k.key]) == 0 {
			delete(m, k.key)
		}
	}
	*sl = slot{}
	delete(x.byID, versionID)
	x.free = append(x.free, s)
}

type productKey struct {
	kind Basis
	key  string
}

// productKeys lists the postings a product's identifiers make, each once.
func productKeys(ids ProductIDs) []productKey {
	var out []productKey
	add := func(kind Basis, key string) {
		k := productKey{kind, key}
		if key != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	for _, c := range ids.CPEs {
		if w, err := ParseCPE(c); err == nil {
			add(BasisCPE, w.productKey())
		}
	}
	for _, m := range ids.ModelNumbers {
		add(BasisModelNumber, modelKey(m))
	}
	for _, g := range ids.GTINs {
		add(BasisSKU, gtinKey(g))
	}
	for _, h := range ids.Hashes {
		add(BasisHash, hashKey(h))
	}
	for _, t := range productTokens(ids.Product) {
		add(BasisNameFuzzy, t)
	}
	return out
}

func (x *Index) productMap(kind Basis) map[string][]uint32 {
	switch kind {
	case BasisCPE:
		return x.cpes
	case BasisModelNumber:
		return x.models
	case BasisSKU:
		return x.gtins
	case BasisHash:
		return x.hashes
	}
	return x.names
}

// gtinKey normalises a GTIN (or a CSAF SKU that is one) to its 14-digit
// form: GTIN-8, -12 (UPC) and -13 (EAN) are GTIN-14 with leading zeros.
// Anything else is not a GTIN and gives "".
func gtinKey(s string) string {
	d := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
	if len(d) != 8 && len(d) != 12 && len(d) != 13 && len(d) != 14 {
		return ""
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return strings.Repeat("0", 14-len(d)) + d
}

func hashKey(h advisory.Hash) string {
	if h.Value == "" {
		return ""
	}
	return strings.ToLower(h.Algorithm) + ":" + strings.ToLower(h.Value)
}

// fuzzyThreshold is the least name similarity reported: below it, two
// names share too little for a person to want to look.
const fuzzyThreshold = 0.6

// Match returns the findings of one advisory across the indexed product
// versions: affected or not evaluated, never not affected. A withdrawn
// advisory matches nothing. For each affected entry and product version
// the strongest basis is reported: exact identifiers before a model
// number found in a name, before a name-fuzzy match.
func (x *Index) Match(adv advisory.Advisory) []Finding {
	if !adv.Withdrawn.IsZero() {
		return nil
	}
	// The package findings are counted first, so that the result is
	// allocated once: a Finding is large, and an advisory of a common
	// module has thousands of them (growing the slice by appending was
	// most of Match's time).
	verdicts := make([]map[uint32]Verdict, len(adv.Affected))
	cache := versionCache{}
	n := 0
	for ai := range adv.Affected {
		var k int
		verdicts[ai], k = x.packageVerdicts(&adv.Affected[ai], cache)
		n += k
	}
	out := make([]Finding, 0, n)
	for ai := range adv.Affected {
		a := &adv.Affected[ai]
		base := Finding{AdvisoryID: adv.ID, AffectedIndex: ai}
		out = x.matchPackage(out, base, a, verdicts[ai])
		out = x.matchProduct(out, base, a)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// packageVerdicts evaluates a's package against every interned component
// of that package indexed (each once) and counts the postings it makes
// findings of.
func (x *Index) packageVerdicts(a *advisory.Affected, cache versionCache) (map[uint32]Verdict, int) {
	id, ok := PackageIdentity(a.Package)
	if !ok {
		return nil, 0
	}
	verdicts := map[uint32]Verdict{} // per interned component: computed once
	ents := entries{a: a, cache: cache}
	n := 0
	for _, p := range x.pkgs[id.Key] {
		v, seen := verdicts[p.comp]
		if !seen {
			v = ents.verdict(x.comps[p.comp].eco, x.comps[p.comp].version)
			verdicts[p.comp] = v
		}
		if v.Status != StatusNotAffected {
			n++
		}
	}
	return verdicts, n
}

func (x *Index) matchPackage(out []Finding, base Finding, a *advisory.Affected, verdicts map[uint32]Verdict) []Finding {
	if verdicts == nil {
		return out
	}
	id, _ := PackageIdentity(a.Package)
	for _, p := range x.pkgs[id.Key] {
		v := verdicts[p.comp]
		if v.Status == StatusNotAffected {
			continue
		}
		// Filled in place: a Finding is large, and copying it twice per
		// posting was a good part of a common module's advisory.
		out = append(out, base)
		f := &out[len(out)-1]
		f.VersionID = x.slots[p.slot].id
		f.Basis, f.Confidence = BasisPURL, 1
		f.Component = x.comps[p.comp].purl
		f.Status, f.Fixed, f.Reason = v.Status, v.Fixed, v.Reason
	}
	return out
}

// entries compiles one affected entry for each ecosystem it is evaluated
// in (one, unless the advisory names none), on first use.
type entries struct {
	a     *advisory.Affected
	cache versionCache // may be nil
	eco   string
	entry *entry
	more  map[string]*entry
}

func (es *entries) get(eco string) *entry {
	switch {
	case es.entry == nil:
		es.eco, es.entry = eco, newEntry(es.a, eco)
		return es.entry
	case es.eco == eco:
		return es.entry
	}
	e, ok := es.more[eco]
	if !ok {
		if es.more == nil {
			es.more = map[string]*entry{}
		}
		e = newEntry(es.a, eco)
		es.more[eco] = e
	}
	return e
}

// componentVerdict evaluates a component of ecosystem compEco against an
// affected entry, after checking that a distribution advisory is for the
// component's release.
func componentVerdict(a advisory.Affected, compEco, version string) Verdict {
	es := entries{a: &a}
	return es.verdict(compEco, version)
}

func (es *entries) verdict(compEco, version string) Verdict {
	a := es.a
	advEco := a.Package.Ecosystem
	if advEco == "" {
		advEco = compEco
	}
	if compEco != "" {
		same, known := sameRelease(compEco, advEco)
		if !same {
			return Verdict{}
		}
		if !known {
			v := es.get(advEco).verdict(version, es.cache)
			if v.Status != StatusNotAffected {
				v.Status = StatusNotEvaluated
				v.Reason = strings.TrimPrefix(v.Reason+"; ", "; ") + "the component names no " + baseEcosystem(advEco) + " release; the advisory is for " + advEco
			}
			return v
		}
	}
	return es.get(advEco).verdict(version, es.cache)
}

// matchProduct matches CSAF product identification: CPE, model numbers,
// SKUs, hashes, and names.
func (x *Index) matchProduct(out []Finding, base Finding, a *advisory.Affected) []Finding {
	best := map[uint32]Finding{}
	consider := func(s uint32, f Finding) {
		if old, ok := best[s]; ok && rank(old) >= rank(f) {
			return
		}
		best[s] = f
	}
	at := func(s uint32, basis Basis, conf float64, product string) Finding {
		f := base
		f.VersionID = x.slots[s].id
		f.Basis, f.Confidence, f.Product = basis, conf, product
		v := productVerdict(*a, x.slots[s].ids.Version)
		f.Status, f.Reason = v.Status, v.Reason
		if v.Status == StatusAffected {
			f.Fixed = a.Fixed
		}
		return f
	}
	if a.CPE != "" {
		if w, err := ParseCPE(a.CPE); err == nil {
			for _, s := range x.cpes[w.productKey()] {
				for _, pc := range x.slots[s].ids.CPEs {
					p, err := ParseCPE(pc)
					if err != nil || !MatchCPE(w, p) {
						continue
					}
					f := at(s, BasisCPE, 1, pc)
					if w.Version != "*" {
						// The advisory's CPE names the version itself.
						f.Status, f.Reason, f.Fixed = StatusAffected, "", a.Fixed
					}
					consider(s, f)
				}
			}
		}
	}
	for _, m := range a.ModelNumbers {
		for _, s := range x.models[modelKey(m)] {
			consider(s, at(s, BasisModelNumber, 1, m))
		}
	}
	for _, m := range modelTokens(a.Product) {
		for _, s := range x.models[m] {
			// A model number read from a name could be another vendor's.
			if dice(vendorTokens(a.Vendor), vendorTokens(x.slots[s].ids.Vendor)) >= 0.8 {
				consider(s, at(s, BasisModelNumber, 0.9, m))
			}
		}
	}
	for _, sku := range a.SKUs {
		for _, s := range x.gtins[gtinKey(sku)] {
			consider(s, at(s, BasisSKU, 1, sku))
		}
	}
	for _, h := range a.Hashes {
		k := hashKey(h)
		for _, s := range x.hashes[k] {
			// The image is the version: its hash needs no version check.
			f := at(s, BasisHash, 1, k)
			f.Status, f.Reason, f.Fixed = StatusAffected, "", a.Fixed
			consider(s, f)
		}
	}
	// Names are matched beside identifiers too: measured on the ICS set
	// (testdata/precision), skipping them where an advisory gives
	// identifiers cut name recall from 1.00 to 0.70 for no precision. Name
	// matches only wait for a person.
	if a.Product != "" {
		seen := map[uint32]bool{}
		for _, t := range productTokens(a.Product) {
			for _, s := range x.names[t] {
				if seen[s] || best[s].Basis != "" {
					continue
				}
				seen[s] = true
				ids := &x.slots[s].ids
				if c := NameSimilarity(a.Vendor, a.Product, ids.Vendor, ids.Product); c >= fuzzyThreshold {
					consider(s, at(s, BasisNameFuzzy, c, ids.Product))
				}
			}
		}
	}
	slots := make([]uint32, 0, len(best))
	for s, f := range best {
		if f.Status != StatusNotAffected {
			slots = append(slots, s)
		}
	}
	slices.Sort(slots) // deterministic output
	for _, s := range slots {
		out = append(out, best[s])
	}
	return out
}

// rank orders findings for one product version: exact identifiers, then
// a model number from a name, then names; affected before not evaluated.
func rank(f Finding) float64 {
	r := f.Confidence
	if f.Basis.Automatic() {
		r += 2
	}
	if f.Status == StatusAffected {
		r += 0.5
	}
	return r
}

// productVerdict evaluates a registered product version against a CSAF
// product's version or version range.
func productVerdict(a advisory.Affected, version string) Verdict {
	expr := a.VersionRange
	if expr == "" {
		expr = a.Version
	}
	if expr == "" {
		return Verdict{Status: StatusAffected, Reason: "the advisory names no version: taken as all versions"}
	}
	r, err := ParseVersionRange(expr)
	if err != nil {
		return Verdict{Status: StatusNotEvaluated, Reason: err.Error()}
	}
	in, err := r.Contains(version)
	switch {
	case err != nil:
		return Verdict{Status: StatusNotEvaluated, Reason: "version " + quote(version) + " against " + quote(expr) + ": " + err.Error()}
	case in:
		return Verdict{Status: StatusAffected}
	}
	return Verdict{}
}

func quote(s string) string { return `"` + s + `"` }
