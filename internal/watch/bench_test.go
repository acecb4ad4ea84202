package watch

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/sbom"
)

// synthetic builds n product versions of 200 components each, drawn from
// 20,000 packages with 5 versions each, so components repeat across
// products as they do in real fleets.
func synthetic(n int) [][]Component {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([][]Component, n)
	for i := range out {
		cs := make([]Component, 200)
		for j := range cs {
			cs[j].PURL = fmt.Sprintf("pkg:golang/github.com/vendor%d/module%d@v1.%d.0", r.IntN(2000), r.IntN(10), r.IntN(5))
		}
		out[i] = cs
	}
	return out
}

func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// BenchmarkIndex10k builds an Index of 10,000 product versions × 200
// components and reports its heap.
func BenchmarkIndex10k(b *testing.B) {
	data := synthetic(10000)
	for b.Loop() {
		before := heapMB()
		x := NewIndex()
		for i, cs := range data {
			x.Add(int64(i+1), cs, ProductIDs{Vendor: "Acme", Product: fmt.Sprintf("Router R%d", i%500), Version: "1.0"})
		}
		b.ReportMetric(heapMB()-before, "heap-MB")
		runtime.KeepAlive(x)
	}
}

// BenchmarkMatchOne matches one advisory against 10,000 product versions.
func BenchmarkMatchOne(b *testing.B) {
	data := synthetic(10000)
	x := NewIndex()
	for i, cs := range data {
		x.Add(int64(i+1), cs, ProductIDs{})
	}
	adv := advisory.Advisory{ID: "GO-BENCH", Affected: []advisory.Affected{{
		Package: advisory.Package{Ecosystem: "Go", Name: "github.com/vendor7/module3"},
		Ranges:  []advisory.Range{rng(advisory.RangeSemver, intro("0"), fixed("1.3.0"))},
	}}}
	n := 0
	for b.Loop() {
		n = len(x.Match(adv))
	}
	b.ReportMetric(float64(n), "findings")
}

// BenchmarkScanSBOM matches one real SBOM (proton-bridge, 201 components)
// against all 4,291 Go OSV records through a prebuilt AdvisoryIndex: the
// per-SBOM cost of `hallmark scan` and of a fleet re-match.
func BenchmarkScanSBOM(b *testing.B) {
	dir := corpusDir(b, "sbom", "cyclonedx-examples", "proton-bridge")
	raw, err := os.ReadFile(filepath.Join(dir, "proton-bridge-v1.6.3.bom.json"))
	if err != nil {
		b.Fatal(err)
	}
	doc, err := sbom.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	advs, err := goRecords()
	if err != nil {
		b.Fatal(err)
	}
	x := NewAdvisoryIndex(advs)
	for b.Loop() {
		x.Match(doc.Components)
	}
}
