package label

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Key statuses as published in the JWKS.
const (
	KeyActive  = "active"
	KeyRetired = "retired"
)

// keyFileSuffix names the files a KeyRing owns in its directory; anything
// else there (a README, an editor's backup) is left alone.
const keyFileSuffix = ".jwk.json"

// ErrKeyPermissions is returned for a key file others could read or write.
var ErrKeyPermissions = errors.New("key file permissions too wide")

// Key is one of an authority's Ed25519 signing keys.
type Key struct {
	KID           string
	Created       time.Time
	RetiredAt     time.Time // zero while the key signs
	CompromisedAt time.Time // zero unless the key is known compromised: from then on, nothing it signed counts
	private       ed25519.PrivateKey
}

// Retired reports whether the key has been replaced; it still verifies.
func (k Key) Retired() bool { return !k.RetiredAt.IsZero() }

// Public is the verifying half of the key.
func (k Key) Public() PublicKey {
	pk := PublicKey{KID: k.KID, RetiredAt: k.RetiredAt, CompromisedAt: k.CompromisedAt}
	if k.private != nil {
		pk.Key = k.private.Public().(ed25519.PublicKey)
	}
	return pk
}

// String and GoString keep the private key out of logs and test output.
func (k Key) String() string   { return "label.Key(" + k.KID + ")" }
func (k Key) GoString() string { return k.String() }

// PublicKey is a verifying key as published in the JWKS.
type PublicKey struct {
	KID           string
	Key           ed25519.PublicKey
	RetiredAt     time.Time // zero for the active key
	CompromisedAt time.Time // zero unless the issuer declared the key compromised from then on
}

// Retired reports whether the issuer has stopped signing with this key.
func (p PublicKey) Retired() bool { return !p.RetiredAt.IsZero() }

// Compromised reports whether the issuer declared the key compromised.
func (p PublicKey) Compromised() bool { return !p.CompromisedAt.IsZero() }

// checkSignedAt refuses a signature the key could not legitimately have
// made at signedAt, the signed document's own validFrom: after the key was
// retired, or at or after it was compromised. The date is the signer's
// claim, so a thief can back-date; the transparency log, which holds every
// credential the authority really issued, is what catches that.
func (p PublicKey) checkSignedAt(signedAt time.Time) error {
	if p.Compromised() && !signedAt.Before(p.CompromisedAt) {
		return fmt.Errorf("%w: key %s is compromised since %s, and this was signed %s", ErrKeyCompromised, p.KID, rfc3339(p.CompromisedAt), rfc3339(signedAt))
	}
	if p.Retired() && signedAt.After(p.RetiredAt) {
		return fmt.Errorf("%w: key %s was retired %s, and this was signed %s", ErrKeyRetired, p.KID, rfc3339(p.RetiredAt), rfc3339(signedAt))
	}
	return nil
}

// PublicKeys are an issuer's verifying keys by kid.
type PublicKeys map[string]PublicKey

// KeyRing is an authority's signing keys, kept one file per key in a
// directory only the server's user can read.
type KeyRing struct {
	dir  string
	mu   sync.Mutex
	keys []Key // oldest first
}

// kidFor names a key by its creation date and a fingerprint of its public
// half: sortable by eye, and stable for the same key.
func kidFor(pub ed25519.PublicKey, created time.Time) string {
	sum := sha256.Sum256(pub)
	return created.UTC().Format("2006-01-02") + "-" + base64.RawURLEncoding.EncodeToString(sum[:8])
}

// keyFromSeed makes a key from a 32-byte Ed25519 seed.
func keyFromSeed(seed []byte, created time.Time) (Key, error) {
	if len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("ed25519 seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	created = created.UTC().Truncate(time.Second)
	return Key{KID: kidFor(priv.Public().(ed25519.PublicKey), created), Created: created, private: priv}, nil
}

func newKey(now time.Time) (Key, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return Key{}, err
	}
	return keyFromSeed(seed, now)
}

// keyFile is a private key on disk: a private JWK (RFC 8037) with the dates
// the ring needs.
type keyFile struct {
	Kty       string `json:"kty"`
	Crv       string `json:"crv"`
	KID       string `json:"kid"`
	X         string `json:"x"`
	D         string `json:"d"`
	Created   string `json:"created"`
	RetiredAt string `json:"retired_at,omitempty"`
	// CompromisedAt is kept in the key's own file, so the mark cannot be
	// lost apart from the key.
	CompromisedAt string `json:"compromised_at,omitempty"`
}

// LoadOrCreate opens the key ring in dir, creating the directory (0700) and
// a first key (0600) when there is none. A key file others can read, or one
// that does not parse, is an error: the ring never overwrites it.
func LoadOrCreate(dir string, now time.Time) (*KeyRing, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("key directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("key directory: %w", err)
	}
	r := &KeyRing{dir: dir}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), keyFileSuffix) {
			continue
		}
		k, err := readKeyFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		r.keys = append(r.keys, k)
	}
	r.sort()
	if _, ok := r.active(); !ok {
		// First start, or every key was retired by hand: someone must sign.
		k, err := newKey(now)
		if err != nil {
			return nil, err
		}
		if err := r.writeKey(k, true); err != nil {
			return nil, err
		}
		r.keys = append(r.keys, k)
		r.sort()
	}
	return r, nil
}

func readKeyFile(path string) (Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return Key{}, fmt.Errorf("key file %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Key{}, fmt.Errorf("key file %s: %w", path, err)
	}
	// Windows reports every file as 0666; its ACLs are not mode bits.
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return Key{}, fmt.Errorf("%w: %s is mode %04o, readable by others; run chmod 600 %s", ErrKeyPermissions, path, perm, path)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return Key{}, fmt.Errorf("key file %s: %w", path, err)
	}
	k, err := parseKeyFile(buf.Bytes())
	if err != nil {
		return Key{}, fmt.Errorf("key file %s is corrupt (%v); it was left untouched: restore it from a backup or move it away", path, err)
	}
	if want := k.KID + keyFileSuffix; filepath.Base(path) != want {
		return Key{}, fmt.Errorf("key file %s holds key %s; it should be named %s", path, k.KID, want)
	}
	return k, nil
}

func parseKeyFile(data []byte) (Key, error) {
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return Key{}, err
	}
	if kf.Kty != "OKP" || kf.Crv != "Ed25519" {
		return Key{}, fmt.Errorf("not an Ed25519 key (kty %q, crv %q)", kf.Kty, kf.Crv)
	}
	seed, err := base64.RawURLEncoding.DecodeString(kf.D)
	if err != nil {
		return Key{}, fmt.Errorf("private key: %v", err)
	}
	created, err := time.Parse(time.RFC3339, kf.Created)
	if err != nil {
		return Key{}, fmt.Errorf("created: %v", err)
	}
	k, err := keyFromSeed(seed, created)
	if err != nil {
		return Key{}, err
	}
	// The public half and the kid are derived; a mismatch means bit rot or a
	// hand edit, and signing with such a key would publish the wrong kid.
	if x := base64.RawURLEncoding.EncodeToString(k.Public().Key); kf.X != x {
		return Key{}, errors.New("public key does not match private key")
	}
	if kf.KID != k.KID {
		return Key{}, fmt.Errorf("kid %q does not match the key (want %q)", kf.KID, k.KID)
	}
	if kf.RetiredAt != "" {
		if k.RetiredAt, err = time.Parse(time.RFC3339, kf.RetiredAt); err != nil {
			return Key{}, fmt.Errorf("retired_at: %v", err)
		}
	}
	if kf.CompromisedAt != "" {
		if k.CompromisedAt, err = time.Parse(time.RFC3339, kf.CompromisedAt); err != nil {
			return Key{}, fmt.Errorf("compromised_at: %v", err)
		}
	}
	return k, nil
}

func encodeKeyFile(k Key) ([]byte, error) {
	kf := keyFile{
		Kty:     "OKP",
		Crv:     "Ed25519",
		KID:     k.KID,
		X:       base64.RawURLEncoding.EncodeToString(k.Public().Key),
		D:       base64.RawURLEncoding.EncodeToString(k.private.Seed()),
		Created: k.Created.UTC().Format(time.RFC3339),
	}
	if k.Retired() {
		kf.RetiredAt = k.RetiredAt.UTC().Format(time.RFC3339)
	}
	if !k.CompromisedAt.IsZero() {
		kf.CompromisedAt = k.CompromisedAt.UTC().Format(time.RFC3339)
	}
	b, err := json.MarshalIndent(kf, "", "  ")
	return append(b, '\n'), err
}

// writeKey writes a key file atomically (temporary file, then rename) so a
// crash never leaves half a key. A new key must not replace an existing file.
func (r *KeyRing) writeKey(k Key, isNew bool) error {
	data, err := encodeKeyFile(k)
	if err != nil {
		return err
	}
	path := filepath.Join(r.dir, k.KID+keyFileSuffix)
	tmp, err := os.CreateTemp(r.dir, ".tmp-key-*")
	if err != nil {
		return fmt.Errorf("writing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing key: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing key: %w", err)
	}
	if isNew {
		// Link fails if the name exists, which rename would silently replace.
		if err := os.Link(tmp.Name(), path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("key file %s already exists; not overwriting it", path)
			}
			return fmt.Errorf("writing key: %w", err)
		}
	} else if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing key: %w", err)
	}
	if d, err := os.Open(r.dir); err == nil {
		d.Sync() // best effort: make the new name durable
		d.Close()
	}
	return nil
}

func (r *KeyRing) sort() {
	slices.SortStableFunc(r.keys, func(a, b Key) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.KID, b.KID)
	})
}

func (r *KeyRing) active() (Key, bool) {
	for i := len(r.keys) - 1; i >= 0; i-- {
		if !r.keys[i].Retired() {
			return r.keys[i], true
		}
	}
	return Key{}, false
}

// Active is the key that signs: the newest one not retired.
func (r *KeyRing) Active() Key {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, _ := r.active()
	return k
}

// Keys are all keys, oldest first.
func (r *KeyRing) Keys() []Key {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.keys)
}

// Rotate makes a new active key and retires the others at now. Retired keys
// stay on disk and in the JWKS so that labels they signed keep verifying.
// The key being retired signs a pivot to its successor (pivot.go).
func (r *KeyRing) Rotate(now time.Time) (Key, error) { return r.rotate(now, true) }

func (r *KeyRing) rotate(now time.Time, pivot bool) (Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, err := newKey(now)
	if err != nil {
		return Key{}, err
	}
	// The new key is written first: a crash before the old ones are marked
	// leaves two unretired keys, and the newest of them signs.
	if err := r.writeKey(k, true); err != nil {
		return Key{}, err
	}
	retired := now.UTC().Truncate(time.Second)
	if old, ok := r.active(); ok && pivot && old.CompromisedAt.IsZero() {
		if err := r.writePivot(old, k, retired); err != nil {
			r.keys = append(r.keys, k) // the ring matches the disk
			r.sort()
			return Key{}, fmt.Errorf("the key pivot: %w", err)
		}
	}
	for i := range r.keys {
		if r.keys[i].Retired() {
			continue
		}
		old := r.keys[i]
		old.RetiredAt = retired
		if err := r.writeKey(old, false); err != nil {
			r.keys = append(r.keys, k) // the ring matches the disk
			r.sort()
			return Key{}, err
		}
		r.keys[i] = old
	}
	r.keys = append(r.keys, k)
	r.sort()
	return k, nil
}

// Compromise marks key kid compromised since the given time: everything it
// signed dated then or later stops verifying wherever the published key set
// is read. A key still signing is first replaced, as Rotate does, since it
// must not sign again; the new key is returned in that case. The mark can
// move earlier (more was lost than first thought) but never later.
func (r *KeyRing) Compromise(kid string, since, now time.Time) (newKey *Key, err error) {
	since = since.UTC().Truncate(time.Second)
	if since.IsZero() || since.After(now) {
		return nil, fmt.Errorf("a compromise time must be given and not in the future (it is %s)", since.Format(time.RFC3339))
	}
	r.mu.Lock()
	i := slices.IndexFunc(r.keys, func(k Key) bool { return k.KID == kid })
	if i < 0 {
		r.mu.Unlock()
		return nil, fmt.Errorf("no key %q in %s", kid, r.dir)
	}
	if c := r.keys[i].CompromisedAt; !c.IsZero() && !since.Before(c) {
		r.mu.Unlock()
		return nil, fmt.Errorf("key %s is already marked compromised since %s", kid, c.Format(time.RFC3339))
	}
	active := !r.keys[i].Retired()
	r.mu.Unlock()
	if active {
		// No pivot: a compromised key vouches for nothing.
		k, err := r.rotate(now, false)
		if err != nil {
			return nil, fmt.Errorf("replacing the compromised key: %w", err)
		}
		newKey = &k
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i = slices.IndexFunc(r.keys, func(k Key) bool { return k.KID == kid }) // Rotate re-sorted the ring
	k := r.keys[i]
	k.CompromisedAt = since
	if err := r.writeKey(k, false); err != nil {
		return newKey, err
	}
	r.keys[i] = k
	return newKey, nil
}

// PublicKeys are the ring's verifying keys.
func (r *KeyRing) PublicKeys() PublicKeys {
	r.mu.Lock()
	defer r.mu.Unlock()
	pks := make(PublicKeys, len(r.keys))
	for _, k := range r.keys {
		pks[k.KID] = k.Public()
	}
	return pks
}

// jwk is one public key in the published JWKS. It has no field for the
// private key, so publishing cannot leak it.
type jwk struct {
	Kty       string `json:"kty"`
	Crv       string `json:"crv"`
	X         string `json:"x"`
	KID       string `json:"kid"`
	Use       string `json:"use,omitempty"`
	Alg       string `json:"alg,omitempty"`
	Status    string `json:"status,omitempty"`
	RetiredAt string `json:"retired_at,omitempty"`
	// Compromised is when the key was compromised: whatever it signed dated
	// then or later is void.
	Compromised string `json:"compromised,omitempty"`
}

type jwks struct {
	Keys []jwk `json:"keys"`
}

// JWKS is the ring's public keys as a JSON Web Key Set, newest first, for
// /.well-known/hallmark/keys.json.
func (r *KeyRing) JWKS() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	var set jwks
	for i := len(r.keys) - 1; i >= 0; i-- {
		k := r.keys[i]
		j := jwk{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.Public().Key),
			KID: k.KID, Use: "sig", Alg: "EdDSA", Status: KeyActive}
		if k.Retired() {
			j.Status = KeyRetired
			j.RetiredAt = k.RetiredAt.UTC().Format(time.RFC3339)
		}
		if !k.CompromisedAt.IsZero() {
			j.Compromised = k.CompromisedAt.UTC().Format(time.RFC3339)
		}
		set.Keys = append(set.Keys, j)
	}
	b, _ := json.MarshalIndent(set, "", "  ") // cannot fail: strings only
	return append(b, '\n')
}

// ParseJWKS reads an issuer's published key set. Keys of other types or
// algorithms are skipped (a set may hold keys for other purposes); a set
// with no usable key, or with a kid twice, is an error.
func ParseJWKS(data []byte) (PublicKeys, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	pks := PublicKeys{}
	for i, raw := range set.Keys {
		var j jwk
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, fmt.Errorf("key set: key %d: %w", i, err)
		}
		if j.Kty != "OKP" || j.Crv != "Ed25519" || (j.Alg != "" && j.Alg != "EdDSA") || (j.Use != "" && j.Use != "sig") {
			continue
		}
		if j.KID == "" {
			return nil, fmt.Errorf("key set: key %d has no kid", i)
		}
		if _, dup := pks[j.KID]; dup {
			return nil, fmt.Errorf("key set: kid %q appears twice", j.KID)
		}
		x, err := base64.RawURLEncoding.DecodeString(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("key set: key %q: x is not a base64url Ed25519 public key", j.KID)
		}
		pk := PublicKey{KID: j.KID, Key: ed25519.PublicKey(x)}
		if j.Status == KeyRetired {
			if pk.RetiredAt, err = time.Parse(time.RFC3339, j.RetiredAt); err != nil {
				return nil, fmt.Errorf("key set: key %q: retired_at: %v", j.KID, err)
			}
		}
		if j.Compromised != "" {
			if pk.CompromisedAt, err = time.Parse(time.RFC3339, j.Compromised); err != nil {
				return nil, fmt.Errorf("key set: key %q: compromised: %v", j.KID, err)
			}
		}
		pks[j.KID] = pk
	}
	if len(pks) == 0 {
		return nil, errors.New("key set: no Ed25519 signing keys")
	}
	return pks, nil
}
