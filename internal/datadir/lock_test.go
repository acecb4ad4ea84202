package datadir

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A second holder of one data directory is refused, told who holds it;
// once released, the directory can be taken again. (Two real processes:
// cmd/hallmark's TestSecondServerRefused.)
func TestAcquireExcludes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	l, err := Acquire(dir, "hallmark serve")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, LockFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v %v", fi, err)
	}
	_, err = Acquire(dir, "hallmark keys")
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Acquire: %v, want ErrInUse", err)
	}
	for _, want := range []string{"pid " + strconv.Itoa(os.Getpid()), "hallmark serve", "Stop that process first"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(dir, "hallmark keys")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.Release()
	l2.Release() // twice is harmless
}

// A lock file left by a process that died holds nothing: the kernel drops
// the flock, whatever the file says.
func TestStaleLockFileIsFree(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, LockFile), []byte("pid 999999\ncommand hallmark serve\n"), 0o600)
	l, err := Acquire(dir, "hallmark serve")
	if err != nil {
		t.Fatalf("stale lock file: %v", err)
	}
	l.Release()
}

// Instances of a cluster share the directory; a command that needs it
// alone is refused beside them, and they beside it.
func TestSharedLock(t *testing.T) {
	dir := t.TempDir()
	a, err := AcquireShared(dir, "hallmark serve --cluster")
	if err != nil {
		t.Fatal(err)
	}
	b, err := AcquireShared(dir, "hallmark serve --cluster")
	if err != nil {
		t.Fatalf("a second instance: %v", err)
	}
	if _, err := Acquire(dir, "hallmark keys rotate"); !errors.Is(err, ErrInUse) {
		t.Fatalf("an exclusive command beside the instances: %v", err)
	}
	a.Release()
	b.Release()
	x, err := Acquire(dir, "hallmark keys rotate")
	if err != nil {
		t.Fatal(err)
	}
	defer x.Release()
	if _, err := AcquireShared(dir, "hallmark serve --cluster"); !errors.Is(err, ErrInUse) {
		t.Fatalf("an instance beside an exclusive command: %v", err)
	}
}
