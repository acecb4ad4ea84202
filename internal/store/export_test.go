package store

import (
	"context"
	"database/sql"
	"sort"
)

// IndexNames lists the database's secondary indexes, for tests.
func (s *Store) IndexNames(ctx context.Context) []string {
	q := `SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`
	if s.dialect == Postgres {
		q = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()`
	}
	var out []string
	s.each(ctx, q, func(r *sql.Rows) error {
		var n string
		err := r.Scan(&n)
		out = append(out, n)
		return err
	})
	sort.Strings(out)
	return out
}

// SQLDB is the store's pool, for tests of the driver layer.
func (s *Store) SQLDB() *sql.DB { return s.db }

// MaxKept is the kept statements' bound per connection.
const MaxKept = maxKept
