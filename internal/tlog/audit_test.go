package tlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// auditFixture is a closed log of 260 entries (one full bundle, one partial,
// and a level-1 tile), with a checkpoint taken at size 100 on the way.
type auditFixture struct {
	dir       string
	signer    note.Signer
	verifiers note.Verifiers
	old, cur  []byte // checkpoints at 100 and 260
}

func newAuditFixture(t *testing.T) auditFixture {
	t.Helper()
	s, v, _ := newSigner(t)
	dir := t.TempDir()
	l := openLog(t, dir, s, fastOptions())
	ctx := ctxT(t, 60*time.Second)
	appendAll(t, l, 0, 100)
	old, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, l, 100, 260)
	cur, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if a, b := checkpointSize(t, old), checkpointSize(t, cur); a != 100 || b != 260 {
		t.Fatalf("fixture checkpoints at %d and %d, want 100 and 260", a, b)
	}
	return auditFixture{dir: dir, signer: s, verifiers: note.VerifierList(v), old: old, cur: cur}
}

func (fx auditFixture) audit(t *testing.T, dir string, last []byte) AuditReport {
	t.Helper()
	rep, err := Audit(ctxT(t, 30*time.Second), DirFetcher(dir), fx.verifiers, testOrigin, last)
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	return rep
}

func wantProblem(t *testing.T, rep AuditReport, subs ...string) {
	t.Helper()
	t.Logf("problems: %q", rep.Problems)
	for _, s := range subs {
		if !hasProblem(rep.Problems, s) {
			t.Errorf("no problem mentions %q; problems:\n  %s", s, strings.Join(rep.Problems, "\n  "))
		}
	}
}

func wantNoProblem(t *testing.T, rep AuditReport, sub string) {
	t.Helper()
	if hasProblem(rep.Problems, sub) {
		t.Errorf("a problem mentions %q; problems:\n  %s", sub, strings.Join(rep.Problems, "\n  "))
	}
}

// editFile applies fn to a copy's file.
func editFile(t *testing.T, dir, rel string, fn func([]byte) []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, fn(bytes.Clone(b)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// entryOffset returns where entry i's data starts in a bundle.
func entryOffset(t *testing.T, bundle []byte, i int) int {
	t.Helper()
	off := 0
	for range i {
		off += 2 + int(binary.BigEndian.Uint16(bundle[off:]))
	}
	return off + 2
}

func TestAudit(t *testing.T) {
	fx := newAuditFixture(t)

	t.Run("clean", func(t *testing.T) {
		rep := fx.audit(t, fx.dir, nil)
		if !rep.OK() {
			t.Fatalf("problems on a clean log:\n%s", strings.Join(rep.Problems, "\n"))
		}
		if rep.Size != 260 || len(rep.Entries) != 260 || !bytes.Equal(rep.Checkpoint, fx.cur) {
			t.Fatalf("size %d, %d entries", rep.Size, len(rep.Entries))
		}
		seen := map[string]bool{}
		for _, e := range rep.Entries {
			if e.Version != 1 || seen[e.Ref] {
				t.Fatalf("entry %+v missing or repeated", e)
			}
			seen[e.Ref] = true
		}
		// And with the earlier checkpoint as the last one seen.
		if rep := fx.audit(t, fx.dir, fx.old); !rep.OK() {
			t.Fatalf("problems growing from the last checkpoint:\n%s", strings.Join(rep.Problems, "\n"))
		}
		if rep := fx.audit(t, fx.dir, fx.cur); !rep.OK() {
			t.Fatalf("problems with last = current:\n%s", strings.Join(rep.Problems, "\n"))
		}
	})

	t.Run("clean over HTTP", func(t *testing.T) {
		srv := httptest.NewServer(http.FileServer(http.Dir(fx.dir)))
		defer srv.Close()
		rep, err := Audit(ctxT(t, 30*time.Second), HTTPFetcher(srv.URL+"/", srv.Client()), fx.verifiers, testOrigin, fx.old)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Size != 260 {
			t.Fatalf("size %d, problems:\n%s", rep.Size, strings.Join(rep.Problems, "\n"))
		}
	})

	t.Run("edited tile byte", func(t *testing.T) {
		d := copyDir(t, fx.dir)
		editFile(t, d, "tile/0/000", func(b []byte) []byte { b[5*32+3] ^= 0xff; return b })
		rep := fx.audit(t, d, nil)
		wantProblem(t, rep, "tile/0/000 level 0 differs from the hashes recomputed from the entries")
		wantNoProblem(t, rep, "checkpoint's root")
	})

	t.Run("edited upper tile", func(t *testing.T) {
		d := copyDir(t, fx.dir)
		editFile(t, d, "tile/1/000.p/1", func(b []byte) []byte { b[0] ^= 1; return b })
		wantProblem(t, fx.audit(t, d, nil), "tile/1/000.p/1 level 1 differs from the hashes recomputed from the entries")
	})

	t.Run("edited entry bundle", func(t *testing.T) {
		d := copyDir(t, fx.dir)
		editFile(t, d, "tile/entries/000", func(b []byte) []byte {
			// Change one hex digit of entry 17's digest: it still parses.
			off := entryOffset(t, b, 17)
			i := off + bytes.Index(b[off:], []byte("\ndigest ")) + len("\ndigest ")
			if b[i] == 'a' {
				b[i] = 'b'
			} else {
				b[i] = 'a'
			}
			return b
		})
		rep := fx.audit(t, d, nil)
		wantProblem(t, rep,
			"the Merkle root recomputed from the entries differs from the checkpoint's root",
			"entry 17 (in tile/entries/000) does not match its hash in tile/0/000: the entry was altered")
		wantNoProblem(t, rep, "does not parse")
	})

	t.Run("entry that does not parse", func(t *testing.T) {
		d := copyDir(t, fx.dir)
		editFile(t, d, "tile/entries/000", func(b []byte) []byte {
			off := entryOffset(t, b, 3)
			i := off + bytes.Index(b[off:], []byte("\nkind ")) + 4
			b[i] = 'D' // "kinD"
			return b
		})
		rep := fx.audit(t, d, nil)
		wantProblem(t, rep, "entry 3 does not parse: line 2 is \"kinD", "differs from the checkpoint's root")
		if rep.Entries[3].Version != 0 || rep.Entries[4].Version != 1 {
			t.Fatalf("Entries not aligned with indexes: %+v %+v", rep.Entries[3], rep.Entries[4])
		}
	})

	t.Run("truncated entry bundle", func(t *testing.T) {
		d := copyDir(t, fx.dir)
		editFile(t, d, "tile/entries/001.p/4", func(b []byte) []byte { return b[:len(b)-5] })
		wantProblem(t, fx.audit(t, d, nil),
			"tile/entries/001.p/4 does not parse as an entry bundle (truncated or altered)",
			"cannot recompute the tree: 4 of 260 entries could not be read")
	})

	t.Run("truncated tile", func(t *testing.T) {
		d := copyDir(t, fx.dir)
		editFile(t, d, "tile/0/001.p/4", func(b []byte) []byte { return b[:len(b)-10] })
		rep := fx.audit(t, d, nil)
		wantProblem(t, rep, "tile/0/001.p/4 does not parse as a tile (truncated or altered)")
		wantNoProblem(t, rep, "checkpoint's root")
	})

	t.Run("tile truncated to whole hashes", func(t *testing.T) {
		d := copyDir(t, fx.dir)
		editFile(t, d, "tile/0/001.p/4", func(b []byte) []byte { return b[:2*32] })
		wantProblem(t, fx.audit(t, d, nil), "tile/0/001.p/4 holds 2 hashes, want 4 (truncated)")
	})

	t.Run("missing entry bundle", func(t *testing.T) {
		d := copyDir(t, fx.dir)
		if err := os.RemoveAll(filepath.Join(d, "tile", "entries", "001.p")); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, fx.audit(t, d, nil), "tile/entries/001.p/4 is missing (entries 256 to 259)")
	})

	t.Run("checkpoint rolled back", func(t *testing.T) {
		d := copyDir(t, fx.dir)
		if err := os.WriteFile(filepath.Join(d, "checkpoint"), fx.old, 0o644); err != nil {
			t.Fatal(err)
		}
		rep := fx.audit(t, d, fx.cur)
		wantProblem(t, rep, "checkpoint is smaller than the last one seen (fork or rollback): size 100, last seen 260")
		if rep.Size != 100 || len(rep.Problems) != 1 {
			t.Fatalf("size %d, problems %q", rep.Size, rep.Problems)
		}
	})

	t.Run("checkpoint not signed by the log", func(t *testing.T) {
		d := copyDir(t, fx.dir)
		other, _, _ := newSigner(t) // same origin, another key
		text, err := checkpointBody(fx.cur)
		if err != nil {
			t.Fatal(err)
		}
		forged, err := note.Sign(&note.Note{Text: text}, other)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "checkpoint"), forged, 0o644); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, fx.audit(t, d, nil), "checkpoint signature does not verify against the log's keys")
	})

	// A fork: a second log under the same key and origin, with other entries.
	fork := func(t *testing.T, from, to int) string {
		d := t.TempDir()
		l := openLog(t, d, fx.signer, fastOptions())
		appendAll(t, l, from, to)
		if err := l.Close(ctxT(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Run("forked log, larger", func(t *testing.T) {
		d := fork(t, 1000, 1300)
		rep := fx.audit(t, d, fx.cur)
		wantProblem(t, rep, "checkpoint (size 300) is not consistent with the last one seen (size 260): the log was forked or its history rewritten",
			"the entries up to the last checkpoint seen (size 260) do not hash to its root")
	})
	t.Run("forked log, same size", func(t *testing.T) {
		d := fork(t, 2000, 2260)
		wantProblem(t, fx.audit(t, d, fx.cur), "checkpoint has the same size (260) as the last one seen but a different root (fork)")
	})

	t.Run("no checkpoint", func(t *testing.T) {
		_, err := Audit(ctxT(t, 5*time.Second), DirFetcher(t.TempDir()), fx.verifiers, testOrigin, nil)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("got %v, want a not-exist error", err)
		}
	})
}

func TestFetchers(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "checkpoint"), bytes.Repeat([]byte("x"), maxResourceBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("s"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	ctx := context.Background()
	for name, f := range map[string]Fetcher{"dir": DirFetcher(dir), "http": HTTPFetcher(srv.URL, nil)} {
		t.Run(name, func(t *testing.T) {
			if _, err := f(ctx, "checkpoint"); err == nil || !strings.Contains(err.Error(), "limit") {
				t.Errorf("oversized checkpoint: %v", err)
			}
			for _, p := range []string{"secret", "../secret", "/etc/passwd", "tile/../secret"} {
				if _, err := f(ctx, p); err == nil || !strings.Contains(err.Error(), "not a log resource path") {
					t.Errorf("%q: %v", p, err)
				}
			}
			if _, err := f(ctx, "tile/0/000"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("missing tile: %v, want fs.ErrNotExist", err)
			}
		})
	}
}

// A database restored from an older backup decides again with the ids,
// labels and status indices it had then: the audit names each reuse.
func TestAuditFindsReusedReferences(t *testing.T) {
	s, v, _ := newSigner(t)
	dir := t.TempDir()
	l := openLog(t, dir, s, fastOptions())
	ctx := ctxT(t, 60*time.Second)
	appendAll(t, l, 0, 3)
	reused := decision(1) // the same decision id, a different decision
	reused.Kind, reused.Status, reused.Reason = KindLabelRevoked, "revoked", sha("a reason")
	again := decision(2) // label 2 issued twice
	again.Ref, again.Digest = "decision-900", sha("another credential")
	shared := decision(7) // label 7 given label 0's status index
	shared.StatusIndex = 0
	for _, e := range []Entry{reused, again, shared} {
		if _, err := l.Append(ctx, e.Marshal()); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := Audit(ctx, DirFetcher(dir), note.VerifierList(v), testOrigin, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, rep, "decision id decision-1 is logged for two decisions",
		"label lbl-00002 is issued twice",
		"status-list index 0 is given to two labels, lbl-00000 (entry ", ") and lbl-00007 (entry ")
	if len(rep.Problems) != 3 {
		t.Errorf("want exactly three problems (the tree itself is sound), got %q", rep.Problems)
	}
}
