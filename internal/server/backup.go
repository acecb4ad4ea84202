package server

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/backup"
	"github.com/hallmark-iot/hallmark/internal/datadir"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// BackupConfig says what to back up, and where.
type BackupConfig struct {
	DataDir string // the instance's data directory
	DSN     string // its database: a postgres:// URL or an SQLite file
	Dir     string // the backup: a new or empty directory
	Version string // the hallmark version, recorded in the manifest
	// AfterLog, when set, runs between the log's snapshot and the
	// database's (tests make decisions there).
	AfterLog func()
}

// Names inside a backup's database/ directory.
const (
	backupSQLite   = backup.DBPrefix + "hallmark.db"
	backupPostgres = backup.DBPrefix + "hallmark.pgdump"
)

// Backup writes a consistent backup of an instance, which may be serving
// meanwhile: first the log as its current checkpoint describes it, then
// the database (so it holds every decision that log holds, and maybe a
// few more, which a restore logs again), then the data directory's other
// files (keys, evidence, ...: every key and evidence file the database
// names existed before its snapshot). The manifest is written last.
func Backup(ctx context.Context, c BackupConfig) (m backup.Manifest, err error) {
	if err := newDir(c.Dir); err != nil {
		return m, err
	}
	defer func() {
		if err != nil {
			removeContents(c.Dir) // no half backup that looks like one
		}
	}()
	m = backup.Manifest{Created: time.Now().UTC().Truncate(time.Second), Version: c.Version}

	vs, _, verr := tlog.Verifiers(filepath.Join(c.DataDir, "logkeys"))
	switch {
	case errors.Is(verr, fs.ErrNotExist):
		if _, err := os.Stat(filepath.Join(c.DataDir, "log", "checkpoint")); err == nil {
			return m, fmt.Errorf("%s has a log but no log keys (logkeys/%s): the log cannot be checked or copied", c.DataDir, tlog.VerifiersFile)
		}
		// No log kept here yet.
	case verr != nil:
		return m, verr
	default:
		cp, err := tlog.Snapshot(ctx, tlog.DirFetcher(filepath.Join(c.DataDir, "log")), vs, filepath.Join(c.Dir, "data", "log"))
		switch {
		case errors.Is(err, tlog.ErrNoCheckpoint):
		case err != nil:
			return m, fmt.Errorf("copy the transparency log: %w", err)
		default:
			m.Log = backup.LogState{Origin: cp.Origin, Size: cp.Size, Root: hex.EncodeToString(cp.Root)}
			files, err := backup.Describe(filepath.Join(c.Dir, "data", "log"), backup.DataPrefix+"log/")
			if err != nil {
				return m, err
			}
			m.Files = append(m.Files, files...)
		}
	}
	if c.AfterLog != nil {
		c.AfterLog()
	}

	dbDir := filepath.Join(c.Dir, "database")
	if err := os.MkdirAll(dbDir, 0o700); err != nil {
		return m, err
	}
	if isPostgres(c.DSN) {
		m.Database = backup.Database{Kind: backup.Postgres, File: backupPostgres}
		err = store.DumpPostgres(ctx, c.DSN, filepath.Join(c.Dir, filepath.FromSlash(backupPostgres)))
	} else {
		m.Database = backup.Database{Kind: backup.SQLite, File: backupSQLite}
		err = store.SnapshotSQLite(ctx, c.DSN, filepath.Join(c.Dir, filepath.FromSlash(backupSQLite)))
	}
	if err != nil {
		return m, fmt.Errorf("copy the database: %w", err)
	}
	files, err := backup.Describe(dbDir, backup.DBPrefix)
	if err != nil {
		return m, err
	}
	m.Files = append(m.Files, files...)

	skip := skipInDataDir(c.DataDir, c.DSN)
	files, err = backup.CopyTree(c.DataDir, filepath.Join(c.Dir, "data"), backup.DataPrefix, skip)
	if err != nil {
		return m, fmt.Errorf("copy the data directory: %w", err)
	}
	m.Files = append(m.Files, files...)
	if err := backup.WriteManifest(c.Dir, m); err != nil {
		return m, err
	}
	return backup.ReadManifest(c.Dir)
}

// skipInDataDir names what a backup takes otherwise (the log, an SQLite
// database kept in the data directory) or never (the lock, the log's
// dedup index, which is rebuilt from the log).
func skipInDataDir(dataDir, dsn string) func(string) bool {
	var dbName string
	if !isPostgres(dsn) {
		abs, _ := filepath.Abs(strings.TrimPrefix(dsn, "file:"))
		data, _ := filepath.Abs(dataDir)
		if filepath.Dir(abs) == data {
			dbName = filepath.Base(abs)
		}
	}
	return func(p string) bool {
		switch {
		case p == datadir.LockFile, p == "log":
			return true
		case dbName != "" && (p == dbName || strings.HasPrefix(p, dbName+"-") || p == dbName+".lock"):
			return true // the database, its -wal, -shm, -journal, its lock
		}
		return false
	}
}

// RestoreConfig says which backup to restore, and where.
type RestoreConfig struct {
	Dir     string // the backup
	DataDir string // a new or empty data directory
	DSN     string // a new SQLite file, or an empty PostgreSQL database
}

// RestoreReport says what a restore did.
type RestoreReport struct {
	Manifest backup.Manifest
	// Reopened counts decisions the database had receipts for beyond the
	// log copy's end: they are pending again, and logged at start-up.
	Reopened int
}

// Restore checks a backup against its manifest and restores it into a
// fresh data directory and database, then checks the database against
// the restored log as the server will at start-up. Nothing is written
// unless the whole backup checks out; a failure after that removes the
// files written (a PostgreSQL database, restored in one transaction,
// is left for the operator to drop).
func Restore(ctx context.Context, c RestoreConfig) (rep RestoreReport, err error) {
	m, err := backup.ReadManifest(c.Dir)
	if err != nil {
		return rep, err
	}
	rep.Manifest = m
	if problems := backup.Verify(c.Dir, m); len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("and %d more", len(problems)-10))
		}
		return rep, fmt.Errorf("the backup in %s is damaged; nothing was restored:\n  %s", c.Dir, strings.Join(problems, "\n  "))
	}
	switch pg := isPostgres(c.DSN); {
	case pg && m.Database.Kind != backup.Postgres:
		return rep, errors.New("this backup holds an SQLite database: give --db an SQLite file path (or leave it out), not a PostgreSQL URL")
	case !pg && m.Database.Kind != backup.SQLite:
		return rep, errors.New("this backup holds a PostgreSQL dump: give --db the URL of a new, empty PostgreSQL database")
	}
	if err := newDir(c.DataDir); err != nil {
		return rep, err
	}
	var dbPath string
	if !isPostgres(c.DSN) {
		dbPath = strings.TrimPrefix(c.DSN, "file:")
		if _, err := os.Stat(dbPath); err == nil {
			return rep, fmt.Errorf("%s exists already: restore into a new database file", dbPath)
		}
	}
	defer func() {
		if err != nil {
			removeContents(c.DataDir)
			if dbPath != "" {
				for _, suffix := range []string{"", "-wal", "-shm"} {
					os.Remove(dbPath + suffix)
				}
			}
		}
	}()
	if err := backup.Extract(c.Dir, m, c.DataDir); err != nil {
		return rep, err
	}
	var want backup.File
	for _, f := range m.Files {
		if f.Path == m.Database.File {
			want = f
		}
	}
	src := filepath.Join(c.Dir, filepath.FromSlash(m.Database.File))
	if dbPath != "" {
		_, err = backup.Copy(src, dbPath, m.Database.File, 0o600, &want)
	} else {
		err = store.RestorePostgres(ctx, c.DSN, src)
	}
	if err != nil {
		return rep, fmt.Errorf("restore the database: %w", err)
	}
	st, err := store.Open(ctx, c.DSN)
	if err != nil {
		return rep, err
	}
	defer st.Close()
	if rep.Reopened, err = st.ReopenLoggedFrom(ctx, int64(m.Log.Size)); err != nil {
		return rep, err
	}
	gap, err := CompareWithLog(ctx, st, c.DataDir)
	if err != nil {
		return rep, err
	}
	if !gap.OK() {
		return rep, fmt.Errorf("the restored database does not match the restored log: %s", gap.Error())
	}
	return rep, nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// newDir makes dir (0700) if needed and insists it is empty (but for the
// locks its caller holds: the data directory's, an SQLite file's): a
// backup or a restore never mixes with files already there.
func newDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !isLock(e) {
			return fmt.Errorf("%s is not empty (it holds %s): give a new directory", dir, e.Name())
		}
	}
	return nil
}

func isLock(e fs.DirEntry) bool {
	return e.Type().IsRegular() && (e.Name() == datadir.LockFile || strings.HasSuffix(e.Name(), ".db.lock"))
}

// removeContents empties a directory newDir accepted, keeping the locks.
func removeContents(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !isLock(e) {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}
