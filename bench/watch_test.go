package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/sbom"
	"github.com/hallmark-iot/hallmark/internal/watch"
)

// The post-market watch benchmarks (bench/README.md, "Post-market watch")
// read the shared corpus: HALLMARK_CORPUS, else ../../shared/corpus from
// bench/ (the worktree's sibling), else /work/shared/corpus.

const (
	portfolioSBOMs = 10000 // SBOMs in the re-matched portfolio
	portfolioMin   = 200   // components per SBOM, at least
	portfolioSpan  = 61    // ... and up to portfolioMin+portfolioSpan-1
	osvSample      = 100   // SBOMs osv-scanner is run on, one process each
)

func corpusRoot(b testing.TB) string {
	b.Helper()
	for _, d := range []string{os.Getenv("HALLMARK_CORPUS"), filepath.Join("..", "..", "shared", "corpus"), "/work/shared/corpus"} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "osv", "go")); err == nil {
			return d
		}
	}
	b.Skip("no shared corpus (set HALLMARK_CORPUS)")
	return ""
}

// goRecords are the corpus' Go OSV records, read once.
var goRecords = sync.OnceValues(func() ([]advisory.Advisory, error) {
	var out []advisory.Advisory
	root := ""
	for _, d := range []string{os.Getenv("HALLMARK_CORPUS"), filepath.Join("..", "..", "shared", "corpus"), "/work/shared/corpus"} {
		if _, err := os.Stat(filepath.Join(d, "osv", "go")); d != "" && err == nil {
			root = d
			break
		}
	}
	err := advisory.ReadDir(os.DirFS(filepath.Join(root, "osv", "go")), ".", func(_ string, doc *advisory.Document) error {
		out = append(out, doc.Advisories...)
		return nil
	})
	return out, err
})

// modVersion is one real Go module version.
type modVersion struct{ module, version string }

var (
	purlGoRe = regexp.MustCompile(`pkg:golang/([^"<@\s]+)@(v[^"<?#\s]+)`)
	semverRe = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$`)
)

// realGoVersions collects real Go module versions: every version an OSV
// record names for its module (introduced, fixed, last_affected, listed
// versions) and every golang purl in the corpus' SBOMs. Sorted, so the
// portfolio drawn from it is the same on every run.
func realGoVersions(b testing.TB, advs []advisory.Advisory) (mods []string, versions map[string][]string) {
	b.Helper()
	set := map[modVersion]bool{}
	add := func(m, v string) {
		if m == "" || v == "" || v == "0" || !semverRe.MatchString(v) || strings.HasPrefix(m, "stdlib") || m == "toolchain" {
			return
		}
		if !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		set[modVersion{m, v}] = true
	}
	for _, a := range advs {
		for _, af := range a.Affected {
			if af.Package.Ecosystem != "Go" {
				continue
			}
			for _, v := range af.Versions {
				add(af.Package.Name, v)
			}
			for _, r := range af.Ranges {
				for _, e := range r.Events {
					add(af.Package.Name, e.Introduced)
					add(af.Package.Name, e.Fixed)
					add(af.Package.Name, e.LastAffected)
				}
			}
		}
	}
	filepath.WalkDir(filepath.Join(corpusRoot(b), "sbom"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, m := range purlGoRe.FindAllSubmatch(raw, -1) {
			add(string(m[1]), string(m[2]))
		}
		return nil
	})
	versions = map[string][]string{}
	for mv := range set {
		versions[mv.module] = append(versions[mv.module], mv.version)
	}
	for m := range versions {
		slices.Sort(versions[m])
		mods = append(mods, m)
	}
	slices.Sort(mods)
	return mods, versions
}

// portfolioSBOM is one synthesised SBOM: CycloneDX 1.4 JSON, the bytes
// both Hallmark and osv-scanner read.
func portfolioSBOM(r *rand.Rand, i int, mods []string, versions map[string][]string) []byte {
	n := portfolioMin + r.IntN(portfolioSpan)
	type comp struct {
		Type    string `json:"type"`
		Name    string `json:"name"`
		Version string `json:"version"`
		PURL    string `json:"purl"`
	}
	picked := map[int]bool{}
	cs := make([]comp, 0, n)
	for len(cs) < n {
		k := r.IntN(len(mods))
		if picked[k] {
			continue
		}
		picked[k] = true
		m := mods[k]
		vs := versions[m]
		v := vs[r.IntN(len(vs))]
		cs = append(cs, comp{"library", m, v, "pkg:golang/" + m + "@" + v})
	}
	doc := map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1,
		"serialNumber": fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i),
		"metadata":     map[string]any{"component": map[string]any{"type": "firmware", "name": fmt.Sprintf("product-%05d", i), "version": "1.0.0"}},
		"components":   cs}
	out, _ := json.Marshal(doc)
	return out
}

// portfolio is the 10,000 SBOMs, raw and parsed.
type portfolio struct {
	raw   [][]byte
	comps [][]watch.Component
	total int // components
	mods  int // distinct modules drawn from
}

func buildPortfolio(b testing.TB) *portfolio {
	b.Helper()
	advs, err := goRecords()
	if err != nil || len(advs) == 0 {
		b.Fatalf("Go OSV records: %d, %v", len(advs), err)
	}
	mods, versions := realGoVersions(b, advs)
	r := rand.New(rand.NewPCG(2026, 11))
	p := &portfolio{mods: len(mods)}
	for i := range portfolioSBOMs {
		raw := portfolioSBOM(r, i, mods, versions)
		doc, err := sbom.Parse(raw)
		if err != nil {
			b.Fatalf("SBOM %d: %v", i, err)
		}
		p.raw = append(p.raw, raw)
		p.comps = append(p.comps, doc.Components)
		p.total += len(doc.Components)
	}
	return p
}

var portfolioOnce struct {
	sync.Once
	p *portfolio
}

func getPortfolio(b testing.TB) *portfolio {
	portfolioOnce.Do(func() { portfolioOnce.p = buildPortfolio(b) })
	if portfolioOnce.p == nil {
		b.Fatal("no portfolio")
	}
	return portfolioOnce.p
}

// resetPeak resets the process' peak resident set (VmHWM) to its current
// RSS (Linux: clear_refs 5), so that peakMiB reads the peak since.
func resetPeak() {
	runtime.GC()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakMiB is VmHWM from /proc/self/status, in MiB (0 if unreadable).
func peakMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// pairsOf counts (component, advisory) pairs found affected.
func pairsOf(fs []watch.Finding) map[string]bool {
	m := map[string]bool{}
	for _, f := range fs {
		if f.Status == watch.StatusAffected {
			m[f.Component+" "+f.AdvisoryID] = true
		}
	}
	return m
}

// BenchmarkWatchPortfolio re-matches 10,000 synthesised SBOMs (200–260
// real Go module versions each) against the 4,291 Go OSV records:
//
//   - advindex: watch.NewAdvisoryIndex once over the records, then Match
//     per SBOM (what `hallmark scan` does, for every SBOM);
//   - index: the 10,000 SBOMs as product versions in a watch.Index, then
//     Index.Match per record (what the server's full re-match does);
//   - osv-scanner: v2.4.0 run once per SBOM, a fresh process each, on the
//     first 100 SBOMs, the total extrapolated ×100 to 10,000 (ns/op is
//     the extrapolated 10,000); osv-scanner-batch: one process given the
//     same 100 SBOMs (-L × 100), extrapolated the same way.
//
// Skipped peers when osv-scanner is not installed (OSV_SCANNER, default
// /tmp/osvbin/osv-scanner). peak-MiB is the process' VmHWM over the
// measured part after a reset (the whole process: the 10,000 parsed SBOMs
// and the records it holds anyway included); heap-MiB the live heap the
// index adds; ratio-* the extrapolated osv-scanner time over ours.
func BenchmarkWatchPortfolio(b *testing.B) {
	p := getPortfolio(b)
	advs, _ := goRecords()
	b.Logf("portfolio: %d SBOMs, %d components (%.0f per SBOM), drawn from %d real Go modules; %d records",
		len(p.comps), p.total, float64(p.total)/float64(len(p.comps)), p.mods, len(advs))
	var osvPerSBOM, osvBatchPerSBOM time.Duration
	var osvPairs map[string]bool
	scanner := os.Getenv("OSV_SCANNER")
	if scanner == "" {
		scanner = "/tmp/osvbin/osv-scanner"
	}
	haveScanner := false
	if _, err := os.Stat(scanner); err == nil {
		haveScanner = true
	}
	var ours []float64 // ns per 10,000, per sub-benchmark, for the ratio
	b.Run("advindex", func(b *testing.B) {
		var fs int
		var peak, heap float64
		for b.Loop() {
			resetPeak()
			before := heapLiveMiB()
			x := watch.NewAdvisoryIndex(advs)
			fs = 0
			for _, cs := range p.comps {
				fs += len(x.Match(cs))
			}
			peak = peakMiB()
			heap = heapLiveMiB() - before
			runtime.KeepAlive(x)
		}
		ours = append(ours, float64(b.Elapsed().Nanoseconds())/float64(b.N))
		b.ReportMetric(float64(fs), "findings")
		b.ReportMetric(peak, "peak-MiB")
		b.ReportMetric(heap, "heap-MiB")
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(len(p.comps)), "µs/SBOM")
	})
	b.Run("index", func(b *testing.B) {
		var fs int
		var peak, heap float64
		for b.Loop() {
			resetPeak()
			before := heapLiveMiB()
			x := watch.NewIndex()
			for i, cs := range p.comps {
				x.Add(int64(i+1), cs, watch.ProductIDs{Vendor: "Bench Devices", Product: fmt.Sprintf("product-%05d", i), Version: "1.0.0"})
			}
			fs = 0
			for _, a := range advs {
				fs += len(x.Match(a))
			}
			peak = peakMiB()
			heap = heapLiveMiB() - before
			runtime.KeepAlive(x)
		}
		ours = append(ours, float64(b.Elapsed().Nanoseconds())/float64(b.N))
		b.ReportMetric(float64(fs), "findings")
		b.ReportMetric(peak, "peak-MiB")
		b.ReportMetric(heap, "heap-MiB")
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(len(p.comps)), "µs/SBOM")
	})
	if !haveScanner {
		b.Logf("osv-scanner not found at %s: peers skipped", scanner)
		return
	}
	dir := b.TempDir()
	db := filepath.Join(dir, "db")
	zipRecords(b, filepath.Join(corpusRoot(b), "osv", "go"), filepath.Join(db, "osv-scanner", "Go", "all.zip"))
	var files []string
	for i := range osvSample {
		f := filepath.Join(dir, fmt.Sprintf("sbom-%05d.cdx.json", i))
		if err := os.WriteFile(f, p.raw[i], 0o644); err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	run := func(args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, scanner, append([]string{"scan", "source", "--offline", "--format", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY="+db)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				b.Fatalf("osv-scanner %v: %v: %s", args, err, errb.Bytes())
			}
		}
		return out.Bytes()
	}
	b.Run("osv-scanner", func(b *testing.B) {
		for b.Loop() {
			osvPairs = map[string]bool{}
			start := time.Now()
			for _, f := range files {
				for k := range scannerPairs(b, run("-L", f)) {
					osvPairs[k] = true
				}
			}
			osvPerSBOM = time.Since(start) / osvSample
		}
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(osvPerSBOM.Nanoseconds())*portfolioSBOMs/1e9, "s/10k-extrapolated")
		b.ReportMetric(float64(osvPerSBOM.Microseconds()), "µs/SBOM")
		if len(ours) == 2 {
			b.ReportMetric(float64(osvPerSBOM.Nanoseconds())*portfolioSBOMs/ours[0], "ratio-advindex")
			b.ReportMetric(float64(osvPerSBOM.Nanoseconds())*portfolioSBOMs/ours[1], "ratio-index")
		}
	})
	b.Run("osv-scanner-batch", func(b *testing.B) {
		for b.Loop() {
			var args []string
			for _, f := range files {
				args = append(args, "-L", f)
			}
			start := time.Now()
			run(args...)
			osvBatchPerSBOM = time.Since(start) / osvSample
		}
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(osvBatchPerSBOM.Nanoseconds())*portfolioSBOMs/1e9, "s/10k-extrapolated")
		b.ReportMetric(float64(osvBatchPerSBOM.Microseconds()), "µs/SBOM")
		if len(ours) == 2 {
			b.ReportMetric(float64(osvBatchPerSBOM.Nanoseconds())*portfolioSBOMs/ours[0], "ratio-advindex")
		}
	})
	// Agreement on the sample (not timed): what each found.
	x := watch.NewAdvisoryIndex(advs)
	hm := map[string]bool{}
	for i := range osvSample {
		for k := range pairsOf(x.Match(p.comps[i])) {
			hm[k] = true
		}
	}
	var onlyUs, onlyThem []string
	for k := range hm {
		if !osvPairs[k] {
			onlyUs = append(onlyUs, k)
		}
	}
	for k := range osvPairs {
		if !hm[k] {
			onlyThem = append(onlyThem, k)
		}
	}
	sort.Strings(onlyUs)
	sort.Strings(onlyThem)
	b.Logf("sample of %d SBOMs: hallmark %d (component, advisory) pairs, osv-scanner %d; only hallmark %d %q, only osv-scanner %d %q",
		osvSample, len(hm), len(osvPairs), len(onlyUs), first(onlyUs, 3), len(onlyThem), first(onlyThem, 3))
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

func heapLiveMiB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// scannerPairs reads osv-scanner's JSON into "purl advisory" pairs.
func scannerPairs(b testing.TB, out []byte) map[string]bool {
	var res struct {
		Results []struct {
			Packages []struct {
				Package         struct{ Name, Version, Ecosystem string }
				Vulnerabilities []struct{ ID string }
			}
		}
	}
	m := map[string]bool{}
	if len(bytes.TrimSpace(out)) == 0 {
		return m
	}
	if err := json.Unmarshal(out, &res); err != nil {
		b.Fatalf("osv-scanner output: %v: %.200s", err, out)
	}
	for _, r := range res.Results {
		for _, p := range r.Packages {
			for _, v := range p.Vulnerabilities {
				m["pkg:golang/"+p.Package.Name+"@"+p.Package.Version+" "+v.ID] = true
			}
		}
	}
	return m
}

// zipRecords zips dir's *.json as osv-scanner v2.4.0's offline database.
func zipRecords(b testing.TB, dir, zipPath string) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(zipPath), 0o755); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", `cd "$1" && zip -q -X "$2" ./*.json`, "sh", dir, zipPath)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("zip: %v: %s", err, out)
	}
}

// BenchmarkWatchNewAdvisory is one new advisory matched to its affected
// set among 10,000 product versions (the portfolio in a watch.Index):
// Index.Match for each of the 4,291 Go records in turn. ns/op is all
// 4,291; ms/advisory their mean; p50/p99/max-ms are over the records
// (each its fastest run, so that a scheduler pause on the shared machine
// does not count as the matcher's), and max-findings is the largest
// affected set. Target: under 10 ms.
func BenchmarkWatchNewAdvisory(b *testing.B) {
	p := getPortfolio(b)
	advs, _ := goRecords()
	x := watch.NewIndex()
	for i, cs := range p.comps {
		x.Add(int64(i+1), cs, watch.ProductIDs{Vendor: "Bench Devices", Product: fmt.Sprintf("product-%05d", i), Version: "1.0.0"})
	}
	lat := make([]time.Duration, len(advs)) // per record, the fastest of the runs
	cpu := make([]time.Duration, len(advs)) // per record, the least CPU time of this thread
	most := 0
	var worst string
	// On a shared machine wall time includes waiting for a core; the
	// thread's own CPU time (the matcher runs on one thread) does not.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for b.Loop() {
		for i, a := range advs {
			c0 := threadCPU()
			t := time.Now()
			n := len(x.Match(a))
			d, c := time.Since(t), threadCPU()-c0
			if lat[i] == 0 || d < lat[i] {
				lat[i] = d
			}
			if cpu[i] == 0 || c < cpu[i] {
				cpu[i] = c
			}
			if n > most {
				most, worst = n, a.ID
			}
		}
	}
	b.ReportMetric(pct(cpu, 99), "cpu-p99-ms")
	b.ReportMetric(pct(cpu, 100), "cpu-max-ms")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N)/float64(len(advs)), "ms/advisory")
	b.ReportMetric(pct(lat, 50), "p50-ms")
	b.ReportMetric(pct(lat, 99), "p99-ms")
	b.ReportMetric(pct(lat, 100), "max-ms")
	b.ReportMetric(float64(most), "max-findings")
	b.Logf("%d product versions; %d records; largest affected set %d findings (%s)", x.Len(), len(lat), most, worst)
}

// threadCPU is the CPU time of the calling OS thread, from the
// scheduler's own accounting (getrusage's thread times move in clock
// ticks, 4 ms here, too coarse for a matcher that takes about 1 ms).
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
