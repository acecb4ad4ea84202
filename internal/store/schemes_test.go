package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/store"
)

func TestSchemeVersions(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		sc := &scheme.Scheme{ID: "acme", Name: "Acme", Version: "1", Status: scheme.Draft,
			Levels: []scheme.Level{{ID: "1", Refs: []string{"HM-AUTH-1"}}}}
		v, created, err := s.PutScheme(ctx, sc, store.SchemeAuthority, now)
		if err != nil || v != 1 || !created {
			t.Fatalf("first put: v=%d created=%v err=%v", v, created, err)
		}
		if v, created, _ := s.PutScheme(ctx, sc, store.SchemeAuthority, now); v != 1 || created {
			t.Errorf("unchanged put made version %d (created=%v)", v, created)
		}
		changed := *sc
		changed.Status = scheme.Active
		if v, created, _ := s.PutScheme(ctx, &changed, store.SchemeAuthority, now.Add(time.Hour)); v != 2 || !created {
			t.Errorf("changed put: version %d created=%v", v, created)
		}
		if _, _, err := s.PutScheme(ctx, sc, store.SchemeBuiltin, now); !errors.Is(err, store.ErrConflict) {
			t.Errorf("a built-in put over an authority scheme: %v, want conflict", err)
		}
		hist, err := s.SchemeHistory(ctx, "acme")
		if err != nil || len(hist) != 2 || hist[0].Version != 2 || hist[1].Scheme.Status != scheme.Draft || hist[0].Status != scheme.Active {
			t.Fatalf("history: %+v %v", hist, err)
		}
		if !hist[1].CreatedAt.Equal(now) {
			t.Errorf("created at %v, want %v", hist[1].CreatedAt, now)
		}
		cur, err := s.CurrentSchemes(ctx)
		if err != nil || len(cur) != 1 || cur[0].Version != 2 {
			t.Fatalf("current: %+v %v", cur, err)
		}
		if _, err := s.SchemeHistory(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("history of an unknown scheme: %v", err)
		}
		ags := []scheme.Agreement{{ID: "a-b", Title: "A and B", Signed: "2024"}, {ID: "c-d", Title: "C and D", Signed: "2025"}}
		if err := s.SyncAgreements(ctx, ags); err != nil {
			t.Fatal(err)
		}
		if err := s.SyncAgreements(ctx, ags[1:]); err != nil {
			t.Fatal(err)
		}
		got, err := s.Agreements(ctx)
		if err != nil || len(got) != 1 || got[0].ID != "c-d" {
			t.Errorf("agreements after resync: %+v %v", got, err)
		}
	})
}

// A scheme can be paused (migration 00011 widened the status check on both
// databases), and a stored version keeps its kind and provenance.
func TestPausedSchemeVersionKeepsKindAndSources(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		sc := &scheme.Scheme{ID: "paused-duty", Name: "A paused duty", Version: "1", Status: scheme.Paused, Kind: scheme.KindConformity,
			Sources: []catalog.Source{{Ref: "Act 2026", Checked: "2026-12-01"}},
			Levels:  []scheme.Level{{ID: "1", Refs: []string{"HM-AUTH-1"}}}}
		if _, _, err := s.PutScheme(ctx, sc, store.SchemeAuthority, now); err != nil {
			t.Fatalf("a paused scheme was refused: %v", err)
		}
		hist, err := s.SchemeHistory(ctx, "paused-duty")
		if err != nil || len(hist) != 1 {
			t.Fatal(hist, err)
		}
		got := hist[0]
		if got.Status != scheme.Paused || got.Scheme.Kind != scheme.KindConformity || len(got.Scheme.Sources) != 1 || got.Scheme.Sources[0].Checked != "2026-12-01" {
			t.Errorf("stored version: status %s, kind %s, sources %+v", got.Status, got.Scheme.Kind, got.Scheme.Sources)
		}
	})
}
