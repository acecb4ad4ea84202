// Package servertest starts a real Hallmark server for tests: real store
// (SQLite or PostgreSQL), real catalogue, real HTTP on loopback.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/httpd"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
)

// AdminToken is the admin token test servers accept.
const AdminToken = "test-admin-token"

// Instance is a running test server.
type Instance struct {
	URL    string
	Server *server.Server
	Store  *store.Store
	DSN    string // the database, for tests that tamper with it behind the server's back
}

// Start runs a server on a fresh database of the given dialect, with the
// demo dataset loaded, and stops it when the test ends. PostgreSQL tests
// need TestMain to call pgtest.Main.
func Start(t testing.TB, d store.Dialect) *Instance {
	t.Helper()
	return StartWith(t, d, nil)
}

// StartWith is Start with a chance to adjust the server's configuration
// (a clock, witnesses) before it starts.
func StartWith(t testing.TB, d store.Dialect, configure func(*server.Config)) *Instance {
	t.Helper()
	// Start-up chatter would bury test output.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "hallmark.db")
	if d == store.Postgres {
		dsn = pgtest.DSN(t)
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Listen first, so the server knows its own public URL: forms are
	// checked against it, and labels and QR codes point at it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	cheap := auth.TestParams
	cfg := server.Config{AdminToken: AdminToken, DataDir: t.TempDir(), PasswordParams: &cheap, PublicURL: url,
		LogCheckpointInterval: 100 * time.Millisecond}
	if configure != nil {
		configure(&cfg)
	}
	srv, err := server.New(ctx, st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.LoadDemo(ctx, demo.Small); err != nil {
		t.Fatal(err)
	}
	// Tests start from a settled instance: the demo's decisions in the log
	// with their receipts (a server itself never waits for this).
	if cfg.Witnesses == nil && !cfg.WithoutLog {
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := srv.WaitLogged(wctx); err != nil {
			t.Fatal(err)
		}
	}
	h, err := httpd.Handler(srv)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(h)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		srv.Close(context.Background())
		st.Close()
	})
	return &Instance{URL: ts.URL, Server: srv, Store: st, DSN: dsn}
}

// Dialects lists the engines every end-to-end test runs on.
var Dialects = []store.Dialect{store.SQLite, store.Postgres}
