package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// What a restore and the start-up check read and change of the outbox,
// the same on both engines: the newest receipt, decisions by id, and
// receipts past a log copy's end made pending again.
func TestOutboxForRestore(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, ok, err := s.LastLogged(ctx); ok || err != nil {
			t.Fatalf("empty outbox: ok %v, %v", ok, err)
		}
		for i := range 4 {
			if err := s.RecordDecision(ctx, registry.Decision{Kind: "key.added", Subject: "key:k" + string(rune('a'+i)), Digest: "ab", StatusIndex: -1,
				At: time.Date(2026, 3, 1, 0, 0, i, 0, time.UTC)}); err != nil {
				t.Fatal(err)
			}
		}
		pending, err := s.PendingDecisions(ctx, 10)
		if err != nil || len(pending) != 4 {
			t.Fatalf("pending %d, %v", len(pending), err)
		}
		var logged []store.Logged
		for i, d := range pending[:3] {
			logged = append(logged, store.Logged{ID: d.ID, Index: int64(i), Receipt: "r"})
		}
		if err := s.MarkLogged(ctx, logged); err != nil {
			t.Fatal(err)
		}
		last, ok, err := s.LastLogged(ctx)
		if err != nil || !ok || last.ID != pending[2].ID || last.LogIndex != 2 {
			t.Fatalf("last logged %+v %v %v", last, ok, err)
		}
		got, err := s.DecisionsByID(ctx, []int64{pending[0].ID, pending[3].ID, 999999})
		if err != nil || len(got) != 2 || got[pending[3].ID].Logged || !got[pending[0].ID].Logged {
			t.Fatalf("by id: %+v %v", got, err)
		}
		n, err := s.ReopenLoggedFrom(ctx, 1)
		if err != nil || n != 2 {
			t.Fatalf("reopened %d, %v; want 2 (log indices 1 and 2)", n, err)
		}
		if c, _ := s.PendingCount(ctx); c != 3 {
			t.Fatalf("%d pending after the reopen, want 3", c)
		}
		if last, _, _ := s.LastLogged(ctx); last.LogIndex != 0 {
			t.Fatalf("newest receipt now at %d, want 0", last.LogIndex)
		}
	})
}
