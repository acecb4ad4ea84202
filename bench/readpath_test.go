package bench

// BenchmarkReadPath: the public read path on a synthetic market (issue 15).
// For each size and database it loads demo.Synth with store.LoadSynthetic,
// starts the real handler (httpd.Handler) on a loopback port, publishes
// the static tree (hallmark publish's code) and serves it with a plain
// http.FileServer on another port with the same server settings (the
// static peer), then drives both with bench/loadgen, a separate process,
// alternating target and peer in slices so machine load weighs on both.
//
//	READ_SIZES=1000,100000 READ_DB=sqlite READ_DUR=3s \
//	  go test ./bench/ -run '^$' -bench '^BenchmarkReadPath$' -benchtime 1x -v -timeout 60m

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/httpd"
	"github.com/hallmark-iot/hallmark/internal/publish"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/web"
)

func BenchmarkReadPath(b *testing.B) {
	sizes := []int{1000, 100000}
	if v := os.Getenv("READ_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatalf("READ_SIZES: %q", v)
			}
			sizes = append(sizes, n)
		}
	}
	dialects := []store.Dialect{store.SQLite, store.Postgres}
	if v := os.Getenv("READ_DB"); v != "" {
		dialects = nil
		for _, d := range strings.Split(v, ",") {
			dialects = append(dialects, store.Dialect(d))
		}
	}
	dur := 3 * time.Second
	if v := os.Getenv("READ_DUR"); v != "" {
		var err error
		if dur, err = time.ParseDuration(v); err != nil {
			b.Fatal(err)
		}
	}
	loadgen := filepath.Join(b.TempDir(), "loadgen")
	if out, err := exec.Command("go", "build", "-o", loadgen, "./loadgen").CombinedOutput(); err != nil {
		b.Fatalf("build loadgen: %v\n%s", err, out)
	}
	for _, n := range sizes {
		for _, d := range dialects {
			b.Run(fmt.Sprintf("%s-%d", d, n), func(b *testing.B) { benchReadPath(b, d, n, loadgen, dur) })
		}
	}
}

// serveLoopback serves h on a random loopback port with httpd's settings.
func serveLoopback(b *testing.B, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func fetchBody(b *testing.B, u string) []byte {
	resp, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return body
}

type loadResult struct {
	rps, peerRPS, p99, peerP99 float64
}

// runLoad runs loadgen and reads its hallmark and static lines.
func runLoad(b *testing.B, loadgen, name, target, peer string, dur time.Duration, extra ...string) loadResult {
	args := append([]string{"-name", name, "-c", "16", "-d", dur.String(), "-rounds", "3", "-target", target}, extra...)
	if peer != "" {
		args = append(args, "-peer", peer)
	}
	out, err := exec.Command(loadgen, args...).CombinedOutput()
	if err != nil {
		b.Fatalf("loadgen %s: %v\n%s", name, err, out)
	}
	var r loadResult
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 12 || (f[1] != "hallmark" && f[1] != "static") {
			continue
		}
		rps, _ := strconv.ParseFloat(f[2], 64)
		p99, _ := strconv.ParseFloat(f[11], 64)
		if f[1] == "hallmark" {
			r.rps, r.p99 = rps, p99
		} else {
			r.peerRPS, r.peerP99 = rps, p99
		}
	}
	b.Logf("%s", strings.TrimSpace(string(out)))
	return r
}

// procMem is the process' resident memory now and at its peak.
func procMem() string {
	b, _ := os.ReadFile("/proc/self/status")
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") || strings.HasPrefix(l, "VmHWM:") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(out, ", ")
}

func benchReadPath(b *testing.B, d store.Dialect, n int, loadgen string, dur time.Duration) {
	ctx := context.Background()
	st := benchStore(b, d)
	// The public URL is the handler's own address, so links and status
	// list URLs point at it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cheap := auth.TestParams
	srv, err := server.New(ctx, st, server.Config{DataDir: b.TempDir(), PublicURL: base, PasswordParams: &cheap, WithoutLog: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close(context.Background()) })
	levels := synthLevels(b, srv)
	now := time.Now().UTC().Truncate(time.Second)
	rep, err := st.LoadSynthetic(ctx, n, 1, now, levels, func(r store.SynthReport) {
		fmt.Fprintf(os.Stderr, "\r%s: %d of %d products, %d labels, %s ", d, r.Products, n, r.Labels, r.Took.Round(time.Second))
	})
	fmt.Fprintln(os.Stderr)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s, %d products: %d labels loaded in %s", d, rep.Products, rep.Labels, rep.Took.Round(time.Second))
	h, err := httpd.Handler(srv)
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	go hs.Serve(ln)
	b.Cleanup(func() { hs.Close() })

	// The static tree, and the peer serving it.
	tree := b.TempDir()
	p := &publish.Publisher{App: srv, Handler: h, Dir: tree, Static: web.StaticFiles()}
	if os.Getenv("READ_PUBLISH") == "part" {
		// Only what the peers serve (the whole tree takes minutes at
		// 100,000 labels; measure it once, on one database).
		first, _, err := srv.Labels(ctx, store.LabelQuery{Status: assess.Active, Limit: 1})
		if err != nil || len(first) == 0 {
			b.Fatal("no active label", err)
		}
		if _, err := p.Changed(ctx, []string{first[0].ID}); err != nil {
			b.Fatal(err)
		}
	} else {
		prep, err := p.All(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(prep.Took.Seconds(), "publish-s")
		b.ReportMetric(float64(prep.Bytes)/1e6, "publish-MB")
		b.Logf("publish: %d files, %.1f MB in %s", prep.Files, float64(prep.Bytes)/1e6, prep.Took.Round(time.Millisecond))
	}
	static := serveLoopback(b, http.FileServer(http.Dir(tree)))
	if os.Getenv("READ_LOAD") == "0" {
		return // the publication alone (profiling)
	}

	// What to read: an active label, the first and the last registry
	// page (by cursor), a search.
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
		Total  int    `json:"total"`
		Cursor string `json:"cursor"`
	}
	json.Unmarshal(fetchBody(b, base+"/api/v1/labels?status=active&limit=1"), &page)
	if len(page.Items) == 0 {
		b.Fatal("no active label")
	}
	id := page.Items[0].ID
	all, total, err := srv.Labels(ctx, store.LabelQuery{Limit: 1, NoTotal: false})
	if err != nil || len(all) == 0 {
		b.Fatal(err)
	}
	// The cursor of the last page of 50: the key of the label before it.
	before, _, err := srv.Labels(ctx, store.LabelQuery{Limit: 51, Oldest: true})
	if err != nil {
		b.Fatal(err)
	}
	lastCursor := store.KeyOf(before[0]).Encode()
	peers := filepath.Join(tree, "bench")
	os.MkdirAll(peers, 0o755)
	save := func(name, u string) string {
		os.WriteFile(filepath.Join(peers, name), fetchBody(b, u), 0o644)
		return static + "/bench/" + name
	}
	searchWord := strings.Fields(all[0].ProductName)[0]
	type pair struct{ name, target, peer string }
	pairs := []pair{
		{"label-page", base + "/labels/" + id, static + "/labels/" + id + "/"},
		{"status-api", base + "/api/v1/labels/" + id + "/status", save("status.json", base+"/api/v1/labels/"+id+"/status")},
		{"status-list", base + "/status/suspension/0", static + "/status/suspension/0"},
		{"registry-first", base + "/api/v1/labels?limit=50", save("first.json", base+"/api/v1/labels?limit=50")},
		{"registry-last", base + "/api/v1/labels?limit=50&cursor=" + lastCursor, save("last.json", base+"/api/v1/labels?limit=50&cursor="+lastCursor)},
		{"search", base + "/api/v1/labels?limit=50&q=" + searchWord, save("search.json", base+"/api/v1/labels?limit=50&q="+searchWord)},
	}
	results := map[string]loadResult{}
	rate := 5000
	if v := os.Getenv("READ_RATE"); v != "" {
		rate, _ = strconv.Atoi(v)
	}
	only := os.Getenv("READ_PAIRS") // a comma-separated subset, for profiling
	for _, pr := range pairs {
		if only != "" && !slices.Contains(strings.Split(only, ","), pr.name) {
			continue
		}
		r := runLoad(b, loadgen, pr.name, pr.target, pr.peer, dur)
		results[pr.name] = r
		b.ReportMetric(r.rps/max(r.peerRPS, 1), pr.name+"-ratio")
		b.ReportMetric(r.p99, pr.name+"-p99-ms")
		// Latency at a stated load (open loop), where a saturated run's
		// p99 mostly measures its own queue of 16 on 2 cores.
		o := runLoad(b, loadgen, pr.name+"@"+strconv.Itoa(rate), pr.target, pr.peer, dur, "-rate", strconv.Itoa(rate))
		b.ReportMetric(o.p99, pr.name+"-p99-ms-at-rate")
		b.Logf("ROW %s | %.0f vs %.0f req/s = %.2f; p99 %.1f vs %.1f ms; at %d req/s p99 %.1f vs %.1f ms",
			pr.name, r.rps, r.peerRPS, r.rps/max(r.peerRPS, 1), r.p99, r.peerP99, rate, o.p99, o.peerP99)
	}

	// Cold costs that a cache hides: one search and the last page, first
	// time asked (a fresh query each).
	for _, c := range []struct{ name, u string }{
		{"search-cold", base + "/api/v1/labels?limit=50&q=" + strings.ToLower(searchWord[:min(3, len(searchWord))])},
		{"last-cold", base + "/api/v1/labels?limit=49&cursor=" + lastCursor},
		{"first-cold", base + "/api/v1/labels?limit=49"},
	} {
		t0 := time.Now()
		fetchBody(b, c.u)
		b.ReportMetric(float64(time.Since(t0).Microseconds())/1000, c.name+"-ms")
	}

	// The whole registry by cursor, as hallmark audit reads it.
	t0 := time.Now()
	u, walked := base+"/api/v1/labels?limit=1000", 0
	for u != "" {
		var pg struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next"`
		}
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Cache-Control", "no-cache")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&pg)
		resp.Body.Close()
		walked += len(pg.Items)
		u = pg.Next
	}
	walk := time.Since(t0)
	if walked != total {
		b.Fatalf("walked %d labels of %d", walked, total)
	}
	b.ReportMetric(walk.Seconds()*1e6/float64(total), "walk-us/label")
	b.Logf("registry walk by cursor: %d labels in %s", walked, walk.Round(time.Millisecond))

	// A burst of suspensions while the status list is read, two ways: one
	// decision a label, as API callers make them (each its own transaction:
	// the worst case), and as the post-market watch applies a finding to
	// the labels it affects (one request, written in chunks). Readers in
	// this process count what is answered within the burst's own window,
	// against the same readers before it.
	burst := min(10000, total/8)
	actives, _, err := srv.Labels(ctx, store.LabelQuery{Status: assess.Active, Limit: 2 * burst})
	if err != nil || len(actives) < 2*burst {
		b.Fatalf("want %d active labels, have %d (%v)", 2*burst, len(actives), err)
	}
	listURL := base + "/status/suspension/0"
	calm := readDuring(b, listURL, func() { time.Sleep(dur) })
	b.Logf("status list read in-process before the bursts: %.0f req/s, p99 %.1f ms", calm.rps, calm.p99)
	if f := os.Getenv("READ_BURST_PROFILE"); f != "" {
		// The bursts' CPU alone (do not combine with go test -cpuprofile).
		out, err := os.Create(f)
		if err != nil {
			b.Fatal(err)
		}
		pprof.StartCPUProfile(out)
		defer func() { pprof.StopCPUProfile(); out.Close() }()
	}
	for _, mode := range []string{"one-by-one", "as-the-watch"} {
		if m := os.Getenv("READ_BURSTS"); m != "" && !slices.Contains(strings.Split(m, ","), mode) {
			continue // a subset, for profiling
		}
		ids := actives[:burst]
		if mode == "as-the-watch" {
			ids = actives[burst:]
		}
		var done atomic.Int64
		var took time.Duration
		during := readDuring(b, listURL, func() {
			start := time.Now()
			defer func() { took = time.Since(start) }()
			if mode == "as-the-watch" {
				reqs := make([]server.Request, len(ids))
				for k, l := range ids {
					reqs[k] = server.Request{Label: l.ID, Action: assess.SuspendLabel, Reason: "benchmark burst"}
				}
				out, err := srv.Decide(ctx, auth.System, reqs...)
				if err != nil {
					b.Error(err)
				}
				for _, o := range out {
					if o.Err == nil {
						done.Add(1)
					}
				}
				return
			}
			work := make(chan string)
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for id := range work {
						if _, err := srv.ChangeLabel(ctx, auth.System, id, assess.SuspendLabel, "benchmark burst"); err == nil {
							done.Add(1)
						}
					}
				}()
			}
			for _, l := range ids {
				work <- l.ID
			}
			close(work)
			wg.Wait()
		})
		if done.Load() != int64(len(ids)) {
			b.Fatalf("burst %s: %d of %d suspensions", mode, done.Load(), len(ids))
		}
		b.ReportMetric(during.rps/max(calm.rps, 1), "burst-"+mode+"-read-ratio")
		b.ReportMetric(during.p99, "burst-"+mode+"-p99-ms")
		b.Logf("burst %s: %d suspensions in %s; status list %.0f req/s during it (%.0f before) = %.2f, p99 %.1f ms",
			mode, done.Load(), took.Round(time.Millisecond), during.rps, calm.rps, during.rps/max(calm.rps, 1), during.p99)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	b.Logf("process memory after the runs: %s (heap in use %d MiB)", procMem(), ms.HeapInuse>>20)
}

// readDuring keeps 16 readers fetching u (keep-alive, whole bodies) while
// work runs, and reports what they were answered within work's window
// alone: the readers start, and are warm, before it does.
func readDuring(b *testing.B, u string, work func()) loadResult {
	tr := &http.Transport{MaxIdleConnsPerHost: 16, MaxConnsPerHost: 16, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var measuring, stop atomic.Bool
	lat := make([][]time.Duration, 16)
	var wg sync.WaitGroup
	for w := range lat {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				t0 := time.Now()
				resp, err := client.Get(u)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("GET %s: %s", u, resp.Status)
					return
				}
				if measuring.Load() {
					lat[w] = append(lat[w], time.Since(t0))
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // warm
	measuring.Store(true)
	t0 := time.Now()
	work()
	elapsed := time.Since(t0)
	measuring.Store(false)
	stop.Store(true)
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := loadResult{rps: float64(len(all)) / elapsed.Seconds()}
	if len(all) > 0 {
		r.p99 = float64(all[min(len(all)-1, len(all)*99/100)]) / float64(time.Millisecond)
	}
	return r
}
