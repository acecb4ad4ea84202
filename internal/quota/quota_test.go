package quota

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestUploadLimits(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	l := Limits{SBOMComponents: 10, StoredComponents: 100, DailyUploads: 3, DailyBytes: 1000}
	if err := l.Upload(Usage{Uploads: 2, Bytes: 500}, 500, now); err != nil {
		t.Errorf("at the limits: %v", err)
	}
	var ex *Exceeded
	err := l.Upload(Usage{Uploads: 3, Bytes: 10, Oldest: now.Add(-20 * time.Hour)}, 1, now)
	if !errors.As(err, &ex) || !errors.Is(err, ErrExceeded) || ex.RetryAfter != 4*time.Hour || !strings.Contains(ex.Msg, "3 uploads in the last 24 hours") {
		t.Errorf("over the count: %v", err)
	}
	if err := l.Upload(Usage{Uploads: 1, Bytes: 900, Oldest: now}, 101, now); !errors.As(err, &ex) || !strings.Contains(ex.Msg, "past the 1 KiB") {
		t.Errorf("over the bytes: %v", err)
	}
	// Replacing counts what is replaced.
	if err := l.Components(Usage{StoredComponents: 100}, 40, 40); err != nil {
		t.Errorf("a replacement of the same size: %v", err)
	}
	if err := l.Components(Usage{StoredComponents: 90}, 0, 11); !errors.Is(err, ErrExceeded) || !strings.Contains(err.Error(), "101") {
		t.Errorf("over the stored components: %v", err)
	}
	// Zero fields take the defaults.
	if d := (Limits{}).WithDefaults(); d != Default {
		t.Errorf("defaults %+v", d)
	}
}

// At most total uploads at once, perKey of one key; the others wait, and
// give up after the wait.
func TestSlots(t *testing.T) {
	s := NewSlots(3, 2)
	ctx := context.Background()
	var held, most atomic.Int32
	var perKey [2]atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := int64(i % 2)
			release, err := s.Acquire(ctx, key, 10*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			n := held.Add(1)
			if k := perKey[key].Add(1); k > 2 {
				t.Errorf("%d slots held by one key", k)
			}
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(20 * time.Millisecond)
			perKey[key].Add(-1)
			held.Add(-1)
			release()
			release() // twice is harmless
		}()
	}
	wg.Wait()
	if m := most.Load(); m > 3 || m < 2 {
		t.Errorf("at most %d held at once", m)
	}
	// All slots of a key taken: the next waits, then is refused as busy.
	r1, _ := s.Acquire(ctx, 7, time.Second)
	r2, _ := s.Acquire(ctx, 7, time.Second)
	if _, err := s.Acquire(ctx, 7, 50*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Errorf("a third for one key: %v", err)
	}
	r1()
	r2()
	if len(s.keys) != 0 {
		t.Errorf("%d keys remembered after release", len(s.keys))
	}
}

func TestRate(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	r := NewRate(3, time.Hour)
	for i := range 3 {
		if ok, _ := r.Take("a", now.Add(time.Duration(i)*time.Minute)); !ok {
			t.Fatalf("take %d refused", i)
		}
	}
	ok, wait := r.Take("a", now.Add(10*time.Minute))
	if ok || wait != 50*time.Minute {
		t.Errorf("the fourth: %v, wait %v", ok, wait)
	}
	if ok, _ := r.Take("b", now); !ok {
		t.Error("another key refused")
	}
	if ok, _ := r.Take("a", now.Add(time.Hour)); !ok {
		t.Error("refused after the window")
	}
	// A flood of keys does not grow the map past maxKeys.
	for i := range maxKeys + 100 {
		r.Take(string(rune(i))+"x", now)
	}
	if len(r.keys) > maxKeys {
		t.Errorf("%d keys", len(r.keys))
	}
}
