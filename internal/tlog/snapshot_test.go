package tlog

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

func vs(v note.Verifier) note.Verifiers { return note.VerifierList(v) }

// A snapshot of a log still being appended to is the log as one checkpoint
// describes it: it audits clean, and opened, it grows on, recognising the
// entries it holds.
func TestSnapshotWhileAppending(t *testing.T) {
	s, v, _ := newSigner(t)
	dir := t.TempDir()
	l := openLog(t, dir, s, fastOptions())
	first := appendAll(t, l, 0, 300)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // appends go on during the copy
		defer wg.Done()
		for n := 300; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := l.Append(ctxT(t, 30*time.Second), decisionBytes(t, n)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	dst := filepath.Join(t.TempDir(), "log")
	cp, err := Snapshot(ctxT(t, 60*time.Second), DirFetcher(dir), vs(v), dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size < 300 {
		t.Fatalf("snapshot at size %d, want at least 300", cp.Size)
	}
	rep, err := Audit(ctxT(t, 30*time.Second), DirFetcher(dst), vs(v), testOrigin, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Size != cp.Size {
		t.Fatalf("audit of the snapshot: size %d (want %d), problems %q", rep.Size, cp.Size, rep.Problems)
	}
	// Opened as a log of its own, it knows the entries it holds.
	copyLog := openLog(t, dst, s, fastOptions())
	r, err := copyLog.Append(ctxT(t, 30*time.Second), decisionBytes(t, 5))
	if err != nil || r.Index != first[5].Index {
		t.Fatalf("re-appending decision 5 to the snapshot: index %d, %v; want %d (the dedup index rebuilt)", r.Index, err, first[5].Index)
	}
	r, err = copyLog.Append(ctxT(t, 30*time.Second), decisionBytes(t, 100000))
	if err != nil || r.Index != cp.Size {
		t.Fatalf("a new entry in the snapshot: index %d, %v; want %d", r.Index, err, cp.Size)
	}
}

// A checkpoint whose last bundle has since filled up (its partial files
// removed) is copied from the full bundle, cut to the entries it covered.
func TestSnapshotOfAnOlderCheckpoint(t *testing.T) {
	fx := newAuditFixture(t)
	src := func(ctx context.Context, p string) ([]byte, error) {
		if p == "checkpoint" {
			return fx.old, nil // size 100, within bundle 0, now full
		}
		if strings.Contains(p, ".p/") {
			return nil, fs.ErrNotExist
		}
		return DirFetcher(fx.dir)(ctx, p)
	}
	dst := filepath.Join(t.TempDir(), "log")
	cp, err := Snapshot(ctxT(t, 60*time.Second), src, fx.verifiers, dst)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Audit(ctxT(t, 30*time.Second), DirFetcher(dst), fx.verifiers, testOrigin, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size != 100 || !rep.OK() || rep.Size != 100 {
		t.Fatalf("snapshot at %d, audit size %d, problems %q", cp.Size, rep.Size, rep.Problems)
	}
	if _, err := Snapshot(ctxT(t, 10*time.Second), src, fx.verifiers, dst); err == nil {
		t.Fatal("a snapshot over an existing directory was accepted")
	}
	// A checkpoint not signed by the log's keys is not copied.
	_, v2, _ := newSigner(t)
	if _, err := Snapshot(ctxT(t, 10*time.Second), src, vs(v2), filepath.Join(t.TempDir(), "x")); err == nil || errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("a checkpoint under another key: %v", err)
	}
}

// ReadEntries reads any range, across bundles.
func TestReadEntries(t *testing.T) {
	fx := newAuditFixture(t)
	got, err := ReadEntries(ctxT(t, 10*time.Second), DirFetcher(fx.dir), 260, 250, 260)
	if err != nil || len(got) != 10 {
		t.Fatalf("entries 250-259: %d, %v", len(got), err)
	}
	all, _ := ReadEntries(ctxT(t, 10*time.Second), DirFetcher(fx.dir), 260, 0, 260)
	if len(all) != 260 || all[250].Ref != got[0].Ref {
		t.Fatalf("read %d entries; entry 250 %q vs %q", len(all), all[250].Ref, got[0].Ref)
	}
	if _, err := ReadEntries(ctxT(t, 10*time.Second), DirFetcher(fx.dir), 260, 0, 261); err == nil {
		t.Fatal("read past the log's size")
	}
	cp, err := ReadCheckpoint(ctxT(t, 10*time.Second), DirFetcher(fx.dir), fx.verifiers)
	if err != nil || cp.Size != 260 || cp.Origin != testOrigin {
		t.Fatalf("checkpoint %+v, %v", cp, err)
	}
	if _, err := ReadCheckpoint(ctxT(t, 10*time.Second), DirFetcher(t.TempDir()), fx.verifiers); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("no checkpoint: %v", err)
	}
}
