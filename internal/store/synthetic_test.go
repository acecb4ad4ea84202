package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// A synthetic market lands whole on both engines, its decisions pending
// for the log, and the indexes dropped for the load are back.
func TestLoadSynthetic(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		if _, _, err := s.PutScheme(ctx, &scheme.Scheme{ID: "x", Levels: []scheme.Level{{ID: "1"}}, Status: scheme.Active}, store.SchemeBuiltin, now); err != nil {
			t.Fatal(err)
		}
		before, err := s.PendingCount(ctx) // the scheme's publication
		if err != nil {
			t.Fatal(err)
		}
		levels := []demo.SynthLevel{{Scheme: "x", Level: "1", Requirements: []string{"HM-UPD-1", "HM-UPD-2"}, Weight: 1}}
		indexes := s.IndexNames(ctx)
		calls := 0
		rep, err := s.LoadSynthetic(ctx, 25000, 1, now, levels, func(store.SynthReport) { calls++ })
		if err != nil {
			t.Fatal(err)
		}
		if rep.Products != 25000 || rep.Labels < 15000 || rep.Labels > 25000 || rep.Decisions < rep.Labels || rep.Findings == 0 {
			t.Fatalf("report %+v", rep)
		}
		if calls < 2 {
			t.Errorf("progress called %d times for 25,000 products", calls)
		}
		pending, err := s.PendingCount(ctx)
		if err != nil || pending != before+rep.Decisions {
			t.Errorf("%d decisions pending (%v), %d written", pending, err, rep.Decisions)
		}
		if after := s.IndexNames(ctx); len(after) != len(indexes) || len(indexes) == 0 {
			t.Errorf("indexes before the load %v, after %v", indexes, after)
		}
	})
}
