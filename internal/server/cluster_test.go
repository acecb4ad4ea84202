package server_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
)

// Two instances on one database: the first is the writer, the second may
// not decide (and says why) until the first stops, then takes over with
// the log, which it serves meanwhile.
func TestClusterRoles(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	data := t.TempDir()
	cheap := auth.TestParams
	open := func(advertise string) *server.Server {
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		srv, err := server.New(ctx, st, server.Config{DataDir: data, PublicURL: "https://labels.example", PasswordParams: &cheap,
			Cluster: true, Advertise: advertise, LogCheckpointInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	a := open("http://10.0.0.1:8080")
	b := open("http://10.0.0.2:8080")
	defer b.Close(ctx)
	if !a.IsWriter() || a.DecisionsHeld() != nil {
		t.Fatalf("the first instance: writer %v, held %v", a.IsWriter(), a.DecisionsHeld())
	}
	err := b.DecisionsHeld()
	if b.IsWriter() || !errors.Is(err, server.ErrNotWriter) || !errors.Is(err, server.ErrDecisionsHeld) {
		t.Fatalf("the second instance: writer %v, held %v", b.IsWriter(), err)
	}
	if got := b.WriterURL(ctx); got != "http://10.0.0.1:8080" {
		t.Errorf("the second instance forwards to %q", got)
	}
	if b.LogDir() != a.LogDir() || b.LogOrigin() != a.LogOrigin() || len(b.LogVerifiers()) == 0 {
		t.Errorf("the reader serves log %q %q %v, the writer %q %q", b.LogDir(), b.LogOrigin(), b.LogVerifiers(), a.LogDir(), a.LogOrigin())
	}
	if r := b.Ready(ctx); r.Checks["role"] != "reader" || a.Ready(ctx).Checks["role"] != "writer" {
		t.Errorf("readiness: %v and %v", a.Ready(ctx).Checks, r.Checks)
	}
	a.Close(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for !b.IsWriter() {
		if time.Now().After(deadline) {
			t.Fatal("the second instance did not take the writer role")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := b.DecisionsHeld(); err != nil {
		t.Fatalf("the new writer may not decide: %v", err)
	}
	if _, err := b.Checkpoint(ctx); err != nil {
		t.Fatalf("the new writer's log: %v", err)
	}
}

func TestClusterRefusesSQLite(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cheap := auth.TestParams
	_, err = server.New(ctx, st, server.Config{DataDir: t.TempDir(), PasswordParams: &cheap, Cluster: true, WithoutLog: true})
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("a cluster on SQLite: %v", err)
	}
}
