package tlog

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

func TestAppendReceiptRoundTrip(t *testing.T) {
	l := newTestLog(t, fastOptions())
	ctx := ctxT(t, 30*time.Second)

	x, y := decisionBytes(t, 1), decisionBytes(t, 2)
	rx, err := l.Append(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	ry, err := l.Append(ctx, y)
	if err != nil {
		t.Fatal(err)
	}
	if rx.Index != 0 || ry.Index != 1 {
		t.Fatalf("indexes %d, %d; want 0, 1", rx.Index, ry.Index)
	}
	size, err := VerifyReceipt(rx, x, l.verifiers, testOrigin)
	if err != nil {
		t.Fatalf("receipt for x: %v", err)
	}
	if size < 1 {
		t.Fatalf("size %d", size)
	}

	// The text form survives a round trip and still verifies.
	parsed, err := ParseReceipt(ry.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(parsed.Marshal(), ry.Marshal()) {
		t.Fatalf("receipt does not round trip:\n%s\n---\n%s", parsed.Marshal(), ry.Marshal())
	}
	if _, err := VerifyReceipt(parsed, y, l.verifiers, testOrigin); err != nil {
		t.Fatalf("parsed receipt for y: %v", err)
	}
	if !strings.HasPrefix(string(ry.Marshal()), "c2sp.org/tlog-proof@v1\nindex 1\n") {
		t.Fatalf("receipt text starts %q", ry.Marshal()[:40])
	}

	t.Run("receipt for x does not verify y", func(t *testing.T) {
		_, err := VerifyReceipt(rx, y, l.verifiers, testOrigin)
		if err == nil || !strings.Contains(err.Error(), "inclusion proof") {
			t.Fatalf("got %v, want an inclusion proof failure", err)
		}
	})
	t.Run("tampered checkpoint signature", func(t *testing.T) {
		bad := rx
		cp := bytes.Clone(rx.Checkpoint)
		i := bytes.LastIndex(cp, []byte(" ")) + 10 // inside the base64 signature
		cp[i] ^= 'A' ^ 'B'
		if cp[i] == rx.Checkpoint[i] {
			cp[i] = 'C'
		}
		bad.Checkpoint = cp
		if _, err := VerifyReceipt(bad, x, l.verifiers, testOrigin); err == nil || !strings.Contains(err.Error(), "signature") {
			t.Fatalf("got %v, want a signature failure", err)
		}
	})
	t.Run("tampered checkpoint body", func(t *testing.T) {
		bad := rx
		bad.Checkpoint = bytes.Replace(rx.Checkpoint, []byte("\n1\n"), []byte("\n9\n"), 1)
		if _, err := VerifyReceipt(bad, x, l.verifiers, testOrigin); err == nil {
			t.Fatal("a checkpoint with an edited size verified")
		}
	})
	t.Run("wrong origin or key", func(t *testing.T) {
		if _, err := VerifyReceipt(rx, x, l.verifiers, "other.example/log"); err == nil {
			t.Fatal("verified for another origin")
		}
		_, other, _ := newSigner(t)
		if _, err := VerifyReceipt(rx, x, note.VerifierList(other), testOrigin); err == nil {
			t.Fatal("verified with another log's key")
		}
	})
	t.Run("fresh receipt after more appends", func(t *testing.T) {
		appendAll(t, l.Log, 10, 30)
		fresh, err := l.Receipt(ctx, rx.Index, x)
		if err != nil {
			t.Fatal(err)
		}
		size, err := VerifyReceipt(fresh, x, l.verifiers, testOrigin)
		if err != nil {
			t.Fatal(err)
		}
		if size < 22 {
			t.Fatalf("fresh receipt is against size %d, want >= 22", size)
		}
		// The old receipt stays valid too: checkpoints only grow.
		if _, err := VerifyReceipt(rx, x, l.verifiers, testOrigin); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Receipt(ctx, rx.Index, y); err == nil {
			t.Fatal("Receipt for the wrong entry succeeded")
		}
		if _, err := l.Receipt(ctx, 1<<40, x); err == nil {
			t.Fatal("Receipt beyond the tree succeeded")
		}
	})
	t.Run("empty entry", func(t *testing.T) {
		if _, err := l.Append(ctx, nil); err == nil {
			t.Fatal("empty entry appended")
		}
	})
}

func TestAppendConcurrentReceiptsVerify(t *testing.T) {
	l := newTestLog(t, fastOptions())
	rs := appendAll(t, l.Log, 0, 300) // spans a full bundle and a level-1 tile
	seen := map[uint64]bool{}
	for n, r := range rs {
		if seen[r.Index] {
			t.Fatalf("index %d given twice", r.Index)
		}
		seen[r.Index] = true
		if _, err := VerifyReceipt(r, decisionBytes(t, n), l.verifiers, testOrigin); err != nil {
			t.Fatalf("entry %d: %v", n, err)
		}
	}
}

func TestDedup(t *testing.T) {
	s, v, _ := newSigner(t)
	vs := note.VerifierList(v)
	dir := t.TempDir()
	ctx := ctxT(t, 60*time.Second)
	x := decisionBytes(t, 7)

	l := openLog(t, dir, s, fastOptions())
	appendAll(t, l, 100, 103)
	r1, err := l.Append(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	sizeBefore := checkpointSize(t, r1.Checkpoint)
	r2, err := l.Append(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Index != r1.Index {
		t.Fatalf("duplicate got index %d, want %d", r2.Index, r1.Index)
	}
	if _, err := VerifyReceipt(r2, x, vs, testOrigin); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}

	size := func(l *Log) uint64 {
		cp, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return checkpointSize(t, cp)
	}
	reopenAndCheck := func(t *testing.T) *Log {
		l := openLog(t, dir, s, fastOptions())
		r, err := l.Append(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		if r.Index != r1.Index {
			t.Fatalf("after reopen the duplicate got index %d, want %d", r.Index, r1.Index)
		}
		if _, err := VerifyReceipt(r, x, vs, testOrigin); err != nil {
			t.Fatal(err)
		}
		// Give a (wrongly) appended duplicate time to be published.
		time.Sleep(300 * time.Millisecond)
		if got := size(l); got != sizeBefore {
			t.Fatalf("tree grew from %d to %d on a duplicate", sizeBefore, got)
		}
		return l
	}

	t.Run("after reopen", func(t *testing.T) {
		l := reopenAndCheck(t)
		if err := l.Close(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("index file lost", func(t *testing.T) {
		if err := os.Remove(filepath.Join(dir, dedupFile)); err != nil {
			t.Fatal(err)
		}
		l := reopenAndCheck(t)
		if err := l.Close(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("index file torn and stale", func(t *testing.T) {
		p := filepath.Join(dir, dedupFile)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// Keep 2 records and half of a third: as if the last writes were lost.
		if err := os.WriteFile(p, b[:2*32+16], 0o644); err != nil {
			t.Fatal(err)
		}
		l := reopenAndCheck(t)
		if err := l.Close(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("index file from another log", func(t *testing.T) {
		p := filepath.Join(dir, dedupFile)
		junk := bytes.Repeat([]byte{0xAB}, 4*32)
		if err := os.WriteFile(p, junk, 0o644); err != nil {
			t.Fatal(err)
		}
		l := reopenAndCheck(t)
		// A new entry still goes to the end.
		r, err := l.Append(ctx, decisionBytes(t, 8))
		if err != nil {
			t.Fatal(err)
		}
		if r.Index != sizeBefore {
			t.Fatalf("new entry got index %d, want %d", r.Index, sizeBefore)
		}
	})
}

func TestOpenRefusals(t *testing.T) {
	s, _, kd := newSigner(t)
	ctx := ctxT(t, 10*time.Second)
	if _, err := Open(ctx, kd, s, fastOptions()); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("Open on the key directory: %v", err)
	}
	dir := t.TempDir()
	openLog(t, dir, s, fastOptions())
	if _, err := Open(ctx, dir, s, fastOptions()); err == nil || !strings.Contains(err.Error(), "already open") {
		t.Fatalf("second Open of one directory: %v", err)
	}
	if _, err := Open(ctx, t.TempDir(), nil, fastOptions()); err == nil {
		t.Fatal("Open without a signer succeeded")
	}
	bad := fastOptions()
	bad.Witnesses = &WitnessPolicy{URLs: []string{"http://127.0.0.1:1"}, Threshold: 1}
	if _, err := Open(ctx, t.TempDir(), s, bad); err == nil {
		t.Fatal("Open with a witness policy missing its verifier succeeded")
	}
}

func TestCloseIsIdempotentAndStops(t *testing.T) {
	l := newTestLog(t, fastOptions())
	ctx := ctxT(t, 10*time.Second)
	if _, err := l.Append(ctx, decisionBytes(t, 1)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), decisionBytes(t, 2)); err == nil {
		t.Fatal("Append after Close succeeded")
	}
}
