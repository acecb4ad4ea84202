package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	pairOnce sync.Once
	pair     *replicatedPair
	pairErr  error
)

// replicatedPair is a primary and a hot standby streaming from it, both on
// Unix sockets only.
type replicatedPair struct {
	primary, replica *pgCluster
}

// Replicated returns the URLs of a new, empty database on a primary and of
// the same database on a streaming replica of it (pg_basebackup -R: real
// physical replication over the primary's Unix socket). The replica
// answers reads only, and lags the primary by however long replay takes.
// It skips the test when PostgreSQL is not installed, unless CI=true.
func Replicated(t testing.TB) (primary, replica string) {
	t.Helper()
	pairOnce.Do(func() { pair, pairErr = startPair() })
	if pairErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required in CI: %v", pairErr)
		}
		t.Skipf("PostgreSQL replication not available: %v", pairErr)
	}
	name := fmt.Sprintf("r%d_%d", os.Getpid(), dbSeq.Add(1))
	p, err := sql.Open("pgx", pair.primary.base+"postgres?host="+pair.primary.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	// The new database reaches the replica by replay: wait for it there.
	r, err := sql.Open("pgx", pair.replica.base+name+"?host="+pair.replica.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	deadline := time.Now().Add(30 * time.Second)
	for r.Ping() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("database %s did not reach the replica", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return pair.primary.base + name + "?host=" + pair.primary.dir, pair.replica.base + name + "?host=" + pair.replica.dir
}

func startPair() (*replicatedPair, error) {
	dir, cred, bin, err := newDir()
	if err != nil {
		return nil, err
	}
	if err := initdb(dir, cred, bin); err != nil {
		return nil, err
	}
	// initdb's trust authentication covers local replication connections.
	primary, err := run(dir, cred, bin, "-c", "wal_level=replica", "-c", "max_wal_senders=4", "-c", "hot_standby=on")
	if err != nil {
		return nil, err
	}
	rdir, _, _, err := newDir()
	if err != nil {
		primary.stop()
		return nil, err
	}
	// -R writes standby.signal and primary_conninfo (the primary's socket
	// directory), so the copy starts as a streaming standby.
	bb := exec.Command(filepath.Join(bin, "pg_basebackup"), "-D", filepath.Join(rdir, "data"), "-h", dir, "-U", "postgres", "-R", "-X", "stream", "--no-sync")
	bb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	bb.Dir = rdir
	if out, err := bb.CombinedOutput(); err != nil {
		primary.stop()
		os.RemoveAll(rdir)
		return nil, fmt.Errorf("pg_basebackup: %v: %s", err, out)
	}
	replica, err := run(rdir, cred, bin, "-c", "hot_standby=on")
	if err != nil {
		primary.stop()
		return nil, err
	}
	// It must really be a standby, streaming.
	db, _ := sql.Open("pgx", replica.base+"postgres?host="+rdir)
	defer db.Close()
	var standby bool
	if err := db.QueryRowContext(context.Background(), `SELECT pg_is_in_recovery()`).Scan(&standby); err != nil || !standby {
		primary.stop()
		replica.stop()
		return nil, fmt.Errorf("the replica is not in recovery (%v)", err)
	}
	return &replicatedPair{primary: primary, replica: replica}, nil
}
