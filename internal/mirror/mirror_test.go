package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/tlog"
)

const origin = "a.example/log"

func entry(n int, subject, status string) []byte {
	sum := sha256.Sum256([]byte(fmt.Sprint("credential ", n)))
	kind := tlog.KindLabelIssued
	if status == "suspended" {
		kind = tlog.KindLabelSuspended
	}
	return tlog.Entry{Version: 1, Kind: kind, Authority: origin, Subject: subject, Digest: hex.EncodeToString(sum[:]), Status: status,
		StatusIndex: n, At: time.Date(2026, 12, 1, 0, 0, n, 0, time.UTC), Ref: fmt.Sprint(n)}.Marshal()
}

// appendTo opens the log in dir with signer, appends the entries and
// closes it again (one directory is open once per process).
func appendTo(t *testing.T, dir string, s note.Signer, entries ...[]byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := tlog.Open(ctx, dir, s, tlog.Options{CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: 10 * time.Millisecond, PublishTimeout: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func setup(t *testing.T) (string, note.Signer, *Mirror) {
	t.Helper()
	kd := t.TempDir()
	s, _, err := tlog.LoadOrCreateSigner(kd, origin)
	if err != nil {
		t.Fatal(err)
	}
	vs, _, err := tlog.Verifiers(kd)
	if err != nil {
		t.Fatal(err)
	}
	ms, _, err := tlog.LoadOrCreateWitnessSigner(t.TempDir(), "b.example/mirror")
	if err != nil {
		t.Fatal(err)
	}
	return t.TempDir(), s, &Mirror{Root: t.TempDir(), Origin: origin, Verifiers: vs, Signer: ms}
}

// A mirror copies a log, serves it under the origin's hash with its own
// cosignature, and catches a fork two ways: the upstream log later showing
// a history inconsistent with what was mirrored, and another party's view
// (a witness's checkpoint) that is not a prefix of the mirror's copy.
func TestMirrorCopiesAndCatchesForks(t *testing.T) {
	ctx := context.Background()
	dir, s, m := setup(t)
	appendTo(t, dir, s, entry(0, "L0", "active"), entry(1, "L1", "active"))
	res, err := m.Update(ctx, tlog.DirFetcher(dir))
	if err != nil || len(res.Problems) > 0 || res.Size != 2 {
		t.Fatalf("first pass: %v %+v", err, res.Problems)
	}
	if !strings.Contains(string(res.Served), "— b.example/mirror ") {
		t.Errorf("the served checkpoint lacks the mirror's cosignature:\n%s", res.Served)
	}
	if got := filepath.Base(m.Dir()); got != OriginHash(origin) || !ValidHash(got) {
		t.Errorf("mirror directory %s", got)
	}
	// The mirrored copy is a complete log on its own.
	if rep, err := tlog.Audit(ctx, m.Fetcher(), m.Verifiers, origin, nil); err != nil || !rep.OK() || rep.Size != 2 {
		t.Fatalf("auditing the mirror's copy: %v %v", err, rep.Problems)
	}

	// Fork: a copy of the log, grown differently under the same key.
	fork := t.TempDir()
	if err := os.CopyFS(fork, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	appendTo(t, dir, s, entry(2, "L1", "suspended"))
	appendTo(t, fork, s, entry(2, "L2", "active"))
	res, err = m.Update(ctx, tlog.DirFetcher(dir))
	if err != nil || len(res.Problems) > 0 || res.Size != 3 || res.Previous != 2 {
		t.Fatalf("second pass: %v %+v", err, res)
	}
	forkCP, err := os.ReadFile(filepath.Join(fork, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compare(ctx, forkCP); !IsFork(err) {
		t.Fatalf("a forked checkpoint of the same size compared as %v, want a fork", err)
	}
	realCP, _ := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err := m.Compare(ctx, realCP); err != nil {
		t.Fatalf("the real checkpoint: %v", err)
	}
	// The upstream switching to the fork: refused, nothing committed.
	appendTo(t, fork, s, entry(3, "L3", "active"))
	res, err = m.Update(ctx, tlog.DirFetcher(fork))
	if err != nil || len(res.Problems) == 0 || len(res.Last) == 0 {
		t.Fatalf("a forked upstream: %v %+v", err, res.Problems)
	}
	if rep, _ := tlog.Audit(ctx, m.Fetcher(), m.Verifiers, origin, nil); !rep.OK() || rep.Size != 3 {
		t.Fatalf("the mirror's copy changed after a refused pass: %d %v", rep.Size, rep.Problems)
	}
	// A view ahead of the mirror waits for a later pass.
	if err := m.Compare(ctx, mustRead(t, filepath.Join(fork, "checkpoint"))); IsFork(err) || err == nil {
		t.Fatalf("a larger view: %v, want ErrAhead", err)
	}
}

// A log claiming more entries than the mirror holds is refused before
// anything is fetched or allocated for it.
func TestMirrorRefusesAnOversizedLog(t *testing.T) {
	dir, s, m := setup(t)
	appendTo(t, dir, s, entry(0, "L0", "active"), entry(1, "L1", "active"), entry(2, "L2", "active"))
	m.MaxSize = 2
	fetched := 0
	f := tlog.DirFetcher(dir)
	_, err := m.Update(context.Background(), func(ctx context.Context, p string) ([]byte, error) {
		fetched++
		return f(ctx, p)
	})
	if err == nil || !strings.Contains(err.Error(), "over this mirror's limit") || fetched != 1 {
		t.Fatalf("oversized log: %v after %d fetches", err, fetched)
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCompareRegistry(t *testing.T) {
	var entries []tlog.Entry
	for i, b := range [][]byte{entry(0, "L0", "active"), entry(1, "L1", "active"), entry(2, "L1", "suspended"), entry(3, "L3", "active")} {
		e, err := tlog.ParseEntry(b)
		if err != nil {
			t.Fatal(i, err)
		}
		entries = append(entries, e)
	}
	d := CompareRegistry(entries, []RegistryLabel{
		{ID: "L0", Status: "active"},
		{ID: "L1", Status: "active"}, // its suspension is logged: the registry was changed back
		{ID: "L2", Status: "active"}, // never logged
		// L3 is logged but gone from the registry
	})
	var got []string
	for _, x := range d {
		got = append(got, x.Kind+":"+x.Label)
	}
	want := "registry-status:L1 registry-unlogged:L2 registry-missing:L3"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	if !strings.Contains(d[0].Summary, "left it suspended") {
		t.Errorf("summary %q", d[0].Summary)
	}
}
