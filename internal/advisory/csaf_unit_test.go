package advisory

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// minimalCSAF is a schema-valid csaf_security_advisory to which tests add
// a product tree and vulnerabilities.
func minimalCSAF(t *testing.T, productTree, vulnerabilities string) []byte {
	t.Helper()
	doc := `{
  "document": {
    "category": "csaf_security_advisory", "csaf_version": "2.0", "title": "Test",
    "publisher": {"category": "vendor", "name": "ACME", "namespace": "https://acme.example"},
    "tracking": {"id": "ACME-2024-1", "version": "2", "status": "final",
      "initial_release_date": "2024-01-01T00:00:00Z", "current_release_date": "2024-02-01T00:00:00Z",
      "revision_history": [{"date": "2024-01-01T00:00:00Z", "number": "1", "summary": "first"},
                           {"date": "2024-02-01T00:00:00Z", "number": "2", "summary": "second"}]},
    "notes": [{"category": "summary", "text": "x"}],
    "references": [{"category": "self", "summary": "self", "url": "https://acme.example/a.json"}]
  },
  "product_tree": ` + productTree + `,
  "vulnerabilities": ` + vulnerabilities + `
}`
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("test document: %v", err)
	}
	return []byte(doc)
}

const relTree = `{
  "branches": [{"category": "vendor", "name": "ACME", "branches": [
    {"category": "product_name", "name": "Gateway", "branches": [
      {"category": "product_version", "name": "2.1", "product": {"name": "ACME Gateway 2.1", "product_id": "GW-2.1",
        "product_identification_helper": {"model_numbers": ["GW-100"], "cpe": "cpe:2.3:h:acme:gateway:2.1:*:*:*:*:*:*:*"}}}]},
    {"category": "product_name", "name": "libfoo", "branches": [
      {"category": "product_version_range", "name": "vers:generic/<1.2", "product": {"name": "libfoo < 1.2", "product_id": "FOO-OLD",
        "product_identification_helper": {"purl": "pkg:generic/libfoo"}}},
      {"category": "product_version", "name": "1.2", "product": {"name": "libfoo 1.2", "product_id": "FOO-1.2"}}]}]}],
  "relationships": [
    {"category": "default_component_of", "product_reference": "FOO-OLD", "relates_to_product_reference": "GW-2.1",
     "full_product_name": {"name": "libfoo < 1.2 in ACME Gateway 2.1", "product_id": "GW-2.1:FOO-OLD"}},
    {"category": "default_component_of", "product_reference": "FOO-1.2", "relates_to_product_reference": "GW-2.1",
     "full_product_name": {"name": "libfoo 1.2 in ACME Gateway 2.1", "product_id": "GW-2.1:FOO-1.2"}}]
}`

func TestParseCSAFRelationships(t *testing.T) {
	b := minimalCSAF(t, relTree, `[{"cve": "CVE-2024-0001", "ids": [{"system_name": "ACME", "text": "ACME-BUG-1"}],
	  "product_status": {"known_affected": ["GW-2.1:FOO-OLD"], "fixed": ["GW-2.1:FOO-1.2"]},
	  "remediations": [{"category": "vendor_fix", "details": "Update to 1.2.", "product_ids": ["GW-2.1:FOO-OLD"]}],
	  "scores": [{"products": ["GW-2.1:FOO-OLD"], "cvss_v3": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8, "baseSeverity": "CRITICAL"}}]},
	  {"title": "no CVE", "product_status": {"under_investigation": ["GW-2.1"]}}]`)
	d, err := ParseCSAF(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "ACME-2024-1" || d.Revision != "2" || d.Publisher != "ACME" || d.Format != FormatCSAF || len(d.Advisories) != 2 {
		t.Fatalf("document %+v", d)
	}
	a := d.Advisories[0]
	if a.ID != "CVE-2024-0001" || a.Aliases[0] != "ACME-BUG-1" || a.CVSS != 9.8 || a.Severity != SeverityCritical || len(a.Affected) != 1 {
		t.Fatalf("advisory %+v", a)
	}
	af := a.Affected[0]
	if af.ProductID != "GW-2.1:FOO-OLD" || af.Vendor != "ACME" || af.Product != "libfoo < 1.2 in ACME Gateway 2.1" || af.VersionRange != "vers:generic/<1.2" ||
		af.Package.PURL != "pkg:generic/libfoo" || af.Remediation != "Update to 1.2." || af.Fixed[0] != "GW-2.1:FOO-1.2" {
		t.Errorf("affected %+v", af)
	}
	if af.PartOf == nil || af.PartOf.ID != "GW-2.1" || af.PartOf.Version != "2.1" || af.PartOf.ModelNumbers[0] != "GW-100" {
		t.Errorf("part of %+v", af.PartOf)
	}
	if len(d.Statements) != 2 {
		t.Fatalf("statements %+v", d.Statements)
	}
	fixed := d.Statements[0]
	if fixed.Status != StatusFixed || fixed.Product.ID != "GW-2.1" || fixed.Component != "FOO-1.2" {
		t.Errorf("fixed statement %+v", fixed)
	}
	if ui := d.Statements[1]; ui.Vulnerability != "ACME-2024-1#1" || ui.Status != StatusUnderInvestigation || ui.Product.Name != "Gateway" {
		t.Errorf("under investigation %+v", ui)
	}
}

func TestParseCSAFRefused(t *testing.T) {
	deep := `{"category": "vendor", "name": "v", "product": {"name": "p", "product_id": "P"}}`
	for i := 0; i < maxBranchDepth; i++ {
		deep = `{"category": "product_family", "name": "f", "branches": [` + deep + `]}`
	}
	for name, c := range map[string]struct{ tree, vulns, want string }{
		"undefined": {relTree, `[{"product_status": {"known_affected": ["GW-2.1", "NOPE"]}}]`,
			`ACME-2024-1: vulnerabilities[0].product_status.known_affected[1]: product id "NOPE" is not defined`},
		"contradiction": {relTree, `[{"product_status": {"known_affected": ["GW-2.1"], "known_not_affected": ["GW-2.1"]}}]`,
			`vulnerabilities[0].product_status.known_not_affected[0]: product id "GW-2.1" is both affected and not_affected`},
		"remediation group": {relTree, `[{"product_status": {"known_affected": ["GW-2.1"]}, "remediations": [{"category": "vendor_fix", "details": "x", "group_ids": ["G"]}]}]`,
			`vulnerabilities[0].remediations[0].group_ids[0]: group id "G" is not defined`},
		"twice": {`{"full_product_names": [{"name": "a", "product_id": "A"}, {"name": "b", "product_id": "A"}]}`, `[{"cve": "CVE-2024-0001"}]`,
			`product_tree.full_product_names[1].product_id: product id "A" is defined twice`},
		"deep": {`{"branches": [` + deep + `]}`, `[{"cve": "CVE-2024-0001"}]`, "branches nested deeper than 30"},
		"schema": {relTree, `[{"product_status": {"known_affected": "GW-2.1"}}]`,
			"vulnerabilities[0].product_status.known_affected: does not match the schema"},
	} {
		_, err := ParseCSAF(minimalCSAF(t, c.tree, c.vulns))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v\nwant %q", name, err, c.want)
		}
	}
}
