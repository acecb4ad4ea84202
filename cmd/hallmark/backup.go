package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"k8s.io/klog/v2"

	"github.com/hallmark-iot/hallmark/internal/backup"
	"github.com/hallmark-iot/hallmark/internal/server"
)

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", "backup [flags] DIR",
		"Writes a consistent backup of an instance into DIR (new, or empty): its transparency log as\n"+
			"its newest checkpoint describes it, then its database (SQLite: VACUUM INTO; PostgreSQL:\n"+
			"pg_dump, which must be installed), then keys, log keys, evidence and the rest of the data\n"+
			"directory, and last a manifest of every file's SHA-256. The server may keep serving: the\n"+
			"backup only reads. Restore it with 'hallmark restore'.", stderr)
	var d dataFlags
	d.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("name the directory to write the backup into")
	}
	dir := fs.Arg(0)
	if inside(dir, d.data) {
		return usagef("the backup directory %s is inside the data directory %s: put it elsewhere (ideally on another disk)", dir, d.data)
	}
	quietTessera()
	m, err := server.Backup(ctx, server.BackupConfig{DataDir: d.data, DSN: d.dsn(), Dir: dir, Version: version})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	var total int64
	for _, f := range m.Files {
		total += f.Size
	}
	fmt.Fprintf(stdout, "Backup       %s\nDatabase     %s (%s)\n", dir, m.Database.Kind, m.Database.File)
	if m.Log.Size > 0 {
		fmt.Fprintf(stdout, "Log          %d entries of %s, root %s\n", m.Log.Size, m.Log.Origin, m.Log.Root)
	} else {
		fmt.Fprintln(stdout, "Log          none yet")
	}
	fmt.Fprintf(stdout, "Files        %d, %s\nResult       OK: restore with 'hallmark restore --data NEW-DIR %s'\n", len(m.Files), byteSize(total), dir)
	return nil
}

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", "restore [flags] BACKUP",
		"Restores a backup made by 'hallmark backup' into a new data directory (--data, new or\n"+
			"empty) and a new database (--db: a new SQLite file, by default hallmark.db in --data, or\n"+
			"the URL of a new, empty PostgreSQL database, loaded with pg_restore). Every file is\n"+
			"checked against the manifest first; nothing is written from a damaged backup. Decisions\n"+
			"the database has receipts for beyond the log copy's end are made pending again, and are\n"+
			"logged when the server starts. With --check, only checks the backup.", stderr)
	var d dataFlags
	d.register(fs)
	check := fs.Bool("check", false, "only check the backup's files against its manifest; write nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("name the backup directory")
	}
	dir := fs.Arg(0)
	if *check {
		m, err := backup.ReadManifest(dir)
		if err != nil {
			return err
		}
		if problems := backup.Verify(dir, m); len(problems) > 0 {
			fmt.Fprintf(stdout, "Backup       %s\nResult       DAMAGED, %d problem(s)\n", dir, len(problems))
			for _, p := range problems {
				fmt.Fprintf(stdout, "  - %s\n", p)
			}
			return auditFailed(len(problems))
		}
		fmt.Fprintf(stdout, "Backup       %s (made %s by hallmark %s)\nResult       OK: %d files match the manifest\n",
			dir, m.Created.Format("2006-01-02 15:04:05Z07:00"), m.Version, len(m.Files))
		return nil
	}
	unlock, err := d.lock("hallmark restore")
	if err != nil {
		return err
	}
	defer unlock()
	quietTessera()
	rep, err := server.Restore(ctx, server.RestoreConfig{Dir: dir, DataDir: d.data, DSN: d.dsn()})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	m := rep.Manifest
	fmt.Fprintf(stdout, "Restored     %s (made %s)\nInto         %s, database %s\n", dir, m.Created.Format("2006-01-02 15:04:05Z07:00"), d.data, d.dsn())
	fmt.Fprintf(stdout, "Log          %d entries; the database holds every decision it does\n", m.Log.Size)
	if rep.Reopened > 0 {
		fmt.Fprintf(stdout, "Pending      %d decision(s) made while the backup ran, logged again when the server starts\n", rep.Reopened)
	}
	start := "hallmark serve --data " + d.data
	if d.db != "" {
		start += " --db " + redact(d.db)
	}
	fmt.Fprintf(stdout, "Result       OK: start it with '%s'", start)
	if host, ok := strings.CutSuffix(m.Log.Origin, "/log"); ok {
		fmt.Fprintf(stdout, " and the --public-url it had (host %s: the log is named after it)", host)
	}
	fmt.Fprintln(stdout)
	return nil
}

// quietTessera keeps the log library's progress lines off the terminal:
// failures come back as errors.
func quietTessera() {
	klog.SetSlogLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func inside(dir, parent string) bool {
	a, err1 := filepath.Abs(dir)
	b, err2 := filepath.Abs(parent)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(b, a)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// redact hides a database URL's password in what is printed.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.Index(dsn[i+3:], "@"); at >= 0 {
			if colon := strings.Index(dsn[i+3:i+3+at], ":"); colon >= 0 {
				return dsn[:i+3+colon] + ":***" + dsn[i+3+at:]
			}
		}
	}
	return dsn
}
