package advisory

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// Parse reads a document of any supported format, told apart by what it
// declares: CSAF by document.csaf_version, KEV by catalogVersion, OpenVEX
// by an @context under openvex.dev, CycloneDX by bomFormat, and OSV by
// schema_version, or an id with affected or modified. YAML is read as OSV,
// the only format published in YAML.
func Parse(b []byte) (*Document, error) {
	if err := checkSize(b, MaxDocumentSize, "document"); err != nil {
		return nil, err
	}
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		return nil, errorf("", "", "not a JSON object")
	}
	if !isJSON(b) {
		return ParseOSV(b)
	}
	if err := checkJSON(b); err != nil {
		return nil, err
	}
	var probe struct {
		Document struct {
			CSAFVersion *string `json:"csaf_version"`
		} `json:"document"`
		CatalogVersion *string         `json:"catalogVersion"`
		Context        *string         `json:"@context"`
		BOMFormat      *string         `json:"bomFormat"`
		SchemaVersion  *string         `json:"schema_version"`
		ID             *string         `json:"id"`
		Modified       *string         `json:"modified"`
		Affected       json.RawMessage `json:"affected"`
	}
	// A type mismatch in a probed field is left to the format's parser to
	// report with its path; only malformed JSON stops here.
	if err := json.Unmarshal(b, &probe); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, jsonError(b, err)
		}
	}
	switch {
	case probe.Document.CSAFVersion != nil:
		return ParseCSAF(b)
	case probe.CatalogVersion != nil:
		return ParseKEV(b)
	case probe.Context != nil && strings.Contains(*probe.Context, "openvex"):
		return ParseOpenVEX(b)
	case probe.BOMFormat != nil:
		return ParseCycloneDXVEX(b)
	case probe.SchemaVersion != nil, probe.ID != nil && (probe.Affected != nil || probe.Modified != nil):
		return ParseOSV(b)
	}
	return nil, errorf("", "", "not a CSAF, OSV, KEV, OpenVEX or CycloneDX document")
}
