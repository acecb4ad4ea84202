package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/mirror"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// mirrorEntries is the size of the log BenchmarkMirrorLog copies;
// MIRROR_ENTRIES overrides it for a quick run.
func mirrorEntries() int {
	var v int
	if _, err := fmt.Sscan(os.Getenv("MIRROR_ENTRIES"), &v); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

const mirrorOrigin = "bench.example/log"

// bigLog builds (once, kept in the temporary directory between runs) a log
// of n canonical decision entries, written straight through Tessera's
// POSIX driver in large batches: building it is not what is measured.
func bigLog(b *testing.B, n int) (dir string, verifiers note.Verifiers) {
	b.Helper()
	root := filepath.Join(os.TempDir(), fmt.Sprintf("hallmark-bench-mirror-%d", n))
	dir, keys := filepath.Join(root, "log"), filepath.Join(root, "keys")
	signer, _, err := tlog.LoadOrCreateSigner(keys, mirrorOrigin)
	if err != nil {
		b.Fatal(err)
	}
	if verifiers, _, err = tlog.Verifiers(keys); err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "complete")); err == nil {
		return dir, verifiers
	}
	os.RemoveAll(dir)
	ctx := context.Background()
	driver, err := posix.New(ctx, posix.Config{Path: dir})
	if err != nil {
		b.Fatal(err)
	}
	app, shutdown, reader, err := tessera.NewAppender(ctx, driver, tessera.NewAppendOptions().
		WithCheckpointSigner(signer).WithCheckpointInterval(time.Second).WithBatching(4096, 50*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	awaiter := tessera.NewPublicationAwaiter(ctx, reader.ReadCheckpoint, 100*time.Millisecond)
	t0 := time.Now()
	var last tessera.IndexFuture
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		// Each label is issued, then suspended: two decisions per label.
		status, kind := "active", tlog.KindLabelIssued
		if i%2 == 1 {
			status, kind = "suspended", tlog.KindLabelSuspended
		}
		e := tlog.Entry{Version: 1, Kind: kind, Authority: mirrorOrigin, Subject: fmt.Sprintf("HM-%07d", i/2), Digest: fmt.Sprintf("%064x", i/2),
			Status: status, StatusIndex: i / 2, At: at.Add(time.Duration(i) * time.Second), Ref: fmt.Sprint(i)}
		last = app.Add(ctx, tessera.NewEntry(e.Marshal()))
		if i%100_000 == 99_999 {
			if _, _, err := awaiter.Await(ctx, last); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, _, err := awaiter.Await(ctx, last); err != nil {
		b.Fatal(err)
	}
	if err := shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "complete"), nil, 0o644)
	b.Logf("built a %d-entry log in %s", n, time.Since(t0).Round(time.Second))
	return dir, verifiers
}

// peakHeap samples the heap in use while f runs.
func peakHeap(f func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	return peak.Load()
}

// BenchmarkMirrorLog copies a 1,000,000-entry log over HTTP on loopback
// into an empty mirror: every tile and entry bundle fetched, the whole tree
// rehashed and every tile compared (tlog.Audit), then committed and
// cosigned. Compared with "audit": the same full audit over the same HTTP
// server with nothing stored, the verification a mirror cannot skip; and
// "incremental": the next pass after 0 new entries, which reads the copy
// from local disk. Reports seconds per pass and the peak heap.
func BenchmarkMirrorLog(b *testing.B) {
	n := mirrorEntries()
	dir, verifiers := bigLog(b, n)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	fetch := tlog.HTTPFetcher(srv.URL, srv.Client())
	msigner, _, err := tlog.LoadOrCreateWitnessSigner(b.TempDir(), "bench.example/mirror")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	report := func(b *testing.B, peak uint64, d time.Duration) {
		b.ReportMetric(d.Seconds(), "s/pass")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(n)/d.Seconds(), "entries/s")
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			m := &mirror.Mirror{Root: b.TempDir(), Origin: mirrorOrigin, Verifiers: verifiers, Signer: msigner}
			runtime.GC()
			b.StartTimer()
			t0 := time.Now()
			var res mirror.Result
			peak := peakHeap(func() { res, err = m.Update(ctx, fetch) })
			if err != nil || len(res.Problems) > 0 || res.Size != uint64(n) {
				b.Fatalf("%v %v size %d", err, res.Problems[:min(3, len(res.Problems))], res.Size)
			}
			report(b, peak, time.Since(t0))
		}
	})
	b.Run("audit", func(b *testing.B) {
		for b.Loop() {
			runtime.GC()
			t0 := time.Now()
			var rep tlog.AuditReport
			peak := peakHeap(func() { rep, err = tlog.Audit(ctx, fetch, verifiers, mirrorOrigin, nil) })
			if err != nil || !rep.OK() {
				b.Fatalf("%v %v", err, rep.Problems[:min(3, len(rep.Problems))])
			}
			report(b, peak, time.Since(t0))
		}
	})
	b.Run("incremental", func(b *testing.B) {
		m := &mirror.Mirror{Root: b.TempDir(), Origin: mirrorOrigin, Verifiers: verifiers, Signer: msigner}
		if _, err := m.Update(ctx, fetch); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			runtime.GC()
			t0 := time.Now()
			var res mirror.Result
			peak := peakHeap(func() { res, err = m.Update(ctx, fetch) })
			if err != nil || len(res.Problems) > 0 {
				b.Fatalf("%v %v", err, res.Problems[:min(3, len(res.Problems))])
			}
			report(b, peak, time.Since(t0))
		}
	})
}

// quantile is the nearest-rank q-quantile of sorted durations.
func quantile(ds []time.Duration, q float64) time.Duration {
	slices.Sort(ds)
	i := int(q*float64(len(ds))+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}
