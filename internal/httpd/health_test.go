package httpd_test

// Errors named and never hidden (issue 10, item 10): a database failure
// during token lookup is a 503, not "token unknown"; every 5xx carries a
// request id and is logged under it; /healthz is liveness only, /readyz
// covers database writes and log appends.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// logBuffer collects the structured log, safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func captureLog(t *testing.T) *logBuffer {
	t.Helper()
	b := &logBuffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(b, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return b
}

type answer struct {
	status int
	header http.Header
	body   string
}

func send(t *testing.T, method, url, token, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// manufacturerToken signs in as a demo manufacturer and makes it a token;
// it returns the token and the session id of the sign-in.
func manufacturerToken(t *testing.T, inst *servertest.Instance) (token, session string) {
	t.Helper()
	ctx := context.Background()
	orgs, err := inst.Store.Organisations(ctx, "manufacturer")
	if err != nil || len(orgs) == 0 {
		t.Fatalf("no manufacturer: %v", err)
	}
	users, err := inst.Store.Users(ctx, orgs[0].ID)
	if err != nil || len(users) == 0 {
		t.Fatalf("no user: %v", err)
	}
	sid, p, err := inst.Server.Login(ctx, users[0].Email, demo.Password, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := inst.Server.NewAPIToken(ctx, p, "health test")
	if err != nil {
		t.Fatal(err)
	}
	return tok, sid
}

// readiness reads /readyz.
func readiness(t *testing.T, base string) (int, map[string]string) {
	t.Helper()
	a := send(t, "GET", base+"/readyz", "", "")
	var r struct {
		Ready  bool              `json:"ready"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal([]byte(a.body), &r); err != nil {
		t.Fatalf("/readyz: not JSON: %d %s", a.status, a.body)
	}
	if r.Ready != (a.status == http.StatusOK) {
		t.Errorf("/readyz: status %d but ready=%v", a.status, r.Ready)
	}
	return a.status, r.Checks
}

func healthy(t *testing.T, base, when string) {
	t.Helper()
	if a := send(t, "GET", base+"/healthz", "", ""); a.status != http.StatusOK {
		t.Errorf("%s: /healthz %d, want 200 (liveness does not depend on the database)", when, a.status)
	}
}

// With the database gone, a request bearing a valid token is a 503 with a
// request id, logged under that id; never a 401 telling the client its
// token is bad.
func TestDatabaseDownIsNamed(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			tok, sid := manufacturerToken(t, inst)
			if a := send(t, "GET", inst.URL+"/api/v1/applications", tok, ""); a.status != http.StatusOK || a.header.Get("X-Request-Id") == "" {
				t.Fatalf("with the database up: %d, request id %q", a.status, a.header.Get("X-Request-Id"))
			}
			if status, checks := readiness(t, inst.URL); status != http.StatusOK || checks["database"] != "ok" || checks["log"] != "ok" {
				t.Fatalf("ready with everything up: %d %v", status, checks)
			}
			logs := captureLog(t)
			inst.Store.Close() // the database goes away under the running server

			a := send(t, "GET", inst.URL+"/api/v1/applications", tok, "")
			if a.status != http.StatusServiceUnavailable {
				t.Fatalf("token lookup with the database down: %d, want 503: %s", a.status, a.body)
			}
			var p struct {
				Status    int    `json:"status"`
				Detail    string `json:"detail"`
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal([]byte(a.body), &p); err != nil {
				t.Fatalf("503 is not a problem document: %s", a.body)
			}
			id := a.header.Get("X-Request-Id")
			if id == "" || p.RequestID != id || a.header.Get("Retry-After") == "" {
				t.Errorf("503: header id %q, body id %q, Retry-After %q", id, p.RequestID, a.header.Get("Retry-After"))
			}
			if strings.Contains(p.Detail, "token") {
				t.Errorf("the 503 blames the token: %q", p.Detail)
			}
			line := ""
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "request_id="+id) {
					line = l
				}
			}
			if !strings.Contains(line, "request failed") || !strings.Contains(line, "status=503") || !strings.Contains(line, "database is closed") {
				t.Errorf("the 503 is not logged with its id and cause; log line %q", line)
			}

			// A console page says the same, with the id to quote.
			req, _ := http.NewRequest("GET", inst.URL+"/console", nil)
			req.AddCookie(&http.Cookie{Name: auth.SessionCookieDevName, Value: sid})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), resp.Header.Get("X-Request-Id")) {
				t.Errorf("console with the database down: %d (want 503 showing the request id %s)", resp.StatusCode, resp.Header.Get("X-Request-Id"))
			}

			healthy(t, inst.URL, "database closed")
			if status, checks := readiness(t, inst.URL); status != http.StatusServiceUnavailable || checks["database"] == "ok" {
				t.Errorf("/readyz with the database closed: %d %v, want 503 naming the database", status, checks)
			}
		})
	}
}

// Readiness covers writes: a database that answers but does not take
// writes (SQLite locked by another writer, PostgreSQL read-only) is not
// ready, though /healthz stays 200; and the log: a log directory that takes
// no files is not ready either.
func TestReadiness(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			captureLog(t)
			if status, checks := readiness(t, inst.URL); status != http.StatusOK {
				t.Fatalf("not ready at start: %v", checks)
			}
			release := blockWrites(t, d, inst.DSN)
			settle(t, inst)
			start := time.Now()
			status, checks := readiness(t, inst.URL)
			if status != http.StatusServiceUnavailable || checks["database"] != "writes fail" || checks["log"] != "ok" {
				t.Errorf("/readyz with writes blocked: %d %v, want 503 naming database writes", status, checks)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("/readyz took %v with writes blocked; it must answer promptly", took)
			}
			healthy(t, inst.URL, "writes blocked")
			release()
			settle(t, inst)
			if status, checks := readiness(t, inst.URL); status != http.StatusOK {
				t.Errorf("/readyz after writes came back: %d %v", status, checks)
			}

			// The log directory replaced by a file: appends cannot work.
			dir := inst.Server.LogDir()
			if err := os.Rename(dir, dir+".away"); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
				t.Fatal(err)
			}
			status, checks = readiness(t, inst.URL)
			if status != http.StatusServiceUnavailable || checks["log"] != "appends fail" || checks["database"] != "ok" {
				t.Errorf("/readyz with the log directory gone: %d %v, want 503 naming the log", status, checks)
			}
			healthy(t, inst.URL, "log gone")
			os.Remove(dir)
			if err := os.Rename(dir+".away", dir); err != nil {
				t.Fatal(err)
			}
			if status, checks := readiness(t, inst.URL); status != http.StatusOK {
				t.Errorf("/readyz with the log back: %d %v", status, checks)
			}
		})
	}
}

// settle reads until the server's pool has dropped the connections
// PostgreSQL ended (each fails once, as after a failover), and insists
// reads work.
func settle(t *testing.T, inst *servertest.Instance) {
	t.Helper()
	var err error
	for range 40 {
		if _, err = inst.Store.Organisations(context.Background(), ""); err == nil {
			return
		}
	}
	t.Fatalf("the database no longer answers reads: %v", err)
}

// blockWrites makes the database refuse writes while still answering
// reads, and returns how to undo it.
func blockWrites(t *testing.T, d store.Dialect, dsn string) (release func()) {
	t.Helper()
	ctx := context.Background()
	if d == store.SQLite {
		// Another process holds the write lock.
		db, err := sql.Open("sqlite", "file:"+filepath.Clean(dsn)+"?_pragma=busy_timeout(100)")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		return func() {
			conn.ExecContext(ctx, "ROLLBACK")
			conn.Close()
			db.Close()
		}
	}
	// PostgreSQL turned read-only (as a standby is), its sessions ended so
	// the server's pool reconnects read-only.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	set := func(on string) {
		t.Helper()
		for _, q := range []string{"SET default_transaction_read_only = off",
			"DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = " + on + "', current_database()); END $$",
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	set("on")
	return func() { set("off"); db.Close() }
}
