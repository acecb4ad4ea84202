package label

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSizedBitstring(t *testing.T) {
	bs, err := NewSizedBitstring(0, MessageStatusSize)
	if err != nil {
		t.Fatal(err)
	}
	// The minimum is in entries: a two-bit list of 131,072 entries is 262,144 bits.
	if bs.Len() != MinListBits || len(bs.Bytes())*8 != 2*MinListBits {
		t.Fatalf("%d entries in %d bits", bs.Len(), len(bs.Bytes())*8)
	}
	for i, v := range map[int]uint{0: 3, 1: 1, 2: 2, MinListBits - 1: 3} {
		if err := bs.SetValue(i, v); err != nil {
			t.Fatal(err)
		}
	}
	raw := bs.Bytes()
	// Entry 0 is the two left-most bits, most significant first: 11 01 10 00.
	if raw[0] != 0b11011000 || raw[len(raw)-1] != 0b00000011 {
		t.Errorf("bytes %08b … %08b", raw[0], raw[len(raw)-1])
	}
	if err := bs.SetValue(5, 4); !errors.Is(err, ErrStatusList) {
		t.Errorf("a value wider than 2 bits: %v", err)
	}
	enc, _ := bs.Encode()
	back, err := DecodeSizedList(enc, MessageStatusSize)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range map[int]uint{0: 3, 1: 1, 2: 2, 3: 0, MinListBits - 1: 3} {
		if got, _ := back.Value(i); got != want {
			t.Errorf("entry %d is %d after a round trip, want %d", i, got, want)
		}
	}
	// 16 KiB holds the minimum of one-bit entries, but only half as many two-bit ones.
	one, _ := NewBitstring(0)
	enc, _ = one.Encode()
	if _, err := DecodeSizedList(enc, MessageStatusSize); err == nil || !strings.Contains(err.Error(), "minimum") {
		t.Errorf("a 16 KiB two-bit list: %v, want refused", err)
	}
	if _, err := NewSizedBitstring(0, 9); err == nil {
		t.Error("a 9-bit list was made")
	}
}

func withMessage(c LabelClaims) LabelClaims {
	c.Message = StatusRef{ListURL: issuerURL + "/status/message/1", Index: c.Revocation.Index}
	return c
}

func messageSnapshot(t *testing.T, k Key, ref StatusRef, value uint, fetched time.Time) *StatusListSnapshot {
	t.Helper()
	bits, _ := NewSizedBitstring(0, MessageStatusSize)
	bits.SetValue(ref.Index, value)
	bits.SetValue(ref.Index+1, MessageRevoked) // a neighbour
	vc, err := StatusListCredential(ref.ListURL, PurposeMessage, bits, Issuer{ID: issuerURL}, t0, t0.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := vc.Sign(k)
	if err != nil {
		t.Fatal(err)
	}
	s, err := VerifyStatusList(jws, keysOf(k), fetched)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCredentialMessageEntry(t *testing.T) {
	k := fixedKey(t, 1, t0)
	c := withMessage(sampleClaims())
	payload, err := c.Payload()
	if err != nil {
		t.Fatal(err)
	}
	var vc struct {
		CredentialStatus []map[string]any `json:"credentialStatus"`
	}
	json.Unmarshal(payload, &vc)
	if len(vc.CredentialStatus) != 3 {
		t.Fatalf("%d status entries, want 3", len(vc.CredentialStatus))
	}
	m := vc.CredentialStatus[2]
	var table []StatusMessage
	b, _ := json.Marshal(m["statusMessage"])
	json.Unmarshal(b, &table)
	if m["statusPurpose"] != "message" || m["statusSize"] != 2.0 || m["statusListCredential"] != c.Message.ListURL ||
		!reflect.DeepEqual(table, []StatusMessage{{"0x0", "active"}, {"0x1", "suspended"}, {"0x2", "revoked"}, {"0x3", "surrendered"}}) {
		t.Errorf("message entry %v", m)
	}
	jws, _ := Issue(c, k)
	v, err := Verify(jws, keysOf(k), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := withMessageDefaults(c.Message); !reflect.DeepEqual(v.Claims.Message, want) {
		t.Errorf("message ref %+v, want %+v", v.Claims.Message, want)
	}
	// A credential without the entry still verifies, with no message ref.
	old, _ := Issue(sampleClaims(), k)
	if v, err := Verify(old, keysOf(k), t0.Add(time.Hour)); err != nil || v.Claims.Message.ListURL != "" {
		t.Errorf("without a message entry: %v %+v", err, v)
	}
	bad := c
	bad.Message.ListURL = c.Revocation.ListURL
	if _, err := Issue(bad, k); err == nil {
		t.Error("a message list shared with the revocation list was accepted")
	}
	bad = c
	bad.Message.Messages = []StatusMessage{{"0x0", "a"}, {"0x0", "b"}}
	if _, err := Issue(bad, k); err == nil {
		t.Error("a table naming 0x0 twice was accepted")
	}
}

func TestVerifyOfflineSurrendered(t *testing.T) {
	k := fixedKey(t, 1, t0)
	c := withMessage(sampleClaims())
	jws, _ := Issue(c, k)
	during := t0.Add(2 * time.Hour)
	lists := func(revoked bool, msg *StatusListSnapshot) map[string]*StatusListSnapshot {
		m := map[string]*StatusListSnapshot{
			c.Revocation.ListURL: snapshot(t, k, issuerURL, PurposeRevocation, revoked, t0.Add(time.Hour)),
			c.Suspension.ListURL: snapshot(t, k, issuerURL, PurposeSuspension, false, t0.Add(time.Hour)),
		}
		if msg != nil {
			m[msg.URL] = msg
		}
		return m
	}
	msg := func(v uint) *StatusListSnapshot { return messageSnapshot(t, k, c.Message, v, t0.Add(time.Hour)) }
	wrongPurpose := snapshotAt(t, k, issuerURL, StatusRef{ListURL: c.Message.ListURL, Index: 1}, PurposeSuspension, true, t0.Add(time.Hour))
	old, _ := Issue(sampleClaims(), k)
	for _, tc := range []struct {
		name  string
		jws   string
		lists map[string]*StatusListSnapshot
		want  Status
		text  string
	}{
		{"surrendered", jws, lists(true, msg(MessageSurrendered)), StatusSurrendered, "surrendered by its manufacturer"},
		{"revoked", jws, lists(true, msg(MessageRevoked)), StatusRevoked, "revoked: entry"},
		{"message list unreadable: revoked", jws, lists(true, nil), StatusRevoked, "could not tell a surrendered label from a revoked one"},
		{"message list of the wrong purpose: revoked", jws, lists(true, wrongPurpose), StatusRevoked, "not a message list"},
		{"message and revocation disagree: revoked", jws, lists(true, msg(MessageActive)), StatusRevoked, `says "active"`},
		// A message list alone never withdraws a label: a generic verifier
		// reads only the revocation bit, and so does Hallmark's first.
		{"message list alone is not read", jws, lists(false, msg(MessageSurrendered)), StatusValid, "neither revoked nor suspended"},
		{"no message list needed when not revoked", jws, lists(false, nil), StatusValid, "neither revoked nor suspended"},
		{"credential without a message entry", old, lists(true, nil), StatusRevoked, "revoked: entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := VerifyOffline(tc.jws, keysOf(k), tc.lists, during)
			all := strings.Join(append(r.Reasons, r.Warnings...), "\n")
			if r.Status != tc.want || !r.StatusKnown || !strings.Contains(all, tc.text) {
				t.Errorf("status %s (known %v), want %s with %q:\n%s", r.Status, r.StatusKnown, tc.want, tc.text, all)
			}
		})
	}
}

func TestVerifyOfflineStaleStatus(t *testing.T) {
	k := fixedKey(t, 1, t0)
	c := sampleClaims()
	jws, _ := Issue(c, k)
	ref := func(p string) StatusRef {
		return map[string]StatusRef{PurposeRevocation: c.Revocation, PurposeSuspension: c.Suspension}[p]
	}
	// Lists valid for a day from t0, fetched an hour in.
	lists := map[string]*StatusListSnapshot{}
	for _, p := range []string{PurposeRevocation, PurposeSuspension} {
		lists[ref(p).ListURL] = snapshotWindow(t, k, issuerURL, ref(p), p, false, t0, t0.Add(24*time.Hour), t0.Add(time.Hour))
	}
	for _, tc := range []struct {
		name   string
		policy Policy
		at     time.Time
		known  bool
		text   string
	}{
		{"within the list's validity", Policy{}, t0.Add(20 * time.Hour), true, ""},
		{"past validUntil", Policy{}, t0.Add(25 * time.Hour), false, "expired 2026-11-23T10:00:00Z; the status was last known as of 2026-11-22T11:00:00Z"},
		{"older than the maximum age asked for", Policy{MaxStatusAge: time.Hour}, t0.Add(3 * time.Hour), false, "older than the maximum age asked for"},
		{"within the maximum age", Policy{MaxStatusAge: 4 * time.Hour}, t0.Add(3 * time.Hour), true, ""},
		{"a longer maximum age cannot outlive validUntil", Policy{MaxStatusAge: 72 * time.Hour}, t0.Add(30 * time.Hour), false, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.policy.VerifyOffline(jws, keysOf(k), lists, tc.at)
			if r.Status != StatusValid || r.StatusKnown != tc.known || !strings.Contains(strings.Join(r.Warnings, "\n"), tc.text) {
				t.Errorf("status %s known %v, want known %v with %q; warnings %q", r.Status, r.StatusKnown, tc.known, tc.text, r.Warnings)
			}
			if !r.StatusAsOf.Equal(t0.Add(time.Hour)) {
				t.Errorf("status as of %v, want the fetch time even when stale", r.StatusAsOf)
			}
		})
	}
	// A list without validUntil is read for DefaultStatusMaxAge after its fetch.
	noEnd := map[string]*StatusListSnapshot{}
	for _, p := range []string{PurposeRevocation, PurposeSuspension} {
		noEnd[ref(p).ListURL] = snapshotWindow(t, k, issuerURL, ref(p), p, false, t0, time.Time{}, t0)
	}
	if r := VerifyOffline(jws, keysOf(k), noEnd, t0.Add(DefaultStatusMaxAge+time.Minute)); r.StatusKnown {
		t.Errorf("a list with no validUntil read %v after its fetch", DefaultStatusMaxAge)
	}
}

func TestVerifyKeyTrustedOnlyForItsTime(t *testing.T) {
	k := fixedKey(t, 1, t0)
	c := sampleClaims() // signed, by its validFrom, at t0
	jws, _ := Issue(c, k)
	pub := func(retired, compromised time.Time) PublicKeys {
		p := k.Public()
		p.RetiredAt, p.CompromisedAt = retired, compromised
		return PublicKeys{k.KID: p}
	}
	at := t0.Add(48 * time.Hour)
	for _, tc := range []struct {
		name string
		keys PublicKeys
		err  error
	}{
		{"retired after signing", pub(t0.Add(time.Hour), time.Time{}), nil},
		{"retired the same second", pub(t0, time.Time{}), nil},
		{"retired before signing", pub(t0.Add(-time.Second), time.Time{}), ErrKeyRetired},
		{"compromised before signing", pub(t0.Add(time.Hour), t0.Add(-time.Hour)), ErrKeyCompromised},
		{"compromised at the signing time", pub(t0.Add(time.Hour), t0), ErrKeyCompromised},
		{"compromised after signing", pub(t0.Add(time.Hour), t0.Add(time.Second)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(jws, tc.keys, at)
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if r := VerifyOffline(jws, tc.keys, nil, at); (r.Status == StatusInvalid) != (tc.err != nil) {
				t.Errorf("VerifyOffline: %s", r.Status)
			}
		})
	}
	// Status lists too: one signed after the key's retirement is refused.
	bits, _ := NewBitstring(0)
	vc, _ := StatusListCredential(c.Revocation.ListURL, PurposeRevocation, bits, Issuer{ID: issuerURL}, t0.Add(2*time.Hour), t0.Add(26*time.Hour))
	list, _ := vc.Sign(k)
	if _, err := VerifyStatusList(list, pub(t0.Add(time.Hour), time.Time{}), t0.Add(3*time.Hour)); !errors.Is(err, ErrKeyRetired) {
		t.Errorf("status list signed after retirement: %v", err)
	}
	if _, err := VerifyStatusList(list, pub(time.Time{}, t0.Add(time.Hour)), t0.Add(3*time.Hour)); !errors.Is(err, ErrKeyCompromised) {
		t.Errorf("status list signed after compromise: %v", err)
	}
}

func TestKeyRingCompromise(t *testing.T) {
	dir := t.TempDir()
	ring, err := LoadOrCreate(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	first := ring.Active()
	since := t0.Add(time.Hour)
	next, err := ring.Compromise(first.KID, since, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// The active key was compromised: it is replaced, and never signs again.
	if next == nil || ring.Active().KID != next.KID || next.KID == first.KID {
		t.Fatalf("no new key after compromising the active one: %v", next)
	}
	reloaded, err := LoadOrCreate(dir, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pks, err := ParseJWKS(reloaded.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	got := pks[first.KID]
	if !got.CompromisedAt.Equal(since) || !got.Retired() || pks[next.KID].Compromised() {
		t.Errorf("published keys %+v", pks)
	}
	if !strings.Contains(string(reloaded.JWKS()), `"compromised": "2026-11-22T11:00:00Z"`) {
		t.Errorf("JWKS lacks the compromise:\n%s", reloaded.JWKS())
	}
	if _, err := reloaded.Compromise(first.KID, since.Add(time.Minute), t0.Add(3*time.Hour)); err == nil {
		t.Error("the compromise time moved later")
	}
	if _, err := reloaded.Compromise(first.KID, since.Add(-time.Minute), t0.Add(3*time.Hour)); err != nil {
		t.Errorf("moving the compromise earlier: %v", err)
	}
	if _, err := reloaded.Compromise(next.KID, t0.Add(24*time.Hour), t0.Add(3*time.Hour)); err == nil {
		t.Error("a compromise in the future was accepted")
	}
	if _, err := reloaded.Compromise("nope", since, t0.Add(3*time.Hour)); err == nil {
		t.Error("an unknown kid was accepted")
	}
	if _, err := Issue(sampleClaims(), reloaded.Keys()[0]); err == nil {
		t.Error("a compromised key signed")
	}
}
