package server_test

// The read path's caches follow each change at once and only as far as
// it goes (issue 15): status lists are kept up to date from the labels
// that changed, listings and labels forget what changed, and keyset pages
// walk the registry in the same order as offsets did.

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/store"
)

func TestReadPathFollowsChanges(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		s := e.srv
		l1 := e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
		l2 := e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
		bits := func(purpose string, l registry.Label) uint {
			t.Helper()
			jws, err := s.StatusList(ctx, purpose, l.StatusIndex/label.MinListBits)
			ok(t, "status list", err)
			snap, err := label.VerifyStatusList(jws, s.Keys().PublicKeys(), s.Now())
			ok(t, "verify status list", err)
			v, err := snap.Bits.Value(l.StatusIndex % label.MinListBits)
			ok(t, "bit", err)
			return v
		}
		listed := func(q store.LabelQuery) map[string]assess.LabelStatus {
			t.Helper()
			q.Limit = 1000
			ls, _, err := s.Labels(ctx, q)
			ok(t, "labels", err)
			out := map[string]assess.LabelStatus{}
			for _, l := range ls {
				out[l.ID] = l.Status
			}
			return out
		}
		// Fill every cache first.
		if bits(label.PurposeSuspension, l1) != 0 || bits(label.PurposeRevocation, l2) != 0 {
			t.Fatal("a new label's bits are set")
		}
		s.Label(ctx, l1.ID)
		_, before, _ := s.Labels(ctx, store.LabelQuery{Limit: 5})
		if got := listed(store.LabelQuery{Status: assess.Suspended}); len(got) != 0 {
			t.Fatalf("suspended before any suspension: %v", got)
		}
		// A burst of readers while the change lands: none sees an error,
		// and every one after it sees the change.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := s.StatusList(ctx, label.PurposeSuspension, l1.StatusIndex/label.MinListBits); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		_, err := s.ChangeLabel(ctx, e.authA, l1.ID, assess.SuspendLabel, "exploited vulnerability")
		ok(t, "suspend", err)
		close(stop)
		wg.Wait()
		if bits(label.PurposeSuspension, l1) != 1 || bits(label.PurposeRevocation, l1) != 0 || bits(label.PurposeMessage, l1) != label.MessageSuspended {
			t.Error("the status lists do not show the suspension")
		}
		if bits(label.PurposeSuspension, l2) != 0 {
			t.Error("another label's bit changed")
		}
		if l, _, _ := s.Label(ctx, l1.ID); l.Status != assess.Suspended {
			t.Errorf("the cached label is still %s", l.Status)
		}
		if got := listed(store.LabelQuery{}); got[l1.ID] != assess.Suspended || got[l2.ID] != assess.Active {
			t.Errorf("the listing shows %s and %s", got[l1.ID], got[l2.ID])
		}
		if got := listed(store.LabelQuery{Status: assess.Suspended}); len(got) != 1 || got[l1.ID] == "" {
			t.Errorf("the suspended filter lists %v", got)
		}
		if _, n, _ := s.Labels(ctx, store.LabelQuery{Limit: 5}); n != before {
			t.Errorf("a suspension changed the count from %d to %d", before, n)
		}
		_, err = s.ChangeLabel(ctx, e.authA, l2.ID, assess.RevokeLabel, "deadline missed")
		ok(t, "revoke", err)
		if bits(label.PurposeRevocation, l2) != 1 || bits(label.PurposeMessage, l2) != label.MessageRevoked {
			t.Error("the status lists do not show the revocation")
		}
		_, err = s.ChangeLabel(ctx, e.authA, l1.ID, assess.RestoreLabel, "fixed")
		ok(t, "restore", err)
		if bits(label.PurposeSuspension, l1) != 0 || bits(label.PurposeMessage, l1) != 0 {
			t.Error("the status lists still show the restored label suspended")
		}
		// A new label: listed, counted (the test clock stands still, so
		// it need not come first).
		l3 := e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
		_, n, err := s.Labels(ctx, store.LabelQuery{Limit: 5})
		ok(t, "labels", err)
		if n != before+1 || listed(store.LabelQuery{})[l3.ID] != assess.Active {
			t.Errorf("after an issue: %d labels (was %d), the new one listed %q", n, before, listed(store.LabelQuery{})[l3.ID])
		}
		if bits(label.PurposeSuspension, l3) != 0 {
			t.Error("the new label's bit is set")
		}
	})
}

func TestKeysetPages(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		for range 3 {
			e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
		}
		all, total, err := e.srv.Labels(ctx, store.LabelQuery{Limit: 1000})
		ok(t, "labels", err)
		if total < 3 || len(all) != total {
			t.Fatalf("%d labels of %d", len(all), total)
		}
		var walked []string
		var after store.LabelKey
		for range total + 1 {
			page, _, err := e.srv.Labels(ctx, store.LabelQuery{Limit: 2, After: after})
			ok(t, "page", err)
			if len(page) == 0 {
				break
			}
			for _, l := range page {
				walked = append(walked, l.ID)
			}
			after = store.KeyOf(page[len(page)-1])
			// The cursor goes through a URL and back.
			if after, err = store.ParseLabelKey(after.Encode()); err != nil {
				t.Fatal(err)
			}
		}
		var want []string
		for _, l := range all {
			want = append(want, l.ID)
		}
		if !slices.Equal(walked, want) {
			t.Errorf("walked by cursor %v\nlisted by offset %v", walked, want)
		}
		last, _, err := e.srv.Labels(ctx, store.LabelQuery{Limit: 2, Oldest: true})
		ok(t, "last page", err)
		if len(last) != 2 || last[0].ID != want[len(want)-2] || last[1].ID != want[len(want)-1] {
			t.Errorf("the last page %v is not the end of %v", last, want)
		}
	})
}

// The registry search answers from its index (FTS5 trigrams on SQLite,
// pg_trgm on PostgreSQL) exactly what a substring match on the label id,
// product name, model number and manufacturer gives, on both engines.
func TestLabelSearch(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
		e.label(t, e.mfr2, e.authA, schemeA+"@"+levelA)
		e.label(t, e.mfr, e.authB, schemeB+"@"+levelB)
		all, total, err := e.srv.Labels(ctx, store.LabelQuery{Limit: 1000})
		ok(t, "labels", err)
		if total < 3 {
			t.Fatalf("%d labels", total)
		}
		lower := func(s string) string { return strings.ToLower(s) }
		queries := []string{"zzzz-none", "ca", "CAM", "%", "a_m"}
		for _, l := range all {
			queries = append(queries, l.ID, lower(l.ID[3:7]), l.ProductName, l.ModelNumber, l.Manufacturer[:min(4, len(l.Manufacturer))], strings.ToUpper(l.Manufacturer))
		}
		for _, q := range queries {
			pat := strings.NewReplacer("%", " ", "_", " ").Replace(lower(q))
			want := map[string]bool{}
			for _, l := range all {
				for _, f := range []string{l.ID, l.ProductName, l.ModelNumber, l.Manufacturer} {
					if strings.Contains(lower(f), pat) {
						want[l.ID] = true
					}
				}
			}
			got, n, err := e.srv.Labels(ctx, store.LabelQuery{Text: q, Limit: 1000, Fresh: true})
			ok(t, "search "+q, err)
			have := map[string]bool{}
			for _, l := range got {
				have[l.ID] = true
			}
			if n != len(want) || !maps.Equal(have, want) {
				t.Errorf("search %q: %d found (%v), want %d (%v)", q, n, have, len(want), want)
			}
		}
	})
}

// The product search answers from its index what a substring match on
// the product name, model number and manufacturer gives, on both engines.
func TestProductSearch(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
		e.label(t, e.mfr2, e.authA, schemeA+"@"+levelA)
		all, total, err := e.srv.Products(ctx, e.mfr, store.ProductQuery{Limit: 1000})
		ok(t, "products", err)
		if total < 1 {
			t.Fatalf("%d products", total)
		}
		lower := func(s string) string { return strings.ToLower(s) }
		queries := []string{"zzzz-none", "ca", "%", "a_m"}
		for _, p := range all {
			queries = append(queries, p.Name, strings.ToUpper(p.ModelNumber), p.Manufacturer[:min(4, len(p.Manufacturer))])
		}
		for _, q := range queries {
			pat := strings.NewReplacer("%", " ", "_", " ").Replace(lower(q))
			want := map[int64]bool{}
			for _, p := range all {
				for _, f := range []string{p.Name, p.ModelNumber, p.Manufacturer} {
					if strings.Contains(lower(f), pat) {
						want[p.ID] = true
					}
				}
			}
			got, n, err := e.srv.Products(ctx, e.mfr, store.ProductQuery{Text: q, Limit: 1000})
			ok(t, "search "+q, err)
			have := map[int64]bool{}
			for _, p := range got {
				have[p.ID] = true
			}
			if n != len(want) || !maps.Equal(have, want) {
				t.Errorf("search %q: %d found (%v), want %d (%v)", q, n, have, len(want), want)
			}
		}
	})
}
