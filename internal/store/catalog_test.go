package store_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/data"
	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/store"
	_ "modernc.org/sqlite"
)

func builtin(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Load(data.FS, "catalog")
	if err != nil {
		t.Fatalf("load built-in catalogue: %v", err)
	}
	return c
}

func TestSyncCatalogRoundTrip(t *testing.T) {
	want := builtin(t)
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		changed, err := s.SyncCatalog(ctx, want)
		if err != nil || !changed {
			t.Fatalf("first sync: changed=%v err=%v", changed, err)
		}
		got, err := s.LoadCatalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Requirements, stripPos(want).Requirements) {
			t.Error("requirements read back differ from those written")
		}
		if !reflect.DeepEqual(got.Frameworks, stripPos(want).Frameworks) {
			t.Error("frameworks read back differ from those written")
		}
		if !reflect.DeepEqual(got.Glossary, stripPos(want).Glossary) || !reflect.DeepEqual(got.Topics, stripPos(want).Topics) {
			t.Error("glossary or topics read back differ")
		}
		changed, err = s.SyncCatalog(ctx, want)
		if err != nil || changed {
			t.Fatalf("second sync of the same catalogue: changed=%v err=%v, want no change", changed, err)
		}
	})
}

// stripPos rebuilds a catalogue through its exported fields only, dropping
// the file positions that a database cannot hold.
func stripPos(c *catalog.Catalog) *catalog.Catalog {
	var reqs []catalog.Requirement
	for _, r := range c.Requirements {
		var ms []catalog.Mapping
		for _, m := range r.Mappings {
			ms = append(ms, catalog.Mapping{Framework: m.Framework, Item: m.Item, Rel: m.Rel, Note: m.Note})
		}
		r2 := catalog.Requirement{ID: r.ID, Topic: r.Topic, Title: r.Title, Summary: r.Summary, Technical: r.Technical,
			Why: r.Why, Incident: r.Incident, Verification: r.Verification, Unsecurable: r.Unsecurable,
			UnsecurableNote: r.UnsecurableNote, Mappings: ms}
		reqs = append(reqs, r2)
	}
	var fws []catalog.Framework
	for _, f := range c.Frameworks {
		var items []catalog.Item
		for _, it := range f.Items {
			items = append(items, catalog.Item{ID: it.ID, Clause: it.Clause, ClauseTitle: it.ClauseTitle, Status: it.Status,
				Condition: it.Condition, Title: it.Title, Gap: it.Gap, Unverified: it.Unverified, DeemedBy: it.DeemedBy})
		}
		fws = append(fws, catalog.Framework{ID: f.ID, Title: f.Title, Short: f.Short, Publisher: f.Publisher, Version: f.Version,
			Published: f.Published, URL: f.URL, Description: f.Description, Source: f.Source, Items: items,
			Sources: f.Sources, Unverified: f.Unverified})
	}
	var topics []catalog.Topic
	for _, t := range c.Topics {
		topics = append(topics, catalog.Topic{ID: t.ID, Name: t.Name, Description: t.Description})
	}
	var terms []catalog.Term
	for _, t := range c.Glossary {
		terms = append(terms, catalog.Term{Term: t.Term, Expansion: t.Expansion, Definition: t.Definition, See: t.See})
	}
	out, err := catalog.New(topics, reqs, fws, terms)
	if err != nil {
		panic(err)
	}
	return out
}

func TestImportFramework(t *testing.T) {
	c := builtin(t)
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.SyncCatalog(ctx, c); err != nil {
			t.Fatal(err)
		}
		own := catalog.Framework{ID: "acme-authority-2026", Title: "Acme authority baseline", Short: "Acme", Source: catalog.SourceImported,
			Items: []catalog.Item{{ID: "A-1", Clause: "A", Title: "Unique passwords"}, {ID: "A-2", Clause: "A", Title: "Update support"}}}
		if err := s.ImportFramework(ctx, own, false); err != nil {
			t.Fatal(err)
		}
		if err := s.ImportFramework(ctx, own, false); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second import without replace: err=%v, want conflict", err)
		}
		own.Items = own.Items[:1]
		if err := s.ImportFramework(ctx, own, true); err != nil {
			t.Fatalf("replace: %v", err)
		}
		shadow := own
		shadow.ID = "uk-psti-2023"
		if err := s.ImportFramework(ctx, shadow, true); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("import over a built-in framework: err=%v, want conflict", err)
		}
		got, err := s.LoadCatalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f, ok := got.Framework("acme-authority-2026")
		if !ok || len(f.Items) != 1 || f.Source != catalog.SourceImported {
			t.Fatalf("imported framework read back as %+v", f)
		}
		if psti, _ := got.Framework("uk-psti-2023"); psti.Source != catalog.SourceBuiltin || len(psti.Items) != 3 {
			t.Fatalf("built-in PSTI was touched: %+v", psti)
		}
		// A built-in resync keeps imported frameworks.
		if _, err := s.SyncCatalog(ctx, stripPos(c)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.LoadCatalog(ctx); got != nil {
			if _, ok := got.Framework("acme-authority-2026"); !ok {
				t.Fatal("resync dropped the imported framework")
			}
		}
	})
}

func TestFailedImportWritesNothing(t *testing.T) {
	c := builtin(t)
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.SyncCatalog(ctx, c); err != nil {
			t.Fatal(err)
		}
		// The second item repeats the first's id: the insert fails half way.
		bad := catalog.Framework{ID: "half-written", Title: "x", Source: catalog.SourceImported,
			Items: []catalog.Item{{ID: "1", Title: "one"}, {ID: "1", Title: "again"}}}
		if err := s.ImportFramework(ctx, bad, false); err == nil {
			t.Fatal("import with duplicate items succeeded")
		}
		got, err := s.LoadCatalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got.Framework("half-written"); ok {
			t.Fatal("a failed import left a framework behind")
		}
	})
}

func TestNewerDatabaseIsRefused(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "h.db")
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = store.Open(context.Background(), dsn)
	if err == nil || !strings.Contains(err.Error(), "newer hallmark") {
		t.Fatalf("opening a database from a newer binary: err=%v, want a clear refusal", err)
	}
}
