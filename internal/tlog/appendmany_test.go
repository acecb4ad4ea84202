package tlog

import (
	"testing"
	"time"
)

// A backlog appended at once: every entry gets a receipt that verifies
// against one checkpoint, an empty entry fails alone, and appending the
// same bytes again gives the same indexes.
func TestAppendMany(t *testing.T) {
	l := newTestLog(t, Options{CheckpointInterval: 100 * time.Millisecond})
	const n = 5000
	entries := make([][]byte, n+1)
	for i := range n {
		entries[i] = decisionBytes(t, i)
	}
	start := time.Now()
	rs, errs := l.AppendMany(ctxT(t, 2*time.Minute), entries) // entries[n] is empty
	t.Logf("%d entries in %v", n, time.Since(start))
	if errs[n] == nil {
		t.Error("an empty entry was appended")
	}
	seen := map[uint64]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("entry %d: %v", i, errs[i])
		}
		size, err := VerifyReceipt(rs[i], entries[i], l.verifiers, l.Origin())
		if err != nil || size < n || seen[rs[i].Index] {
			t.Fatalf("entry %d: receipt at %d (tree size %d): %v", i, rs[i].Index, size, err)
		}
		seen[rs[i].Index] = true
		if string(rs[i].Checkpoint) != string(rs[0].Checkpoint) {
			t.Fatalf("entry %d proves against another checkpoint than entry 0", i)
		}
	}
	again, errs := l.AppendMany(ctxT(t, time.Minute), entries[:10])
	for i := range again {
		if errs[i] != nil || again[i].Index != rs[i].Index {
			t.Fatalf("entry %d appended again: index %d (first %d), %v", i, again[i].Index, rs[i].Index, errs[i])
		}
	}
}
