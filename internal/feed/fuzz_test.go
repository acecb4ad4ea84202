package feed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The provider's key file is the one input this package reads itself
// (through go-crypto's armor and packet parsers): whatever it holds, the
// fingerprints are read or refused, without a panic.
func FuzzFingerprints(f *testing.F) {
	key, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "corpus", "csaf", "providers", "simple-rolie-provider", "openpgp", "pubkey.asc"))
	if err == nil {
		f.Add(key)
	}
	f.Add([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxTrustFile {
			return
		}
		fps, err := fingerprints(b)
		if err != nil {
			return
		}
		for _, fp := range fps {
			if len(fp) == 0 || strings.ToUpper(fp) != fp {
				t.Errorf("fingerprint %q", fp)
			}
		}
	})
}
