package main

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// The log holds the hash of every public reason: a reason edited in the
// database, or an event deleted from a label's history, is named by the
// audit, while decisions made just now (not yet logged) are not problems.
func TestAuditChecksLabelHistories(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			ctx := context.Background()
			state := t.TempDir()
			id := someLabel(t, inst.URL, "active")
			other := someLabel(t, inst.URL, "suspended")
			var schemeID string
			db := openDB(t, d, inst.DSN)
			if err := db.QueryRow(`SELECT scheme_id FROM labels WHERE id = $1`, id).Scan(&schemeID); err != nil {
				t.Fatal(err)
			}
			_, authority, err := inst.Server.Login(ctx, demo.Email(demo.Owners[schemeID]), demo.Password, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			// A suspension and its lifting, not yet logged: the label's
			// status is the logged one, its history two events longer.
			for _, a := range []assess.LabelAction{assess.SuspendLabel, assess.RestoreLabel} {
				if _, err := inst.Server.ChangeLabel(ctx, authority, id, a, "checking the update server"); err != nil {
					t.Fatal(err)
				}
			}
			if code, out := audit(t, state, inst.URL); code != 0 {
				t.Fatalf("audit with fresh decisions: exit %d\n%s", code, out)
			}
			if err := inst.Server.WaitLogged(ctx); err != nil {
				t.Fatal(err)
			}

			// The suspension's public reason rewritten in the database.
			if _, err := db.Exec(`UPDATE label_events SET reason = 'a kinder reason' WHERE label_id = $1 AND action = 'suspend'`, id); err != nil {
				t.Fatal(err)
			}
			// An event deleted from another label's history.
			if _, err := db.Exec(`DELETE FROM label_events WHERE id = (SELECT MAX(id) FROM label_events WHERE label_id = $1)`, other); err != nil {
				t.Fatal(err)
			}
			touch(t, inst, authority, schemeID, id) // drop the server's cached pages
			code, out := audit(t, state, inst.URL)
			for _, want := range []string{
				"label " + id + ": the reason its page shows for the suspend of",
				"the public reason was edited behind the log's back",
				"label " + other + ": its history shows",
				"events were deleted behind the log's back",
			} {
				if code != 3 || !strings.Contains(out, want) {
					t.Errorf("audit after editing a reason: exit %d, want 3 and %q\n%s", code, want, out)
				}
			}
		})
	}
}

func openDB(t *testing.T, d store.Dialect, dsn string) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if d == store.Postgres {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// touch makes a legitimate change to a label other than not. It no longer
// rebuilds what the server caches of not (a change forgets only its own
// label): the audit reads past the caches (Cache-Control: no-cache), which
// is what these tests now rely on; the change stays as ordinary traffic.
func touch(t *testing.T, inst *servertest.Instance, p server.Principal, schemeID, not string) {
	t.Helper()
	next := labelOf(t, inst.URL, schemeID, not)
	if _, err := inst.Server.ChangeLabel(context.Background(), p, next, assess.SuspendLabel, "audit test"); err != nil {
		t.Fatal(err)
	}
	if err := inst.Server.WaitLogged(context.Background()); err != nil {
		t.Fatal(err)
	}
}
