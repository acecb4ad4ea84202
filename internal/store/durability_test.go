package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// Issue 10, durability: a commit on SQLite is fsynced before it returns
// (synchronous=FULL, 2), on every connection of the pool, so a decision
// acknowledged to a client survives a power loss.
func TestSQLiteCommitsSynchronous(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "hallmark.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Hold two connections at once so the pool opens a second one.
	var conns []*sql.Conn
	for range 2 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		var mode int
		if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != 2 {
			t.Errorf("connection %d: synchronous = %d, want 2 (FULL)", i+1, mode)
		}
	}
}
