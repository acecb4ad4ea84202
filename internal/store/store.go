// Package store is the only package that speaks SQL. It runs the same
// queries on embedded SQLite (the default) and PostgreSQL (production),
// through database/sql, with goose migrations embedded per dialect.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
)

//go:embed migrations
var migrations embed.FS

// Dialect names the database engine behind a Store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store wraps the database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect Dialect
	hooks
}

// ErrNotFound is returned when a row asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write would overwrite something it may not.
var ErrConflict = errors.New("conflict")

// Open connects to dsn and brings its schema up to date. A dsn starting with
// postgres:// or postgresql:// is PostgreSQL; anything else is the path of an
// SQLite file, created if missing.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s, err := open(dsn)
	if err != nil {
		return nil, err
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("connect to the %s database: %w", s.dialect, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// poolSize is how many connections a store keeps open when idle (and, on
// PostgreSQL, opens at most): database/sql keeps two idle by default, so a burst of readers
// opened (and, on SQLite, re-read the schema of) a connection each time.
const poolSize = 16

func open(dsn string) (*Store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL: %w", err)
		}
		db.SetMaxOpenConns(poolSize)
		db.SetMaxIdleConns(poolSize)
		return &Store{db: db, dialect: Postgres, hooks: newHooks()}, nil
	}
	path := strings.TrimPrefix(dsn, "file:")
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create the database directory: %w", err)
		}
	}
	// The database holds password hashes and unpublished data: create it
	// 0600 before SQLite does (SQLite gives its WAL and shared-memory
	// files the database file's mode).
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("create the database file: %w", err)
	} else {
		f.Close()
	}
	// WAL lets readers run beside the writer; foreign keys are off by
	// default in SQLite; immediate transactions take the write lock up
	// front so two writers queue on busy_timeout instead of failing.
	// synchronous(FULL) fsyncs the WAL at every commit: a decision is
	// acknowledged once committed, so it must survive a power loss, which
	// NORMAL does not promise (in WAL mode it keeps the database
	// consistent but may lose the last commits). The cost is one fsync per
	// transaction, which the chunked writes keep few.
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	// Writers queue fairly at the gate (sqlitegate.go) before SQLite's lock.
	db := sql.OpenDB(&gatedConnector{dsn: "file:" + path + "?" + q.Encode(), drv: &sqlite.Driver{}, gate: newWriteGate()})
	// No cap on open connections here: a writer waiting at the gate holds
	// one, and capping could leave the gate's holder none to read with.
	db.SetMaxIdleConns(poolSize)
	return &Store{db: db, dialect: SQLite, hooks: newHooks()}, nil
}

// Dialect reports which engine the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks the database answers, for health checks.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *Store) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return err
	}
	gd := goose.DialectSQLite3
	if s.dialect == Postgres {
		gd = goose.DialectPostgres
	}
	// Migrations written on parallel branches may land out of number
	// order; each touches its own tables and columns, so a database that
	// already ran a later one may still take an earlier one.
	p, err := goose.NewProvider(gd, s.db, sub, goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	sources := p.ListSources()
	latest := sources[len(sources)-1].Version
	current, err := p.GetDBVersion(ctx)
	if err != nil && !errors.Is(err, goose.ErrVersionNotFound) {
		// A fresh database has no version table yet; Up creates it.
		current = 0
	}
	if current > latest {
		return fmt.Errorf("the database schema is at version %d but this hallmark binary only knows up to version %d: run a newer hallmark, or point --db at another database", current, latest)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate the database schema: %w", err)
	}
	return nil
}

// tx runs fn in a transaction, committing only if fn succeeds, so a failed
// write leaves nothing behind.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// eachTx is each inside a transaction.
func eachTx(ctx context.Context, tx *sql.Tx, query string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// OpenReplica connects to a PostgreSQL streaming replica for reads: its
// schema is the primary's (replayed), so nothing is migrated.
func OpenReplica(ctx context.Context, dsn string) (*Store, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return nil, errors.New("a replica is a PostgreSQL database: give a postgres:// URL")
	}
	s, err := open(dsn)
	if err != nil {
		return nil, err
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("connect to the replica: %w", err)
	}
	return s, nil
}
