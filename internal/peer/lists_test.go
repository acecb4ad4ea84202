package peer

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/trustlist"
)

func signedList(t testing.TB, ring *label.KeyRing, seq uint64, name string, at time.Time) []byte {
	t.Helper()
	pivots, _ := ring.Pivots()
	l := &trustlist.List{Authority: "https://a.example", Name: name, Sequence: seq, Issued: at, NextUpdate: at.Add(24 * time.Hour),
		IssuerKeys: ring.PublicKeys(), Pivots: pivots}
	b, err := l.Sign(ring.Active())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A pinned list moves only forward: an older list is a rollback, a
// different list under the same number an equivocation; a compromise mark
// once pinned survives a list that drops it.
func TestCheckListRefusesRollbackAndEquivocation(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ring, err := label.LoadOrCreate(t.TempDir(), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := LoadTrustStore(filepath.Join(t.TempDir(), "trust.json"))
	url := "https://a.example" + trustlist.WellKnownPath
	c, err := s.CheckList("https://a.example/", url, signedList(t, ring, 5, "A", now), now)
	if err != nil || !c.New {
		t.Fatalf("first contact: %v %+v", err, c)
	}
	s.Add(c.Issuer)
	if _, err := s.CheckList("https://a.example", url, signedList(t, ring, 4, "A", now), now); !errors.Is(err, ErrRollback) {
		t.Errorf("older list: %v, want ErrRollback", err)
	}
	if _, err := s.CheckList("https://a.example", url, signedList(t, ring, 5, "A, renamed", now), now); !errors.Is(err, ErrEquivocation) {
		t.Errorf("same number, other content: %v, want ErrEquivocation", err)
	}
	if c, err := s.CheckList("https://a.example", url, signedList(t, ring, 5, "A", now), now); err != nil || c.Changed {
		t.Errorf("the pinned list again: %v, changed %v", err, c.Changed)
	}
	if _, err := s.CheckList("https://b.example", url, signedList(t, ring, 6, "A", now), now); !errors.Is(err, ErrWrongAuthority) {
		t.Errorf("A's list offered as B's: %v", err)
	}
	// Mark the pinned key compromised by hand: a newer list without the
	// mark keeps it.
	is, _ := s.Get("https://a.example")
	is.Keys[0].CompromisedAt = now.Add(time.Hour)
	s.Add(is)
	c, err = s.CheckList("https://a.example", url, signedList(t, ring, 6, "A", now), now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer.Keys[0].CompromisedAt.IsZero() {
		t.Error("a newer list erased a pinned compromise mark")
	}
}

func FuzzParseBundle(f *testing.F) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ring, err := label.LoadOrCreate(f.TempDir(), now)
	if err != nil {
		f.Fatal(err)
	}
	b := &Bundle{Format: BundleFormat, Created: now, Issuer: "https://a.example", TrustList: signedList(f, ring, 1, "A", now),
		StatusLists: []BundledStatusList{{URL: "https://a.example/status/revocation/0", FetchedAt: now, Credential: "x.y.z"}}}
	seed, _ := b.Marshal()
	f.Add(seed)
	f.Add([]byte(`{"format":"hallmark-bundle/1"}`))
	is := NewTrustedIssuer("https://a.example", "A", ring.PublicKeys(), TrustedByList, now)
	f.Fuzz(func(t *testing.T, in []byte) {
		bd, err := ParseBundle(in)
		if err != nil {
			return
		}
		if o, err := OpenBundle(bd, is, now); err == nil && len(o.StatusLists) > len(bd.StatusLists) {
			t.Fatal("more status lists opened than the bundle holds")
		}
	})
}
