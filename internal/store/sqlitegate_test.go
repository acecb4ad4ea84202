package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/store"
)

// The SQLite connections keep statements by their text: a query run again
// while its own rows are still open, and queries past the bound of kept
// statements, must still answer right.
func TestKeptStatements(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, store.SQLite).SQLDB()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE kept (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO kept (n) VALUES (?)`, i); err != nil {
			t.Fatal(err)
		}
	}
	const q = `SELECT n FROM kept ORDER BY n`
	outer, err := tx.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for outer.Next() {
		var n int
		outer.Scan(&n)
		// The same text again, its first use still reading.
		inner, err := tx.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for inner.Next() {
			k++
		}
		inner.Close()
		if k != 5 || n != seen {
			t.Fatalf("outer row %d (want %d), inner read %d rows (want 5)", n, seen, k)
		}
		seen++
	}
	outer.Close()
	if seen != 5 {
		t.Fatalf("outer read %d rows, want 5", seen)
	}
	// More texts than are kept, then the first again: each answers its own.
	for i := range store.MaxKept + 20 {
		var got int
		if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d + COUNT(*) FROM kept`, i)).Scan(&got); err != nil || got != i+5 {
			t.Fatalf("query %d: %d, %v", i, got, err)
		}
	}
	var sum int
	if err := tx.QueryRowContext(ctx, `SELECT SUM(n) FROM kept WHERE n >= ?`, 3).Scan(&sum); err != nil || sum != 7 {
		t.Fatalf("sum %d, %v", sum, err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT SUM(n) FROM kept WHERE n >= ?`, 1).Scan(&sum); err != nil || sum != 10 {
		t.Fatalf("the kept statement ran with the old argument: sum %d, %v", sum, err)
	}
}
