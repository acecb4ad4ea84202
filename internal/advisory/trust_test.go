package advisory

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
)

// The provider trees of gocsaf's test data are templates: {{.URL}} stands
// for the provider's base URL, and ROLIE links for hashes are optional.
func render(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.New(filepath.Base(path)).Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, map[string]any{"URL": "https://provider.example", "EnableSha256": true, "EnableSha512": true}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestProviderTrees(t *testing.T) {
	root := corpus(t, "csaf/providers")
	for _, tree := range []string{"simple-directory-provider", "simple-rolie-provider"} {
		dir := filepath.Join(root, tree)
		pm, err := ParseProviderMetadata(render(t, filepath.Join(dir, "provider-metadata.json")))
		if err != nil {
			t.Fatalf("%s: %v", tree, err)
		}
		if pm.Role != "csaf_trusted_provider" || pm.Publisher != "ACME Inc" || len(pm.Keys) != 1 || len(pm.Directories)+len(pm.Feeds) == 0 {
			t.Errorf("%s: %+v", tree, pm)
		}
		key, err := os.ReadFile(filepath.Join(dir, "openpgp", "pubkey.asc"))
		if err != nil {
			t.Fatal(err)
		}
		doc := filepath.Join(dir, "white", "avendor-advisory-0004.json")
		body := render(t, doc)
		raw, _ := os.ReadFile(doc)
		// The signed and hashed bytes are the files as stored.
		if !bytes.Equal(body, raw) {
			body = raw
		}
		sig, _ := os.ReadFile(doc + ".asc")
		fp, err := CheckSignature(body, sig, key)
		if err != nil || fp != pm.Keys[0].Fingerprint {
			t.Errorf("%s: signature: %q, %v (provider lists %s)", tree, fp, err, pm.Keys[0].Fingerprint)
		}
		for _, alg := range []string{"sha256", "sha512"} {
			h, _ := os.ReadFile(doc + "." + alg)
			if err := CheckHash(body, h, alg); err != nil {
				t.Errorf("%s: %s: %v", tree, alg, err)
			}
		}
		if _, err := ParseCSAF(body); err != nil {
			t.Errorf("%s: %v", tree, err)
		}

		tampered := bytes.Replace(body, []byte("ACME"), []byte("ACMF"), 1)
		if bytes.Equal(tampered, body) {
			t.Fatal("tampering changed nothing")
		}
		if _, err := CheckSignature(tampered, sig, key); !errors.Is(err, ErrUntrusted) {
			t.Errorf("%s: tampered body verified: %v", tree, err)
		}
		h, _ := os.ReadFile(doc + ".sha512")
		if err := CheckHash(tampered, h, "sha512"); !errors.Is(err, ErrUntrusted) {
			t.Errorf("%s: tampered body hashed: %v", tree, err)
		}
	}

	entries, err := ParseROLIEFeed(render(t, filepath.Join(root, "simple-rolie-provider", "white", "white-feed.json")))
	if err != nil || len(entries) != 1 {
		t.Fatalf("ROLIE: %v, %v", entries, err)
	}
	e := entries[0]
	if e.URL != "https://provider.example/white/avendor-advisory-0004.json" || !strings.HasSuffix(e.HashURL, ".sha512") || !strings.HasSuffix(e.SignatureURL, ".asc") || e.Updated.IsZero() {
		t.Errorf("ROLIE entry %+v", e)
	}
	dir := filepath.Join(root, "simple-directory-provider", "white")
	idx, _ := os.ReadFile(filepath.Join(dir, "index.txt"))
	if paths, err := ParseIndexTXT(idx); err != nil || len(paths) != 1 || paths[0] != "avendor-advisory-0004.json" {
		t.Errorf("index.txt: %v, %v", paths, err)
	}
	changes, _ := os.ReadFile(filepath.Join(dir, "changes.csv"))
	if ch, err := ParseChangesCSV(changes); err != nil || len(ch) != 1 || ch[0].URL != "avendor-advisory-0004.json" || ch[0].Updated.Year() != 2020 {
		t.Errorf("changes.csv: %v, %v", ch, err)
	}
}

func TestSpecExampleFeeds(t *testing.T) {
	dir := corpus(t, "csaf/spec-examples")
	b, _ := os.ReadFile(filepath.Join(dir, "ROLIE", "example-01-feed-tlp-white.json"))
	if entries, err := ParseROLIEFeed(b); err != nil || len(entries) == 0 {
		t.Errorf("ROLIE example: %d entries, %v", len(entries), err)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "provider-metadata", "example-01-provider-metadata.json"))
	if pm, err := ParseProviderMetadata(b); err != nil || pm.Publisher == "" {
		t.Errorf("provider-metadata example: %+v, %v", pm, err)
	}
}

func TestListingsRefused(t *testing.T) {
	for _, in := range []string{`"../etc/passwd.json","2020-01-01T00:00:00Z"`, `"/abs.json","2020-01-01T00:00:00Z"`, `"a.json","yesterday"`, `"a.json"`} {
		if _, err := ParseChangesCSV([]byte("\"ok.json\",\"2020-01-01T00:00:00Z\"\n" + in + "\n")); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "changes.csv") {
			t.Errorf("%s: %v", in, err)
		}
	}
	if _, err := ParseIndexTXT([]byte("a.json\nhttps://evil.example/x.json\n")); err == nil || !strings.Contains(err.Error(), "index.txt: line 2") {
		t.Errorf("index.txt: %v", err)
	}
}

// The ICS advisories are signed with CISA's key, which the corpus does not
// hold: their signatures must parse, and must not verify against another
// key.
func TestICSSignaturesNeedCISAKey(t *testing.T) {
	dir := corpus(t, "csaf")
	key, _ := os.ReadFile(filepath.Join(dir, "providers", "simple-directory-provider", "openpgp", "pubkey.asc"))
	files, _ := filepath.Glob(filepath.Join(dir, "ics", "2022", "*.json"))
	if len(files) > 20 {
		files = files[:20]
	}
	for _, f := range files {
		body, _ := os.ReadFile(f)
		sig, _ := os.ReadFile(f + ".asc")
		if _, err := signatureTime(sig); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if _, err := CheckSignature(body, sig, key); !errors.Is(err, ErrUntrusted) {
			t.Errorf("%s: verified against the wrong key: %v", f, err)
		}
	}
}

func TestCheckHashForms(t *testing.T) {
	body := []byte("hello\n")
	const d = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
	for _, f := range []string{d, d + "  hello.json\n", d + " *hello.json"} {
		if err := CheckHash(body, []byte(f), "sha256"); err != nil {
			t.Errorf("%q: %v", f, err)
		}
	}
	for _, f := range []string{"", "zz", d[:10], strings.ToUpper(d[:63]) + "0"} {
		if err := CheckHash(body, []byte(f), "sha256"); !errors.Is(err, ErrUntrusted) {
			t.Errorf("%q: %v", f, err)
		}
	}
}
