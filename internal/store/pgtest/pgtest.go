// Package pgtest starts a throwaway PostgreSQL cluster for tests, from the
// system's initdb and postgres binaries (no Docker), listening only on a Unix
// socket in a temporary directory. One cluster serves a whole test binary;
// each caller gets a fresh database in it.
//
// When the binaries are missing the tests that need PostgreSQL skip, except
// in CI (CI=true), where a missing PostgreSQL is a failure.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

var (
	once    sync.Once
	cluster *pgCluster
	initErr error
	dbSeq   atomic.Int64
)

type pgCluster struct {
	dir  string
	cmd  *exec.Cmd
	base string // DSN without the database name
}

// Main runs a package's tests and stops the cluster afterwards. Call it from
// TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop shuts the clusters down and removes their files.
func Stop() {
	// The replica first: it would only retry its vanished primary.
	if pair != nil {
		pair.replica.stop()
		pair.primary.stop()
		pair = nil
	}
	if cluster != nil {
		cluster.stop()
		cluster = nil
	}
}

func (c *pgCluster) stop() {
	c.cmd.Process.Signal(syscall.SIGINT) // PostgreSQL's fast shutdown
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
	}
	os.RemoveAll(c.dir)
}

// DSN returns the URL of a new, empty database. It skips the test when
// PostgreSQL is not installed, unless CI=true.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(func() { cluster, initErr = start() })
	if initErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required in CI: %v", initErr)
		}
		t.Skipf("PostgreSQL not available: %v", initErr)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	db, err := sql.Open("pgx", cluster.base+"postgres?host="+cluster.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	return cluster.base + name + "?host=" + cluster.dir
}

func binDir() (string, error) {
	// The directory must hold pg_basebackup too (the replica's).
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "pg_basebackup")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	// Debian keeps the server binaries off PATH, one directory per version.
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return dirs[i] > dirs[j] })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("initdb not found on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
}

func start() (*pgCluster, error) {
	dir, cred, bin, err := newDir()
	if err != nil {
		return nil, err
	}
	if err := initdb(dir, cred, bin); err != nil {
		return nil, err
	}
	return run(dir, cred, bin)
}

// newDir makes a cluster's directory, owned by the user PostgreSQL runs
// as: as root, the postgres user the Debian package creates (or nobody),
// since PostgreSQL refuses to run as root.
func newDir() (string, *syscall.Credential, string, error) {
	bin, err := binDir()
	if err != nil {
		return "", nil, "", err
	}
	dir, err := os.MkdirTemp("", "hallmark-pg-")
	if err != nil {
		return "", nil, "", err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			return "", nil, "", fmt.Errorf("running as root and no postgres or nobody user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", nil, "", err
		}
	}
	return dir, cred, bin, nil
}

func initdb(dir string, cred *syscall.Credential, bin string) error {
	cmd := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("initdb: %v: %s", err, out)
	}
	return nil
}

// run starts the server of the cluster in dir/data, listening on a socket
// in dir only, and waits until it answers.
func run(dir string, cred *syscall.Credential, bin string, extra ...string) (*pgCluster, error) {
	data := filepath.Join(dir, "data")
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return nil, err
	}
	if cred != nil {
		os.Chown(logf.Name(), int(cred.Uid), int(cred.Gid))
	}
	// No TCP at all; fsync off because the data is thrown away.
	args := append([]string{"-D", data, "-k", dir, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"}, extra...)
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	// Pdeathsig stops the server if the test binary dies without cleanup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	c := &pgCluster{dir: dir, cmd: cmd, base: "postgres://postgres@/"}
	db, _ := sql.Open("pgx", c.base+"postgres?host="+dir)
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			c.stop()
			return nil, fmt.Errorf("postgres did not start: %v: %s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
