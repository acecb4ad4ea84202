package advisory

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// Every parser either reads a document or refuses it with ErrInvalid; it
// never panics, and what it reads carries the hash of the input.
func fuzzSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func checkParsed(t *testing.T, b []byte, d *Document, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("error without ErrInvalid: %v", err)
		}
		return
	}
	if d == nil || d.SHA256 != sum256(b) {
		t.Fatalf("document %v without the input's hash", d)
	}
}

func FuzzParseOSV(f *testing.F) {
	fuzzSeeds(f, "GO-2022-1002.json", "PYSEC-2020-342.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseOSV(b)
		checkParsed(t, b, d, err)
	})
}

func FuzzParseCSAF(f *testing.F) {
	fuzzSeeds(f, "csaf-ics.json", "csaf-vex.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseCSAF(b)
		checkParsed(t, b, d, err)
	})
}

func FuzzParseVEX(f *testing.F) {
	fuzzSeeds(f, "openvex-v0.0.1.json", "openvex-v0.2.0.json", "cyclonedx-vex.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseOpenVEX(b)
		checkParsed(t, b, d, err)
		d, err = ParseCycloneDXVEX(b)
		checkParsed(t, b, d, err)
		d, err = Parse(b)
		checkParsed(t, b, d, err)
	})
}

func FuzzParseKEV(f *testing.F) {
	fuzzSeeds(f, "kev-2.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseKEV(b)
		checkParsed(t, b, d, err)
	})
}

func FuzzReadOSVZip(f *testing.F) {
	rec, err := os.ReadFile("testdata/GO-2022-1002.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(zipOf(f, map[string][]byte{"GO-2022-1002.json": rec}))
	f.Add(zipOf(f, map[string][]byte{"a.json": rec, "b.yaml": []byte("id: X\nmodified: 2024-01-01T00:00:00Z\n")}))
	f.Fuzz(func(t *testing.T, b []byte) {
		err := ReadOSVZip(bytes.NewReader(b), int64(len(b)), func(d *Document) error {
			if d.ID == "" {
				t.Fatal("document without an id")
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error without ErrInvalid: %v", err)
		}
	})
}
