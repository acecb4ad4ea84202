package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// PostgreSQL databases are backed up with its own tools, pg_dump and
// pg_restore: a dump is one consistent snapshot taken while the database
// is in use, and restores into any PostgreSQL as new or newer.

// pgTool finds a PostgreSQL client program on PATH, else the newest in
// Debian's per-version directories.
func pgTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if p := filepath.Join(d, name); fileExists(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not installed (it comes with PostgreSQL's client programs: apt-get install postgresql-client)", name)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// pgConn turns a postgres:// URL into what the tools take: the URL without
// its password, which goes in the environment, where other users of the
// machine cannot read it (a command line they can).
func pgConn(dsn string) (string, []string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("the database URL does not parse: %w", err)
	}
	env := os.Environ()
	if pw, ok := u.User.Password(); ok {
		env = append(env, "PGPASSWORD="+pw)
		u.User = url.User(u.User.Username())
	}
	return u.String(), env, nil
}

func runPGTool(ctx context.Context, dsn, name string, args ...string) error {
	bin, err := pgTool(name)
	if err != nil {
		return err
	}
	uri, env, err := pgConn(dsn)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, append(args, "--dbname="+uri)...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 4096 {
			msg = msg[:4096] + "…"
		}
		return fmt.Errorf("%s: %v: %s", name, err, msg)
	}
	return nil
}

// DumpPostgres writes a pg_dump of the database at dsn, in pg_dump's
// custom format, to path (which must not exist).
func DumpPostgres(ctx context.Context, dsn, path string) error {
	if fileExists(path) {
		return fmt.Errorf("%s exists already", path)
	}
	if err := runPGTool(ctx, dsn, "pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file="+path); err != nil {
		os.Remove(path)
		return err
	}
	return os.Chmod(path, 0o600)
}

// RestorePostgres loads a dump made by DumpPostgres into the database at
// dsn, which must be empty, in one transaction: it fails whole.
func RestorePostgres(ctx context.Context, dsn, path string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	var tables int
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables)
	db.Close()
	if err != nil {
		return fmt.Errorf("connect to the PostgreSQL database: %w", err)
	}
	if tables > 0 {
		return fmt.Errorf("the PostgreSQL database holds %d table(s): restore into a new, empty database (createdb)", tables)
	}
	return runPGTool(ctx, dsn, "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", path)
}
