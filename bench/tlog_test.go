package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// decisionBatch is how many decisions arrive together per iteration: a
// busy authority's burst (the demo's expiry sweep logs hundreds at once).
const decisionBatch = 64

// BenchmarkDecisionLog compares Hallmark's decision log (canonical entries,
// persistent dedup, wait for a published checkpoint, C2SP receipt with an
// inclusion proof) with raw Tessera POSIX appends awaited the same way, on
// the same disk with the same checkpoint interval. It reports decisions per
// second and time to receipt (p50, p99).
func BenchmarkDecisionLog(b *testing.B) {
	const interval = 100 * time.Millisecond
	b.Run("hallmark", func(b *testing.B) {
		ctx := context.Background()
		signer, _, err := tlog.LoadOrCreateSigner(b.TempDir(), "bench.example/log")
		if err != nil {
			b.Fatal(err)
		}
		l, err := tlog.Open(ctx, b.TempDir(), signer, tlog.Options{CheckpointInterval: interval})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close(ctx)
		n := 0
		runBatches(b, func(i int) error {
			n++
			e := tlog.Entry{Version: 1, Kind: tlog.KindLabelSuspended, Authority: "bench.example", Subject: fmt.Sprintf("HM-%d", n*decisionBatch+i),
				Digest: randomHex(), Status: "suspended", StatusIndex: i, At: time.Now(), Ref: fmt.Sprint(n*decisionBatch + i)}
			_, err := l.Append(ctx, e.Marshal())
			return err
		})
	})
	b.Run("tessera", func(b *testing.B) {
		ctx := context.Background()
		skey, _, err := note.GenerateKey(rand.Reader, "bench.example/raw")
		if err != nil {
			b.Fatal(err)
		}
		signer, err := note.NewSigner(skey)
		if err != nil {
			b.Fatal(err)
		}
		driver, err := posix.New(ctx, posix.Config{Path: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		app, shutdown, reader, err := tessera.NewAppender(ctx, driver, tessera.NewAppendOptions().
			WithCheckpointSigner(signer).WithCheckpointInterval(interval).WithBatching(256, 100*time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		defer shutdown(ctx)
		awaiter := tessera.NewPublicationAwaiter(ctx, reader.ReadCheckpoint, 50*time.Millisecond)
		n := 0
		runBatches(b, func(i int) error {
			n++
			_, _, err := awaiter.Await(ctx, app.Add(ctx, tessera.NewEntry([]byte(fmt.Sprintf("raw entry %d %d %s", n, i, randomHex())))))
			return err
		})
	})
}

// runBatches runs decisionBatch concurrent appends per iteration and
// reports throughput and per-decision latency percentiles.
func runBatches(b *testing.B, appendOne func(i int) error) {
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	for b.Loop() {
		var wg sync.WaitGroup
		for i := 0; i < decisionBatch; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				if err := appendOne(i); err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				lat = append(lat, time.Since(t0))
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) == 0 {
		return
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "decisions/s")
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
}

func randomHex() string {
	var b [32]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}
