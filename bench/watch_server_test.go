package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/httpd"
	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// BenchmarkWatchIngestCorpus ingests every OSV (Go JSON, PyPI YAML) and
// CSAF (ICS) record of the corpus through Server.Ingest, in batches of
// 1,000 documents as `hallmark ingest` does, into a fresh server with the
// demo market (`serve --demo`'s demo.Full: its products, versions,
// components and labels). Each document is read and parsed (advisory.Parse)
// just before its batch, inside the measured time; files the parsers
// refuse are counted (refused) and left out. peak-MiB is the process'
// VmHWM over the measured part after a reset (target: under 1 GiB);
// docs/s is documents ingested per second. One iteration per run
// (-benchtime 1x): the second would find everything unchanged.
func BenchmarkWatchIngestCorpus(b *testing.B) {
	root := corpusRoot(b)
	var files []string
	for _, dir := range []string{"osv/go", "osv/pypi-yaml", "csaf/ics"} {
		filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				switch filepath.Ext(p) {
				case ".json", ".yaml", ".yml":
					files = append(files, p)
				}
			}
			return nil
		})
	}
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			st := benchStore(b, d)
			cheap := auth.TestParams
			srv, err := server.New(ctx, st, server.Config{DataDir: b.TempDir(), PublicURL: "https://registry.bench.example", PasswordParams: &cheap})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { srv.Close(context.Background()) })
			t0 := time.Now()
			if err := srv.LoadDemo(ctx, demo.Full); err != nil {
				b.Fatal(err)
			}
			targets, _ := st.WatchTargets(ctx)
			b.Logf("demo market loaded in %s: %d labelled versions", time.Since(t0).Round(time.Millisecond), len(targets))
			var docs, refused, advs int
			var total server.IngestReport
			var peak float64
			runs := 0
			for b.Loop() {
				if runs++; runs > 1 {
					b.Fatal("one iteration per run: use -benchtime 1x")
				}
				resetPeak()
				var batch []*advisory.Document
				flush := func() {
					if len(batch) == 0 {
						return
					}
					rep, err := srv.Ingest(ctx, auth.System, batch, server.IngestOptions{Confirm: true})
					if err != nil {
						b.Fatal(err)
					}
					total.Advisories += rep.Advisories
					total.Findings += rep.Findings
					total.Review += rep.Review
					total.Suspended += rep.Suspended
					total.Notified += rep.Notified
					batch = nil
				}
				for _, f := range files {
					raw, err := os.ReadFile(f)
					if err != nil {
						b.Fatal(err)
					}
					doc, err := advisory.Parse(raw)
					if err != nil {
						refused++
						continue
					}
					docs++
					advs += len(doc.Advisories)
					batch = append(batch, doc)
					if len(batch) == 1000 {
						flush()
					}
				}
				flush()
				peak = peakMiB()
			}
			b.ReportMetric(float64(docs), "docs")
			b.ReportMetric(float64(refused), "refused")
			b.ReportMetric(float64(total.Advisories), "advisories")
			b.ReportMetric(float64(total.Findings), "findings")
			b.ReportMetric(peak, "peak-MiB")
			b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "docs/s")
			b.Logf("%d files: %d documents ingested (%d advisories in them, %d stored), %d refused; %d findings, %d for review, %d notified, %d suspended",
				len(files), docs, advs, total.Advisories, refused, total.Findings, total.Review, total.Notified, total.Suspended)
		})
	}
}

// suspendLabels is how many labels BenchmarkWatchSuspend1k's advisory
// suspends.
const suspendLabels = 1000

// benchClock is a settable clock for the server.
type benchClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *benchClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

func (c *benchClock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// BenchmarkWatchSuspend1k is one advisory suspending 1,000 labels, through
// the real path. Setup (not timed): a fresh server (benchScheme, whose rule
// exploited-unfixed-suspend notifies, opens a 30-day clock and then
// suspends) and 1,000 labels issued through the gate on 1,000 versions
// whose SBOMs (uploaded with the version) all hold one Go module,
// github.com/bench-iot/sharedlib v1.4.0, beside one component of their own;
// then an OSV record (critical, no fix) for that module and a KEV entry
// for its CVE are ingested: 1,000 findings, notifications, clocks opened.
// The server's clock is then moved 31 days on, past the deadline.
//
// Measured, from the Server.Ingest call of the record's next revision
// (modified later, still unfixed: what a feed delivers) with Confirm (the
// 1,000 labels are more than HoldShare of all): ingest-s, until the call
// returns (matching, rules, the 1,000 suspensions through the gate);
// pages-s, until GET /api/v1/labels/{id}/status answers "suspended" for
// every label (polled over HTTP, 8 clients); list-s, until the signed
// suspension status lists, verified, show every label's bit; done-s, the
// later of the two.
func BenchmarkWatchSuspend1k(b *testing.B) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			clk := &benchClock{}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			url := "http://" + ln.Addr().String()
			lf := newLabelFixtureWith(b, d, func(c *server.Config) { c.PublicURL, c.Clock = url, clk.now })
			h, err := httpd.Handler(lf.srv)
			if err != nil {
				b.Fatal(err)
			}
			hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			go hs.Serve(ln)
			b.Cleanup(func() { hs.Close() })
			f := &decideFixture{labelFixture: lf, url: url,
				client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}

			t0 := time.Now()
			ls := issueWithSBOM(b, f, suspendLabels, 4)
			b.Logf("setup: %d labels on versions sharing github.com/bench-iot/sharedlib@v1.4.0 issued in %s", len(ls), time.Since(t0).Round(time.Millisecond))
			osv := func(modified string) string {
				return fmt.Sprintf(`{"schema_version": "1.6.0", "id": "GO-2099-0001", "modified": %q, "published": "2026-11-01T00:00:00Z",
					"aliases": ["CVE-2099-10001"], "summary": "Remote code execution in sharedlib",
					"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
					"affected": [{"package": {"ecosystem": "Go", "name": "github.com/bench-iot/sharedlib"},
					"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}`, modified)
			}
			kev := `{"title": "bench", "catalogVersion": "2026.11.20", "dateReleased": "2026-11-20T00:00:00.000Z", "count": 1,
				"vulnerabilities": [{"cveID": "CVE-2099-10001", "vendorProject": "Bench", "product": "sharedlib", "vulnerabilityName": "sharedlib RCE",
				"dateAdded": "2026-11-20", "shortDescription": "RCE.", "requiredAction": "Apply updates.", "dueDate": "2026-12-11",
				"knownRansomwareCampaignUse": "Unknown", "notes": ""}]}`
			rep, err := lf.srv.Ingest(ctx, auth.System, parseDocs(b, osv("2026-11-01T00:00:00Z"), kev), server.IngestOptions{Confirm: true})
			if err != nil || rep.Findings != suspendLabels || rep.Deadlines != suspendLabels || rep.Suspended != 0 {
				b.Fatalf("first ingest: %+v %v", rep, err)
			}
			clk.advance(31 * 24 * time.Hour)
			lists := map[int][]int{}
			for _, l := range ls {
				lists[l.StatusIndex/label.MinListBits] = append(lists[l.StatusIndex/label.MinListBits], l.StatusIndex%label.MinListBits)
			}
			update := parseDocs(b, osv("2026-11-25T00:00:00Z"))
			var ingest, pages, list time.Duration
			runs := 0
			for b.Loop() {
				if runs++; runs > 1 {
					b.Fatal("one iteration per run: use -benchtime 1x")
				}
				start := time.Now()
				rep, err := lf.srv.Ingest(ctx, auth.System, update, server.IngestOptions{Confirm: true})
				ingest = time.Since(start)
				if err != nil || rep.Suspended != suspendLabels {
					b.Fatalf("the update suspended %d of %d: %+v %v", rep.Suspended, suspendLabels, rep, err)
				}
				var wg sync.WaitGroup
				var perr, verr error
				wg.Go(func() {
					perr = f.waitPages(ls, "suspended", 8, 5*time.Minute)
					pages = time.Since(start)
				})
				wg.Go(func() {
					verr = f.waitVisibleAt(lists, clk.now, 5*time.Minute)
					list = time.Since(start)
				})
				wg.Wait()
				if err := errors.Join(perr, verr); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(ingest.Seconds(), "ingest-s")
			b.ReportMetric(pages.Seconds(), "pages-s")
			b.ReportMetric(list.Seconds(), "list-s")
			b.ReportMetric(max(pages, list).Seconds(), "done-s")
			for _, l := range ls[:10] {
				got, _ := lf.st.Label(ctx, l.ID)
				if got.Status != assess.Suspended {
					b.Fatalf("label %s is %s", l.ID, got.Status)
				}
			}
		})
	}
}

func parseDocs(b *testing.B, docs ...string) []*advisory.Document {
	b.Helper()
	var out []*advisory.Document
	for _, d := range docs {
		doc, err := advisory.Parse([]byte(d))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, doc)
	}
	return out
}

// issueWithSBOM issues n labels as issueOne does, each on a version whose
// uploaded SBOM holds the shared module and one module of its own.
func issueWithSBOM(b *testing.B, f *decideFixture, n, workers int) []registry.Label {
	b.Helper()
	ctx := context.Background()
	out := make([]registry.Label, n)
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				l, err := f.issueSBOM(ctx, i)
				if err != nil {
					errs[w] = fmt.Errorf("label %d: %w", i, err)
					return
				}
				out[i] = l
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
	return out
}

func (f *decideFixture) issueSBOM(ctx context.Context, i int) (registry.Label, error) {
	raw := fmt.Sprintf(`{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": [
		{"type": "library", "name": "github.com/bench-iot/sharedlib", "version": "v1.4.0", "purl": "pkg:golang/github.com/bench-iot/sharedlib@v1.4.0"},
		{"type": "library", "name": "github.com/bench-iot/app%d", "version": "v1.0.%d", "purl": "pkg:golang/github.com/bench-iot/app%d@v1.0.%d"}]}`, i, i, i, i)
	sb, err := server.ParseSBOM([]byte(raw))
	if err != nil {
		return registry.Label{}, err
	}
	return f.issue(ctx, fmt.Sprintf("4.%d.%d", i/1000, i%1000), sb)
}

// waitPages polls GET /api/v1/labels/{id}/status for every label, with
// clients side by side, until each answers want.
func (f *decideFixture) waitPages(ls []registry.Label, want string, clients int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var next atomic.Int64
	errs := make([]error, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ls) {
					return
				}
				for {
					resp, err := f.client.Get(f.url + "/api/v1/labels/" + ls[i].ID + "/status")
					if err != nil {
						errs[c] = err
						return
					}
					var st struct{ Status string }
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err := json.Unmarshal(body, &st); err != nil || resp.StatusCode != http.StatusOK {
						errs[c] = fmt.Errorf("label %s: %d %v", ls[i].ID, resp.StatusCode, err)
						return
					}
					if st.Status == want {
						break
					}
					if time.Now().After(deadline) {
						errs[c] = fmt.Errorf("label %s still %s after %s", ls[i].ID, st.Status, limit)
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitVisibleAt is waitVisible with the lists verified at the server's
// clock (the benchmark moved it 31 days on; the lists are signed then).
func (f *decideFixture) waitVisibleAt(lists map[int][]int, now func() time.Time, limit time.Duration) error {
	keys := f.srv.Keys().PublicKeys()
	deadline := time.Now().Add(limit)
	for n, bits := range lists {
		for {
			resp, err := f.client.Get(fmt.Sprintf("%s/status/%s/%d", f.url, label.PurposeSuspension, n))
			if err != nil {
				return err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET suspension list %d: %d %v", n, resp.StatusCode, err)
			}
			snap, err := label.VerifyStatusList(string(body), keys, now())
			if err != nil {
				return fmt.Errorf("suspension list %d does not verify: %w", n, err)
			}
			missing := 0
			for _, i := range bits {
				if set, err := snap.Bits.Get(i); err != nil || !set {
					missing++
				}
			}
			if missing == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("suspension list %d: %d of %d bits still clear after %s", n, missing, len(bits), limit)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}
