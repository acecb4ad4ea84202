package advisory

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// ErrUntrusted is wrapped by the errors of CheckHash and CheckSignature
// when a file does not verify: a hash that differs, a signature that is
// bad or made by a key not given.
var ErrUntrusted = errors.New("not verified")

// maxTrustFile bounds a hash file or an armored signature or key, which
// are all small; anything larger is not one.
const maxTrustFile = 1 << 20

// CheckHash checks body against a CSAF provider's hash file (.sha256 or
// .sha512: alg is "sha256" or "sha512"). The file holds the hex digest,
// bare or followed by the file name as sha512sum writes it ("<hex>  name").
// The name is not compared: the caller knows which file it fetched.
func CheckHash(body, hashFile []byte, alg string) error {
	var h hash.Hash
	switch alg {
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return fmt.Errorf("%w: unknown hash algorithm %q", ErrUntrusted, clip(alg))
	}
	if len(hashFile) > maxTrustFile {
		return fmt.Errorf("%w: %s file of %d bytes is not a hash file", ErrUntrusted, alg, len(hashFile))
	}
	fields := strings.Fields(string(hashFile))
	if len(fields) == 0 {
		return fmt.Errorf("%w: empty %s file", ErrUntrusted, alg)
	}
	want, err := hex.DecodeString(fields[0])
	if err != nil || len(want) != h.Size() {
		return fmt.Errorf("%w: %s file does not start with a %d-digit hex digest", ErrUntrusted, alg, 2*h.Size())
	}
	h.Write(body)
	if subtle.ConstantTimeCompare(h.Sum(nil), want) != 1 {
		return fmt.Errorf("%w: %s digest differs from the hash file's", ErrUntrusted, alg)
	}
	return nil
}

// CheckSignature checks an armored OpenPGP detached signature (a CSAF
// .asc file) of body against the provider's armored public keys, and
// returns the fingerprint (upper-case hex, as provider-metadata.json lists
// them) of the key that made it.
//
// The keys' validity is judged at the signature's own creation time, not
// now: an advisory signed in 2023 by a key that expired since is still the
// provider's, and this package reads no clock. Whether the key is one the
// provider lists is the caller's check against the returned fingerprint.
func CheckSignature(body, armoredSig []byte, keys ...[]byte) (fingerprint string, err error) {
	if len(armoredSig) > maxTrustFile {
		return "", fmt.Errorf("%w: signature file of %d bytes", ErrUntrusted, len(armoredSig))
	}
	var ring openpgp.EntityList
	for i, k := range keys {
		if len(k) > maxTrustFile {
			return "", fmt.Errorf("%w: key %d: %d bytes is not a public key", ErrUntrusted, i, len(k))
		}
		el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(k))
		if err != nil {
			return "", fmt.Errorf("%w: key %d: %v", ErrUntrusted, i, err)
		}
		ring = append(ring, el...)
	}
	if len(ring) == 0 {
		return "", fmt.Errorf("%w: no public key given", ErrUntrusted)
	}
	created, err := signatureTime(armoredSig)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	cfg := &packet.Config{Time: func() time.Time { return created }}
	signer, err := openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(body), bytes.NewReader(armoredSig), cfg)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	return strings.ToUpper(hex.EncodeToString(signer.PrimaryKey.Fingerprint)), nil
}

// signatureTime reads the creation time of an armored detached signature.
func signatureTime(armored []byte) (time.Time, error) {
	block, err := armor.Decode(bytes.NewReader(armored))
	if err != nil {
		return time.Time{}, fmt.Errorf("signature is not armored OpenPGP: %v", err)
	}
	if block.Type != openpgp.SignatureType {
		return time.Time{}, fmt.Errorf("armored block is %q, not a signature", clip(block.Type))
	}
	p, err := packet.Read(block.Body)
	if err != nil {
		return time.Time{}, fmt.Errorf("unreadable signature packet: %v", err)
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return time.Time{}, fmt.Errorf("first packet is not a signature")
	}
	return sig.CreationTime, nil
}
