package label

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A key pivot is a statement, signed by the key being retired, that names
// its successor: the pivot pattern of ETSI's lists of trusted lists, where
// the list announcing a new signing key is signed by the old one. A
// verifier that pinned the old key follows the pivots to the new one with
// no trust decision of its own. A key replaced because it was compromised
// signs no pivot: what it vouches for is worth nothing.
const (
	PivotType = "hallmark-key-pivot+jwt"
	pivotDir  = "pivots"
	// MaxPivotBytes bounds one pivot statement before any parsing.
	MaxPivotBytes = 4 << 10
)

// Pivot is a verified key pivot.
type Pivot struct {
	From string    // the kid of the key that signed it
	To   PublicKey // its successor
	At   time.Time // when the successor took over
}

type pivotPayload struct {
	From string          `json:"from"`
	To   json.RawMessage `json:"to"` // the successor as a public JWK
	At   string          `json:"at"`
}

// JWK is a public key as one JSON Web Key (RFC 8037), as the key set
// publishes it.
func JWK(p PublicKey) json.RawMessage {
	j := jwk{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(p.Key), KID: p.KID, Use: "sig", Alg: "EdDSA", Status: KeyActive}
	if p.Retired() {
		j.Status = KeyRetired
		j.RetiredAt = p.RetiredAt.UTC().Format(time.RFC3339)
	}
	if p.Compromised() {
		j.Compromised = p.CompromisedAt.UTC().Format(time.RFC3339)
	}
	b, _ := json.Marshal(j) // strings only
	return b
}

// ParseJWK reads one public Ed25519 JWK.
func ParseJWK(raw []byte) (PublicKey, error) {
	keys, err := ParseJWKS([]byte(`{"keys":[` + string(raw) + `]}`))
	if err != nil {
		return PublicKey{}, err
	}
	for _, k := range keys {
		return k, nil
	}
	return PublicKey{}, errors.New("no key")
}

// writePivot has old, still active, sign a pivot to next. The caller holds
// r.mu.
func (r *KeyRing) writePivot(old, next Key, at time.Time) error {
	p, err := json.Marshal(pivotPayload{From: old.KID, To: JWK(next.Public()), At: at.UTC().Format(time.RFC3339)})
	if err != nil {
		return err
	}
	jws, err := SignJWS(p, PivotType, old)
	if err != nil {
		return err
	}
	dir := filepath.Join(r.dir, pivotDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// Named by time so a directory listing is the chain in order.
	name := filepath.Join(dir, fmt.Sprintf("%020d-%s.jws", at.Unix(), next.KID))
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, []byte(jws+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// Pivots are the ring's key pivots, oldest first, as compact JWS.
func (r *KeyRing) Pivots() ([]string, error) {
	dir := filepath.Join(r.dir, pivotDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".jws") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	var out []string
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		out = append(out, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// VerifyPivot checks a pivot against keys, which must hold the key that
// signed it; a key compromised at or before the pivot vouches for nothing.
func VerifyPivot(token string, keys PublicKeys) (Pivot, error) {
	if len(token) > MaxPivotBytes {
		return Pivot{}, fmt.Errorf("%w: key pivot over %d bytes", ErrMalformed, MaxPivotBytes)
	}
	payload, pk, err := VerifyJWS(token, PivotType, keys)
	if err != nil {
		return Pivot{}, err
	}
	var p pivotPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return Pivot{}, fmt.Errorf("%w: key pivot: %v", ErrMalformed, err)
	}
	at, err := time.Parse(time.RFC3339, p.At)
	if err != nil {
		return Pivot{}, fmt.Errorf("%w: key pivot time: %v", ErrMalformed, err)
	}
	if p.From != pk.KID {
		return Pivot{}, fmt.Errorf("%w: key pivot says it is from %q but is signed by %q", ErrMalformed, p.From, pk.KID)
	}
	if pk.Compromised() && !at.Before(pk.CompromisedAt) {
		return Pivot{}, fmt.Errorf("%w: key %s was compromised at %s, before its pivot of %s", ErrKeyCompromised, pk.KID, rfc3339(pk.CompromisedAt), rfc3339(at))
	}
	to, err := ParseJWK(p.To)
	if err != nil {
		return Pivot{}, fmt.Errorf("%w: key pivot successor: %v", ErrMalformed, err)
	}
	if len(to.Key) != ed25519.PublicKeySize || to.KID == pk.KID {
		return Pivot{}, fmt.Errorf("%w: key pivot names no new key", ErrMalformed)
	}
	return Pivot{From: pk.KID, To: to, At: at}, nil
}
