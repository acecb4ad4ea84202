package label

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Status purposes Hallmark uses, each with its own list. Revocation and
// suspension are one-bit lists any W3C Bitstring Status List verifier reads.
// The message list says, in two bits per label, which of Hallmark's four
// states a label is in: it is how Hallmark's own verifier tells a label its
// manufacturer surrendered from one the authority revoked, both of which set
// the revocation bit (see doc.go).
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
	PurposeMessage    = "message"
)

// The values of a label's entry in the message list (statusSize 2).
const (
	MessageActive      = 0x0
	MessageSuspended   = 0x1
	MessageRevoked     = 0x2
	MessageSurrendered = 0x3

	// MessageStatusSize is the message list's bits per entry.
	MessageStatusSize = 2

	// maxStatusSize bounds statusSize: 8 bits is 256 messages, more than a
	// label has states, and keeps a hostile list's table small.
	maxStatusSize = 8
)

// StatusMessage is one row of a statusMessage table: what an entry's value
// (hex, as the spec writes it: "0x2") means.
type StatusMessage struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// The messages of MessageTable, which Hallmark's verifier acts on.
const (
	MessageTextActive      = "active"
	MessageTextSuspended   = "suspended"
	MessageTextRevoked     = "revoked"
	MessageTextSurrendered = "surrendered"
)

// MessageTable is the statusMessage table of Hallmark's message list.
func MessageTable() []StatusMessage {
	return []StatusMessage{
		{"0x0", MessageTextActive}, {"0x1", MessageTextSuspended},
		{"0x2", MessageTextRevoked}, {"0x3", MessageTextSurrendered},
	}
}

// messageFor looks value up in a statusMessage table.
func messageFor(table []StatusMessage, value uint) (string, bool) {
	want := fmt.Sprintf("0x%x", value)
	for _, m := range table {
		if strings.EqualFold(m.Status, want) {
			return m.Message, true
		}
	}
	return "", false
}

// checkMessageTable refuses a statusMessage table a verifier could misread:
// values that are not hex, do not fit size bits, or appear twice.
func checkMessageTable(table []StatusMessage, size int) error {
	if len(table) == 0 {
		return errors.New("no statusMessage table")
	}
	if len(table) > 1<<size {
		return fmt.Errorf("statusMessage has %d rows for %d-bit values", len(table), size)
	}
	seen := map[uint64]bool{}
	for _, m := range table {
		hex, ok := strings.CutPrefix(strings.ToLower(m.Status), "0x")
		v, err := strconv.ParseUint(hex, 16, 8)
		if !ok || err != nil || v >= 1<<size {
			return fmt.Errorf("statusMessage status %q is not a %d-bit hex value", m.Status, size)
		}
		if seen[v] {
			return fmt.Errorf("statusMessage gives status %s twice", m.Status)
		}
		seen[v] = true
	}
	return nil
}

const (
	// MinListBits is the spec's minimum list length in entries: 131,072 (16
	// KiB of one-bit entries), so that one label's index hides among many. A
	// two-bit list of that many entries is 262,144 bits.
	MinListBits = 131072

	// MaxListBytes bounds a decompressed list. GZIP shrinks a run of zeros
	// about a thousandfold, so without a bound a few KiB could expand to
	// gigabytes (a "gzip bomb").
	MaxListBytes = 16 << 20

	// maxEncodedList bounds the encodedList string before decoding.
	maxEncodedList = 4 << 20

	TypeStatusListCredential = "BitstringStatusListCredential"
)

// ErrStatusList wraps errors in a status list's encoding.
var ErrStatusList = errors.New("bad status list")

// Bitstring is a Bitstring Status List of entries of StatusSize bits each:
// entry i is bits i*size to (i+1)*size-1, bit 0 being the left-most (most
// significant) bit of the first byte, and an entry's value is read most
// significant bit first, as the spec says.
type Bitstring struct {
	b    []byte
	size int // bits per entry; 0 means 1 (a Bitstring made as a literal)
}

// NewBitstring makes an all-zero list of one-bit entries: at least entries
// of them, and never fewer than MinListBits.
func NewBitstring(entries int) (*Bitstring, error) { return NewSizedBitstring(entries, 1) }

// NewSizedBitstring makes an all-zero list of statusSize-bit entries: at
// least entries of them, and never fewer than MinListBits.
func NewSizedBitstring(entries, statusSize int) (*Bitstring, error) {
	if statusSize < 1 || statusSize > maxStatusSize {
		return nil, fmt.Errorf("%w: statusSize %d is not between 1 and %d", ErrStatusList, statusSize, maxStatusSize)
	}
	entries = max(entries, MinListBits)
	if entries > MaxListBytes*8/statusSize {
		return nil, fmt.Errorf("%w: %d entries of %d bits is over the %d byte limit", ErrStatusList, entries, statusSize, MaxListBytes)
	}
	return &Bitstring{b: make([]byte, (entries*statusSize+7)/8), size: statusSize}, nil
}

// StatusSize is the number of bits per entry.
func (bs *Bitstring) StatusSize() int { return max(bs.size, 1) }

// Len is the number of entries.
func (bs *Bitstring) Len() int { return len(bs.b) * 8 / bs.StatusSize() }

func (bs *Bitstring) check(i int) error {
	if i < 0 || i >= bs.Len() {
		return fmt.Errorf("%w: index %d outside the list's %d entries", ErrStatusList, i, bs.Len())
	}
	return nil
}

// Value is entry i's value.
func (bs *Bitstring) Value(i int) (uint, error) {
	if err := bs.check(i); err != nil {
		return 0, err
	}
	var v uint
	for bit := i * bs.StatusSize(); bit < (i+1)*bs.StatusSize(); bit++ {
		v <<= 1
		if bs.b[bit/8]&(0x80>>(bit%8)) != 0 {
			v |= 1
		}
	}
	return v, nil
}

// SetValue sets entry i to v, which must fit in StatusSize bits.
func (bs *Bitstring) SetValue(i int, v uint) error {
	if err := bs.check(i); err != nil {
		return err
	}
	size := bs.StatusSize()
	if v >= 1<<size {
		return fmt.Errorf("%w: value %d does not fit in %d bits", ErrStatusList, v, size)
	}
	for k := range size {
		bit := i*size + k
		if v&(1<<(size-1-k)) != 0 {
			bs.b[bit/8] |= 0x80 >> (bit % 8)
		} else {
			bs.b[bit/8] &^= 0x80 >> (bit % 8)
		}
	}
	return nil
}

// Get reports whether entry i is non-zero (for a one-bit list: set).
func (bs *Bitstring) Get(i int) (bool, error) {
	v, err := bs.Value(i)
	return v != 0, err
}

// Set sets entry i to 1, or clears it.
func (bs *Bitstring) Set(i int, v bool) error {
	if v {
		return bs.SetValue(i, 1)
	}
	return bs.SetValue(i, 0)
}

// Bytes is a copy of the raw bits.
func (bs *Bitstring) Bytes() []byte { return bytes.Clone(bs.b) }

// Encode is the encodedList: GZIP, then multibase base64url without padding
// (prefix 'u'). The output is deterministic (no name or time in the GZIP
// header) so an unchanged list re-signs to the same payload.
//
// GZIP at its fastest level: a list is re-signed after every change, and
// at 131,072 entries the best level took 1–12 ms a time against 0.03–0.3
// ms, for lists at most a kilobyte larger (267 against 390 bytes with
// 100 entries set, 3.5 against 4.3 KB with 3,000, 8.7 against 9.0 KB
// with 13,000); behind a CDN the CPU counts, the bytes hardly.
func (bs *Bitstring) Encode() (string, error) {
	var buf bytes.Buffer
	zw := listGzip.Get().(*gzip.Writer)
	defer listGzip.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(bs.b); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// listGzip keeps writers: making one costs more than compressing a list.
var listGzip = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// DecodeList expands the encodedList of a one-bit list (see DecodeSizedList).
func DecodeList(encoded string) (*Bitstring, error) { return DecodeSizedList(encoded, 1) }

// DecodeSizedList expands an encodedList of statusSize-bit entries, refusing
// lists of fewer entries than the spec's minimum and any that decompress
// past MaxListBytes.
func DecodeSizedList(encoded string, statusSize int) (*Bitstring, error) {
	if statusSize < 1 || statusSize > maxStatusSize {
		return nil, fmt.Errorf("%w: statusSize %d is not between 1 and %d", ErrStatusList, statusSize, maxStatusSize)
	}
	if len(encoded) > maxEncodedList {
		return nil, fmt.Errorf("%w: encodedList is %d bytes, over the %d byte limit", ErrStatusList, len(encoded), maxEncodedList)
	}
	rest, ok := strings.CutPrefix(encoded, "u")
	if !ok {
		return nil, fmt.Errorf("%w: encodedList must be multibase base64url (prefix 'u')", ErrStatusList)
	}
	// The spec says no padding; tolerating it costs nothing.
	gz, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(rest, "="))
	if err != nil {
		return nil, fmt.Errorf("%w: encodedList: %v", ErrStatusList, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("%w: encodedList is not GZIP: %v", ErrStatusList, err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, MaxListBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: encodedList: %v", ErrStatusList, err)
	}
	if len(b) > MaxListBytes {
		return nil, fmt.Errorf("%w: encodedList expands past %d bytes", ErrStatusList, MaxListBytes)
	}
	if n := len(b) * 8 / statusSize; n < MinListBits {
		return nil, fmt.Errorf("%w: %d entries, fewer than the minimum %d", ErrStatusList, n, MinListBits)
	}
	return &Bitstring{b: b, size: statusSize}, nil
}

// StatusListVC is a BitstringStatusListCredential before signing.
type StatusListVC struct {
	URL        string // where it is published; also its id
	Purpose    string
	Bits       *Bitstring
	Messages   []StatusMessage // the statusMessage table of a message list; nil otherwise
	Issuer     Issuer
	ValidFrom  time.Time
	ValidUntil time.Time // keep it short: a verifier refuses an expired list, which bounds replay of an old one
}

// StatusListCredential makes the status list credential for one list.
// Revocation and suspension lists have one-bit entries; a message list has
// MessageStatusSize-bit entries and carries MessageTable.
func StatusListCredential(listURL, purpose string, bits *Bitstring, issuer Issuer, validFrom, validUntil time.Time) (*StatusListVC, error) {
	if listURL == "" || issuer.ID == "" || validFrom.IsZero() {
		return nil, errors.New("status list credential: URL, issuer and validFrom are required")
	}
	if bits == nil || bits.Len() < MinListBits {
		return nil, fmt.Errorf("status list credential: the list needs at least %d entries", MinListBits)
	}
	var messages []StatusMessage
	switch purpose {
	case PurposeRevocation, PurposeSuspension:
		if bits.StatusSize() != 1 {
			return nil, fmt.Errorf("status list credential: a %s list has one-bit entries, not %d", purpose, bits.StatusSize())
		}
	case PurposeMessage:
		if bits.StatusSize() != MessageStatusSize {
			return nil, fmt.Errorf("status list credential: a message list has %d-bit entries, not %d", MessageStatusSize, bits.StatusSize())
		}
		messages = MessageTable()
	default:
		return nil, fmt.Errorf("status list credential: purpose %q is not %s, %s or %s", purpose, PurposeRevocation, PurposeSuspension, PurposeMessage)
	}
	if !validUntil.IsZero() && !validUntil.Truncate(time.Second).After(validFrom.Truncate(time.Second)) {
		return nil, errors.New("status list credential: validUntil must be after validFrom")
	}
	return &StatusListVC{URL: listURL, Purpose: purpose, Bits: bits, Messages: messages, Issuer: issuer, ValidFrom: validFrom, ValidUntil: validUntil}, nil
}

type statusListWire struct {
	vcEnvelope
	CredentialSubject statusListSubject `json:"credentialSubject"`
}

type statusListSubject struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	StatusPurpose string          `json:"statusPurpose"`
	EncodedList   string          `json:"encodedList"`
	StatusSize    int             `json:"statusSize,omitempty"`
	StatusMessage []StatusMessage `json:"statusMessage,omitempty"`
}

// Payload is the VC JSON the status list credential signs.
func (c *StatusListVC) Payload() ([]byte, error) {
	enc, err := c.Bits.Encode()
	if err != nil {
		return nil, err
	}
	w := statusListWire{
		vcEnvelope: vcEnvelope{
			Context:   []string{ContextV2},
			ID:        c.URL,
			Type:      []string{"VerifiableCredential", TypeStatusListCredential},
			Issuer:    c.Issuer,
			ValidFrom: rfc3339(c.ValidFrom),
		},
		CredentialSubject: statusListSubject{ID: c.URL + "#list", Type: "BitstringStatusList", StatusPurpose: c.Purpose, EncodedList: enc,
			StatusMessage: c.Messages},
	}
	// statusSize 1 is the default; writing it would only differ from what
	// other issuers publish.
	if size := c.Bits.StatusSize(); size > 1 {
		w.CredentialSubject.StatusSize = size
	}
	if !c.ValidUntil.IsZero() {
		w.ValidUntil = rfc3339(c.ValidUntil)
	}
	return json.Marshal(w)
}

// Sign secures the status list credential as a compact JWS.
func (c *StatusListVC) Sign(key Key) (string, error) {
	payload, err := c.Payload()
	if err != nil {
		return "", err
	}
	return sign(payload, key)
}

// StatusListSnapshot is a verified status list as a verifier had it at
// FetchedAt.
type StatusListSnapshot struct {
	URL        string
	Purpose    string
	Bits       *Bitstring
	Messages   []StatusMessage // a message list's own table, if it has one
	Issuer     Issuer
	ValidFrom  time.Time
	ValidUntil time.Time
	KID        string
	FetchedAt  time.Time
}

// AsOf is the time the snapshot speaks for: when it was fetched, or if that
// is unknown, when the issuer produced it.
func (s *StatusListSnapshot) AsOf() time.Time {
	if !s.FetchedAt.IsZero() {
		return s.FetchedAt
	}
	return s.ValidFrom
}

// VerifyStatusList checks a status list credential as of fetchedAt: the
// time it was fetched (now, online; the cache's record, offline). Errors
// wrap the same values as Verify's, or ErrStatusList.
func VerifyStatusList(jws string, keys PublicKeys, fetchedAt time.Time) (*StatusListSnapshot, error) {
	payload, pk, err := verifyJWS(jws, keys)
	if err != nil {
		return nil, err
	}
	var w statusListWire
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	from, until, err := w.check(TypeStatusListCredential)
	if err != nil {
		return nil, err
	}
	if err := pk.checkSignedAt(from); err != nil {
		return nil, fmt.Errorf("status list %s: %w", w.ID, err)
	}
	s := w.CredentialSubject
	if w.ID == "" || s.Type != "BitstringStatusList" {
		return nil, fmt.Errorf("%w: not a BitstringStatusList with an id", ErrMalformed)
	}
	size := max(s.StatusSize, 1)
	switch s.StatusPurpose {
	case PurposeRevocation, PurposeSuspension:
		if size != 1 {
			return nil, fmt.Errorf("%w: a %s list with statusSize %d; it must be 1", ErrMalformed, s.StatusPurpose, size)
		}
	case PurposeMessage:
		if size > maxStatusSize {
			return nil, fmt.Errorf("%w: statusSize %d is over %d", ErrMalformed, size, maxStatusSize)
		}
		if s.StatusMessage != nil {
			if err := checkMessageTable(s.StatusMessage, size); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
			}
		}
	default:
		return nil, fmt.Errorf("%w: status purpose %q", ErrMalformed, s.StatusPurpose)
	}
	bits, err := DecodeSizedList(s.EncodedList, size)
	if err != nil {
		return nil, err
	}
	if err := checkWindow(from, until, fetchedAt); err != nil {
		return nil, fmt.Errorf("status list %s: %w", w.ID, err)
	}
	return &StatusListSnapshot{URL: w.ID, Purpose: s.StatusPurpose, Bits: bits, Messages: s.StatusMessage, Issuer: w.Issuer,
		ValidFrom: from, ValidUntil: until, KID: pk.KID, FetchedAt: fetchedAt}, nil
}
