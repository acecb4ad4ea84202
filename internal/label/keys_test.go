package label

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestKeyRingFirstStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	r, err := LoadOrCreate(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	k := r.Active()
	if !regexp.MustCompile(`^2026-11-22-[A-Za-z0-9_-]{11}$`).MatchString(k.KID) {
		t.Errorf("kid %q: want the creation date and 8 fingerprint bytes in base64url", k.KID)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("key directory mode %v (%v), want 0700", st.Mode().Perm(), err)
	}
	path := filepath.Join(dir, k.KID+keyFileSuffix)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	// A second start finds the same key instead of making another.
	r2, err := LoadOrCreate(dir, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := r2.Keys(); len(got) != 1 || got[0].KID != k.KID {
		t.Errorf("second start has keys %v, want only %s", got, k.KID)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want the one key file (no temporary files left)", len(entries))
	}
}

func TestKeyFileWiderThan0600Refused(t *testing.T) {
	dir := t.TempDir()
	r, err := LoadOrCreate(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, r.Active().KID+keyFileSuffix)
	before, _ := os.ReadFile(path)
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err = LoadOrCreate(dir, t0)
		if !errors.Is(err, ErrKeyPermissions) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: got %v, want an error naming %s and the fix chmod 600", mode, err, path)
		}
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("refusing the key changed the file")
	}
}

func TestKeyFileCorruptNeverOverwritten(t *testing.T) {
	dir := t.TempDir()
	r, err := LoadOrCreate(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, r.Active().KID+keyFileSuffix)
	good, _ := os.ReadFile(path)
	var kf keyFile
	if err := json.Unmarshal(good, &kf); err != nil {
		t.Fatal(err)
	}
	other := fixedKey(t, 9, t0)
	swapped := kf
	swapped.D = base64.RawURLEncoding.EncodeToString(other.private.Seed())
	swappedJSON, _ := json.Marshal(swapped)
	for name, content := range map[string][]byte{
		"truncated":           good[:len(good)/2],
		"garbage":             []byte("not a key\n"),
		"private≠public":      swappedJSON,
		"empty":               nil,
		"not Ed25519":         []byte(`{"kty":"EC","crv":"P-256"}`),
		"bad created":         []byte(strings.Replace(string(good), kf.Created, "yesterday", 1)),
		"kid of another date": []byte(strings.Replace(string(good), `"kid": "2026-11-22`, `"kid": "2025-01-01`, 1)),
	} {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadOrCreate(dir, t0)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: got %v, want an error naming %s", name, err, path)
		}
		if after, _ := os.ReadFile(path); string(after) != string(content) {
			t.Errorf("%s: the corrupt file was overwritten", name)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("%s: a new key was made beside the corrupt one", name)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	dir := t.TempDir()
	r, err := LoadOrCreate(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	old := r.Active()
	before, err := Issue(sampleClaims(), old)
	if err != nil {
		t.Fatal(err)
	}
	rotatedAt := t0.Add(30 * 24 * time.Hour)
	k2, err := r.Rotate(rotatedAt)
	if err != nil {
		t.Fatal(err)
	}
	if r.Active().KID != k2.KID || k2.KID == old.KID {
		t.Fatalf("active key %s after rotation, want the new key %s", r.Active().KID, k2.KID)
	}
	c := sampleClaims()
	c.ValidFrom = rotatedAt
	after, err := Issue(c, r.Active())
	if err != nil {
		t.Fatal(err)
	}
	// A verifier knows only what is published.
	pub, err := ParseJWKS(r.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	v1, err := Verify(before, pub, rotatedAt.Add(time.Hour))
	if err != nil {
		t.Fatalf("a label signed before the rotation no longer verifies: %v", err)
	}
	if v1.Key.KID != old.KID || !v1.Key.RetiredAt.Equal(rotatedAt) {
		t.Errorf("old label verified with %s retired at %v, want %s retired at %v", v1.Key.KID, v1.Key.RetiredAt, old.KID, rotatedAt)
	}
	v2, err := Verify(after, pub, rotatedAt.Add(time.Hour))
	if err != nil || v2.Key.KID != k2.KID || v2.Key.Retired() {
		t.Errorf("new label: %v, signed by %s, want the active key %s", err, v2.Key.KID, k2.KID)
	}
	// The retired key no longer signs.
	var retired Key
	for _, k := range r.Keys() {
		if k.KID == old.KID {
			retired = k
		}
	}
	if _, err := Issue(sampleClaims(), retired); err == nil {
		t.Error("a retired key signed a new label")
	}
	// The rotation survives a restart.
	r2, err := LoadOrCreate(dir, rotatedAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r2.Active().KID != k2.KID || len(r2.Keys()) != 2 {
		t.Errorf("after restart: active %s of %d keys, want %s of 2", r2.Active().KID, len(r2.Keys()), k2.KID)
	}
}

func TestKeyJWKS(t *testing.T) {
	r, err := LoadOrCreate(t.TempDir(), t0)
	if err != nil {
		t.Fatal(err)
	}
	old := r.Active()
	if _, err := r.Rotate(t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	raw := r.JWKS()
	seed := base64.RawURLEncoding.EncodeToString(old.private.Seed())
	if strings.Contains(string(raw), `"d"`) || strings.Contains(string(raw), seed) {
		t.Fatalf("the published key set contains a private key:\n%s", raw)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("%d keys, want 2", len(set.Keys))
	}
	want := []map[string]string{
		{"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "status": "active", "kid": r.Active().KID},
		{"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "status": "retired", "kid": old.KID, "retired_at": "2026-11-22T11:00:00Z"},
	}
	for i, w := range want {
		for k, v := range w {
			if set.Keys[i][k] != v {
				t.Errorf("key %d: %s = %q, want %q", i, k, set.Keys[i][k], v)
			}
		}
	}
	if _, ok := set.Keys[0]["retired_at"]; ok {
		t.Error("the active key has a retired_at")
	}
}

func TestKeyParseJWKS(t *testing.T) {
	k := fixedKey(t, 1, t0)
	x := base64.RawURLEncoding.EncodeToString(k.Public().Key)
	ok := `{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"a"}`
	for name, tc := range map[string]struct {
		doc   string
		kids  int
		error string
	}{
		"one key":                 {`{"keys":[` + ok + `]}`, 1, ""},
		"other key types skipped": {`{"keys":[{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"},{"kty":"OKP","crv":"X25519","x":"` + x + `","kid":"x"},` + ok + `]}`, 1, ""},
		"no usable key":           {`{"keys":[{"kty":"RSA","kid":"r"}]}`, 0, "no Ed25519"},
		"duplicate kid":           {`{"keys":[` + ok + `,` + ok + `]}`, 0, "twice"},
		"short x":                 {`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"a"}]}`, 0, "not a base64url Ed25519"},
		"no kid":                  {`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}]}`, 0, "no kid"},
		"not JSON":                {`<html>`, 0, "key set"},
		"retired without a date":  {`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"a","status":"retired"}]}`, 0, "retired_at"},
	} {
		pks, err := ParseJWKS([]byte(tc.doc))
		if tc.error != "" {
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("%s: got %v, want an error containing %q", name, err, tc.error)
			}
			continue
		}
		if err != nil || len(pks) != tc.kids {
			t.Errorf("%s: %d keys, %v; want %d", name, len(pks), err, tc.kids)
		}
	}
}

func TestKeyNotPrinted(t *testing.T) {
	k := fixedKey(t, 1, t0)
	seed := base64.RawURLEncoding.EncodeToString(k.private.Seed())
	for _, s := range []string{k.String(), k.GoString()} {
		if strings.Contains(s, seed) || !strings.Contains(s, k.KID) {
			t.Errorf("printed key %q", s)
		}
	}
}
