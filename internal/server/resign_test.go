package server

import (
	"testing"
	"time"
)

// A list is re-signed at once after each of a few changes, and at the
// budget's rate once changes flood in.
func TestResignBudget(t *testing.T) {
	var b resignBudget
	t0 := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	for i := range int(resignBurst) {
		if !b.take(t0) {
			t.Fatalf("re-sign %d of a burst of %v refused", i+1, resignBurst)
		}
	}
	if b.take(t0) {
		t.Fatal("a re-sign past the burst allowance, in the same instant, was allowed")
	}
	step := time.Duration(float64(time.Second) / resignRate)
	if b.take(t0.Add(step / 2)) {
		t.Fatal("a re-sign half a step later was allowed")
	}
	if !b.take(t0.Add(step + time.Millisecond)) {
		t.Fatal("a re-sign a step later was refused")
	}
	// After a calm second the allowance is whole again.
	t1 := t0.Add(2 * time.Second)
	for i := range int(resignBurst) {
		if !b.take(t1) {
			t.Fatalf("after a calm: re-sign %d refused", i+1)
		}
	}
}
