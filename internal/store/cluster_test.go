package store_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
)

// One writer role per database: a second instance is refused it while the
// first holds it, learns the holder's URL, and gets it once the holder's
// session ends; announcements reach a listener with a WAL position the
// replica reaches.
func TestWriterRoleAndAnnouncements(t *testing.T) {
	ctx := context.Background()
	primary, replica := pgtest.Replicated(t)
	a, err := store.Open(ctx, primary)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.Open(ctx, primary)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	la, err := a.TryWriterLock(ctx, "http://10.0.0.1:8080", 50*time.Millisecond)
	if err != nil || la == nil {
		t.Fatalf("the free role: %v %v", la, err)
	}
	if lb, err := b.TryWriterLock(ctx, "http://10.0.0.2:8080", 50*time.Millisecond); err != nil || lb != nil {
		t.Fatalf("a second holder: %v %v", lb, err)
	}
	if u, err := b.Writer(ctx); err != nil || u != "http://10.0.0.1:8080" {
		t.Fatalf("the writer is %q (%v)", u, err)
	}
	if _, err := b.TryWriterLock(ctx, "http://"+string(make([]byte, 60)), time.Second); err == nil {
		t.Error("an advertised URL PostgreSQL would cut was accepted")
	}

	got := make(chan [2]any, 4)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	listening := make(chan struct{})
	go b.Listen(lctx, func() { close(listening) }, func(what string, lsn uint64) { got <- [2]any{what, lsn} })
	<-listening
	if err := a.Announce(ctx, "labels@x"); err != nil {
		t.Fatal(err)
	}
	var lsn uint64
	select {
	case g := <-got:
		if g[0] != "labels@x" || g[1].(uint64) == 0 {
			t.Fatalf("announcement %v", g)
		}
		lsn = g[1].(uint64)
	case <-time.After(5 * time.Second):
		t.Fatal("no announcement")
	}
	r, err := store.OpenReplica(ctx, replica)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pos, err := r.WALPosition(ctx)
		if err == nil && pos >= lsn {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica is at %d (%v), the announcement at %d", pos, err, lsn)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The holder's session ends: the role is free for the next.
	la.Release()
	select {
	case <-la.Lost():
	default:
		t.Error("a released lock is not reported lost")
	}
	lb, err := b.TryWriterLock(ctx, "http://10.0.0.2:8080", 50*time.Millisecond)
	if err != nil || lb == nil {
		t.Fatalf("the role after its holder went: %v %v", lb, err)
	}
	if u, _ := a.Writer(ctx); u != "http://10.0.0.2:8080" {
		t.Errorf("the writer is %q", u)
	}
	// Its session is killed under it (as when the database restarts or
	// the connection drops): the holder is told within its interval.
	db, err := sql.Open("pgx", primary)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'hallmark writer %' AND datname = current_database()`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lb.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("the holder of a killed session was not told it lost the role")
	}
	lb.Release()
	if u, _ := a.Writer(ctx); u != "" {
		t.Errorf("the writer is %q after its session was killed", u)
	}
}

func TestClusterNeedsPostgres(t *testing.T) {
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.TryWriterLock(context.Background(), "http://x", time.Second); !errors.Is(err, store.ErrNotShared) {
		t.Fatalf("SQLite writer role: %v", err)
	}
}

func TestParseLSN(t *testing.T) {
	for in, want := range map[string]uint64{"0/0": 0, "0/16B3748": 0x16B3748, "1/0": 1 << 32, "A/FF": 0xA<<32 | 0xFF} {
		if got, err := store.ParseLSN(in); err != nil || got != want {
			t.Errorf("ParseLSN(%q) = %x, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0", "x/0", "0/x", "100000000/0"} {
		if _, err := store.ParseLSN(bad); err == nil {
			t.Errorf("ParseLSN(%q) accepted", bad)
		}
	}
}
