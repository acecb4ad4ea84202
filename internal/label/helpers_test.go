package label

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// t0 is the tests' "now": the day the first key is made.
var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

const issuerURL = "https://registry.example"

// fixedKey is a key from a constant seed, so golden credentials are stable
// (Ed25519 signatures are deterministic).
func fixedKey(t testing.TB, b byte, created time.Time) Key {
	t.Helper()
	k, err := keyFromSeed(bytes.Repeat([]byte{b}, 32), created)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keysOf(ks ...Key) PublicKeys {
	pks := PublicKeys{}
	for _, k := range ks {
		pks[k.KID] = k.Public()
	}
	return pks
}

func sampleClaims() LabelClaims {
	return LabelClaims{
		ID:                "urn:uuid:6f1c2a7e-3b9d-4c1e-9a55-0d6b2f8e4a10",
		Issuer:            Issuer{ID: issuerURL, Name: "Example Cyber Security Agency"},
		ValidFrom:         t0,
		ValidUntil:        t0.AddDate(3, 0, 0),
		LabelID:           "LBL-2026-000042",
		SchemeID:          "sg-cls",
		SchemeVersion:     3,
		SchemeVersionName: "2024-01",
		LevelID:           "2",
		LevelName:         "Level 2",
		Product: Product{
			Name:            "Acme SmartCam 2",
			ModelNumber:     "AC-2",
			Manufacturer:    "Acme Devices Ltd",
			SoftwareVersion: "1.4.2",
			PURL:            "pkg:generic/acme/smartcam-fw@1.4.2",
			CPE:             "cpe:2.3:h:acme:smartcam_2:-:*:*:*:*:*:*:*",
			GTIN:            "05012345678900",
		},
		SupportEndDate: time.Date(2031, 12, 31, 0, 0, 0, 0, time.UTC),
		PageURL:        issuerURL + "/labels/LBL-2026-000042",
		Revocation:     StatusRef{ListURL: issuerURL + "/status/revocation/1", Index: 94567},
		Suspension:     StatusRef{ListURL: issuerURL + "/status/suspension/1", Index: 94567},
	}
}

// golden compares got with testdata/golden/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update if the change is intended)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func readGolden(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", "golden", name))
}
