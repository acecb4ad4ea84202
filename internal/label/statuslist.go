package label

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Status purposes Hallmark uses; each has its own list.
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
)

const (
	// MinListBits is the spec's minimum list length: 131,072 entries (16 KiB),
	// so that one label's index hides among many.
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

// Bitstring is a Bitstring Status List: bit 0 is the left-most (most
// significant) bit of the first byte, as the spec says.
type Bitstring struct {
	b []byte
}

// NewBitstring makes an all-zero list of at least bits bits, and never
// fewer than MinListBits.
func NewBitstring(bits int) (*Bitstring, error) {
	bits = max(bits, MinListBits)
	n := (bits + 7) / 8
	if n > MaxListBytes {
		return nil, fmt.Errorf("%w: %d bits is over the %d byte limit", ErrStatusList, bits, MaxListBytes)
	}
	return &Bitstring{b: make([]byte, n)}, nil
}

// Len is the number of entries.
func (bs *Bitstring) Len() int { return len(bs.b) * 8 }

func (bs *Bitstring) check(i int) error {
	if i < 0 || i >= bs.Len() {
		return fmt.Errorf("%w: index %d outside the list's %d entries", ErrStatusList, i, bs.Len())
	}
	return nil
}

// Get reports whether entry i is set.
func (bs *Bitstring) Get(i int) (bool, error) {
	if err := bs.check(i); err != nil {
		return false, err
	}
	return bs.b[i/8]&(0x80>>(i%8)) != 0, nil
}

// Set sets or clears entry i.
func (bs *Bitstring) Set(i int, v bool) error {
	if err := bs.check(i); err != nil {
		return err
	}
	if v {
		bs.b[i/8] |= 0x80 >> (i % 8)
	} else {
		bs.b[i/8] &^= 0x80 >> (i % 8)
	}
	return nil
}

// Bytes is a copy of the raw bits.
func (bs *Bitstring) Bytes() []byte { return bytes.Clone(bs.b) }

// Encode is the encodedList: GZIP, then multibase base64url without padding
// (prefix 'u'). The output is deterministic (no name or time in the GZIP
// header) so an unchanged list re-signs to the same payload.
func (bs *Bitstring) Encode() (string, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(bs.b); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// DecodeList expands an encodedList, refusing lists shorter than the spec's
// minimum and any that decompress past MaxListBytes.
func DecodeList(encoded string) (*Bitstring, error) {
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
	if len(b)*8 < MinListBits {
		return nil, fmt.Errorf("%w: %d entries, fewer than the minimum %d", ErrStatusList, len(b)*8, MinListBits)
	}
	return &Bitstring{b: b}, nil
}

// StatusListVC is a BitstringStatusListCredential before signing.
type StatusListVC struct {
	URL        string // where it is published; also its id
	Purpose    string
	Bits       *Bitstring
	Issuer     Issuer
	ValidFrom  time.Time
	ValidUntil time.Time // keep it short: a verifier refuses an expired list, which bounds replay of an old one
}

// StatusListCredential makes the status list credential for one list.
func StatusListCredential(listURL, purpose string, bits *Bitstring, issuer Issuer, validFrom, validUntil time.Time) (*StatusListVC, error) {
	if listURL == "" || issuer.ID == "" || validFrom.IsZero() {
		return nil, errors.New("status list credential: URL, issuer and validFrom are required")
	}
	if purpose != PurposeRevocation && purpose != PurposeSuspension {
		return nil, fmt.Errorf("status list credential: purpose %q is neither %s nor %s", purpose, PurposeRevocation, PurposeSuspension)
	}
	if bits == nil || bits.Len() < MinListBits {
		return nil, fmt.Errorf("status list credential: the list needs at least %d entries", MinListBits)
	}
	if !validUntil.IsZero() && !validUntil.Truncate(time.Second).After(validFrom.Truncate(time.Second)) {
		return nil, errors.New("status list credential: validUntil must be after validFrom")
	}
	return &StatusListVC{URL: listURL, Purpose: purpose, Bits: bits, Issuer: issuer, ValidFrom: validFrom, ValidUntil: validUntil}, nil
}

type statusListWire struct {
	vcEnvelope
	CredentialSubject statusListSubject `json:"credentialSubject"`
}

type statusListSubject struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	StatusPurpose string `json:"statusPurpose"`
	EncodedList   string `json:"encodedList"`
	StatusSize    int    `json:"statusSize,omitempty"`
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
		CredentialSubject: statusListSubject{ID: c.URL + "#list", Type: "BitstringStatusList", StatusPurpose: c.Purpose, EncodedList: enc},
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
	s := w.CredentialSubject
	if w.ID == "" || s.Type != "BitstringStatusList" {
		return nil, fmt.Errorf("%w: not a BitstringStatusList with an id", ErrMalformed)
	}
	if s.StatusPurpose != PurposeRevocation && s.StatusPurpose != PurposeSuspension {
		return nil, fmt.Errorf("%w: status purpose %q", ErrMalformed, s.StatusPurpose)
	}
	if s.StatusSize > 1 {
		return nil, fmt.Errorf("%w: statusSize %d; only 1-bit statuses are supported", ErrMalformed, s.StatusSize)
	}
	bits, err := DecodeList(s.EncodedList)
	if err != nil {
		return nil, err
	}
	if err := checkWindow(from, until, fetchedAt); err != nil {
		return nil, fmt.Errorf("status list %s: %w", w.ID, err)
	}
	return &StatusListSnapshot{URL: w.ID, Purpose: s.StatusPurpose, Bits: bits, Issuer: w.Issuer,
		ValidFrom: from, ValidUntil: until, KID: pk.KID, FetchedAt: fetchedAt}, nil
}
