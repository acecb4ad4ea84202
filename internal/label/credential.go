package label

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// JSON-LD contexts and types of a Hallmark label credential.
const (
	ContextV2           = "https://www.w3.org/ns/credentials/v2"
	ContextLabelV1      = "https://hallmark.example/ns/label/v1"
	TypeLabelCredential = "HallmarkLabelCredential"
	TypeLabel           = "HallmarkLabel"
)

// LabelClaims are what a label credential states. Times are kept to the
// second, in UTC.
type LabelClaims struct {
	ID                string // the credential's id: urn:uuid:… (see NewCredentialID) or its public URL
	Issuer            Issuer
	ValidFrom         time.Time
	ValidUntil        time.Time // zero: the scheme sets no end
	LabelID           string
	SchemeID          string
	SchemeVersion     int    // the stored scheme version the label was issued under
	SchemeVersionName string // the scheme's own version string, if it has one
	LevelID           string
	LevelName         string
	Product           Product
	SupportEndDate    time.Time // a date (UTC); zero when not declared
	PageURL           string    // the label's public page, also the subject's id
	Revocation        StatusRef
	Suspension        StatusRef
	// Message is the label's entry in the message list, which tells a
	// surrendered label from a revoked one; zero in credentials issued
	// before it existed, which then verify as before.
	Message StatusRef
}

// Product is the labelled product version.
type Product struct {
	Name            string
	ModelNumber     string
	Manufacturer    string
	SoftwareVersion string
	PURL            string
	CPE             string
	GTIN            string
}

// StatusRef is a label's place in one Bitstring Status List.
type StatusRef struct {
	ListURL string // the status list credential's URL
	Index   int
	// Size and Messages are the entry's statusSize and statusMessage: for
	// the message list, MessageStatusSize and MessageTable (Issue fills them
	// in when left zero); zero and nil for one-bit lists.
	Size     int
	Messages []StatusMessage
}

// NewCredentialID returns a fresh urn:uuid (version 4).
func NewCredentialID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read does not fail
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// The wire form: the JWS payload is the VC itself (VC-JOSE-COSE).
type labelVC struct {
	vcEnvelope
	CredentialSubject labelSubject  `json:"credentialSubject"`
	CredentialStatus  []statusEntry `json:"credentialStatus"`
}

type labelSubject struct {
	ID             string      `json:"id,omitempty"`
	Type           string      `json:"type"`
	LabelID        string      `json:"labelId"`
	Scheme         schemeJSON  `json:"scheme"`
	Level          levelJSON   `json:"level"`
	Product        productJSON `json:"product"`
	SupportEndDate string      `json:"supportEndDate,omitempty"`
}

type schemeJSON struct {
	ID          string `json:"id"`
	Version     int    `json:"version"`
	VersionName string `json:"versionName,omitempty"`
}

type levelJSON struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

type productJSON struct {
	Name            string          `json:"name"`
	ModelNumber     string          `json:"modelNumber,omitempty"`
	Manufacturer    *manufacturer   `json:"manufacturer,omitempty"`
	SoftwareVersion string          `json:"softwareVersion,omitempty"`
	Identifiers     *identifierJSON `json:"identifiers,omitempty"`
}

type manufacturer struct {
	Name string `json:"name"`
}

type identifierJSON struct {
	PURL string `json:"purl,omitempty"`
	CPE  string `json:"cpe,omitempty"`
	GTIN string `json:"gtin,omitempty"`
}

// statusEntry is a BitstringStatusListEntry (W3C Bitstring Status List v1.0).
type statusEntry struct {
	ID                   string          `json:"id"`
	Type                 string          `json:"type"`
	StatusPurpose        string          `json:"statusPurpose"`
	StatusListIndex      string          `json:"statusListIndex"`
	StatusListCredential string          `json:"statusListCredential"`
	StatusSize           int             `json:"statusSize,omitempty"`
	StatusMessage        []StatusMessage `json:"statusMessage,omitempty"`
}

func newStatusEntry(purpose string, ref StatusRef) statusEntry {
	idx := strconv.Itoa(ref.Index)
	e := statusEntry{ID: ref.ListURL + "#" + idx, Type: "BitstringStatusListEntry", StatusPurpose: purpose,
		StatusListIndex: idx, StatusListCredential: ref.ListURL}
	if ref.Size > 1 {
		e.StatusSize, e.StatusMessage = ref.Size, ref.Messages
	}
	return e
}

// withMessageDefaults fills in the message entry's size and table.
func withMessageDefaults(ref StatusRef) StatusRef {
	if ref.Size == 0 {
		ref.Size = MessageStatusSize
	}
	if ref.Messages == nil {
		ref.Messages = MessageTable()
	}
	return ref
}

// Payload is the VC JSON a label credential signs.
func (c LabelClaims) Payload() ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	vc := labelVC{
		vcEnvelope: vcEnvelope{
			Context:   []string{ContextV2, ContextLabelV1},
			ID:        c.ID,
			Type:      []string{"VerifiableCredential", TypeLabelCredential},
			Issuer:    c.Issuer,
			ValidFrom: rfc3339(c.ValidFrom),
		},
		CredentialSubject: labelSubject{
			ID:      c.PageURL,
			Type:    TypeLabel,
			LabelID: c.LabelID,
			Scheme:  schemeJSON{ID: c.SchemeID, Version: c.SchemeVersion, VersionName: c.SchemeVersionName},
			Level:   levelJSON{ID: c.LevelID, Name: c.LevelName},
			Product: productJSON{Name: c.Product.Name, ModelNumber: c.Product.ModelNumber, SoftwareVersion: c.Product.SoftwareVersion},
		},
		CredentialStatus: []statusEntry{
			newStatusEntry(PurposeRevocation, c.Revocation),
			newStatusEntry(PurposeSuspension, c.Suspension),
		},
	}
	if c.Message.ListURL != "" {
		vc.CredentialStatus = append(vc.CredentialStatus, newStatusEntry(PurposeMessage, withMessageDefaults(c.Message)))
	}
	if !c.ValidUntil.IsZero() {
		vc.ValidUntil = rfc3339(c.ValidUntil)
	}
	if c.Product.Manufacturer != "" {
		vc.CredentialSubject.Product.Manufacturer = &manufacturer{Name: c.Product.Manufacturer}
	}
	if ids := (identifierJSON{PURL: c.Product.PURL, CPE: c.Product.CPE, GTIN: c.Product.GTIN}); ids != (identifierJSON{}) {
		vc.CredentialSubject.Product.Identifiers = &ids
	}
	if !c.SupportEndDate.IsZero() {
		vc.CredentialSubject.SupportEndDate = c.SupportEndDate.UTC().Format(time.DateOnly)
	}
	return json.Marshal(vc)
}

func (c LabelClaims) validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"ID", c.ID}, {"Issuer.ID", c.Issuer.ID}, {"LabelID", c.LabelID}, {"SchemeID", c.SchemeID},
		{"LevelID", c.LevelID}, {"Product.Name", c.Product.Name},
		{"Revocation.ListURL", c.Revocation.ListURL}, {"Suspension.ListURL", c.Suspension.ListURL},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if c.ValidFrom.IsZero() {
		missing = append(missing, "ValidFrom")
	}
	if len(missing) > 0 {
		return fmt.Errorf("label claims: missing %s", strings.Join(missing, ", "))
	}
	if !c.ValidUntil.IsZero() && !c.ValidUntil.Truncate(time.Second).After(c.ValidFrom.Truncate(time.Second)) {
		return errors.New("label claims: ValidUntil must be after ValidFrom")
	}
	if c.Revocation.Index < 0 || c.Suspension.Index < 0 || c.Message.Index < 0 {
		return errors.New("label claims: a status list index is negative")
	}
	if c.Revocation.ListURL == c.Suspension.ListURL {
		return errors.New("label claims: revocation and suspension need separate status lists")
	}
	if m := c.Message; m.ListURL != "" {
		if m.ListURL == c.Revocation.ListURL || m.ListURL == c.Suspension.ListURL {
			return errors.New("label claims: the message list must be separate from the revocation and suspension lists")
		}
		m = withMessageDefaults(m)
		if m.Size < 2 || m.Size > maxStatusSize {
			return fmt.Errorf("label claims: the message entry's size %d is not between 2 and %d", m.Size, maxStatusSize)
		}
		if err := checkMessageTable(m.Messages, m.Size); err != nil {
			return fmt.Errorf("label claims: message entry: %w", err)
		}
	}
	return nil
}

// Issue signs a label credential with key (normally KeyRing.Active).
func Issue(claims LabelClaims, key Key) (string, error) {
	payload, err := claims.Payload()
	if err != nil {
		return "", err
	}
	return sign(payload, key)
}

// Verified is a label credential whose signature checked out.
type Verified struct {
	Claims  LabelClaims
	Key     PublicKey // the key that signed it; it may since have been retired
	Payload []byte    // the VC JSON exactly as signed
	Hash    string    // see Hash
}

// Verify checks a label credential: the algorithm (EdDSA only), the key
// named by kid, the signature, the VC's shape, that the key was not retired
// or compromised by the credential's validFrom (labels signed before a
// rotation stay valid), and the validity window at now. Errors wrap
// ErrMalformed, ErrUnknownKey, ErrBadSignature, ErrKeyRetired,
// ErrKeyCompromised, ErrNotYetValid or ErrExpired. For the last two the
// signature is good and the *Verified is returned with the error.
func Verify(jws string, keys PublicKeys, now time.Time) (*Verified, error) {
	payload, pk, err := verifyJWS(jws, keys)
	if err != nil {
		return nil, err
	}
	claims, err := parseLabelPayload(payload)
	if err != nil {
		return nil, err
	}
	if err := pk.checkSignedAt(claims.ValidFrom); err != nil {
		return nil, err
	}
	v := &Verified{Claims: claims, Key: pk, Payload: payload, Hash: Hash(jws)}
	if err := checkWindow(claims.ValidFrom, claims.ValidUntil, now); err != nil {
		return v, err
	}
	return v, nil
}

// ParseUnverified reads a label credential's claims WITHOUT checking the
// signature: only to find where the issuer's keys and status lists are.
// Trust nothing in it until Verify agrees.
func ParseUnverified(jws string) (*LabelClaims, error) {
	if len(jws) > MaxCredentialSize {
		return nil, fmt.Errorf("%w: over the %d byte limit", ErrMalformed, MaxCredentialSize)
	}
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: a compact JWS has 3 parts, this has %d", ErrMalformed, len(parts))
	}
	payload, err := decodeSegment(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	c, err := parseLabelPayload(payload)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func parseLabelPayload(payload []byte) (LabelClaims, error) {
	var vc labelVC
	if err := json.Unmarshal(payload, &vc); err != nil {
		return LabelClaims{}, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	from, until, err := vc.check(TypeLabelCredential)
	if err != nil {
		return LabelClaims{}, err
	}
	s := vc.CredentialSubject
	if s.LabelID == "" || s.Scheme.ID == "" || s.Level.ID == "" {
		return LabelClaims{}, fmt.Errorf("%w: credentialSubject needs labelId, scheme.id and level.id", ErrMalformed)
	}
	c := LabelClaims{
		ID: vc.ID, Issuer: vc.Issuer, ValidFrom: from, ValidUntil: until,
		LabelID: s.LabelID, SchemeID: s.Scheme.ID, SchemeVersion: s.Scheme.Version, SchemeVersionName: s.Scheme.VersionName,
		LevelID: s.Level.ID, LevelName: s.Level.Name, PageURL: s.ID,
		Product: Product{Name: s.Product.Name, ModelNumber: s.Product.ModelNumber, SoftwareVersion: s.Product.SoftwareVersion},
	}
	if m := s.Product.Manufacturer; m != nil {
		c.Product.Manufacturer = m.Name
	}
	if ids := s.Product.Identifiers; ids != nil {
		c.Product.PURL, c.Product.CPE, c.Product.GTIN = ids.PURL, ids.CPE, ids.GTIN
	}
	if s.SupportEndDate != "" {
		if c.SupportEndDate, err = time.Parse(time.DateOnly, s.SupportEndDate); err != nil {
			return LabelClaims{}, fmt.Errorf("%w: supportEndDate: %v", ErrMalformed, err)
		}
	}
	// A Hallmark label always carries both entries: one the authority can
	// never flip would make the label irrevocable.
	seen := map[string]bool{}
	for _, e := range vc.CredentialStatus {
		if e.Type != "BitstringStatusListEntry" {
			continue
		}
		ref, err := parseStatusEntry(e)
		if err != nil {
			return LabelClaims{}, err
		}
		switch e.StatusPurpose {
		case PurposeRevocation:
			c.Revocation = ref
		case PurposeSuspension:
			c.Suspension = ref
		case PurposeMessage:
			ref.Size, ref.Messages = e.StatusSize, e.StatusMessage
			if ref.Size < 2 || ref.Size > maxStatusSize {
				return LabelClaims{}, fmt.Errorf("%w: the message status entry has statusSize %d; it must be 2 to %d", ErrMalformed, e.StatusSize, maxStatusSize)
			}
			if err := checkMessageTable(ref.Messages, ref.Size); err != nil {
				return LabelClaims{}, fmt.Errorf("%w: message status entry: %v", ErrMalformed, err)
			}
			c.Message = ref
		default:
			continue // other purposes (refresh) are not Hallmark's
		}
		if seen[e.StatusPurpose] {
			return LabelClaims{}, fmt.Errorf("%w: two %s status entries", ErrMalformed, e.StatusPurpose)
		}
		seen[e.StatusPurpose] = true
	}
	if !seen[PurposeRevocation] || !seen[PurposeSuspension] {
		return LabelClaims{}, fmt.Errorf("%w: credentialStatus needs a revocation and a suspension entry", ErrMalformed)
	}
	return c, nil
}

func parseStatusEntry(e statusEntry) (StatusRef, error) {
	if e.StatusListCredential == "" {
		return StatusRef{}, fmt.Errorf("%w: %s status entry has no statusListCredential", ErrMalformed, e.StatusPurpose)
	}
	idx, err := parseIndex(e.StatusListIndex)
	if err != nil {
		return StatusRef{}, fmt.Errorf("%w: %s statusListIndex %q: %v", ErrMalformed, e.StatusPurpose, e.StatusListIndex, err)
	}
	return StatusRef{ListURL: e.StatusListCredential, Index: idx}, nil
}

// parseIndex reads a statusListIndex: decimal digits only, as the spec
// writes it, and small enough to fit any list we would accept.
func parseIndex(s string) (int, error) {
	if s == "" || len(s) > 10 {
		return 0, errors.New("not a decimal index")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a decimal index")
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n >= MaxListBytes*8 {
		return 0, errors.New("index out of range")
	}
	return n, nil
}
