package watch

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/sbom"
)

// TestPrecisionRecall measures precision and recall per match basis on a
// labelled set built from the corpus' ICS CSAF advisories (method and
// figures: testdata/precision/README.md) and fails if a figure drops below
// the published one minus precisionTolerance. -v prints the figures.
func TestPrecisionRecall(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 1,000 CSAF advisories")
	}
	got := measurePrecision(t)
	for _, basis := range []Basis{BasisNameFuzzy, BasisModelNumber, BasisCPE, BasisPURL} {
		g, ok := got[basis]
		if !ok {
			t.Errorf("%s: not measured", basis)
			continue
		}
		w := publishedPrecision[basis]
		if g.products == 0 {
			t.Logf("%-12s not measured: no product in the set has this identifier", basis)
			continue
		}
		t.Logf("%-12s products %4d  advisories %4d  truth pairs %4d  found %4d  correct %4d  precision %.3f  recall %.3f",
			basis, g.products, g.advisories, g.truth, g.found, g.correct, g.precision(), g.recall())
		if g.precision() < w[0]-precisionTolerance || g.recall() < w[1]-precisionTolerance {
			t.Errorf("%s: precision %.3f recall %.3f, published %.3f %.3f (tolerance %.2f)", basis, g.precision(), g.recall(), w[0], w[1], precisionTolerance)
		}
	}
}

// publishedPrecision are the figures in testdata/precision/README.md:
// precision, recall.
var publishedPrecision = map[Basis][2]float64{
	BasisNameFuzzy:   {0.488, 1.000},
	BasisModelNumber: {0.606, 0.987},
	BasisCPE:         {1, 1}, // not measurable: the corpus' ICS advisories give no CPE
	BasisPURL:        {1.000, 1.000},
}

const precisionTolerance = 0.02

type prCount struct {
	products, advisories, truth, found, correct int
}

func (c prCount) precision() float64 {
	if c.found == 0 {
		return 1
	}
	return float64(c.correct) / float64(c.found)
}

func (c prCount) recall() float64 {
	if c.truth == 0 {
		return 1
	}
	return float64(c.correct) / float64(c.truth)
}

// icsTriple is one (vendor, product, version) of a CSAF product tree, with
// the identifiers the tree gives for it.
type icsTriple struct {
	vendor, product, version, cpe string
	models                        []string
	adv                           int // index into the advisories read
}

func identityKey(vendor, product string) string {
	return strings.ToLower(strings.TrimSpace(vendor)) + "\x00" + strings.ToLower(strings.TrimSpace(product))
}

// perturbVendor and perturbProduct rewrite names the way a manufacturer's
// registration differs from the advisory's product tree: case,
// punctuation, corporate suffixes, "Series" and "Firmware", model numbers
// written with or without separators.
func perturbVendor(r *rand.Rand, v string) string {
	switch r.IntN(4) {
	case 0:
		return strings.ToUpper(v)
	case 1:
		return v + []string{" Inc.", " AG", " GmbH", " Ltd", " Corporation", ", LLC"}[r.IntN(6)]
	case 2:
		return strings.ToLower(v)
	}
	return v
}

func perturbProduct(r *rand.Rand, p string) string {
	for k := 0; k < 2; k++ {
		switch r.IntN(6) {
		case 0:
			p = strings.ToUpper(p)
		case 1:
			p = strings.ToLower(p)
		case 2:
			p += " Series"
		case 3:
			p += " Firmware"
		case 4: // model numbers written without their separators
			var ws []string
			for _, w := range strings.Fields(p) {
				if isModel(w) {
					w = strings.NewReplacer("-", "", ".", "", "/", "").Replace(w)
				}
				ws = append(ws, w)
			}
			p = strings.Join(ws, " ")
		case 5: // or with a hyphen between letters and digits
			p = strings.ReplaceAll(p, " ", " ")
			var ws []string
			for _, w := range strings.Fields(p) {
				if isModel(w) && !strings.ContainsAny(w, "-./") {
					if i := strings.IndexFunc(w, func(r rune) bool { return r >= '0' && r <= '9' }); i > 0 {
						w = w[:i] + "-" + w[i:]
					}
				}
				ws = append(ws, w)
			}
			p = strings.Join(ws, " ")
		}
	}
	return p
}

// measurePrecision builds the labelled set and runs the matcher.
func measurePrecision(t *testing.T) map[Basis]prCount {
	t.Helper()
	root := corpusDir(t, "csaf", "ics")
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	slices.Sort(files)
	r := rand.New(rand.NewPCG(8, 2026))
	r.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	files = files[:min(1000, len(files))]

	var advs []advisory.Advisory
	var triples []icsTriple
	seenTriple := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := advisory.ParseCSAF(b)
		if err != nil {
			continue // refused documents are the parsers' tests' business
		}
		for _, a := range doc.Advisories {
			ai := len(advs)
			advs = append(advs, a)
			for _, af := range a.Affected {
				if af.Vendor == "" || af.Product == "" {
					continue
				}
				k := identityKey(af.Vendor, af.Product)
				if seenTriple[k] {
					continue
				}
				seenTriple[k] = true
				triples = append(triples, icsTriple{vendor: af.Vendor, product: af.Product, version: af.Version,
					cpe: af.CPE, models: af.ModelNumbers, adv: ai})
			}
		}
	}
	// Truth: an advisory concerns a product when one of its affected
	// entries names the product's vendor and product exactly (case aside).
	truthAdvs := map[string]map[string]bool{} // identityKey → advisory ids
	for _, a := range advs {
		for _, af := range a.Affected {
			k := identityKey(af.Vendor, af.Product)
			if truthAdvs[k] == nil {
				truthAdvs[k] = map[string]bool{}
			}
			truthAdvs[k][a.ID] = true
		}
	}
	advIDs := map[string]bool{}
	for _, a := range advs {
		advIDs[a.ID] = true
	}

	out := map[Basis]prCount{}
	// One run per basis: the registered products carry only that basis'
	// identifier (and names, which every product has), and only findings
	// on that basis count.
	run := func(basis Basis, sample []icsTriple, ids func(r *rand.Rand, tr icsTriple) ProductIDs) {
		rr := rand.New(rand.NewPCG(uint64(len(basis)), 7))
		x := NewIndex()
		for i, tr := range sample {
			x.Add(int64(i+1), nil, ids(rr, tr))
		}
		var c prCount
		c.products = len(sample)
		found := map[[2]string]bool{}
		concerned := map[string]bool{}
		var wrong []string
		for _, a := range advs {
			for _, f := range x.Match(a) {
				if f.Basis != basis {
					continue
				}
				found[[2]string{fmt.Sprint(f.VersionID), a.ID}] = true
				tr := sample[f.VersionID-1]
				if !truthAdvs[identityKey(tr.vendor, tr.product)][a.ID] && len(wrong) < 6 {
					wrong = append(wrong, fmt.Sprintf("%q %q ~ %q %q (%.2f)", tr.vendor, tr.product, a.Affected[f.AffectedIndex].Vendor, a.Affected[f.AffectedIndex].Product, f.Confidence))
				}
			}
		}
		t.Logf("%s: examples of findings the truth does not hold: %s", basis, strings.Join(wrong, "; "))
		for i, tr := range sample {
			for id := range truthAdvs[identityKey(tr.vendor, tr.product)] {
				c.truth++
				concerned[id] = true
				if found[[2]string{fmt.Sprint(i + 1), id}] {
					c.correct++
				}
			}
		}
		c.found = len(found)
		c.advisories = len(concerned)
		out[basis] = c
	}

	// name-fuzzy: 600 products, names perturbed, no other identifier.
	sample := sampleTriples(r, triples, 600, func(icsTriple) bool { return true })
	run(BasisNameFuzzy, sample, func(r *rand.Rand, tr icsTriple) ProductIDs {
		return ProductIDs{Vendor: perturbVendor(r, tr.vendor), Product: perturbProduct(r, tr.product)}
	})
	// model-number: products whose tree gives model numbers, or whose name
	// holds one, registered with that model number (perturbed) and a
	// perturbed vendor, under a marketing name that shares nothing.
	sample = sampleTriples(r, triples, 600, func(tr icsTriple) bool { return len(tr.models) > 0 || len(modelTokens(tr.product)) > 0 })
	run(BasisModelNumber, sample, func(r *rand.Rand, tr icsTriple) ProductIDs {
		ms := tr.models
		if len(ms) == 0 {
			ms = []string{strings.ToLower(firstModelWord(tr.product))}
		}
		return ProductIDs{Vendor: perturbVendor(r, tr.vendor), Product: "Unit", ModelNumbers: ms}
	})
	// cpe-exact: products whose tree gives a CPE, registered with it.
	sample = sampleTriples(r, triples, 600, func(tr icsTriple) bool { return tr.cpe != "" })
	run(BasisCPE, sample, func(r *rand.Rand, tr icsTriple) ProductIDs {
		return ProductIDs{Vendor: perturbVendor(r, tr.vendor), Product: "Unit", CPEs: []string{tr.cpe}}
	})
	out[BasisPURL] = purlAgainstOSVScanner(t)
	return out
}

// firstModelWord is the first word of a name that looks like a model
// number, as written.
func firstModelWord(s string) string {
	for _, w := range strings.Fields(s) {
		if isModel(w) {
			return strings.Trim(w, ",;:()[]")
		}
	}
	return ""
}

func sampleTriples(r *rand.Rand, ts []icsTriple, n int, keep func(icsTriple) bool) []icsTriple {
	var pool []icsTriple
	for _, t := range ts {
		if keep(t) {
			pool = append(pool, t)
		}
	}
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	return pool[:min(n, len(pool))]
}

// purlAgainstOSVScanner scores purl-exact against osv-scanner v2.4.0's
// findings on the corpus SBOMs (testdata/osv-scanner) as ground truth:
// precision is the share of our (package, advisory) pairs osv-scanner
// also reports, recall the share of its pairs we report.
func purlAgainstOSVScanner(t *testing.T) prCount {
	corpus := corpusDir(t)
	recs, err := goRecords()
	if err != nil {
		t.Fatal(err)
	}
	x := NewAdvisoryIndex(recs)
	goldens, _ := filepath.Glob(filepath.Join("testdata", "osv-scanner", "*.golden.json"))
	var c prCount
	concerned := map[string]bool{}
	for _, g := range goldens {
		var want golden
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		if err := jsonUnmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(corpus, "sbom", want.SBOM))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := sbom.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		c.products++
		theirs := map[string]bool{}
		for _, p := range want.Packages {
			for _, id := range p.IDs {
				theirs[p.Ecosystem+" "+p.Name+" "+p.Version+" "+id] = true
				concerned[id] = true
			}
		}
		ours := map[string]bool{}
		for purl, ids := range affectedIDs(x.Match(doc.Components)) {
			pk, _ := packageName(purl)
			for _, id := range ids {
				ours[pk.Ecosystem+" "+pk.Name+" "+pk.Version+" "+id] = true
			}
		}
		c.truth += len(theirs)
		c.found += len(ours)
		for k := range ours {
			if theirs[k] {
				c.correct++
			}
		}
	}
	c.advisories = len(concerned)
	return c
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
