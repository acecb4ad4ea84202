package registry_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
)

func TestValidateProduct(t *testing.T) {
	good := registry.Product{Name: "Cam 2", Category: "camera", ModelNumber: "C2-100",
		GTIN: "4006381333931", PURL: "pkg:generic/acme/cam2@1.0", CPE: "cpe:2.3:h:acme:cam_2:-:*:*:*:*:*:*:*"}
	if err := registry.ValidateProduct(&good); err != nil {
		t.Fatalf("valid product refused: %v", err)
	}
	for _, tc := range []struct {
		mutate func(*registry.Product)
		field  string
	}{
		{func(p *registry.Product) { p.Name = "" }, "name"},
		{func(p *registry.Product) { p.Category = "spaceship" }, "category"},
		{func(p *registry.Product) { p.GTIN = "4006381333932" }, "gtin: the check digit is wrong"},
		{func(p *registry.Product) { p.GTIN = "12ab" }, "gtin"},
		{func(p *registry.Product) { p.PURL = "not a purl" }, "purl"},
		{func(p *registry.Product) { p.CPE = "cpe:acme" }, "cpe"},
		{func(p *registry.Product) { p.ModelNumber = strings.Repeat("x", 101) }, "model_number: is longer"},
		{func(p *registry.Product) { p.Name = "a\x00b" }, "name: contains a NUL byte"},
		{func(p *registry.Product) { p.Name = "report\u202efdp" }, "name: contains the bidirectional control"},
		{func(p *registry.Product) { p.Brand = "bad\xff" }, "brand: is not valid UTF-8"},
	} {
		p := good
		tc.mutate(&p)
		err := registry.ValidateProduct(&p)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: err=%v, want %q", p, err, tc.field)
		}
	}
	if d := registry.GTINCheckDigit("400638133393"); d != '1' {
		t.Errorf("check digit %c, want 1", d)
	}
}

func TestValidateVersionAndDerive(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	v := registry.Version{SoftwareVersion: "2.4.1", ReleaseDate: "2026-03-01", Facts: registry.Facts{
		SupportEnd: "2031-12-31", UpdateMode: "automatic", PasswordType: "unique-per-device",
		SecurityContact: "security@acme.example", DisclosurePolicyURL: "https://acme.example/security", Sensors: []string{"video", "audio"}}}
	if err := registry.ValidateVersion(&v, now); err != nil {
		t.Fatal(err)
	}
	if v.Facts.Derive().Any() {
		t.Error("an updatable device with unique passwords is un-securable")
	}
	bad := v
	bad.Facts.UpdateMode = "sometimes"
	bad.Facts.SupportEnd = "31/12/2031"
	bad.Facts.Sensors = []string{"smell"}
	bad.Facts.SecurityContact = "ring us"
	err := registry.ValidateVersion(&bad, now)
	for _, f := range []string{"update_mode", "support_end_date", "sensors", "security_contact"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("err=%v, want it to name %s", err, f)
		}
	}
	none := v
	none.Facts.UpdateMode = "none"
	none.Facts.PasswordType = "shared-default"
	if u := none.Facts.Derive(); !u.NoUpdatePath || !u.NoUniqueCredentials {
		t.Errorf("derive = %+v", u)
	}
	undisclosed := v
	undisclosed.Facts.UpdateMode = "not-disclosed"
	if undisclosed.Facts.Derive().Any() {
		t.Error("not disclosing the update mode is not evidence of having none")
	}
}

func TestValidateEmail(t *testing.T) {
	if e, err := registry.ValidateEmail("  Alice@Example.ORG "); err != nil || e != "alice@example.org" {
		t.Errorf("%q %v", e, err)
	}
	for _, s := range []string{"", "alice", "alice@", "Alice <a@b.c>", "a@localhost"} {
		if _, err := registry.ValidateEmail(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// Firmware digests are what an advisory naming an image by hash matches
// exactly: they are checked and normalised on the way in.
func TestFirmwareHashes(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	sha := strings.Repeat("Ab", 32)
	v := registry.Version{SoftwareVersion: "1.0", Facts: registry.Facts{FirmwareHashes: []string{" SHA256:" + sha + " ", "sha512:" + strings.Repeat("0", 128)}}}
	if err := registry.ValidateVersion(&v, now); err != nil {
		t.Fatal(err)
	}
	if got := v.Facts.FirmwareHashes[0]; got != "sha256:"+strings.ToLower(sha) {
		t.Errorf("normalised %q", got)
	}
	for _, bad := range [][]string{{"md5:" + strings.Repeat("0", 32)}, {"sha256:" + strings.Repeat("0", 63)}, {"sha256:" + strings.Repeat("g", 64)},
		{strings.Repeat("0", 64)}, slices.Repeat([]string{"sha256:" + strings.Repeat("0", 64)}, registry.MaxFirmwareHashes+1)} {
		v := registry.Version{SoftwareVersion: "1.0", Facts: registry.Facts{FirmwareHashes: bad}}
		if err := registry.ValidateVersion(&v, now); err == nil || !strings.Contains(err.Error(), "firmware_hashes") {
			t.Errorf("%.40q accepted: %v", bad, err)
		}
	}
}
