package tlog

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	f_note "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// Files in a key directory. The key directory must not be the served log
// directory: Open refuses a log directory holding a key file.
const (
	// LogKeyFile holds the log's note private key (note.GenerateKey format).
	LogKeyFile = "log.key"
	// VerifiersFile lists every note verifier key the log has signed with,
	// oldest first, one per line. It is public: publish it so that old
	// checkpoints and receipts stay verifiable after a rotation.
	VerifiersFile = "verifiers"
	// WitnessKeyFile holds a witness's note private key; it signs
	// cosignature/v1 cosignatures.
	WitnessKeyFile = "witness.key"
)

// LoadOrCreateSigner returns the log's Ed25519 note signer and its verifier,
// creating the key (mode 0600) in dir at first start. The key's name is the
// log's origin, e.g. "hallmark.example/log", as C2SP tlog-checkpoint expects.
// It refuses a key file readable by anyone but its owner, and a key made for
// another origin.
func LoadOrCreateSigner(dir, origin string) (note.Signer, note.Verifier, error) {
	skey, err := loadOrCreateKey(dir, LogKeyFile, origin)
	if err != nil {
		return nil, nil, err
	}
	s, v, vkey, err := signerFromKey(skey, origin)
	if err != nil {
		return nil, nil, err
	}
	// Every key that ever signed must be listed, or checkpoints it signed
	// become unverifiable after a rotation.
	if err := addVerifier(dir, vkey); err != nil {
		return nil, nil, err
	}
	return s, v, nil
}

// RotateSigner replaces the log's signing key with a new one and adds the
// new verifier key to the verifiers file, keeping the old ones so that
// checkpoints and receipts signed before the rotation still verify. The old
// private key is destroyed. Reopen the log with the returned signer.
func RotateSigner(dir, origin string) (note.Signer, note.Verifier, error) {
	if _, _, err := LoadOrCreateSigner(dir, origin); err != nil {
		return nil, nil, fmt.Errorf("tlog: rotate: current key: %w", err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return nil, nil, fmt.Errorf("tlog: rotate: %w", err)
	}
	s, v, _, err := signerFromKey(skey, origin)
	if err != nil {
		return nil, nil, err
	}
	// List the new key before using it: a checkpoint must never be signed by
	// a key the public list does not hold.
	if err := addVerifier(dir, vkey); err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, LogKeyFile), []byte(skey+"\n"), 0o600); err != nil {
		return nil, nil, fmt.Errorf("tlog: rotate: %w", err)
	}
	return s, v, nil
}

// Verifiers returns every verifier the log has signed with (for checking old
// checkpoints) and their verifier key strings (for publication).
func Verifiers(dir string) (note.Verifiers, []string, error) {
	b, err := os.ReadFile(filepath.Join(dir, VerifiersFile))
	if err != nil {
		return nil, nil, fmt.Errorf("tlog: verifiers: %w", err)
	}
	var vs []note.Verifier
	var keys []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || seen[line] {
			continue
		}
		v, err := note.NewVerifier(line)
		if err != nil {
			return nil, nil, fmt.Errorf("tlog: %s line %d: %w", VerifiersFile, n, err)
		}
		seen[line] = true
		vs = append(vs, v)
		keys = append(keys, line)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("tlog: verifiers: %w", err)
	}
	if len(vs) == 0 {
		return nil, nil, fmt.Errorf("tlog: %s lists no keys", filepath.Join(dir, VerifiersFile))
	}
	return note.VerifierList(vs...), keys, nil
}

// LoadOrCreateWitnessSigner returns a witness's cosignature/v1 signer, creating
// its key (mode 0600) in dir at first start, and the witness's verifier key in
// cosignature/v1 form, for logs to put in their witness policy (see
// NewWitnessVerifier).
func LoadOrCreateWitnessSigner(dir, name string) (note.Signer, string, error) {
	skey, err := loadOrCreateKey(dir, WitnessKeyFile, name)
	if err != nil {
		return nil, "", err
	}
	_, _, vkey, err := signerFromKey(skey, name)
	if err != nil {
		return nil, "", err
	}
	s, err := f_note.NewSignerForCosignatureV1(skey)
	if err != nil {
		return nil, "", fmt.Errorf("tlog: witness key: %w", err)
	}
	cvkey, err := f_note.VKeyToCosignatureV1(vkey)
	if err != nil {
		return nil, "", fmt.Errorf("tlog: witness key: %w", err)
	}
	return s, cvkey, nil
}

// NewWitnessVerifier returns the verifier of a witness's cosignatures from its
// verifier key (plain Ed25519 or cosignature/v1 form).
func NewWitnessVerifier(vkey string) (note.Verifier, error) {
	v, err := f_note.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		return nil, fmt.Errorf("tlog: witness verifier key: %w", err)
	}
	return v, nil
}

// loadOrCreateKey reads the private key file, or creates it if absent.
func loadOrCreateKey(dir, file, name string) (string, error) {
	if dir == "" {
		return "", errors.New("tlog: no key directory given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("tlog: key directory: %w", err)
	}
	path := filepath.Join(dir, file)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		skey, _, err := note.GenerateKey(rand.Reader, name)
		if err != nil {
			return "", fmt.Errorf("tlog: new key named %q: %w", name, err)
		}
		if err := createExclusive(path, []byte(skey+"\n"), 0o600); err != nil {
			if errors.Is(err, fs.ErrExist) {
				// Another process created it first: use theirs.
				return loadOrCreateKey(dir, file, name)
			}
			return "", fmt.Errorf("tlog: create key: %w", err)
		}
		return skey, nil
	case err != nil:
		return "", fmt.Errorf("tlog: key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("tlog: key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&^0o600 != 0 {
		return "", fmt.Errorf("tlog: key %s has permissions %04o, wider than 0600; run chmod 600 on it", path, perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("tlog: key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// signerFromKey parses a note private key, checks its name, and derives the
// verifier and its key string (the note package has no skey-to-vkey call).
func signerFromKey(skey, name string) (note.Signer, note.Verifier, string, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, nil, "", fmt.Errorf("tlog: key does not parse: %w", err)
	}
	if s.Name() != name {
		return nil, nil, "", fmt.Errorf("tlog: key is named %q, not %q", s.Name(), name)
	}
	// PRIVATE+KEY+<name>+<hash>+<base64(alg || seed)>; the base64 part may
	// itself contain '+', so split on the first four only.
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return nil, nil, "", errors.New("tlog: key is not an Ed25519 note key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, nil, "", errors.New("tlog: key is not an Ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return nil, nil, "", fmt.Errorf("tlog: verifier key: %w", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, "", fmt.Errorf("tlog: verifier key: %w", err)
	}
	return s, v, vkey, nil
}

// addVerifier appends vkey to the verifiers file unless it is already there.
func addVerifier(dir, vkey string) error {
	path := filepath.Join(dir, VerifiersFile)
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("tlog: verifiers: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if strings.TrimSpace(line) == vkey {
			return nil
		}
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	b = append(b, vkey+"\n"...)
	if err := writeFileAtomic(path, b, 0o644); err != nil {
		return fmt.Errorf("tlog: verifiers: %w", err)
	}
	return nil
}

// createExclusive writes a new file, failing if it exists. The data goes to a
// temporary file first and is linked into place, so a crash never leaves a
// half-written key under the real name.
func createExclusive(path string, data []byte, perm fs.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeFileAtomic replaces path with data via a synced temporary file and a
// rename, so readers see the old or the new content, never a mix.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

func writeTemp(path string, data []byte, perm fs.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
