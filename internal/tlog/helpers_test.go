package tlog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

const testOrigin = "hallmark.example/log"

// fastOptions keep tests quick: Tessera's floor for checkpoints is 100ms.
func fastOptions() Options {
	return Options{BatchMaxAge: 10 * time.Millisecond, CheckpointInterval: 100 * time.Millisecond, PublishTimeout: 15 * time.Second}
}

type testLog struct {
	*Log
	signer    note.Signer
	verifier  note.Verifier
	verifiers note.Verifiers
	keyDir    string
}

// newSigner makes a log key in a fresh key directory.
func newSigner(t *testing.T) (note.Signer, note.Verifier, string) {
	t.Helper()
	kd := t.TempDir()
	s, v, err := LoadOrCreateSigner(kd, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	return s, v, kd
}

// openLog opens a log in dir (a fresh temp dir if ""), closing it at cleanup.
func openLog(t *testing.T, dir string, s note.Signer, opts Options) *Log {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := Open(ctx, dir, s, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.Close(ctx)
	})
	return l
}

func newTestLog(t *testing.T, opts Options) *testLog {
	t.Helper()
	s, v, kd := newSigner(t)
	return &testLog{Log: openLog(t, "", s, opts), signer: s, verifier: v, verifiers: note.VerifierList(v), keyDir: kd}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// decision returns a valid, distinct entry for n.
func decision(n int) Entry {
	return Entry{
		Version:     1,
		Kind:        KindLabelIssued,
		Authority:   "hallmark-reference-authority",
		Subject:     fmt.Sprintf("lbl-%05d", n),
		Digest:      sha(fmt.Sprintf("credential %d", n)),
		Status:      "active",
		StatusIndex: n,
		Reason:      "",
		At:          time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second),
		Ref:         fmt.Sprintf("decision-%d", n),
	}
}

func decisionBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := decision(n).Marshal()
	if b == nil {
		t.Fatalf("decision(%d) does not marshal: %v", n, decision(n).Validate())
	}
	return b
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// appendAll appends entries [from, to) concurrently (so they share batches)
// and returns their receipts by n.
func appendAll(t *testing.T, l *Log, from, to int) map[int]Receipt {
	t.Helper()
	var mu sync.Mutex
	out := map[int]Receipt{}
	var wg sync.WaitGroup
	errs := make(chan error, to-from)
	for n := from; n < to; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := l.Append(ctxT(t, 30*time.Second), decisionBytes(t, n))
			if err != nil {
				errs <- fmt.Errorf("append %d: %w", n, err)
				return
			}
			mu.Lock()
			out[n] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}

func checkpointSize(t *testing.T, cp []byte) uint64 {
	t.Helper()
	text, err := checkpointBody(cp)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCheckpointText(text, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	return c.Size
}

// copyDir copies a log tree (for tampering with a copy).
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func hasProblem(problems []string, sub string) bool {
	for _, p := range problems {
		if strings.Contains(p, sub) {
			return true
		}
	}
	return false
}
