package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// Keyset paging on both engines: walked forward by After and back from the
// last page by Before, labels and products come in the listing's own
// order, each exactly once, with a filter kept throughout.
func TestKeysetWalks(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		if _, _, err := s.PutScheme(ctx, &scheme.Scheme{ID: "x", Levels: []scheme.Level{{ID: "1"}}, Status: scheme.Active}, store.SchemeBuiltin, now); err != nil {
			t.Fatal(err)
		}
		levels := []demo.SynthLevel{{Scheme: "x", Level: "1", Requirements: []string{"HM-UPD-1"}, Weight: 1}}
		if _, err := s.LoadSynthetic(ctx, 300, 7, now, levels, func(store.SynthReport) {}); err != nil {
			t.Fatal(err)
		}
		const size = 4

		// Labels: the whole listing at once is the order every walk must keep.
		for _, cat := range []string{"", "camera"} {
			all, total, err := s.Labels(ctx, store.LabelQuery{Category: cat, Limit: 1000})
			if err != nil || len(all) != total || total < 2*size {
				t.Fatalf("labels %q: %d of %d, %v", cat, len(all), total, err)
			}
			want := labelIDs(all)
			var fwd []string
			q := store.LabelQuery{Category: cat, Limit: size, NoTotal: true}
			for {
				page, _, err := s.Labels(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				fwd = append(fwd, labelIDs(page)...)
				if len(page) < size {
					break
				}
				q.After = store.KeyOf(page[len(page)-1])
			}
			if !slices.Equal(fwd, want) {
				t.Errorf("labels %q forward by After: %d ids, want %d in order", cat, len(fwd), len(want))
			}
			var back []string
			q = store.LabelQuery{Category: cat, Limit: size, Oldest: true, NoTotal: true}
			for {
				page, _, err := s.Labels(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				back = append(labelIDs(page), back...)
				if len(page) < size {
					break
				}
				q = store.LabelQuery{Category: cat, Limit: size, Before: store.KeyOf(page[0]), NoTotal: true}
			}
			if !slices.Equal(back, want) {
				t.Errorf("labels %q back by Before from the oldest: %d ids, want %d in order", cat, len(back), len(want))
			}
		}

		// Products, in the listing's order (manufacturer, name, id).
		for _, cat := range []string{"", "camera"} {
			all, total, err := s.Products(ctx, store.ProductQuery{All: true, Category: cat, Limit: 1000})
			if err != nil || len(all) != total || total < 2*size {
				t.Fatalf("products %q: %d of %d, %v", cat, len(all), total, err)
			}
			want := productIDs(all)
			var fwd []int64
			q := store.ProductQuery{All: true, Category: cat, Limit: size}
			for {
				page, _, err := s.Products(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				fwd = append(fwd, productIDs(page)...)
				if len(page) < size {
					break
				}
				// Through the cursor, as a client carries it.
				if q.After, err = store.ParseProductKey(store.ProductKeyOf(page[len(page)-1]).Encode()); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(fwd, want) {
				t.Errorf("products %q forward by After: %d ids, want %d in order", cat, len(fwd), len(want))
			}
			var back []int64
			q = store.ProductQuery{All: true, Category: cat, Limit: size, Last: true}
			for {
				page, _, err := s.Products(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				back = append(productIDs(page), back...)
				if len(page) < size {
					break
				}
				q = store.ProductQuery{All: true, Category: cat, Limit: size, Before: store.ProductKeyOf(page[0])}
			}
			if !slices.Equal(back, want) {
				t.Errorf("products %q back by Before from the last: %d ids, want %d in order", cat, len(back), len(want))
			}
		}
	})
}

func labelIDs(ls []registry.Label) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}

func productIDs(ps []registry.Product) []int64 {
	var out []int64
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}
