package store_test

import (
	"context"
	"os"
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

// The SQLite database and its WAL hold password hashes and unpublished
// data: only the owner may read them.
func TestSQLiteFilesPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := store.Open(context.Background(), filepath.Join(dir, "hallmark.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Organisations(context.Background(), ""); err != nil { // a read opens the WAL
		t.Fatal(err)
	}
	for _, name := range []string{"hallmark.db", "hallmark.db-wal", "hallmark.db-shm"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v; want no access for group or others", name, st.Mode().Perm())
		}
	}
	if st, _ := os.Stat(dir); st.Mode().Perm()&0o077 != 0 {
		t.Errorf("the data directory is %v", st.Mode().Perm())
	}
}
