package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Liveness and readiness. /healthz says the process serves (a restart
// would not help while the database is down, so it asks nothing of it);
// /readyz says whether it can do its work now: commit a database write and
// append to the transparency log. A load balancer sends traffic only to a
// ready instance; an operator reads the failing check's name.

// readyTimeout bounds each readiness check: a database waiting on a lock
// is as unready as one that refuses.
const readyTimeout = 2 * time.Second

// Readiness is the answer of /readyz.
type Readiness struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"` // name -> "ok" or what fails
}

// Ready runs the readiness checks. What fails is logged in full; the
// answer names only the check and a short cause (it is public).
func (s *Server) Ready(ctx context.Context) Readiness {
	r := Readiness{Ready: true, Checks: map[string]string{}}
	check := func(name, short string, fn func(context.Context) error) {
		err := bounded(ctx, fn)
		if err == nil {
			r.Checks[name] = "ok"
			return
		}
		r.Ready = false
		r.Checks[name] = short
		slog.Error("readiness check failed", "check", name, "err", err)
	}
	check("database", "writes fail", func(ctx context.Context) error { return s.store.CheckWrite(ctx, s.now()) })
	if s.cl.on {
		r.Checks["role"] = "reader"
		if s.IsWriter() {
			r.Checks["role"] = "writer"
		}
		r.Checks["reads"] = "primary"
		if s.reader() != s.store {
			r.Checks["reads"] = "replica"
		}
	}
	if s.dlog() != nil {
		check("log", "appends fail", s.checkLog)
	}
	return r
}

// bounded runs fn with readyTimeout, answering at the timeout even if fn
// does not notice its context (a driver busy-waiting on a lock).
func bounded(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer within %s: %w", readyTimeout, ctx.Err())
	}
}

// checkLog is the log's readiness: its directory takes a durable write,
// and the logger's last round did not fail.
func (s *Server) checkLog(context.Context) error {
	if err := probeDir(s.dlog().log.Dir()); err != nil {
		return fmt.Errorf("the log directory does not take writes: %w", err)
	}
	if since, err := s.dlog().health.failing(); err != nil {
		return fmt.Errorf("appending to the log fails since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// probeDir writes, syncs and removes a small file in dir.
func probeDir(dir string) error {
	b := make([]byte, 8)
	rand.Read(b)
	name := filepath.Join(dir, ".readyz-"+hex.EncodeToString(b))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write([]byte("ready\n"))
	serr := f.Sync()
	cerr := f.Close()
	rerr := os.Remove(name)
	for _, err := range []error{werr, serr, cerr, rerr} {
		if err != nil {
			return err
		}
	}
	return nil
}

// logHealth is what the logger's rounds found.
type logHealth struct {
	mu    sync.Mutex
	since time.Time // first failure of the current run of failures
	err   error
}

// note records a round; stopping (the server shutting down) is not a failure.
func (h *logHealth) note(err error, stopping bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case stopping:
	case err == nil:
		h.since, h.err = time.Time{}, nil
	case h.err == nil:
		h.since, h.err = time.Now(), err
	default:
		h.err = err
	}
}

func (h *logHealth) failing() (time.Time, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.since, h.err
}
