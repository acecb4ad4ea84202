package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// ErrUnavailable marks a database that cannot serve now (unreachable,
// read-only, out of space, busy past its timeout): a 503 to try again
// later, not a bug. IsUnavailable recognises the engines' own errors too.
var ErrUnavailable = errors.New("the database is unavailable")

// IsUnavailable reports whether err means the database cannot serve now,
// as opposed to a refused or malformed request or a bug.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var le *sqlite.Error
	if errors.As(err, &le) {
		switch le.Code() & 0xff { // the primary result code
		case 5, 6, 8, 10, 13, 14: // BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN
			return true
		}
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),                           // insufficient resources (disk full, too many connections)
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // shutting down, cannot connect now
			pe.Code == "25006": // read-only transaction (a standby, or default_transaction_read_only)
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) {
		return true
	}
	// database/sql's own, unexported: a closed *sql.DB.
	return strings.Contains(err.Error(), "sql: database is closed")
}

// CheckWrite commits a one-row write, proving the database accepts writes
// now (not only that it answers): a read-only file or a standby fails it.
func (s *Store) CheckWrite(ctx context.Context, now time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE readiness SET checked_at = $1 WHERE id = 1`, ts(now))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(ErrUnavailable, errors.New("the readiness row is missing"), err)
	}
	return nil
}
