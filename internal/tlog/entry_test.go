package tlog

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sameEntry(a, b Entry) bool {
	return a.Version == b.Version && a.Kind == b.Kind && a.Authority == b.Authority &&
		a.Subject == b.Subject && a.Digest == b.Digest && a.Status == b.Status &&
		a.StatusIndex == b.StatusIndex && a.Reason == b.Reason && a.At.Equal(b.At) && a.Ref == b.Ref
}

func TestEntryGolden(t *testing.T) {
	e := decision(3)
	e.Reason = sha("the manufacturer asked")
	got := e.Marshal()
	golden := filepath.Join("testdata", "entry-v1.txt")
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Marshal changed (a format change needs a new version):\n%s\nwant:\n%s", got, want)
	}
	back, err := ParseEntry(want)
	if err != nil {
		t.Fatal(err)
	}
	if !sameEntry(back, e) {
		t.Fatalf("ParseEntry = %+v, want %+v", back, e)
	}
}

func TestEntryNormalisesTime(t *testing.T) {
	e := decision(1)
	e.At = time.Date(2026, 3, 1, 14, 0, 0, 999_000_000, time.FixedZone("CET+2", 2*3600))
	b := e.Marshal()
	if !bytes.Contains(b, []byte("\nat 2026-03-01T12:00:00Z\n")) {
		t.Fatalf("time not logged to the second in UTC:\n%s", b)
	}
}

func TestEntryEmptyFields(t *testing.T) {
	e := decision(1)
	e.Kind, e.Status, e.StatusIndex = KindSchemePublished, "", -1
	b := e.Marshal()
	if !bytes.Contains(b, []byte("\nstatus\nstatus-index -1\nreason\n")) {
		t.Fatalf("empty fields not written as bare keys:\n%s", b)
	}
	if _, err := ParseEntry(b); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseEntry(bytes.Replace(b, []byte("\nstatus\n"), []byte("\nstatus \n"), 1)); err == nil {
		t.Fatal("a trailing space (non-canonical) was accepted")
	}
}

func TestEntryValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Entry)
		want string
	}{
		{"version", func(e *Entry) { e.Version = 2 }, "version"},
		{"kind", func(e *Entry) { e.Kind = "label.deleted" }, "unknown kind"},
		{"newline in subject", func(e *Entry) { e.Subject = "lbl-1\nkind label.revoked" }, "subject"},
		{"space in authority", func(e *Entry) { e.Authority = "Jane Doe" }, "authority"},
		{"empty ref", func(e *Entry) { e.Ref = "" }, "ref: is empty"},
		{"long subject", func(e *Entry) { e.Subject = strings.Repeat("x", 300) }, "longer"},
		{"bad utf8", func(e *Entry) { e.Subject = "\xff" }, "UTF-8"},
		{"digest upper", func(e *Entry) { e.Digest = strings.ToUpper(e.Digest) }, "digest"},
		{"digest short", func(e *Entry) { e.Digest = "abc" }, "digest"},
		{"reason text", func(e *Entry) { e.Reason = "Jane Doe failed to patch" }, "never the text itself"},
		{"status token", func(e *Entry) { e.Status = "Suspended!" }, "status"},
		{"status index low", func(e *Entry) { e.StatusIndex = -2 }, "out of range"},
		{"status index high", func(e *Entry) { e.StatusIndex = 1 << 40 }, "out of range"},
		{"status on scheme", func(e *Entry) { e.Kind = KindSchemePublished; e.StatusIndex = -1 }, "carries no status"},
		{"status index on key", func(e *Entry) { e.Kind = KindKeyAdded; e.Status = ""; e.StatusIndex = 0 }, "set it to -1"},
		{"zero time", func(e *Entry) { e.At = time.Time{} }, "not set"},
		{"year", func(e *Entry) { e.At = time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC) }, "out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := decision(1)
			tc.edit(&e)
			err := e.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error mentioning %q", err, tc.want)
			}
			if e.Marshal() != nil {
				t.Fatal("Marshal of an invalid entry returned bytes")
			}
		})
	}
}

func TestParseEntryStrict(t *testing.T) {
	good := decisionBytes(t, 5)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"no final newline", good[:len(good)-1]},
		{"extra line", append(bytes.Clone(good), "extra x\n"...)},
		{"missing line", bytes.Replace(good, []byte("reason\n"), nil, 1)},
		{"swapped fields", bytes.Replace(bytes.Replace(good, []byte("kind "), []byte("KIND "), 1), []byte("authority "), []byte("kind "), 1)},
		{"other header", bytes.Replace(good, []byte("/v1"), []byte("/v2"), 1)},
		{"leading zero", bytes.Replace(good, []byte("status-index 5"), []byte("status-index 05"), 1)},
		{"plus sign", bytes.Replace(good, []byte("status-index 5"), []byte("status-index +5"), 1)},
		{"fractional time", bytes.Replace(good, []byte(":05Z"), []byte(":05.5Z"), 1)},
		{"offset time", bytes.Replace(good, []byte(":05Z"), []byte(":05+00:00"), 1)},
		{"CRLF", bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n"))},
		{"huge", bytes.Repeat([]byte("x"), maxEntrySize+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseEntry(tc.b); err == nil {
				t.Fatalf("accepted:\n%s", tc.b)
			}
		})
	}
}

// FuzzParseEntry: whatever ParseEntry accepts re-marshals to the same bytes
// and parses to the same entry.
func FuzzParseEntry(f *testing.F) {
	for n := range 3 {
		f.Add(decision(n).Marshal())
	}
	e := decision(9)
	e.Kind, e.Status, e.StatusIndex, e.Reason = KindAgreementRecorded, "", -1, sha("r")
	f.Add(e.Marshal())
	f.Add([]byte("hallmark-decision/v1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEntry(b)
		if err != nil {
			return
		}
		m := e.Marshal()
		if !bytes.Equal(m, b) {
			t.Fatalf("round trip changed the bytes:\n%q\n%q", b, m)
		}
		e2, err := ParseEntry(m)
		if err != nil || !sameEntry(e, e2) {
			t.Fatalf("re-parse: %v %+v %+v", err, e, e2)
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("parsed entry does not validate: %v", err)
		}
	})
}
