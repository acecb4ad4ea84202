package peer

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/label"
)

// Trust errors; Check's errors wrap one of them.
var (
	// ErrNotTrusted: the issuer is not in the trust store.
	ErrNotTrusted = errors.New("issuer not trusted")
	// ErrKeysChanged: the issuer's published keys share no pinned,
	// uncompromised key with the pin, or reuse a pinned kid for another
	// key. Either is what an impersonator's key set looks like.
	ErrKeysChanged = errors.New("issuer's keys changed without continuity")
)

// How an issuer came to be trusted.
const (
	TrustedByURL  = "trust add URL"
	TrustedByFile = "trust add --keys"
	TrustedOnUse  = "trust on first use"
)

// maxTrustStore bounds the trust store file: room for many pinned trust
// lists (trustlist.MaxBytes each).
const maxTrustStore = 64 << 20

// TrustStore is the issuers a user accepts credentials from, with their
// keys pinned: a file the user owns (0600), written atomically.
type TrustStore struct {
	path    string
	issuers []TrustedIssuer
}

// TrustedIssuer is one trusted issuer.
type TrustedIssuer struct {
	ID   string `json:"id"`   // the issuer id credentials carry (the authority's URL)
	Name string `json:"name"` // the name the user trusts it as; reports show this, not the credential's claim
	// Keys are the pinned keys: a published key set is used only if it
	// keeps at least one of them (see Check).
	Keys         []PinnedKey `json:"keys"`
	LogOrigin    string      `json:"log_origin,omitempty"`
	LogVerifiers []string    `json:"log_verifiers,omitempty"`
	How          string      `json:"how"`
	Added        time.Time   `json:"added"`
	Updated      time.Time   `json:"updated,omitzero"`
	// TrustList is the issuer's trust list as last pinned ('hallmark peer
	// add'); nil for an issuer trusted by its keys alone.
	TrustList *PinnedList `json:"trust_list,omitempty"`
}

// PinnedKey is one pinned public key.
type PinnedKey struct {
	KID           string    `json:"kid"`
	X             string    `json:"x"` // the Ed25519 public key, base64url
	RetiredAt     time.Time `json:"retired_at,omitzero"`
	CompromisedAt time.Time `json:"compromised_at,omitzero"`
}

// NormalizeIssuerID is the form issuer ids are compared in: without a
// trailing slash, which a user may type and a credential never carries.
func NormalizeIssuerID(id string) string { return strings.TrimRight(strings.TrimSpace(id), "/") }

// NewTrustedIssuer pins keys for issuer id under name.
func NewTrustedIssuer(id, name string, keys label.PublicKeys, how string, now time.Time) TrustedIssuer {
	return TrustedIssuer{ID: NormalizeIssuerID(id), Name: name, Keys: pin(keys), How: how, Added: now.UTC().Truncate(time.Second)}
}

func pin(keys label.PublicKeys) []PinnedKey {
	var out []PinnedKey
	for _, k := range keys {
		out = append(out, PinnedKey{KID: k.KID, X: base64.RawURLEncoding.EncodeToString(k.Key), RetiredAt: k.RetiredAt, CompromisedAt: k.CompromisedAt})
	}
	slices.SortFunc(out, func(a, b PinnedKey) int { return strings.Compare(a.KID, b.KID) })
	return out
}

// PublicKeys are the pinned keys, for verifying with no published set.
func (t TrustedIssuer) PublicKeys() label.PublicKeys {
	pks := label.PublicKeys{}
	for _, p := range t.Keys {
		x, err := base64.RawURLEncoding.DecodeString(p.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			continue // Load refuses such a store; this is for one built by hand
		}
		pks[p.KID] = label.PublicKey{KID: p.KID, Key: x, RetiredAt: p.RetiredAt, CompromisedAt: p.CompromisedAt}
	}
	return pks
}

// DefaultTrustPath is $XDG_CONFIG_HOME/hallmark/trust.json, else
// ~/.config/hallmark/trust.json (os.UserConfigDir on other systems).
func DefaultTrustPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory for the trust store (%v): give --trust FILE", err)
	}
	return filepath.Join(dir, "hallmark", "trust.json"), nil
}

type trustFile struct {
	Issuers []TrustedIssuer `json:"issuers"`
}

// LoadTrustStore reads the trust store at path; a missing file is an empty
// store (Save creates it). A file that does not parse is an error, never
// silently replaced.
func LoadTrustStore(path string) (*TrustStore, error) {
	s := &TrustStore{path: path}
	b, err := ReadFileLimited(path, maxTrustStore)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("trust store: %w", err)
	}
	var f trustFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("trust store %s does not parse (%v); fix or remove it", path, err)
	}
	for _, is := range f.Issuers {
		if is.ID == "" || len(is.Keys) == 0 {
			return nil, fmt.Errorf("trust store %s: an issuer with no id or no keys", path)
		}
		if len(is.PublicKeys()) != len(is.Keys) {
			return nil, fmt.Errorf("trust store %s: issuer %s has a key that is not an Ed25519 public key", path, is.ID)
		}
	}
	s.issuers = f.Issuers
	return s, nil
}

// Path is the file the store is saved to.
func (s *TrustStore) Path() string { return s.path }

// Save writes the store atomically, readable only by its owner.
func (s *TrustStore) Save() error {
	b, err := json.MarshalIndent(trustFile{Issuers: s.List()}, "", "  ")
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(s.path, append(b, '\n')); err != nil {
		return fmt.Errorf("saving the trust store: %w", err)
	}
	return nil
}

// List is the trusted issuers, by id.
func (s *TrustStore) List() []TrustedIssuer {
	out := slices.Clone(s.issuers)
	slices.SortFunc(out, func(a, b TrustedIssuer) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Get is the trusted issuer with this id.
func (s *TrustStore) Get(id string) (TrustedIssuer, bool) {
	id = NormalizeIssuerID(id)
	i := slices.IndexFunc(s.issuers, func(t TrustedIssuer) bool { return t.ID == id })
	if i < 0 {
		return TrustedIssuer{}, false
	}
	return s.issuers[i], true
}

// Add trusts an issuer, replacing any earlier entry with its id.
func (s *TrustStore) Add(t TrustedIssuer) {
	t.ID = NormalizeIssuerID(t.ID)
	s.Remove(t.ID)
	s.issuers = append(s.issuers, t)
}

// Remove stops trusting an issuer; false if it was not trusted.
func (s *TrustStore) Remove(id string) bool {
	id = NormalizeIssuerID(id)
	n := len(s.issuers)
	s.issuers = slices.DeleteFunc(s.issuers, func(t TrustedIssuer) bool { return t.ID == id })
	return len(s.issuers) != n
}

// Checked is what Check concluded.
type Checked struct {
	Issuer TrustedIssuer    // the trusted entry, as updated
	Keys   label.PublicKeys // what to verify with
	// Rotated is set when the published key set differs from the pin and
	// was accepted because it still carries the pinned key Continuity.
	Rotated    bool
	Continuity string
	Changed    bool // the entry changed: Save the store
}

// Check decides whether credentials of issuer id may be verified, and with
// which keys. published is the key set the issuer publishes now (nil when
// it could not be read: the pinned keys are used). A published set that
// differs from the pin is accepted, and the pin moved to it, only if it
// still carries at least one pinned key (same kid, same key) compromised in
// neither: that is a rotation. A compromise mark, once seen, is kept even
// if the issuer's set later drops it, and can only move earlier.
func (s *TrustStore) Check(id string, published label.PublicKeys, now time.Time) (Checked, error) {
	t, ok := s.Get(id)
	if !ok {
		return Checked{}, fmt.Errorf("%w: %s is not in the trust store %s", ErrNotTrusted, id, s.path)
	}
	pinned := t.PublicKeys()
	if published == nil {
		return Checked{Issuer: t, Keys: pinned}, nil
	}
	merged := label.PublicKeys{}
	continuity := ""
	for kid, k := range published {
		if p, ok := pinned[kid]; ok {
			if !bytes.Equal(p.Key, k.Key) {
				return Checked{}, fmt.Errorf("%w: %s now publishes a different key under the pinned kid %s (possible impersonation); if the authority really replaced its keys, check with it and run 'hallmark trust add' again",
					ErrKeysChanged, t.ID, kid)
			}
			if k.CompromisedAt.IsZero() || (!p.CompromisedAt.IsZero() && p.CompromisedAt.Before(k.CompromisedAt)) {
				k.CompromisedAt = p.CompromisedAt
			}
			if !k.Compromised() && (continuity == "" || kid < continuity) {
				continuity = kid
			}
		}
		merged[kid] = k
	}
	samePin := len(pinned) == len(merged)
	for kid := range pinned {
		_, ok := merged[kid]
		samePin = samePin && ok
	}
	if !samePin && continuity == "" {
		return Checked{}, fmt.Errorf("%w: %s publishes keys %s, none of them a pinned, uncompromised key (pinned: %s): the keys changed without continuity (possible impersonation); if the authority really replaced all its keys, confirm it out of band and run 'hallmark trust add' again",
			ErrKeysChanged, t.ID, kids(merged), kids(pinned))
	}
	c := Checked{Keys: merged, Rotated: !samePin, Continuity: continuity}
	if newPin := pin(merged); !slices.EqualFunc(newPin, t.Keys, samePinnedKey) {
		t.Keys = newPin
		t.Updated = now.UTC().Truncate(time.Second)
		s.Add(t)
		c.Changed = true
	}
	c.Issuer = t
	return c, nil
}

func samePinnedKey(a, b PinnedKey) bool {
	return a.KID == b.KID && a.X == b.X && a.RetiredAt.Equal(b.RetiredAt) && a.CompromisedAt.Equal(b.CompromisedAt)
}

func kids(keys label.PublicKeys) string {
	var ks []string
	for k := range keys {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}
