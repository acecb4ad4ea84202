package tlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Entry is one logged decision. It holds hashes and identifiers only, never
// personal data: free text (a reason) is logged as its SHA-256.
type Entry struct {
	Version     int       // 1
	Kind        string    // one of the Kind* constants
	Authority   string    // the issuing instance / authority id
	Subject     string    // label id, scheme id@version, key id, agreement id
	Digest      string    // hex SHA-256 of the credential, scheme document, key or agreement
	Status      string    // label kinds: the label status after the decision ("" if none)
	StatusIndex int       // label kinds: the status-list index, or -1; other kinds: -1
	Reason      string    // hex SHA-256 of the free-text reason, or ""
	At          time.Time // when decided; logged to the second, in UTC
	Ref         string    // opaque unique id of the decision (e.g. a database row id)
}

// Entry kinds.
const (
	KindLabelIssued       = "label.issued"
	KindLabelSuspended    = "label.suspended"
	KindLabelRestored     = "label.restored"
	KindLabelRevoked      = "label.revoked"
	KindLabelSurrendered  = "label.surrendered"
	KindLabelExpired      = "label.expired"
	KindSchemePublished   = "scheme.published"
	KindKeyAdded          = "key.added"
	KindKeyRetired        = "key.retired"
	KindKeyCompromised    = "key.compromised" // At is the time from which the key's signatures are void
	KindAgreementRecorded = "agreement.recorded"
	KindTargetDeclared    = "target.declared"  // Subject: the target id; Digest: the declaration's
	KindReportPublished   = "report.published" // Subject: the report id; Digest: the report's
)

const (
	entryHeaderV1   = "hallmark-decision/v1"
	entryVersion    = 1
	entryFieldCount = 10 // lines, header included
	entryTimeLayout = "2006-01-02T15:04:05Z"
	maxEntrySize    = 4096
	maxIDLen        = 256
	maxStatusIndex  = 1<<31 - 1
	minEntryYear    = 1970
	maxEntryYear    = 9999
	maxStatusLen    = 32
	errEntryPrefix  = "tlog: entry: "
)

var entryKinds = map[string]bool{
	KindLabelIssued: true, KindLabelSuspended: true, KindLabelRestored: true,
	KindLabelRevoked: true, KindLabelSurrendered: true, KindLabelExpired: true,
	KindSchemePublished: true, KindKeyAdded: true, KindKeyRetired: true, KindKeyCompromised: true,
	KindAgreementRecorded: true, KindTargetDeclared: true, KindReportPublished: true,
}

// entryKeys are the line keys after the header, in their fixed order.
var entryKeys = [...]string{"kind", "authority", "subject", "digest", "status", "status-index", "reason", "at", "ref"}

// Validate reports why e cannot be logged, or nil.
func (e Entry) Validate() error {
	fail := func(format string, a ...any) error { return fmt.Errorf(errEntryPrefix+format, a...) }
	if e.Version != entryVersion {
		return fail("version %d is not supported (want %d)", e.Version, entryVersion)
	}
	if !entryKinds[e.Kind] {
		return fail("unknown kind %q", e.Kind)
	}
	for _, f := range []struct{ name, v string }{{"authority", e.Authority}, {"subject", e.Subject}, {"ref", e.Ref}} {
		if err := checkID(f.v); err != nil {
			return fail("%s: %v", f.name, err)
		}
	}
	if !isHexSHA256(e.Digest) {
		return fail("digest must be 64 lowercase hex digits (a SHA-256), got %q", clip(e.Digest))
	}
	if e.Reason != "" && !isHexSHA256(e.Reason) {
		return fail("reason must be the SHA-256 of the reason text as 64 lowercase hex digits, or empty; never the text itself")
	}
	if strings.HasPrefix(e.Kind, "label.") {
		if e.Status != "" && !isStatusToken(e.Status) {
			return fail("status %q is not a short lowercase token", clip(e.Status))
		}
		if e.StatusIndex < -1 || e.StatusIndex > maxStatusIndex {
			return fail("status index %d is out of range (-1 for none, or 0..%d)", e.StatusIndex, maxStatusIndex)
		}
	} else {
		// Only label decisions carry a status; anything else would be noise
		// that makes two equal decisions log differently.
		if e.Status != "" {
			return fail("kind %s carries no status, got %q", e.Kind, clip(e.Status))
		}
		if e.StatusIndex != -1 {
			return fail("kind %s carries no status index: set it to -1, got %d", e.Kind, e.StatusIndex)
		}
	}
	if e.At.IsZero() {
		return fail("time is not set")
	}
	if y := e.At.UTC().Year(); y < minEntryYear || y > maxEntryYear {
		return fail("time %s is out of range", e.At.UTC().Format(time.RFC3339))
	}
	return nil
}

// Marshal returns the canonical bytes of e, or nil if e does not Validate.
// The format is ten lines, each ending in a newline, in this fixed order:
//
//	hallmark-decision/v1
//	kind <kind>
//	authority <id>
//	subject <id>
//	digest <64 lowercase hex>
//	status <token>          ("status" alone when empty)
//	status-index <-1 | decimal>
//	reason <64 lowercase hex> ("reason" alone when empty)
//	at <YYYY-MM-DDTHH:MM:SSZ>
//	ref <id>
//
// Identifiers are UTF-8 without spaces or control characters, so a line never
// splits and the bytes are the same for equal decisions; At is truncated to
// the second and put in UTC.
func (e Entry) Marshal() []byte {
	if e.Validate() != nil {
		return nil
	}
	var b bytes.Buffer
	b.WriteString(entryHeaderV1 + "\n")
	vals := [...]string{e.Kind, e.Authority, e.Subject, e.Digest, e.Status,
		strconv.Itoa(e.StatusIndex), e.Reason, e.At.UTC().Truncate(time.Second).Format(entryTimeLayout), e.Ref}
	for i, k := range entryKeys {
		b.WriteString(k)
		if vals[i] != "" {
			b.WriteByte(' ')
			b.WriteString(vals[i])
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ParseEntry is the strict inverse of Marshal: it accepts only canonical bytes.
func ParseEntry(b []byte) (Entry, error) {
	fail := func(format string, a ...any) (Entry, error) {
		return Entry{}, fmt.Errorf(errEntryPrefix+format, a...)
	}
	if len(b) > maxEntrySize {
		return fail("%d bytes is larger than the %d-byte limit", len(b), maxEntrySize)
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		return fail("does not end with a newline")
	}
	lines := strings.Split(string(b[:len(b)-1]), "\n")
	if lines[0] != entryHeaderV1 {
		return fail("first line is %q, want %q", clip(lines[0]), entryHeaderV1)
	}
	if len(lines) != entryFieldCount {
		return fail("has %d lines, want %d", len(lines), entryFieldCount)
	}
	var vals [len(entryKeys)]string
	for i, k := range entryKeys {
		line := lines[i+1]
		key, val, _ := strings.Cut(line, " ")
		if key != k {
			return fail("line %d is %q, want the %q field", i+2, clip(line), k)
		}
		vals[i] = val
	}
	e := Entry{Version: entryVersion, Kind: vals[0], Authority: vals[1], Subject: vals[2],
		Digest: vals[3], Status: vals[4], Reason: vals[6], Ref: vals[8]}
	idx, err := strconv.Atoi(vals[5])
	if err != nil {
		return fail("status-index %q is not a number", clip(vals[5]))
	}
	e.StatusIndex = idx
	at, err := time.Parse(entryTimeLayout, vals[7])
	if err != nil {
		return fail("time %q is not YYYY-MM-DDTHH:MM:SSZ", clip(vals[7]))
	}
	e.At = at
	if err := e.Validate(); err != nil {
		return Entry{}, err
	}
	// Refuse every non-canonical spelling (leading zeros, "+1", a trailing
	// space for an empty field...): one decision, one byte string.
	if !bytes.Equal(e.Marshal(), b) {
		return fail("is not in canonical form")
	}
	return e, nil
}

func checkID(s string) error {
	switch {
	case s == "":
		return errors.New("is empty")
	case len(s) > maxIDLen:
		return fmt.Errorf("is longer than %d bytes", maxIDLen)
	case !utf8.ValidString(s):
		return errors.New("is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || !unicode.IsPrint(r) {
			return fmt.Errorf("%q holds a space or control character; identifiers only", clip(s))
		}
	}
	return nil
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isStatusToken(s string) bool {
	if s == "" || len(s) > maxStatusLen || !('a' <= s[0] && s[0] <= 'z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// ReasonHash is how a free-text reason is logged: its SHA-256 in hex, or
// "" for no reason. The log proves which reason was given without
// publishing it.
func ReasonHash(reason string) string {
	if reason == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(reason))
	return hex.EncodeToString(sum[:])
}
