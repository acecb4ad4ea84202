package trustlist

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/label"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func listFor(ring *label.KeyRing, seq uint64, at time.Time) *List {
	pivots, _ := ring.Pivots()
	return &List{
		Authority: "https://a.example", Name: "Authority A", Sequence: seq, Issued: at, NextUpdate: at.Add(24 * time.Hour),
		Schemes:     []Scheme{{ID: "sg-cls", Name: "Cybersecurity Labelling Scheme", Version: 3, URL: "https://a.example/schemes/sg-cls"}},
		IssuerKeys:  ring.PublicKeys(),
		StatusLists: []string{"https://a.example/status/revocation/0", "https://a.example/status/suspension/0"},
		LogOrigin:   "a.example/log", LogURL: "https://a.example/log/", LogVerifiers: []string{"a.example/log+01234567+AQ"},
		Witnesses: []Witness{{VKey: "c.example/witness+89abcdef+AQ", URL: "https://c.example/witness"}},
		Quorum:    1,
		Peers:     []Peer{{Authority: "https://b.example", Name: "Authority B", ListURL: "https://b.example" + WellKnownPath, Keys: ring.PublicKeys()}},
		Pivots:    pivots,
	}
}

func newRing(t *testing.T) *label.KeyRing {
	t.Helper()
	ring, err := label.LoadOrCreate(t.TempDir(), t0.Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func sign(t *testing.T, ring *label.KeyRing, l *List) []byte {
	t.Helper()
	b, err := l.Sign(ring.Active())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTripKeepsWhatTheAuthorityPublished(t *testing.T) {
	ring := newRing(t)
	want := listFor(ring, 7, t0)
	b := sign(t, ring, want)
	v, err := Verify(b, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !v.SelfSigned {
		t.Error("a list checked with no pinned keys must say it vouches only for itself")
	}
	got := v.List
	if got.Authority != want.Authority || got.Sequence != 7 || !got.NextUpdate.Equal(want.NextUpdate) || got.LogOrigin != want.LogOrigin ||
		got.Quorum != 1 || len(got.Witnesses) != 1 || got.Witnesses[0] != want.Witnesses[0] || len(got.Peers) != 1 ||
		got.Peers[0].ListURL != want.Peers[0].ListURL || len(got.Schemes) != 1 || got.Schemes[0] != want.Schemes[0] ||
		len(got.StatusLists) != 2 || len(got.IssuerKeys) != 1 {
		t.Fatalf("round trip lost something:\n got %+v\nwant %+v", got, want)
	}
	// The wire form uses TS 119 602's names.
	var f flattened
	json.Unmarshal(b, &f)
	payload, _ := base64.RawURLEncoding.DecodeString(f.Payload)
	for _, name := range []string{`"LoTE"`, `"ListAndSchemeInformation"`, `"LoTESequenceNumber":7`, `"NextUpdate"`, `"TrustedEntitiesList"`,
		`"TrustedEntityServices"`, `"ServiceDigitalIdentity"`, `"PublicKeyValues"`, `"PointersToOtherLoTE"`, `"ServiceSupplyPoints"`} {
		if !bytes.Contains(payload, []byte(name)) {
			t.Errorf("payload lacks %s", name)
		}
	}
}

func TestPivotChainLeadsFromAnOldPinToTheNewKey(t *testing.T) {
	ring := newRing(t)
	pinned := ring.PublicKeys()
	first := ring.Active().KID
	for i := range 2 {
		if _, err := ring.Rotate(t0.Add(time.Duration(i) * time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	b := sign(t, ring, listFor(ring, 9, t0.Add(2*time.Hour)))
	v, err := Verify(b, pinned, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("a list two rotations on must verify from the first key by its pivots: %v", err)
	}
	if len(v.Via) != 2 || !strings.HasPrefix(v.Via[0], first+" -> ") {
		t.Errorf("via %v, want two pivots starting at %s", v.Via, first)
	}
	// Without the pivots the new key is a stranger.
	l := listFor(ring, 9, t0.Add(2*time.Hour))
	l.Pivots = nil
	if _, err := Verify(sign(t, ring, l), pinned, t0.Add(2*time.Hour)); !errors.Is(err, ErrNoChain) {
		t.Fatalf("no pivots: %v, want ErrNoChain", err)
	}
}

func TestCompromisedKeySignsNoPivot(t *testing.T) {
	ring := newRing(t)
	pinned := ring.PublicKeys()
	if _, err := ring.Compromise(ring.Active().KID, t0.Add(-time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	if p, _ := ring.Pivots(); len(p) != 0 {
		t.Fatalf("a key replaced for compromise signed %d pivots", len(p))
	}
	if _, err := Verify(sign(t, ring, listFor(ring, 2, t0)), pinned, t0); !errors.Is(err, ErrNoChain) {
		t.Fatalf("after a compromise the new key must not be reached from the old pin: %v", err)
	}
}

func TestForgedOrTamperedListsAreRefused(t *testing.T) {
	ring := newRing(t)
	other := newRing(t)
	pinned := ring.PublicKeys()
	b := sign(t, ring, listFor(ring, 3, t0))

	var f flattened
	json.Unmarshal(b, &f)
	payload, _ := base64.RawURLEncoding.DecodeString(f.Payload)
	f.Payload = base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"LoTESequenceNumber":3`), []byte(`"LoTESequenceNumber":4`), 1))
	tampered, _ := json.Marshal(f)
	if _, err := Verify(tampered, pinned, t0); !errors.Is(err, ErrSignature) {
		t.Errorf("tampered payload: %v, want ErrSignature", err)
	}
	// Another authority's key signing a list naming A: not reached from A's pin.
	forged := listFor(other, 4, t0)
	if _, err := Verify(sign(t, other, forged), pinned, t0); !errors.Is(err, ErrNoChain) {
		t.Errorf("forged list: %v, want ErrNoChain", err)
	}
	if _, err := Verify(b, pinned, t0.Add(-time.Hour)); err == nil {
		t.Error("a list issued an hour in the future was accepted")
	}
	if _, err := Verify(bytes.Repeat([]byte(" "), MaxBytes+1), pinned, t0); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized: %v", err)
	}
	// A label credential's JWS must never pass for a list.
	cred, _ := label.SignJWS([]byte(`{}`), "other+jwt", ring.Active())
	parts := strings.Split(cred, ".")
	wrong, _ := json.Marshal(flattened{parts[0], f.Payload, parts[2]})
	if _, err := Verify(wrong, pinned, t0); err == nil {
		t.Error("a JWS of another type was accepted")
	}
}

func TestBoundsAreEnforcedWhenBuilding(t *testing.T) {
	ring := newRing(t)
	l := listFor(ring, 1, t0)
	l.StatusLists = append(l.StatusLists, "https://elsewhere.example/status/revocation/0")
	if _, err := l.Payload(); !errors.Is(err, ErrMalformed) {
		t.Errorf("a status list off the authority's origin: %v", err)
	}
	l = listFor(ring, 0, t0)
	if _, err := l.Payload(); err == nil {
		t.Error("sequence 0 accepted")
	}
	l = listFor(ring, 1, t0)
	l.Quorum = 2
	if _, err := l.Payload(); err == nil {
		t.Error("a quorum above the witnesses accepted")
	}
}

func FuzzParse(f *testing.F) {
	ring, err := label.LoadOrCreate(f.TempDir(), t0)
	if err != nil {
		f.Fatal(err)
	}
	b, err := listFor(ring, 1, t0).Sign(ring.Active())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"protected":"e30","payload":"e30","signature":"AA"}`))
	f.Add([]byte(`{}`))
	pinned := ring.PublicKeys()
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := Parse(in)
		if err == nil && s.List.check() != nil {
			t.Fatal("Parse accepted a list its own bounds refuse")
		}
		Verify(in, pinned, t0) // must not panic
	})
}
