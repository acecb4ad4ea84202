package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/httpd"
	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// The decision benchmarks drive a real server through its HTTP API on
// loopback, as an authority's client does: bearer token, JSON bodies, and
// the server's own handler (httpd.Handler) on a real listener. The server
// runs with the configuration `hallmark serve` uses (the log's checkpoint
// interval is its default, 1 s), on a fresh database per run.

// batchLabels is how many labels the batch benchmark suspends at once, and
// batchLimit the time they must all be logged with receipts and visible in
// the signed status lists within.
const (
	batchLabels = 10000
	batchLimit  = 30 * time.Second
)

// decideFixture is a labelFixture served over HTTP with an API token of the
// scheme's authority.
type decideFixture struct {
	*labelFixture
	url, token string
	client     *http.Client
	seq        atomic.Int64 // software versions handed out by issueMany
}

func newDecideFixture(b *testing.B, d store.Dialect) *decideFixture {
	b.Helper()
	// Listen first, so the server knows its own public URL (status list
	// URLs in the credentials point at it).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	lf := newLabelFixtureWith(b, d, func(c *server.Config) { c.PublicURL = url })
	h, err := httpd.Handler(lf.srv)
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	b.Cleanup(func() { hs.Close() }) // runs before the server's and the store's cleanups
	tok, err := lf.srv.NewAPIToken(context.Background(), lf.authority, "bench")
	if err != nil {
		b.Fatal(err)
	}
	return &decideFixture{labelFixture: lf, url: url, token: tok,
		client: &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// issueMany issues n active labels of benchScheme through the server's
// exported methods (version, application, submit, assign, findings,
// complete, approve: every decision through the gate), with workers
// running side by side. It returns the labels in the order issued.
func (f *decideFixture) issueMany(b *testing.B, n, workers int) []registry.Label {
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
				l, err := f.issueOne(ctx)
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

func (f *decideFixture) issueOne(ctx context.Context) (registry.Label, error) {
	k := f.seq.Add(1)
	return f.issue(ctx, fmt.Sprintf("3.%d.%d", k/1000, k%1000), nil)
}

// issue takes one version (with its SBOM, if any) from application to
// label through the gate, every step as the actor who takes it.
func (f *decideFixture) issue(ctx context.Context, version string, sb *server.ParsedSBOM) (registry.Label, error) {
	vid, err := f.srv.CreateVersion(ctx, f.mfr, registry.Version{ProductID: f.product,
		SoftwareVersion: version, HardwareVersion: "B",
		Facts: registry.Facts{SupportEnd: "2031-12-31", UpdateMode: "automatic", PasswordType: "unique-per-device",
			SecurityContact: "security@bench.example", Sensors: []string{"video", "audio"}}}, sb)
	if err != nil {
		return registry.Label{}, err
	}
	app, err := f.srv.Apply(ctx, f.mfr, vid, benchScheme+"@"+benchLevel)
	if err != nil {
		return registry.Label{}, err
	}
	if _, err := f.srv.AddEvidence(ctx, f.mfr, app, "test-report.txt", "text/plain", strings.NewReader("every requirement met")); err != nil {
		return registry.Label{}, err
	}
	if _, err := f.srv.Step(ctx, f.mfr, app, assess.Submit, "", 0); err != nil {
		return registry.Label{}, err
	}
	if _, err := f.srv.Step(ctx, f.authority, app, assess.Assign, "", f.lab.OrgID); err != nil {
		return registry.Label{}, err
	}
	if err := f.st.RecordFindings(ctx, app, f.findings, f.lab.UserID, f.lab.OrgID, time.Now().UTC()); err != nil {
		return registry.Label{}, err
	}
	if _, err := f.srv.Step(ctx, f.lab, app, assess.Complete, "", 0); err != nil {
		return registry.Label{}, err
	}
	o, err := f.srv.Step(ctx, f.authority, app, assess.Approve, "All required requirements met.", 0)
	if err != nil {
		return registry.Label{}, err
	}
	if o.Label.ID == "" || o.Label.Status != assess.Active {
		return registry.Label{}, fmt.Errorf("approval issued no active label: %+v", o)
	}
	return o.Label, nil
}

// post sends a JSON body with the authority's token and returns the
// status and the body.
func (f *decideFixture) post(path string, body any) (int, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequest(http.MethodPost, f.url+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	return resp.StatusCode, rb, err
}

// settle waits until every decision so far is logged with its receipt.
func (f *decideFixture) settle(b *testing.B, limit time.Duration) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	start := time.Now()
	if err := f.srv.WaitLogged(ctx); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// checkReceipts confirms that the newest decision about each label is the
// expected one, logged, with a receipt (not timed).
func (f *decideFixture) checkReceipts(b *testing.B, ls []registry.Label, status assess.LabelStatus) {
	b.Helper()
	for _, l := range ls {
		ds, err := f.srv.Receipts(context.Background(), l.ID)
		if err != nil || len(ds) == 0 {
			b.Fatalf("label %s: no decisions: %v", l.ID, err)
		}
		d := ds[len(ds)-1]
		if d.Status != string(status) || !d.Logged || d.Receipt == "" {
			b.Fatalf("label %s: newest decision %s %s logged=%v receipt %d bytes", l.ID, d.Kind, d.Status, d.Logged, len(d.Receipt))
		}
	}
}

func pct(lat []time.Duration, p int) float64 {
	s := slices.Sorted(slices.Values(lat))
	return float64(s[min(len(s)-1, len(s)*p/100)].Microseconds()) / 1000
}

// BenchmarkDecideSequential is one authority client deciding one label
// action after another through POST /api/v1/labels/{id}/actions, waiting
// for each 2xx: suspend, then restore, in turn over a set of labels.
// It reports decisions/s and the latency of each request (p50, p99), and
// logged-after-ms: how long after the last acknowledgement every decision
// is in the log with its receipt (WaitLogged; decisions are acknowledged
// once durable and logged behind). Target: ≥ 100 decisions/s.
func BenchmarkDecideSequential(b *testing.B) {
	const set = 64
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			f := newDecideFixture(b, d)
			ls := f.issueMany(b, set, 2)
			f.settle(b, 2*time.Minute) // the issuance decisions are not part of the figure
			suspended := make([]bool, set)
			var lat []time.Duration
			i := 0
			for b.Loop() {
				k := i % set
				action := assess.SuspendLabel
				if suspended[k] {
					action = assess.RestoreLabel
				}
				t0 := time.Now()
				code, body, err := f.post("/api/v1/labels/"+ls[k].ID+"/actions",
					map[string]string{"action": string(action), "reason": "Bench: an actively exploited vulnerability, fixed again."})
				lat = append(lat, time.Since(t0))
				if err != nil || code/100 != 2 {
					b.Fatalf("%s %s: %d %v %s", action, ls[k].ID, code, err, body)
				}
				suspended[k] = !suspended[k]
				i++
			}
			elapsed := b.Elapsed()
			logged := f.settle(b, 5*time.Minute)
			b.ReportMetric(float64(i)/elapsed.Seconds(), "decisions/s")
			b.ReportMetric(pct(lat, 50), "p50-ms")
			b.ReportMetric(pct(lat, 99), "p99-ms")
			b.ReportMetric(float64(logged.Milliseconds()), "logged-after-ms")
			var last []registry.Label
			for k := range set {
				if suspended[k] {
					last = append(last, ls[k])
				}
			}
			f.checkReceipts(b, last, assess.Suspended)
		})
	}
}

// BenchmarkSuspend10k is an advisory's worth of suspensions requested
// together: batchLabels active labels of one scheme, issued through the
// gate with the timer stopped (and their issuance decisions logged), then
// ONE POST /api/v1/label-actions naming all of them. Per run it reports
//
//   - ack-s: the time to the 2xx;
//   - logged-s: until every decision is in the log with its receipt
//     (WaitLogged, from the request's start);
//   - visible-s: until the signed suspension lists, fetched over HTTP from
//     /status/suspension/{n} and verified with label.VerifyStatusList
//     against the server's keys, show every one of the bits;
//   - done-s: the later of the two, and ratio-vs-30s, the limit over it
//     (target: done within 30 s, ratio ≥ 1).
//
// Each run sets up a fresh server and database (nothing is reused between
// runs); run it with -benchtime 1x. SUSPEND10K_CPUPROFILE=prefix writes a
// CPU profile of the measured part alone (from the request to done) to
// prefix-<dialect>-<run>.pprof: go test's -cpuprofile would be mostly the
// setup's issuance.
func BenchmarkSuspend10k(b *testing.B) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			f := newDecideFixture(b, d)
			t0 := time.Now()
			ls := f.issueMany(b, batchLabels, 4)
			issued := time.Since(t0)
			settled := f.settle(b, 10*time.Minute)
			b.Logf("setup: %d labels issued in %s, their decisions logged %s later", len(ls), issued.Round(time.Millisecond), settled.Round(time.Millisecond))
			ids := make([]string, len(ls))
			lists := map[int][]int{} // list number -> bits to see set
			for i, l := range ls {
				ids[i] = l.ID
				lists[l.StatusIndex/label.MinListBits] = append(lists[l.StatusIndex/label.MinListBits], l.StatusIndex%label.MinListBits)
			}
			req := map[string]any{"action": string(assess.SuspendLabel),
				"reason": "Bench advisory: an actively exploited vulnerability in a shared component.", "labels": ids}
			var ack, logged, visible time.Duration
			runs := 0
			for b.Loop() {
				if runs++; runs > 1 {
					b.Fatal("one iteration per run: use -benchtime 1x (the labels are suspended now)")
				}
				stopProfile := startProfile(b, string(d))
				start := time.Now()
				code, body, err := f.post("/api/v1/label-actions", req)
				ack = time.Since(start)
				if err != nil || code != http.StatusOK {
					b.Fatalf("POST /api/v1/label-actions: %d %v %.300s", code, err, body)
				}
				var res struct{ Decided, Refused int }
				if err := json.Unmarshal(body, &res); err != nil || res.Decided != len(ids) || res.Refused != 0 {
					b.Fatalf("decided %d, refused %d of %d: %v", res.Decided, res.Refused, len(ids), err)
				}
				var wg sync.WaitGroup
				var werr, verr error
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
					defer cancel()
					werr = f.srv.WaitLogged(ctx)
					logged = time.Since(start)
				})
				wg.Go(func() {
					verr = f.waitVisible(lists, 10*time.Minute)
					visible = time.Since(start)
				})
				wg.Wait()
				stopProfile()
				if err := errors.Join(werr, verr); err != nil {
					b.Fatal(err)
				}
			}
			done := max(logged, visible)
			b.ReportMetric(ack.Seconds(), "ack-s")
			b.ReportMetric(logged.Seconds(), "logged-s")
			b.ReportMetric(visible.Seconds(), "visible-s")
			b.ReportMetric(done.Seconds(), "done-s")
			b.ReportMetric(batchLimit.Seconds()/done.Seconds(), "ratio-vs-30s")
			f.checkReceipts(b, ls, assess.Suspended)
		})
	}
}

// waitVisible polls the signed suspension lists over HTTP until each shows
// every bit in lists set, verifying each list's signature and validity.
func (f *decideFixture) waitVisible(lists map[int][]int, limit time.Duration) error {
	keys := f.srv.Keys().PublicKeys()
	deadline := time.Now().Add(limit)
	for n, bits := range lists {
		for {
			missing, err := f.missingBits(n, bits, keys)
			if err != nil {
				return err
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

func (f *decideFixture) missingBits(n int, bits []int, keys label.PublicKeys) (int, error) {
	resp, err := f.client.Get(fmt.Sprintf("%s/status/%s/%d", f.url, label.PurposeSuspension, n))
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET suspension list %d: %d %v", n, resp.StatusCode, err)
	}
	snap, err := label.VerifyStatusList(string(body), keys, time.Now())
	if err != nil {
		return 0, fmt.Errorf("suspension list %d does not verify: %w", n, err)
	}
	missing := 0
	for _, i := range bits {
		if set, err := snap.Bits.Get(i); err != nil || !set {
			missing++
		}
	}
	return missing, nil
}

var profileRuns atomic.Int64

// startProfile starts a CPU profile when SUSPEND10K_CPUPROFILE is set and
// returns what stops it.
func startProfile(b *testing.B, name string) func() {
	prefix := os.Getenv("SUSPEND10K_CPUPROFILE")
	if prefix == "" {
		return func() {}
	}
	path := fmt.Sprintf("%s-%s-%d.pprof", prefix, name, profileRuns.Add(1))
	pf, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		pf.Close()
		b.Logf("CPU profile of the measured part: %s", path)
	}
}
