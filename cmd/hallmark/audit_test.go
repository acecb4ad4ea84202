package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
)

func TestMain(m *testing.M) {
	// No test may read or write the user's own trust store: each passes
	// --trust, and a forgotten one lands here.
	if dir, err := os.MkdirTemp("", "hallmark-test-config-"); err == nil {
		os.Setenv("XDG_CONFIG_HOME", dir)
	}
	pgtest.Main(m)
}

func audit(t *testing.T, state string, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"audit", "--state", state}, args...), &out, &errb)
	return code, out.String() + errb.String()
}

// behindTheBack opens the instance's database for a test to tamper with
// it behind the server's back, closed when the test ends. On SQLite it
// waits for the server's own writers (busy_timeout), as the server's
// connections do, rather than failing with SQLITE_BUSY.
func behindTheBack(t *testing.T, inst *servertest.Instance) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", inst.DSN
	if !strings.HasPrefix(dsn, "postgres") {
		driver, dsn = "sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func someLabel(t *testing.T, base, status string) string {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/labels?limit=1&status=" + status)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l struct{ Items []struct{ ID string } }
	json.NewDecoder(resp.Body).Decode(&l)
	if len(l.Items) == 0 {
		t.Fatalf("no %s label in the demo", status)
	}
	return l.Items[0].ID
}

// The audit passes on a served demo, and fails, naming the cause, on each
// way of tampering: a row changed in the database, a tile edited, a file
// truncated.
func TestAuditCatchesTampering(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			state := t.TempDir()
			code, out := audit(t, state, inst.URL)
			if code != 0 || !strings.Contains(out, "OK: the log is consistent") {
				t.Fatalf("clean audit: exit %d\n%s", code, out)
			}
			// A status changed in the database without a decision.
			id := someLabel(t, inst.URL, "active")
			db := behindTheBack(t, inst)
			if _, err := db.Exec(`UPDATE labels SET status = 'revoked' WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
			code, out = audit(t, state, inst.URL)
			if code != 3 || !strings.Contains(out, "label "+id+" is revoked in the registry") || !strings.Contains(out, "behind the log's back") {
				t.Fatalf("audit after a row change: exit %d\n%s", code, out)
			}
			db.Exec(`UPDATE labels SET status = 'active' WHERE id = $1`, id)

			// A suspended label moved to another status-list position: the
			// list verifiers read no longer says it is suspended.
			var schemeID string
			if err := db.QueryRow(`SELECT scheme_id FROM labels WHERE id = $1`, id).Scan(&schemeID); err != nil {
				t.Fatal(err)
			}
			_, authority, err := inst.Server.Login(context.Background(), demo.Email(demo.Owners[schemeID]), demo.Password, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := inst.Server.ChangeLabel(context.Background(), authority, id, assess.SuspendLabel, "audit test"); err != nil {
				t.Fatal(err)
			}
			if code, out := audit(t, state, inst.URL); code != 0 {
				t.Fatalf("audit after a legitimate suspension: exit %d\n%s", code, out)
			}
			if _, err := db.Exec(`UPDATE labels SET status_index = status_index + 1 WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
			// A legitimate change of another label keeps the served lists as
			// they were; the audit asks for them as the rows are now
			// (Cache-Control: no-cache) and finds the moved bit.
			next := labelOf(t, inst.URL, schemeID, id)
			if _, err := inst.Server.ChangeLabel(context.Background(), authority, next, assess.SuspendLabel, "audit test"); err != nil {
				t.Fatal(err)
			}
			code, out = audit(t, state, inst.URL)
			if code != 3 || !strings.Contains(out, "label "+id+" is suspended in the log, but its suspension bit") {
				t.Fatalf("audit after moving a suspended label's status bit: exit %d\n%s", code, out)
			}
			db.Exec(`UPDATE labels SET status_index = status_index - 1 WHERE id = $1`, id)

			// A label deleted from the registry.
			other := someLabel(t, inst.URL, "active")
			if _, err := db.Exec(`DELETE FROM labels WHERE id = $1`, other); err != nil {
				t.Fatal(err)
			}
			code, out = audit(t, state, inst.URL)
			if code != 3 || !strings.Contains(out, "label "+other+" is in the log but missing from the registry") {
				t.Fatalf("audit after deleting a label: exit %d\n%s", code, out)
			}

			// An edited tile, then a truncated entry bundle, on a copy of the
			// log directory (the served one must stay intact for the server),
			// taken once the decisions above are logged.
			if err := inst.Server.WaitLogged(context.Background()); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.CopyFS(filepath.Join(dir, "log"), os.DirFS(inst.Server.LogDir())); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(dir, "logkeys"), 0o700); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "logkeys", "verifiers"), []byte(strings.Join(inst.Server.LogVerifiers(), "\n")), 0o600)
			logDir := filepath.Join(dir, "log")
			if code, out := audit(t, t.TempDir(), logDir); code != 0 {
				t.Fatalf("audit of the copied directory: exit %d\n%s", code, out)
			}
			tile := currentTile(t, filepath.Join(logDir, "tile", "0"))
			b, _ := os.ReadFile(tile)
			orig := bytes.Clone(b)
			b[len(b)/2] ^= 0xff
			os.WriteFile(tile, b, 0o644)
			code, out = audit(t, t.TempDir(), logDir)
			if code != 3 || !strings.Contains(out, "differs from the hashes recomputed") {
				t.Fatalf("audit after editing %s: exit %d\n%s", tile, code, out)
			}
			os.WriteFile(tile, orig, 0o644)

			bundle := currentTile(t, filepath.Join(logDir, "tile", "entries"))
			b, _ = os.ReadFile(bundle)
			os.WriteFile(bundle, b[:len(b)/2], 0o644)
			code, out = audit(t, t.TempDir(), logDir)
			if code != 3 || !strings.Contains(out, "PROBLEM") {
				t.Fatalf("audit after truncating %s: exit %d\n%s", bundle, code, out)
			}
		})
	}
}

// currentTile finds the tile the current tree uses in a tile directory: the
// full tile 000 if there is one, else the widest partial tile 000.p/N
// (narrower partial tiles are left over from smaller trees).
func currentTile(t *testing.T, dir string) string {
	t.Helper()
	if fi, err := os.Stat(filepath.Join(dir, "000")); err == nil && !fi.IsDir() {
		return filepath.Join(dir, "000")
	}
	parts, _ := filepath.Glob(filepath.Join(dir, "000.p", "*"))
	best, width := "", 0
	for _, p := range parts {
		var n int
		fmt.Sscan(filepath.Base(p), &n)
		if n > width {
			best, width = p, n
		}
	}
	if best == "" {
		t.Fatalf("no tile in %s", dir)
	}
	return best
}

// labelOf returns an active label of a scheme other than not.
func labelOf(t *testing.T, base, scheme, not string) string {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/labels?limit=100&status=active&scheme=" + scheme)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l struct{ Items []struct{ ID string } }
	json.NewDecoder(resp.Body).Decode(&l)
	for _, it := range l.Items {
		if it.ID != not {
			return it.ID
		}
	}
	t.Fatalf("no second active %s label", scheme)
	return ""
}
