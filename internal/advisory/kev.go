package advisory

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// kevSchema is CISA's JSON schema for the catalogue, copied unchanged from
// cisagov/kev-data @ eacf03e, known_exploited_vulnerabilities_schema.json
// (CC0-1.0).
//
//go:embed kev_schema.json
var kevSchemaJSON []byte

var kevSchema = sync.OnceValue(func() *jsonschema.Schema {
	return compileSchema("https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities_schema.json", kevSchemaJSON)
})

type kevCatalogue struct {
	CatalogVersion  string `json:"catalogVersion"`
	DateReleased    string `json:"dateReleased"`
	Count           int    `json:"count"`
	Vulnerabilities []struct {
		CVEID                      string `json:"cveID"`
		VendorProject              string `json:"vendorProject"`
		Product                    string `json:"product"`
		VulnerabilityName          string `json:"vulnerabilityName"`
		DateAdded                  string `json:"dateAdded"`
		RequiredAction             string `json:"requiredAction"`
		DueDate                    string `json:"dueDate"`
		KnownRansomwareCampaignUse string `json:"knownRansomwareCampaignUse"`
	} `json:"vulnerabilities"`
}

// ParseKEV reads CISA's Known Exploited Vulnerabilities catalogue, checked
// against CISA's schema. Its Document has one Exploitation per entry;
// ID and Revision are the catalogue version (2025.08.25), which orders
// catalogues as strings do.
func ParseKEV(b []byte) (*Document, error) {
	if err := checkSize(b, MaxDocumentSize, "KEV catalogue"); err != nil {
		return nil, err
	}
	if err := checkJSON(b); err != nil {
		return nil, err
	}
	v, err := decodeForSchema(b)
	if err != nil {
		return nil, err
	}
	name := "KEV"
	if m, ok := v.(map[string]any); ok {
		if cv, ok := m["catalogVersion"].(string); ok {
			name += " " + clip(cv)
		}
	}
	if err := kevSchema().Validate(v); err != nil {
		return nil, schemaError(name, err)
	}
	var cat kevCatalogue
	if err := json.Unmarshal(b, &cat); err != nil {
		return nil, named(jsonError(b, err), name)
	}
	released, err := time.Parse(time.RFC3339Nano, cat.DateReleased)
	if err != nil {
		return nil, errorf(name, "dateReleased", "not an RFC 3339 time: %q", clip(cat.DateReleased))
	}
	if len(cat.Vulnerabilities) > maxStatements {
		return nil, errorf(name, "vulnerabilities", "%d entries, over the limit of %d", len(cat.Vulnerabilities), maxStatements)
	}
	doc := &Document{
		Format:    FormatKEV,
		ID:        cat.CatalogVersion,
		Revision:  cat.CatalogVersion,
		Publisher: "CISA",
		Published: released,
		Modified:  released,
		SHA256:    sum256(b),
		Exploited: make([]Exploitation, 0, len(cat.Vulnerabilities)),
	}
	for i, e := range cat.Vulnerabilities {
		at := fmt.Sprintf("vulnerabilities[%d]", i)
		added, err := time.Parse(time.DateOnly, e.DateAdded)
		if err != nil {
			return nil, errorf(name, at+".dateAdded", "not a date: %q", clip(e.DateAdded))
		}
		due, err := time.Parse(time.DateOnly, e.DueDate)
		if err != nil {
			return nil, errorf(name, at+".dueDate", "not a date: %q", clip(e.DueDate))
		}
		doc.Exploited = append(doc.Exploited, Exploitation{
			CVE:        e.CVEID,
			Vendor:     e.VendorProject,
			Product:    e.Product,
			Name:       e.VulnerabilityName,
			DateAdded:  added,
			DueDate:    due,
			Ransomware: strings.EqualFold(e.KnownRansomwareCampaignUse, "Known"),
			Action:     e.RequiredAction,
		})
	}
	return doc, nil
}
