package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// rows are one table's rows waiting to be written in bulk.
type rows struct {
	table string
	cols  []string
	vals  []any // row after row
}

func newRows(table, cols string) *rows {
	r := &rows{table: table}
	for _, c := range strings.Split(cols, ",") {
		r.cols = append(r.cols, strings.TrimSpace(c))
	}
	return r
}

func (r *rows) add(vals ...any) {
	if len(vals) != len(r.cols) {
		panic(fmt.Sprintf("bulk %s: %d values for %d columns", r.table, len(vals), len(r.cols))) // a programming error
	}
	r.vals = append(r.vals, vals...)
}

func (r *rows) n() int { return len(r.vals) / len(r.cols) }

// copyIn writes every set of rows, in the order given (parents first), in
// one transaction: COPY on PostgreSQL, multi-row INSERTs on SQLite.
func (s *Store) copyIn(ctx context.Context, sets ...*rows) error {
	if s.dialect == Postgres {
		return s.copyInPostgres(ctx, sets)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, r := range sets {
			if err := insertMany(ctx, tx, r); err != nil {
				return fmt.Errorf("bulk insert into %s: %w", r.table, err)
			}
		}
		return nil
	})
}

// insertMany inserts r with statements of up to 500 rows (and under
// SQLite's 32,766 parameters), the full-size one prepared once. The
// placeholders are plain ?: numbered ones make the driver look each up by
// name, which is quadratic in a statement's parameters.
func insertMany(ctx context.Context, tx *sql.Tx, r *rows) error {
	nc := len(r.cols)
	per := min(500, 32000/nc)
	stmt := func(k int) string {
		one := "(" + strings.TrimSuffix(strings.Repeat("?,", nc), ",") + ")"
		return "INSERT INTO " + r.table + " (" + strings.Join(r.cols, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+",", k), ",")
	}
	total := r.n()
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	for at := 0; at < total; at += per {
		k := min(per, total-at)
		args := r.vals[at*nc : (at+k)*nc]
		var err error
		if k == per {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, stmt(per)); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, stmt(k), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) copyInPostgres(ctx context.Context, sets []*rows) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("bulk copy: not a pgx connection")
		}
		tx, err := sc.Conn().Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx)) // after Commit, a no-op
		for _, r := range sets {
			nc := len(r.cols)
			src := pgx.CopyFromSlice(r.n(), func(i int) ([]any, error) { return r.vals[i*nc : (i+1)*nc], nil })
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{r.table}, r.cols, src); err != nil {
				return fmt.Errorf("copy into %s: %w", r.table, err)
			}
		}
		return tx.Commit(ctx)
	})
}

// dropIndexes drops the secondary (non-unique) indexes of tables, for a
// bulk load, and returns what builds them again. Unique indexes and keys
// stay: they are what refuses a duplicate.
func (s *Store) dropIndexes(ctx context.Context, tables []string) (func(context.Context) error, error) {
	type index struct{ name, def string }
	var idx []index
	q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql LIKE 'CREATE INDEX%' AND tbl_name IN ('` + strings.Join(tables, "','") + `')`
	if s.dialect == Postgres {
		q = `SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
			WHERE NOT x.indisunique AND t.relnamespace = current_schema()::regnamespace AND t.relname IN ('` + strings.Join(tables, "','") + `')`
	}
	err := s.each(ctx, q, func(r *sql.Rows) error {
		var i index
		if err := r.Scan(&i.name, &i.def); err != nil {
			return err
		}
		idx = append(idx, i)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the indexes: %w", err)
	}
	for _, i := range idx {
		if _, err := s.db.ExecContext(ctx, `DROP INDEX `+i.name); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", i.name, err)
		}
	}
	return func(ctx context.Context) error {
		var first error
		for _, i := range idx {
			if _, err := s.db.ExecContext(ctx, i.def); err != nil && first == nil {
				first = fmt.Errorf("build index %s again: %w", i.name, err)
			}
		}
		return first
	}, nil
}
