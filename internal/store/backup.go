package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/registry"
)

// LastLogged returns the decision with the highest log index, the last
// one the database holds a receipt for; ok is false when none is logged.
func (s *Store) LastLogged(ctx context.Context) (d registry.Decision, ok bool, err error) {
	d, err = scanDecision(s.db.QueryRowContext(ctx, `SELECT `+decisionCols+` FROM decisions WHERE state = 'logged' ORDER BY log_index DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Decision{}, false, nil
	}
	return d, err == nil, err
}

// DecisionsByID returns the decisions with the given ids that exist.
func (s *Store) DecisionsByID(ctx context.Context, ids []int64) (map[int64]registry.Decision, error) {
	out := make(map[int64]registry.Decision, len(ids))
	const chunk = 500 // well under either engine's limit on parameters
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		marks := make([]string, len(part))
		args := make([]any, len(part))
		for i, id := range part {
			marks[i], args[i] = fmt.Sprintf("$%d", i+1), id
		}
		err := s.each(ctx, `SELECT `+decisionCols+` FROM decisions WHERE id IN (`+strings.Join(marks, ", ")+`)`, func(r *sql.Rows) error {
			d, err := scanDecision(r)
			out[d.ID] = d
			return err
		}, args...)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReopenLoggedFrom makes every decision logged at index from or later
// pending again, forgetting its receipt: after a restore whose log copy
// ends at from, those entries are not in the log, and the logger appends
// them again (the same bytes, so the same decisions). It returns how many.
func (s *Store) ReopenLoggedFrom(ctx context.Context, from int64) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE decisions SET state = 'pending', log_index = NULL, receipt = '' WHERE state = 'logged' AND log_index >= $1`, from)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// SnapshotSQLite writes a consistent copy of the SQLite database at path
// to dst (which must not exist) while others go on using it: VACUUM INTO
// reads in one transaction. The database is opened as it is, never
// migrated. PostgreSQL databases are copied with DumpPostgres.
func SnapshotSQLite(ctx context.Context, path, dst string) error {
	path = strings.TrimPrefix(path, "file:")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("the SQLite database: %w", err)
	}
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("%s exists already", dst)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO $1`, dst); err != nil {
		os.Remove(dst)
		return fmt.Errorf("snapshot the database: %w", err)
	}
	return os.Chmod(dst, 0o600)
}
