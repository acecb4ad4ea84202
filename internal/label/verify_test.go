package label

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// snapshot signs a real status list for the sample label's entry and
// verifies it as a verifier fetching it at fetched would.
func snapshot(t *testing.T, k Key, issuer, purpose string, set bool, fetched time.Time) *StatusListSnapshot {
	t.Helper()
	c := sampleClaims()
	ref := map[string]StatusRef{PurposeRevocation: c.Revocation, PurposeSuspension: c.Suspension}[purpose]
	return snapshotAt(t, k, issuer, ref, purpose, set, fetched)
}

func snapshotAt(t *testing.T, k Key, issuer string, ref StatusRef, purpose string, set bool, fetched time.Time) *StatusListSnapshot {
	t.Helper()
	// The list was signed shortly before it was fetched and is valid a week.
	from := fetched.Add(-time.Hour)
	if fetched.Sub(t0) < 7*24*time.Hour {
		from = t0
	}
	return snapshotWindow(t, k, issuer, ref, purpose, set, from, from.Add(7*24*time.Hour), fetched)
}

func snapshotWindow(t *testing.T, k Key, issuer string, ref StatusRef, purpose string, set bool, from, until, fetched time.Time) *StatusListSnapshot {
	t.Helper()
	bits, _ := NewBitstring(0)
	bits.Set(ref.Index, set)
	bits.Set(ref.Index+1, true) // a neighbour's status must not leak into ours
	vc, err := StatusListCredential(ref.ListURL, purpose, bits, Issuer{ID: issuer}, from, until)
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

func TestVerifyOfflinePrecedence(t *testing.T) {
	k := fixedKey(t, 1, t0)
	c := sampleClaims()
	jws, _ := Issue(c, k)
	tampered := flip(jws, len(strings.Split(jws, ".")[0])+20)
	during, after, before := t0.Add(24*time.Hour), c.ValidUntil.Add(time.Hour), t0.Add(-time.Hour)
	listsAt := func(revoked, suspended bool, fetched time.Time) map[string]*StatusListSnapshot {
		return map[string]*StatusListSnapshot{
			c.Revocation.ListURL: snapshot(t, k, issuerURL, PurposeRevocation, revoked, fetched.Add(time.Hour)),
			c.Suspension.ListURL: snapshot(t, k, issuerURL, PurposeSuspension, suspended, fetched),
		}
	}
	lists := func(revoked, suspended bool) map[string]*StatusListSnapshot {
		return listsAt(revoked, suspended, t0.Add(time.Hour))
	}
	// Lists fetched just before the label expired, still valid after.
	late := func(revoked, suspended bool) map[string]*StatusListSnapshot {
		return listsAt(revoked, suspended, after.Add(-2*time.Hour))
	}
	only := func(m map[string]*StatusListSnapshot, url string) map[string]*StatusListSnapshot {
		return map[string]*StatusListSnapshot{url: m[url]}
	}
	swapped := lists(false, false)
	swapped[c.Revocation.ListURL], swapped[c.Suspension.ListURL] = swapped[c.Suspension.ListURL], swapped[c.Revocation.ListURL]
	// A suspension list published at the revocation list's URL.
	mispurposed := lists(false, false)
	mispurposed[c.Revocation.ListURL] = snapshotAt(t, k, issuerURL, c.Revocation, PurposeSuspension, false, t0)
	foreign := map[string]*StatusListSnapshot{
		c.Revocation.ListURL: snapshot(t, k, "https://elsewhere.example", PurposeRevocation, false, t0),
		c.Suspension.ListURL: snapshot(t, k, "https://elsewhere.example", PurposeSuspension, false, t0),
	}
	for _, tc := range []struct {
		name  string
		jws   string
		keys  PublicKeys
		lists map[string]*StatusListSnapshot
		at    time.Time
		want  Status
		known bool
		err   error
		warn  string
	}{
		{"valid", jws, keysOf(k), lists(false, false), during, StatusValid, true, nil, ""},
		{"suspended", jws, keysOf(k), lists(false, true), during, StatusSuspended, true, nil, ""},
		{"revoked", jws, keysOf(k), lists(true, false), during, StatusRevoked, true, nil, ""},
		{"revoked wins over suspended", jws, keysOf(k), lists(true, true), during, StatusRevoked, true, nil, ""},
		{"bad signature wins over revoked", tampered, keysOf(k), lists(true, true), during, StatusInvalid, false, ErrBadSignature, ""},
		{"unknown key wins over revoked", jws, keysOf(fixedKey(t, 2, t0)), lists(true, false), during, StatusInvalid, false, ErrUnknownKey, ""},
		{"expired", jws, keysOf(k), late(false, false), after, StatusExpired, true, ErrExpired, ""},
		{"expired, with lists expired long ago", jws, keysOf(k), lists(false, false), after, StatusExpired, false, ErrExpired, "last known as of"},
		{"revoked wins over expired", jws, keysOf(k), late(true, false), after, StatusRevoked, true, ErrExpired, ""},
		{"suspended wins over expired", jws, keysOf(k), late(false, true), after, StatusSuspended, true, ErrExpired, ""},
		{"not yet valid", jws, keysOf(k), lists(false, false), before, StatusNotYetValid, true, ErrNotYetValid, ""},
		{"no lists: valid, status unknown", jws, keysOf(k), nil, during, StatusValid, false, nil, "status unknown"},
		{"one list: still unknown", jws, keysOf(k), only(lists(false, false), c.Revocation.ListURL), during, StatusValid, false, nil, "no suspension status list"},
		{"one list says suspended", jws, keysOf(k), only(lists(false, true), c.Suspension.ListURL), during, StatusSuspended, false, nil, "no revocation status list"},
		{"lists swapped: ids checked", jws, keysOf(k), swapped, during, StatusValid, false, nil, "has id " + c.Suspension.ListURL},
		{"wrong purpose at the URL", jws, keysOf(k), mispurposed, during, StatusValid, false, nil, "is a suspension list, not a revocation list"},
		{"another issuer's lists", jws, keysOf(k), foreign, during, StatusValid, false, nil, "not by the label's issuer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := VerifyOffline(tc.jws, tc.keys, tc.lists, tc.at)
			if r.Status != tc.want || r.StatusKnown != tc.known {
				t.Fatalf("status %s (known %v), want %s (known %v); reasons %q warnings %q", r.Status, r.StatusKnown, tc.want, tc.known, r.Reasons, r.Warnings)
			}
			if tc.err == nil && r.Err != nil || tc.err != nil && !errors.Is(r.Err, tc.err) {
				t.Errorf("err %v, want %v", r.Err, tc.err)
			}
			if (r.Credential == nil) != (tc.want == StatusInvalid) {
				t.Errorf("credential returned: %v", r.Credential != nil)
			}
			if tc.warn != "" && !strings.Contains(strings.Join(r.Warnings, "\n"), tc.warn) {
				t.Errorf("warnings %q lack %q", r.Warnings, tc.warn)
			}
			if len(r.Reasons) == 0 {
				t.Error("no reason given")
			}
		})
	}
}

func TestVerifyOfflineStatusAsOf(t *testing.T) {
	k := fixedKey(t, 1, t0)
	c := sampleClaims()
	jws, _ := Issue(c, k)
	r := VerifyOffline(jws, keysOf(k), map[string]*StatusListSnapshot{
		c.Revocation.ListURL: snapshot(t, k, issuerURL, PurposeRevocation, false, t0.Add(3*time.Hour)),
		c.Suspension.ListURL: snapshot(t, k, issuerURL, PurposeSuspension, false, t0.Add(2*time.Hour)),
	}, t0.Add(48*time.Hour))
	// The status is only as fresh as the older of the two lists.
	if !r.StatusAsOf.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("status as of %v, want the older fetch %v", r.StatusAsOf, t0.Add(2*time.Hour))
	}
	if r := VerifyOffline(jws, keysOf(k), nil, t0.Add(time.Hour)); !r.StatusAsOf.IsZero() {
		t.Errorf("status as of %v with no lists", r.StatusAsOf)
	}
}

func TestVerifyOfflineIndexOutsideList(t *testing.T) {
	k := fixedKey(t, 1, t0)
	c := sampleClaims()
	c.Suspension.Index = MinListBits + 5 // past the end of the published list
	jws, _ := Issue(c, k)
	r := VerifyOffline(jws, keysOf(k), map[string]*StatusListSnapshot{
		c.Revocation.ListURL: snapshot(t, k, issuerURL, PurposeRevocation, false, t0),
		c.Suspension.ListURL: snapshot(t, k, issuerURL, PurposeSuspension, false, t0),
	}, t0.Add(time.Hour))
	if r.Status != StatusValid || r.StatusKnown || !strings.Contains(strings.Join(r.Warnings, " "), "outside") {
		t.Errorf("got %s known=%v %q", r.Status, r.StatusKnown, r.Warnings)
	}
}

func TestVerifyOfflineRetiredKeyNoted(t *testing.T) {
	k := fixedKey(t, 1, t0)
	jws, _ := Issue(sampleClaims(), k)
	pub := k.Public()
	pub.RetiredAt = t0.Add(time.Hour)
	r := VerifyOffline(jws, PublicKeys{k.KID: pub}, nil, t0.Add(2*time.Hour))
	if r.Status != StatusValid || !strings.Contains(strings.Join(r.Warnings, " "), "retired") {
		t.Errorf("got %s, warnings %q", r.Status, r.Warnings)
	}
}
