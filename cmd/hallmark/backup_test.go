package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/httpd"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
)

func hallmarkRun(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String() + errb.String()
}

// restored is a server started on a restored (or tampered) data directory
// and database, serving HTTP on a new port under the original public URL
// (the log is named after it).
type restored struct {
	URL string
	srv *server.Server
}

func startOn(t *testing.T, dataDir, dsn, publicURL string) restored {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	cheap := auth.TestParams
	srv, err := server.New(ctx, st, server.Config{AdminToken: servertest.AdminToken, DataDir: dataDir, PublicURL: publicURL, PasswordParams: &cheap,
		LogCheckpointInterval: 100 * time.Millisecond})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	h, err := httpd.Handler(srv)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(h)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(func() { ts.Close(); srv.Close(context.Background()); st.Close() })
	return restored{URL: ts.URL, srv: srv}
}

// freshDSN is a new database of the dialect for a restore into dataDir.
func freshDSN(t *testing.T, d store.Dialect, dataDir string) (flag []string, dsn string) {
	if d == store.Postgres {
		dsn = pgtest.DSN(t)
		return []string{"--db", dsn}, dsn
	}
	return nil, filepath.Join(dataDir, "hallmark.db")
}

func revoke(t *testing.T, inst *servertest.Instance, id string) {
	t.Helper()
	ctx := context.Background()
	l, err := inst.Server.LabelRecord(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_, authority, err := inst.Server.Login(ctx, demo.Email(demo.Owners[l.SchemeID]), demo.Password, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Server.ChangeLabel(ctx, authority, id, assess.RevokeLabel, "the manufacturer stopped shipping updates"); err != nil {
		t.Fatal(err)
	}
	if err := inst.Server.WaitLogged(ctx); err != nil {
		t.Fatal(err)
	}
}

func labelStatus(t *testing.T, base, id string) string {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/labels/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l struct{ Status string }
	json.NewDecoder(resp.Body).Decode(&l)
	return l.Status
}

// A backup taken while the server runs restores into a fresh data
// directory and database as the instance was then: it starts deciding at
// once, and audits clean, though the original went on deciding after it.
func TestBackupRestoresAndAuditsClean(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			dataDir := inst.Server.Config().DataDir
			bdir := filepath.Join(t.TempDir(), "backup")
			code, out := hallmarkRun(t, "backup", "--data", dataDir, "--db", inst.DSN, bdir)
			if code != 0 || !strings.Contains(out, "Result       OK") {
				t.Fatalf("backup: exit %d\n%s", code, out)
			}
			if code, out := hallmarkRun(t, "restore", "--check", bdir); code != 0 || !strings.Contains(out, "files match the manifest") {
				t.Fatalf("restore --check: exit %d\n%s", code, out)
			}
			id := someLabel(t, inst.URL, "active")
			revoke(t, inst, id) // after the backup: not in it

			target := filepath.Join(t.TempDir(), "restored")
			dbFlag, dsn := freshDSN(t, d, target)
			code, out = hallmarkRun(t, append(append([]string{"restore", "--data", target}, dbFlag...), bdir)...)
			if code != 0 || !strings.Contains(out, "Result       OK") {
				t.Fatalf("restore: exit %d\n%s", code, out)
			}
			r := startOn(t, target, dsn, inst.Server.Config().PublicURL)
			if err := r.srv.DecisionsHeld(); err != nil {
				t.Fatalf("a restored backup holds decisions: %v", err)
			}
			if got := labelStatus(t, r.URL, id); got != "active" {
				t.Fatalf("label %s is %q in the restored instance, want active (revoked after the backup)", id, got)
			}
			if code, out := audit(t, t.TempDir(), r.URL); code != 0 || !strings.Contains(out, "OK: the log is consistent") {
				t.Fatalf("audit of the restored instance: exit %d\n%s", code, out)
			}
			// It decides again, with ids and positions of its own.
			ctx := context.Background()
			_, authority, err := r.srv.Login(ctx, demo.Email(demo.Owners["etsi-baseline"]), demo.Password, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			next := labelOf(t, r.URL, "etsi-baseline", "")
			if _, err := r.srv.ChangeLabel(ctx, authority, next, assess.SuspendLabel, "after the restore"); err != nil {
				t.Fatal(err)
			}
			if err := r.srv.WaitLogged(ctx); err != nil {
				t.Fatal(err)
			}
			if code, out := audit(t, t.TempDir(), r.URL); code != 0 {
				t.Fatalf("audit after a decision on the restored instance: exit %d\n%s", code, out)
			}

			// Restores go into new places only, and damage is refused.
			if code, out := hallmarkRun(t, append(append([]string{"restore", "--data", target}, dbFlag...), bdir)...); code != 1 || !strings.Contains(out, "is not empty") {
				t.Fatalf("restore over a data directory: exit %d\n%s", code, out)
			}
			key := filepath.Join(bdir, "data", "csrf.key")
			b, _ := os.ReadFile(key)
			b[0] ^= 1
			os.WriteFile(key, b, 0o600)
			if code, out := hallmarkRun(t, "restore", "--check", bdir); code != 3 || !strings.Contains(out, "data/csrf.key is not the file backed up") {
				t.Fatalf("restore --check of a damaged backup: exit %d\n%s", code, out)
			}
			other := filepath.Join(t.TempDir(), "other")
			dbFlag, _ = freshDSN(t, d, other)
			if code, out := hallmarkRun(t, append(append([]string{"restore", "--data", other}, dbFlag...), bdir)...); code != 1 || !strings.Contains(out, "damaged; nothing was restored") {
				t.Fatalf("restore of a damaged backup: exit %d\n%s", code, out)
			}
			ents, _ := os.ReadDir(other)
			for _, e := range ents {
				if !strings.HasSuffix(e.Name(), ".lock") { // the restore's own locks only
					t.Errorf("a refused restore wrote %s into %s", e.Name(), other)
				}
			}
		})
	}
}

// An older backup's database restored beside a newer log — the issue's
// case: it would serve a revoked label as valid and give out decision ids
// again — is detected at start-up: reads are served, every decision is
// refused, and the operator is told which decisions are missing.
func TestOlderDatabaseIsRefused(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			dataDir := inst.Server.Config().DataDir
			old := filepath.Join(t.TempDir(), "old")
			if code, out := hallmarkRun(t, "backup", "--data", dataDir, "--db", inst.DSN, old); code != 0 {
				t.Fatalf("backup: exit %d\n%s", code, out)
			}
			id := someLabel(t, inst.URL, "active")
			revoke(t, inst, id)

			// The old database, with the data directory as it is now.
			target := filepath.Join(t.TempDir(), "mixed")
			dbFlag, dsn := freshDSN(t, d, target)
			if code, out := hallmarkRun(t, append(append([]string{"restore", "--data", target}, dbFlag...), old)...); code != 0 {
				t.Fatalf("restore: exit %d\n%s", code, out)
			}
			for _, sub := range []string{"log", "logkeys"} {
				os.RemoveAll(filepath.Join(target, sub))
				if err := os.CopyFS(filepath.Join(target, sub), os.DirFS(filepath.Join(dataDir, sub))); err != nil {
					t.Fatal(err)
				}
			}
			os.Chmod(filepath.Join(target, "logkeys", "log.key"), 0o600) // CopyFS makes files 0644
			var logs bytes.Buffer
			r := func() restored {
				defer captureLog(&logs)()
				return startOn(t, target, dsn, inst.Server.Config().PublicURL)
			}()
			held := r.srv.DecisionsHeld()
			if !errors.Is(held, server.ErrDecisionsHeld) {
				t.Fatalf("an older database beside a newer log: DecisionsHeld %v", held)
			}
			for _, want := range []string{"the database is behind the transparency log", "the log holds 1 decision(s) the database does not",
				"label.revoked " + id, "restore a newer backup", "still served"} {
				if !strings.Contains(held.Error(), want) || !strings.Contains(logs.String(), want) {
					t.Errorf("the refusal (and the server log) should say %q:\n%v\n%s", want, held, logs.String())
				}
			}
			// Reads are served, and show why deciding would be wrong.
			if got := labelStatus(t, r.URL, id); got != "active" {
				t.Fatalf("label %s in the old database: %q", id, got)
			}
			if code, out := audit(t, t.TempDir(), r.URL); code != 3 || !strings.Contains(out, "label "+id+" is active in the registry") {
				t.Fatalf("audit of the old database: exit %d\n%s", code, out)
			}
			// Decisions are refused, through the gate and the API.
			ctx := context.Background()
			_, authority, err := r.srv.Login(ctx, demo.Email(demo.Owners["etsi-baseline"]), demo.Password, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			next := labelOf(t, r.URL, "etsi-baseline", id)
			if _, err := r.srv.ChangeLabel(ctx, authority, next, assess.SuspendLabel, "should not happen"); !errors.Is(err, server.ErrDecisionsHeld) {
				t.Fatalf("a suspension on the old database: %v", err)
			}
			if n, err := r.srv.ExpireDue(ctx); n != 0 || !errors.Is(err, server.ErrDecisionsHeld) {
				t.Fatalf("expiry on the old database: %d, %v", n, err)
			}
			doc, _ := os.ReadFile(filepath.Join("..", "..", "internal", "scheme", "testdata", "good.yaml"))
			req, _ := http.NewRequest(http.MethodPost, r.URL+"/api/v1/schemes", bytes.NewReader(doc))
			req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
			req.Header.Set("Content-Type", "application/yaml")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "behind its transparency log") {
				t.Fatalf("publishing a scheme on the old database: %s\n%s", resp.Status, body)
			}
			// Nothing was written to the outbox: no decision id was reused.
			if pending, err := storeOf(t, dsn).PendingCount(ctx); err != nil || pending != 0 {
				t.Fatalf("%d decision(s) written while held (%v)", pending, err)
			}
		})
	}
}

func storeOf(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// captureLog sends the server's log lines to w until the returned func runs.
func captureLog(w *bytes.Buffer) func() {
	old := slog.Default()
	var mu sync.Mutex
	slog.SetDefault(slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return w.Write(p)
	}), nil)))
	return func() { mu.Lock(); slog.SetDefault(old); mu.Unlock() }
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// A decision made while a backup runs, after its log copy and before its
// database copy, is in the restored database with a receipt for an entry
// the restored log lacks: the restore makes it pending again, and the
// restored server logs it anew.
func TestDecisionDuringBackupIsLoggedAfterRestore(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			ctx := context.Background()
			bdir := filepath.Join(t.TempDir(), "backup")
			id := someLabel(t, inst.URL, "active")
			quietTessera()
			m, err := server.Backup(ctx, server.BackupConfig{DataDir: inst.Server.Config().DataDir, DSN: inst.DSN, Dir: bdir, Version: "test",
				AfterLog: func() { revoke(t, inst, id) }})
			if err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(t.TempDir(), "restored")
			_, dsn := freshDSN(t, d, target)
			rep, err := server.Restore(ctx, server.RestoreConfig{Dir: bdir, DataDir: target, DSN: dsn})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Reopened != 1 || m.Log.Size == 0 {
				t.Fatalf("reopened %d decision(s) past log entry %d, want the revocation", rep.Reopened, m.Log.Size)
			}
			r := startOn(t, target, dsn, inst.Server.Config().PublicURL)
			if err := r.srv.WaitLogged(ctx); err != nil {
				t.Fatal(err)
			}
			if got := labelStatus(t, r.URL, id); got != "revoked" {
				t.Fatalf("label %s after the restore: %q, want revoked", id, got)
			}
			if code, out := audit(t, t.TempDir(), r.URL); code != 0 {
				t.Fatalf("audit of the restored instance: exit %d\n%s", code, out)
			}
		})
	}
}
