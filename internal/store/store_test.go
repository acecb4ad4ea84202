package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// eachDB runs fn once on a fresh SQLite file and once on a fresh PostgreSQL
// database, so every store behaviour is proven on both engines.
func eachDB(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			s := openDB(t, d)
			fn(t, s)
		})
	}
}

func openDB(t *testing.T, d store.Dialect) *store.Store {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "hallmark.db")
	if d == store.Postgres {
		dsn = pgtest.DSN(t)
	}
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { s.Close() })
	if s.Dialect() != d {
		t.Fatalf("dialect = %s, want %s", s.Dialect(), d)
	}
	return s
}
