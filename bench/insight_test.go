package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// BenchmarkInsight measures the indicators and the market what-if on
// synthetic markets (demo.Synth, written with store.LoadSynthetic) of
// INSIGHT_SIZES products (default 100000,1000000) on SQLite and
// PostgreSQL. Per market: load-s, the bulk load (setup, for the record);
// market-s, reading the market from the database (what a rebuild costs;
// the server keeps the market and rebuilds it behind); then, on that
// market, each indicator's figure with its 24-month series (<id>-ms), a
// what-if of three conditions on the largest level (whatif-ms, target
// < 1000 at 1,000,000 products) and the same what-if from the database up
// (whatif-cold-s); heap-MiB is the live heap holding the market, peak-MiB
// the process' VmHWM. One iteration per run (-benchtime 1x).
func BenchmarkInsight(b *testing.B) {
	sizes := []int{100000, 1000000}
	if v := os.Getenv("INSIGHT_SIZES"); v != "" {
		sizes = nil
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n <= 0 {
				b.Fatalf("INSIGHT_SIZES: %q", v)
			}
			sizes = append(sizes, n)
		}
	}
	dialects := []store.Dialect{store.SQLite, store.Postgres}
	if v := os.Getenv("INSIGHT_DB"); v != "" {
		dialects = []store.Dialect{store.Dialect(v)}
	}
	for _, n := range sizes {
		for _, d := range dialects {
			b.Run(fmt.Sprintf("%s-%d", d, n), func(b *testing.B) { benchInsight(b, d, n) })
		}
	}
}

func benchInsight(b *testing.B, d store.Dialect, n int) {
	ctx := context.Background()
	mk := synthMarket(b, d, n)
	srv, rep, levels := mk.srv, mk.rep, synthLevels(b, mk.srv)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cp, err := srv.Checkpoint(ctx)
	if err != nil {
		b.Fatal(err)
	}
	resetPeak()
	for range b.N {
		t0 := time.Now()
		m, err := srv.BuildMarket(ctx, cp, now, nil)
		if err != nil {
			b.Fatal(err)
		}
		market := time.Since(t0)
		heap := heapLiveMiB()
		for _, def := range insight.Definitions() {
			t := time.Now()
			f, err := insight.Compute(m, def, insight.Query{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(time.Since(t).Microseconds())/1000, def.ID+"-ms")
			if def.ID == "label-status" && f.Total.Den != rep.Labels {
				b.Fatalf("label-status counts %d labels, %d were loaded", f.Total.Den, rep.Labels)
			}
		}
		// The what-if on the level with the most labels.
		big, most := levels[0], 0
		count := map[string]int{}
		for i := range m.Labels {
			l := &m.Labels[i]
			k := m.Schemes[l.Scheme].ID + "@" + l.Level
			count[k]++
			if count[k] > most {
				most, big = count[k], demo.SynthLevel{Scheme: m.Schemes[l.Scheme].ID, Level: l.Level}
			}
		}
		add := []string{"support>=5", "HM-UPD-4", "sbom"}
		t1 := time.Now()
		res, err := srv.MarketWhatIfOn(ctx, m, big.Scheme+"@"+big.Level, add, 0)
		if err != nil {
			b.Fatal(err)
		}
		whatif := time.Since(t1)
		t2 := time.Now()
		m2, err := srv.BuildMarket(ctx, cp, now, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := srv.MarketWhatIfOn(ctx, m2, big.Scheme+"@"+big.Level, add, 0); err != nil {
			b.Fatal(err)
		}
		cold := time.Since(t2)
		b.Logf("what-if on %s@%s (%d labelled): %s", big.Scheme, big.Level, res.Labelled, res.Summary)
		b.ReportMetric(rep.Took.Seconds(), "load-s")
		b.ReportMetric(market.Seconds(), "market-s")
		b.ReportMetric(float64(whatif.Microseconds())/1000, "whatif-ms")
		b.ReportMetric(cold.Seconds(), "whatif-cold-s")
		b.ReportMetric(heap, "heap-MiB")
		b.ReportMetric(peakMiB(), "peak-MiB")
		b.ReportMetric(float64(len(m.Labels)), "labels")
	}
}
