package label

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Verification errors. Each error Verify returns wraps exactly one of them.
var (
	ErrMalformed    = errors.New("malformed credential")
	ErrBadSignature = errors.New("bad signature")
	ErrUnknownKey   = errors.New("unknown signing key")
	ErrNotYetValid  = errors.New("credential not yet valid")
	ErrExpired      = errors.New("credential expired")

	// ErrKeyRetired: signed, by its own date, after its key was retired.
	// A retired key's private half may since have been thrown away
	// carelessly; an issuer signs only with its active key.
	ErrKeyRetired = errors.New("signed after its key was retired")
	// ErrKeyCompromised: signed, by its own date, at or after the time the
	// issuer says its key was compromised.
	ErrKeyCompromised = errors.New("signed with a compromised key")
)

const (
	// MaxCredentialSize bounds a compact JWS before any parsing; a status
	// list credential (16 KiB of bits, compressed) is far below it.
	MaxCredentialSize = 4 << 20

	// ClockSkew is how far a verifier's clock may lag the issuer's: a label
	// checked the minute it is issued must not read "not yet valid".
	ClockSkew = 5 * time.Minute

	// MediaType is the media type of a VC secured as a JWS (VC-JOSE-COSE).
	MediaType = "application/vc+jwt"

	jwsType        = "vc+jwt"
	jwsContentType = "vc"
)

// Hash is the SHA-256 of the compact JWS, in hex: what the transparency log
// records. Verify accepts only the canonical encoding, so one credential has
// one hash.
func Hash(jws string) string {
	sum := sha256.Sum256([]byte(jws))
	return hex.EncodeToString(sum[:])
}

// sign secures a VC as a compact JWS with the key's kid.
func sign(payload []byte, key Key) (string, error) {
	return signTyped(payload, key, jwsType, jwsContentType)
}

// SignJWS secures another document than a VC (a trust list, a key pivot)
// with the key, as a compact JWS of type typ; the same rules as for
// credentials apply (no retired or compromised key signs).
func SignJWS(payload []byte, typ string, key Key) (string, error) {
	if typ == "" || typ == jwsType || typ == MediaType {
		return "", fmt.Errorf("SignJWS is for documents other than credentials, not typ %q", typ)
	}
	return signTyped(payload, key, typ, "")
}

// VerifyJWS checks a compact JWS of type typ (see SignJWS) against keys and
// returns its payload and the key that signed it; the same checks as for a
// credential, so a credential can never pass for another document.
func VerifyJWS(token, typ string, keys PublicKeys) ([]byte, PublicKey, error) {
	if typ == "" || typ == jwsType || typ == MediaType {
		return nil, PublicKey{}, fmt.Errorf("VerifyJWS is for documents other than credentials, not typ %q", typ)
	}
	return verifyTyped(token, keys, typ, "")
}

func signTyped(payload []byte, key Key, typ, cty string) (string, error) {
	if key.private == nil {
		return "", errors.New("signing key has no private part")
	}
	if !key.CompromisedAt.IsZero() {
		return "", fmt.Errorf("key %s is compromised since %s and must not sign", key.KID, key.CompromisedAt.Format(time.RFC3339))
	}
	if key.Retired() {
		return "", fmt.Errorf("key %s was retired at %s and no longer signs", key.KID, key.RetiredAt.Format(time.RFC3339))
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
	if cty != "" {
		opts = opts.WithContentType(jose.ContentType(cty))
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: key.private, KeyID: key.KID}}, opts)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

type jwsHeader struct {
	Alg  string          `json:"alg"`
	KID  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Cty  string          `json:"cty"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
}

// verifyJWS checks a compact JWS and returns its payload and the key that
// signed it. The checks run from cheapest to dearest, and their order fixes
// which error a bad token gets.
func verifyJWS(token string, keys PublicKeys) ([]byte, PublicKey, error) {
	return verifyTyped(token, keys, "", "")
}

// verifyTyped is verifyJWS for a credential (typ "") or a document of
// type typ, which then carries no cty.
func verifyTyped(token string, keys PublicKeys, typ, cty string) ([]byte, PublicKey, error) {
	if len(token) > MaxCredentialSize {
		return nil, PublicKey{}, fmt.Errorf("%w: %d bytes, over the %d byte limit", ErrMalformed, len(token), MaxCredentialSize)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, PublicKey{}, fmt.Errorf("%w: a compact JWS has 3 parts, this has %d", ErrMalformed, len(parts))
	}
	rawHeader, err := decodeSegment(parts[0])
	if err != nil {
		return nil, PublicKey{}, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	var h jwsHeader
	if err := json.Unmarshal(rawHeader, &h); err != nil {
		return nil, PublicKey{}, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	// Only EdDSA: "none" and HMAC ("HS256" keyed with the public key) are the
	// classic ways to forge a JWS a careless verifier accepts.
	if h.Alg != string(jose.EdDSA) {
		return nil, PublicKey{}, fmt.Errorf("%w: algorithm %q refused: only EdDSA is accepted", ErrBadSignature, h.Alg)
	}
	for i, p := range parts[1:] {
		if _, err := decodeSegment(p); err != nil {
			return nil, PublicKey{}, fmt.Errorf("%w: %s: %v", ErrMalformed, [2]string{"payload", "signature"}[i], err)
		}
	}
	if h.Crit != nil || h.B64 != nil {
		return nil, PublicKey{}, fmt.Errorf("%w: critical or b64 header parameters are not supported", ErrMalformed)
	}
	switch {
	case typ != "":
		if h.Typ != typ {
			return nil, PublicKey{}, fmt.Errorf("%w: typ %q, want %q", ErrMalformed, h.Typ, typ)
		}
		if h.Cty != cty {
			return nil, PublicKey{}, fmt.Errorf("%w: cty %q, want %q", ErrMalformed, h.Cty, cty)
		}
	case h.Typ != jwsType && h.Typ != MediaType:
		return nil, PublicKey{}, fmt.Errorf("%w: typ %q, want %q", ErrMalformed, h.Typ, jwsType)
	case h.Cty != "" && h.Cty != jwsContentType && h.Cty != "application/vc":
		return nil, PublicKey{}, fmt.Errorf("%w: cty %q, want %q", ErrMalformed, h.Cty, jwsContentType)
	}
	if h.KID == "" {
		return nil, PublicKey{}, fmt.Errorf("%w: the header names no kid", ErrUnknownKey)
	}
	pk, ok := keys[h.KID]
	if !ok || len(pk.Key) != ed25519.PublicKeySize {
		return nil, PublicKey{}, fmt.Errorf("%w: kid %q is not in the issuer's key set", ErrUnknownKey, h.KID)
	}
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return nil, PublicKey{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	payload, err := obj.Verify(pk.Key)
	if err != nil {
		return nil, PublicKey{}, fmt.Errorf("%w: does not verify with key %s", ErrBadSignature, h.KID)
	}
	return payload, pk, nil
}

// decodeSegment decodes one base64url part, refusing any encoding other than
// the canonical one. The JOSE library re-encodes the payload it decoded, so
// without this two different strings (one with stray trailing bits or line
// breaks) would verify as the same credential under different hashes.
func decodeSegment(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, fmt.Errorf("byte %d is not base64url", i)
		}
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// rfc3339 formats a VC date-time: UTC, to the second.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// checkWindow applies a credential's validity window at now.
func checkWindow(validFrom, validUntil, now time.Time) error {
	if now.Add(ClockSkew).Before(validFrom) {
		return fmt.Errorf("%w: valid from %s", ErrNotYetValid, rfc3339(validFrom))
	}
	if !validUntil.IsZero() && !now.Before(validUntil) {
		return fmt.Errorf("%w: valid until %s", ErrExpired, rfc3339(validUntil))
	}
	return nil
}

// Issuer is a credential's issuer. VC 2.0 allows a bare URL or an object
// with an id; Hallmark writes the object and reads both.
type Issuer struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// UnmarshalJSON accepts the issuer as a URL string or an object.
func (is *Issuer) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*is = Issuer{ID: s}
		return nil
	}
	type plain Issuer
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*is = Issuer(p)
	return nil
}

// vcEnvelope is the part of every VC that Verify checks before the rest.
type vcEnvelope struct {
	Context    []string `json:"@context"`
	ID         string   `json:"id,omitempty"`
	Type       []string `json:"type"`
	Issuer     Issuer   `json:"issuer"`
	ValidFrom  string   `json:"validFrom,omitempty"`
	ValidUntil string   `json:"validUntil,omitempty"`
}

// check validates the envelope of a VC of the given type and returns its
// validity window.
func (e *vcEnvelope) check(wantType string) (validFrom, validUntil time.Time, err error) {
	if len(e.Context) == 0 || e.Context[0] != ContextV2 {
		return validFrom, validUntil, fmt.Errorf("%w: @context must start with %s", ErrMalformed, ContextV2)
	}
	if !slices.Contains(e.Type, "VerifiableCredential") || !slices.Contains(e.Type, wantType) {
		return validFrom, validUntil, fmt.Errorf("%w: type %v is not a %s", ErrMalformed, e.Type, wantType)
	}
	if e.Issuer.ID == "" {
		return validFrom, validUntil, fmt.Errorf("%w: no issuer", ErrMalformed)
	}
	if e.ValidFrom == "" {
		return validFrom, validUntil, fmt.Errorf("%w: no validFrom", ErrMalformed)
	}
	if validFrom, err = time.Parse(time.RFC3339, e.ValidFrom); err != nil {
		return validFrom, validUntil, fmt.Errorf("%w: validFrom: %v", ErrMalformed, err)
	}
	if e.ValidUntil != "" {
		if validUntil, err = time.Parse(time.RFC3339, e.ValidUntil); err != nil {
			return validFrom, validUntil, fmt.Errorf("%w: validUntil: %v", ErrMalformed, err)
		}
		if !validUntil.After(validFrom) {
			return validFrom, validUntil, fmt.Errorf("%w: validUntil is not after validFrom", ErrMalformed)
		}
	}
	return validFrom, validUntil, nil
}
