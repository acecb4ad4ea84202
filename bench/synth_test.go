package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// synthLevels are the levels synthetic labels go to: every level of the
// schemes taking applications, with the requirements each level needs.
func synthLevels(b testing.TB, srv *server.Server) []demo.SynthLevel {
	var levels []demo.SynthLevel
	for _, sc := range srv.Schemes().Sorted() {
		if sc.Status == scheme.Closed {
			continue
		}
		for _, l := range sc.Levels {
			res, err := scheme.Resolve(srv.Catalog(), sc, l.ID)
			if err != nil {
				b.Fatal(err)
			}
			var reqs []string
			for _, need := range res.Needs {
				reqs = append(reqs, need.Requirement.ID)
			}
			levels = append(levels, demo.SynthLevel{Scheme: sc.ID, Level: l.ID, Requirements: reqs, Weight: 1})
		}
	}
	return levels
}

// benchStore opens a fresh database of dialect d, closed when the
// benchmark ends; PostgreSQL skips when it is not installed (fails in CI).
func benchStore(b testing.TB, d store.Dialect) *store.Store {
	b.Helper()
	dsn := filepath.Join(b.TempDir(), "hallmark.db")
	if d == store.Postgres {
		dsn = pgtest.DSN(b)
	}
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// envSizes reads a comma-separated list of sizes from the environment.
func envSizes(b testing.TB, name string, def []int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var sizes []int
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			b.Fatalf("%s: %q", name, v)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// BenchmarkSyntheticLoad writes a synthetic market of SYNTH_SIZES
// products (default 125000, about 100,000 labels) into SQLite and
// PostgreSQL (SYNTH_DB picks one) with store.LoadSynthetic: load-s is
// the whole load.
func BenchmarkSyntheticLoad(b *testing.B) {
	dialects := []store.Dialect{store.SQLite, store.Postgres}
	if v := os.Getenv("SYNTH_DB"); v != "" {
		dialects = []store.Dialect{store.Dialect(v)}
	}
	for _, n := range envSizes(b, "SYNTH_SIZES", []int{125000}) {
		for _, d := range dialects {
			b.Run(fmt.Sprintf("%s-%d", d, n), func(b *testing.B) {
				for range b.N {
					benchSynthLoad(b, d, n)
				}
			})
		}
	}
}

func benchSynthLoad(b *testing.B, d store.Dialect, n int) {
	m := synthMarket(b, d, n)
	b.ReportMetric(m.rep.Took.Seconds(), "load-s")
	b.ReportMetric(m.rep.Indexes.Seconds(), "indexes-s")
	b.ReportMetric(m.logged.Seconds(), "log-s")
	b.ReportMetric(float64(m.rep.Labels), "labels")
	b.ReportMetric(float64(m.rep.Decisions), "decisions")
	// The log verifies: the whole tree re-derived from its files.
	t := time.Now()
	vs, _, err := tlog.Verifiers(filepath.Join(m.dataDir, "logkeys"))
	if err != nil {
		b.Fatal(err)
	}
	ar, err := tlog.Audit(context.Background(), tlog.DirFetcher(m.srv.LogDir()), vs, m.srv.LogOrigin(), nil)
	if err != nil {
		b.Fatal(err)
	}
	if !ar.OK() || ar.Size < uint64(m.rep.Decisions) {
		b.Fatalf("the log does not verify: %d entries, problems %v", ar.Size, ar.Problems)
	}
	b.ReportMetric(time.Since(t).Seconds(), "audit-s")
}

// market is a synthetic market in a database, with the server that logged
// its decisions.
type market struct {
	st      *store.Store
	srv     *server.Server
	dataDir string
	rep     store.SynthReport
	logged  time.Duration // appending its decisions to the log
}

// synthMarket loads a synthetic market of n products into a fresh database
// of dialect d, showing progress on stderr, and appends its decisions to
// the server's transparency log, as the server's logger would.
func synthMarket(b testing.TB, d store.Dialect, n int) market {
	ctx := context.Background()
	st := benchStore(b, d)
	cheap := auth.TestParams
	dir := b.TempDir()
	srv, err := server.New(ctx, st, server.Config{DataDir: dir, PublicURL: "https://registry.bench.example", PasswordParams: &cheap})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close(context.Background()) })
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	rep, err := st.LoadSynthetic(ctx, n, 1, now, synthLevels(b, srv), func(r store.SynthReport) {
		fmt.Fprintf(os.Stderr, "\r%s: %d of %d products, %d labels, %s ", d, r.Products, n, r.Labels, r.Took.Round(time.Second))
	})
	fmt.Fprintln(os.Stderr)
	if err != nil {
		b.Fatal(err)
	}
	t := time.Now()
	logged, err := srv.FlushDecisions(ctx)
	if err != nil {
		b.Fatal(err)
	}
	took := time.Since(t)
	b.Logf("%s, %d products: %d labels, %d findings, %d manufacturers, loaded in %s (indexes %s), %d decisions logged in %s",
		d, rep.Products, rep.Labels, rep.Findings, rep.Manufacturers, rep.Took.Round(time.Millisecond), rep.Indexes.Round(time.Millisecond), logged, took.Round(time.Millisecond))
	return market{st: st, srv: srv, dataDir: dir, rep: rep, logged: took}
}
