package tlog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

func TestLoadOrCreateSigner(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	s1, v1, err := LoadOrCreateSigner(dir, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, LogKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	s2, v2, err := LoadOrCreateSigner(dir, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if s1.KeyHash() != s2.KeyHash() || v1.KeyHash() != v2.KeyHash() || s1.Name() != testOrigin {
		t.Fatal("reloading gave another key")
	}
	msg := []byte(testOrigin + "\n1\nAAAA\n")
	sig, err := s2.Sign(msg)
	if err != nil || !v1.Verify(msg, sig) {
		t.Fatal("the verifier does not check the signer's signatures")
	}

	t.Run("other origin", func(t *testing.T) {
		if _, _, err := LoadOrCreateSigner(dir, "other.example/log"); err == nil || !strings.Contains(err.Error(), "named") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("wide permissions", func(t *testing.T) {
		d := t.TempDir()
		if _, _, err := LoadOrCreateSigner(d, testOrigin); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(d, LogKeyFile), 0o640); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadOrCreateSigner(d, testOrigin); err == nil || !strings.Contains(err.Error(), "0640") {
			t.Fatalf("got %v, want a refusal naming 0640", err)
		}
	})
	t.Run("bad origin", func(t *testing.T) {
		if _, _, err := LoadOrCreateSigner(t.TempDir(), "has space"); err == nil {
			t.Fatal("a key name with a space was accepted")
		}
	})
}

func TestRotateSigner(t *testing.T) {
	kd := t.TempDir()
	s1, v1, err := LoadOrCreateSigner(kd, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx := ctxT(t, 30*time.Second)
	l := openLog(t, dir, s1, fastOptions())
	e1, e2 := decisionBytes(t, 1), decisionBytes(t, 2)
	r1, err := l.Append(ctx, e1)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}

	s2, v2, err := RotateSigner(kd, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if s2.KeyHash() == s1.KeyHash() {
		t.Fatal("rotation kept the key")
	}
	if s3, _, err := LoadOrCreateSigner(kd, testOrigin); err != nil || s3.KeyHash() != s2.KeyHash() {
		t.Fatalf("after rotation the key file holds another key: %v", err)
	}
	vs, keys, err := Verifiers(kd)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("verifiers %q, want the old and the new key", keys)
	}
	for _, v := range []note.Verifier{v1, v2} {
		if got, err := vs.Verifier(v.Name(), v.KeyHash()); err != nil || got.KeyHash() != v.KeyHash() {
			t.Fatalf("verifier %08x missing: %v", v.KeyHash(), err)
		}
	}

	l = openLog(t, dir, s2, fastOptions())
	r2, err := l.Append(ctx, e2)
	if err != nil {
		t.Fatal(err)
	}
	// Old receipts verify with the published list; new ones too; the new key
	// alone does not vouch for the old checkpoint.
	if _, err := VerifyReceipt(r1, e1, vs, testOrigin); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyReceipt(r2, e2, vs, testOrigin); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyReceipt(r1, e1, note.VerifierList(v2), testOrigin); err == nil {
		t.Fatal("the new key verified a checkpoint signed by the old one")
	}
	// The whole log audits clean with every key listed.
	rep, err := Audit(ctx, DirFetcher(dir), vs, testOrigin, r1.Checkpoint)
	if err != nil || !rep.OK() {
		t.Fatalf("audit after rotation: %v %q", err, rep.Problems)
	}
}

func TestWitnessSigner(t *testing.T) {
	d := t.TempDir()
	s, vkey, err := LoadOrCreateWitnessSigner(d, "witness.example")
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewWitnessVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyHash() != s.KeyHash() {
		t.Fatalf("verifier key hash %08x, signer %08x", v.KeyHash(), s.KeyHash())
	}
	msg := []byte(testOrigin + "\n1\nAAAA\n")
	sig, err := s.Sign(msg)
	if err != nil || !v.Verify(msg, sig) {
		t.Fatal("cosignature does not verify")
	}
	if _, err := NewWitnessVerifier("garbage"); err == nil {
		t.Fatal("garbage verifier key accepted")
	}
}
