// Package datadir guards a Hallmark data directory against two processes
// using it at once: two servers on one directory each cache label statuses
// and append to the same transparency log, and soon disagree.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LockFile is the lock's name inside a data directory.
const LockFile = "hallmark.lock"

// ErrInUse is returned when another process holds the lock.
var ErrInUse = errors.New("in use by another hallmark process")

// Lock is a held lock; Release gives it up (the operating system also
// releases it when the process ends, however it ends).
type Lock struct {
	f    *os.File
	path string
}

// Acquire takes the exclusive lock of the data directory dir for what the
// process does (e.g. "hallmark serve"), creating dir (0700) if needed. It
// never waits: if another process holds the lock, the error wraps ErrInUse
// and says which process it is and what to do.
func Acquire(dir, what string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the data directory: %w", err)
	}
	return acquireFile(filepath.Join(dir, LockFile), "the data directory "+dir, what, false)
}

// AcquireShared takes the data directory's lock shared, for the instances
// of a cluster (serve --cluster), which share the directory with each
// other (the database's writer role decides which one writes) but not
// with a command that needs it alone (keys, restore, ...): that one is
// refused while any instance runs, and the instances while it runs.
func AcquireShared(dir, what string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the data directory: %w", err)
	}
	return acquireFile(filepath.Join(dir, LockFile), "the data directory "+dir, what, true)
}

// AcquireFile is Acquire for a file, such as an SQLite database another
// data directory might name too: the lock is path + ".lock".
func AcquireFile(path, what string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the directory of %s: %w", path, err)
	}
	return acquireFile(path+".lock", path, what, false)
}

func acquireFile(path, name, what string, shared bool) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the lock file: %w", err)
	}
	held, err := tryLock(f, shared)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if held {
		who := holder(path)
		f.Close()
		return nil, fmt.Errorf("%s is %w%s: two processes on the same data would disagree "+
			"(one serving a label as suspended, the other as active). Stop that process first, or do this through the running server",
			name, ErrInUse, who)
	}
	if shared {
		// Each sharer would overwrite the others' line: say only what.
		if err := f.Truncate(0); err == nil {
			f.WriteAt([]byte(fmt.Sprintf("pid %d\ncommand %s (and perhaps other instances)\nsince %s\n", os.Getpid(), what, time.Now().UTC().Format(time.RFC3339))), 0)
		}
		return &Lock{f: f, path: path}, nil
	}
	// Say who holds it, for the next process refused; the lock itself is
	// the flock, not this text.
	info := fmt.Sprintf("pid %d\ncommand %s\nsince %s\n", os.Getpid(), what, time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(info), 0)
	}
	return &Lock{f: f, path: path}, nil
}

// holder describes the process named in a lock file, as " (pid N, what,
// since T)", or "" if the file says nothing readable.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 4096 {
		return ""
	}
	var pid int
	var what, since string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "pid":
			pid, _ = strconv.Atoi(v)
		case "command":
			what = v
		case "since":
			since = v
		}
	}
	if pid <= 0 {
		return ""
	}
	s := fmt.Sprintf(" (pid %d", pid)
	if what != "" {
		s += ", " + clip(what)
	}
	if since != "" {
		s += ", since " + clip(since)
	}
	return s + ")"
}

func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// Release gives the lock up. It is safe to call on a nil Lock and twice.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor drops the flock
	l.f = nil
	return err
}
