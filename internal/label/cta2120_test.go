package label

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/scheme"
)

func sampleFacts() Facts {
	yes, no := true, false
	return Facts{
		ProductName: "Acme SmartCam 2", Manufacturer: "Acme Devices Ltd", Brand: "Acme", ModelNumber: "AC-2",
		SoftwareVersion: "1.4.2", HardwareVersion: "rev B", ProductCategory: "camera",
		AuthorizationDate: t0, CertifyingBody: "Example Cyber Security Agency", TestingLab: "Example Lab",
		QRURL: "https://registry.example/labels/LBL-2026-000042", PasswordType: "unique per device",
		PasswordChangeMethod: "in the app, under Settings > Security", HowToSecure: "https://acme.example/secure",
		UpdateMode: "automatic", SupportEndDate: time.Date(2031, 12, 31, 0, 0, 0, 0, time.UTC),
		Sensors: []string{"camera", "microphone"}, DataDeletion: "factory reset erases all data",
		AccountDeactivation: "https://acme.example/account", Encryption: "TLS 1.3 in transit; AES-256 at rest",
		SecurityContact: "security@acme.example", DisclosurePolicyURL: "https://acme.example/vdp",
		SBOMAvailable: &yes, HBOMAvailable: &no, LabelLevel: "Level 2", ValidUntil: t0.AddDate(3, 0, 0),
		Status: "active", Created: t0, Modified: t0.Add(48 * time.Hour),
	}
}

func TestLabelPublicRecordGolden(t *testing.T) {
	r, err := NewPublicRecord(sampleFacts(), PublicRecordFields())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	golden(t, "public-record.json", append(b, '\n'))
}

func TestLabelPublicRecordOnlyListedFields(t *testing.T) {
	r, err := NewPublicRecord(sampleFacts(), []string{"product_name", "authorisation_date", "hbom_available", "support_end_date"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	var got map[string]any
	json.Unmarshal(b, &got)
	want := map[string]any{
		"product_name": "Acme SmartCam 2", "authorization_date": "2026-11-22", "support_end_date": "2031-12-31",
		"hbom_available": false, // a declared "no" is shown, not dropped
		"created":        "2026-11-22T10:00:00Z", "modified": "2026-11-24T10:00:00Z", "schema_version": PublicRecordSchemaVersion,
	}
	if len(got) != len(want) {
		t.Errorf("fields %v, want exactly %v", keys(got), keys(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// Undeclared facts stay out even when listed.
	r, _ = NewPublicRecord(Facts{ProductName: "X"}, PublicRecordFields())
	b, _ = json.Marshal(r)
	if string(b) != `{"product_name":"X","schema_version":"`+PublicRecordSchemaVersion+`"}` {
		t.Errorf("undeclared facts: %s", b)
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestLabelPublicRecordFieldNames(t *testing.T) {
	if _, err := NewPublicRecord(sampleFacts(), []string{"product_name", "serial_number"}); err == nil || !strings.Contains(err.Error(), "serial_number") {
		t.Errorf("unknown field: %v", err)
	}
	// Every field a scheme may list must be one the record can show.
	for _, f := range scheme.PublicFields {
		if _, err := NewPublicRecord(sampleFacts(), []string{f}); err != nil {
			t.Errorf("scheme public field %q: %v", f, err)
		}
	}
	// And every field has a JSON name equal to its list name.
	r, _ := NewPublicRecord(sampleFacts(), PublicRecordFields())
	b, _ := json.Marshal(r)
	var got map[string]any
	json.Unmarshal(b, &got)
	for _, f := range PublicRecordFields() {
		if _, ok := got[f]; !ok {
			t.Errorf("field %q missing from the full record", f)
		}
	}
}
