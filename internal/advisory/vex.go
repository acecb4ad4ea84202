package advisory

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OpenVEX is read with encoding/json rather than openvex/go-vex: go-vex's
// only parser of bytes (vex.Parse) reads the 0.2.0 shape alone — 0.0.1
// compatibility is reached only through vex.Open on a file path — and the
// package brings in-toto attestations and protobuf along. The two shapes
// differ in two fields, which openVEXStatement takes as raw JSON.
type openVEX struct {
	Context     string             `json:"@context"`
	ID          string             `json:"@id"`
	Author      string             `json:"author"`
	Timestamp   string             `json:"timestamp"`
	LastUpdated string             `json:"last_updated"`
	Version     json.RawMessage    `json:"version"` // an integer; a string in 0.0.1
	Statements  []openVEXStatement `json:"statements"`
}

type openVEXStatement struct {
	// Vulnerability is a string in 0.0.1 and {"name", "@id", "aliases"}
	// in 0.2.0; products are strings in 0.0.1 and objects in 0.2.0.
	Vulnerability   json.RawMessage `json:"vulnerability"`
	Products        json.RawMessage `json:"products"`
	Subcomponents   []string        `json:"subcomponents"` // 0.0.1
	Status          string          `json:"status"`
	Justification   string          `json:"justification"`
	ImpactStatement string          `json:"impact_statement"`
	ActionStatement string          `json:"action_statement"`
	Timestamp       string          `json:"timestamp"`
	LastUpdated     string          `json:"last_updated"`
}

type openVEXProduct struct {
	ID          string `json:"@id"`
	Identifiers struct {
		PURL  string `json:"purl"`
		CPE23 string `json:"cpe23"`
		CPE22 string `json:"cpe22"`
	} `json:"identifiers"`
	Hashes        map[string]string `json:"hashes"`
	Subcomponents []openVEXProduct  `json:"subcomponents"`
}

// ParseOpenVEX reads an OpenVEX document (0.0.1 or 0.2.0, JSON): one
// Statement per product, and per subcomponent of a product. A statement
// naming no product is kept with an empty Product: it speaks of the
// document's subject, as in an attestation.
func ParseOpenVEX(b []byte) (*Document, error) {
	if err := checkSize(b, MaxRecordSize, "OpenVEX document"); err != nil {
		return nil, err
	}
	if err := checkJSON(b); err != nil {
		return nil, err
	}
	var v openVEX
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, jsonError(b, err)
	}
	name := clip(v.ID)
	fail := func(path, format string, args ...any) error { return errorf(name, path, format, args...) }
	if !strings.HasPrefix(v.Context, "https://openvex.dev/ns") {
		return nil, fail("@context", "%q is not an OpenVEX context", clip(v.Context))
	}
	if v.ID == "" {
		return nil, fail("@id", "missing")
	}
	published, err := vexTime(v.Timestamp)
	if err != nil {
		return nil, fail("timestamp", "not an RFC 3339 time: %q", clip(v.Timestamp))
	}
	modified, err := vexTime(v.LastUpdated)
	if err != nil {
		return nil, fail("last_updated", "not an RFC 3339 time: %q", clip(v.LastUpdated))
	}
	if modified.IsZero() {
		modified = published
	}
	doc := &Document{
		Format:    FormatOpenVEX,
		ID:        v.ID,
		Revision:  openVEXVersion(v.Version),
		Publisher: v.Author,
		Published: published,
		Modified:  modified,
		SHA256:    sum256(b),
	}
	for i, s := range v.Statements {
		at := fmt.Sprintf("statements[%d]", i)
		st := Statement{
			Status:        VEXStatus(s.Status),
			Justification: s.Justification,
			Impact:        s.ImpactStatement,
			Action:        s.ActionStatement,
		}
		switch st.Status {
		case StatusNotAffected, StatusAffected, StatusFixed, StatusUnderInvestigation:
		default:
			return nil, fail(at+".status", "unknown status %q", clip(s.Status))
		}
		if st.Timestamp, err = vexTime(firstNonEmpty(s.LastUpdated, s.Timestamp)); err != nil {
			return nil, fail(at+".timestamp", "not an RFC 3339 time")
		}
		if st.Timestamp.IsZero() {
			st.Timestamp = modified
		}
		if err := openVEXVulnerability(s.Vulnerability, &st); err != nil {
			return nil, fail(at+".vulnerability", "%v", err)
		}
		products, err := openVEXProducts(s.Products)
		if err != nil {
			return nil, fail(at+".products", "%v", err)
		}
		if len(products) == 0 {
			products = []openVEXProduct{{}}
		}
		for _, p := range products {
			st.Product = ProductRef{ID: p.ID, PURL: firstNonEmpty(p.Identifiers.PURL, purlOf(p.ID)), CPE: firstNonEmpty(p.Identifiers.CPE23, p.Identifiers.CPE22)}
			for alg, val := range p.Hashes {
				st.Product.Hashes = append(st.Product.Hashes, Hash{Algorithm: alg, Value: strings.ToLower(val)})
			}
			sortHashes(st.Product.Hashes)
			subs := p.Subcomponents
			for _, sc := range s.Subcomponents {
				subs = append(subs, openVEXProduct{ID: sc})
			}
			if len(subs) == 0 {
				st.Component = ""
				if err := addStatement(doc, st); err != nil {
					return nil, named(err, name)
				}
			}
			for _, sc := range subs {
				st.Component = firstNonEmpty(sc.Identifiers.PURL, sc.ID)
				if err := addStatement(doc, st); err != nil {
					return nil, named(err, name)
				}
			}
		}
	}
	return doc, nil
}

func openVEXVulnerability(raw json.RawMessage, st *Statement) error {
	if len(raw) == 0 {
		return fmt.Errorf("missing")
	}
	if raw[0] == '"' {
		return json.Unmarshal(raw, &st.Vulnerability)
	}
	var v struct {
		ID      string   `json:"@id"`
		Name    string   `json:"name"`
		Aliases []string `json:"aliases"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("neither a string nor an object with a name")
	}
	st.Vulnerability = firstNonEmpty(v.Name, v.ID)
	if st.Vulnerability == "" {
		return fmt.Errorf("names no vulnerability")
	}
	st.Aliases = nonEmpty(v.Aliases)
	return nil
}

func openVEXProducts(raw json.RawMessage) ([]openVEXProduct, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal(raw, &ids); err == nil {
		out := make([]openVEXProduct, len(ids))
		for i, id := range ids {
			out[i].ID = id
		}
		return out, nil
	}
	var ps []openVEXProduct
	if err := json.Unmarshal(raw, &ps); err != nil {
		return nil, fmt.Errorf("neither a list of ids nor a list of products")
	}
	return ps, nil
}

func openVEXVersion(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return strconv.FormatInt(n, 10)
	}
	return ""
}

// cdxBOM is the part of a CycloneDX BOM (1.4 and later) VEX needs. It is
// not read with cyclonedx-go, which decodes (and version-checks) the whole
// BOM: a VEX reader needs components only to turn bom-refs into purls.
type cdxBOM struct {
	BOMFormat    string `json:"bomFormat"`
	SpecVersion  string `json:"specVersion"`
	SerialNumber string `json:"serialNumber"`
	Version      int    `json:"version"`
	Metadata     struct {
		Timestamp    string        `json:"timestamp"`
		Component    *cdxComponent `json:"component"`
		Manufacturer *struct {
			Name string `json:"name"`
		} `json:"manufacturer"` // CycloneDX 1.6
		Manufacture *struct {
			Name string `json:"name"`
		} `json:"manufacture"` // CycloneDX 1.4 and 1.5
		Supplier *struct {
			Name string `json:"name"`
		} `json:"supplier"`
	} `json:"metadata"`
	Components      []cdxComponent `json:"components"`
	Vulnerabilities []struct {
		ID         string `json:"id"`
		References []struct {
			ID string `json:"id"`
		} `json:"references"`
		Updated  string `json:"updated"`
		Analysis *struct {
			State         string   `json:"state"`
			Justification string   `json:"justification"`
			Response      []string `json:"response"`
			Detail        string   `json:"detail"`
			LastUpdated   string   `json:"lastUpdated"`
		} `json:"analysis"`
		Affects []struct {
			Ref      string `json:"ref"`
			Versions []struct {
				Version string `json:"version"`
				Range   string `json:"range"`
				Status  string `json:"status"`
			} `json:"versions"`
		} `json:"affects"`
	} `json:"vulnerabilities"`
}

type cdxComponent struct {
	BOMRef     string         `json:"bom-ref"`
	Name       string         `json:"name"`
	Version    string         `json:"version"`
	PURL       string         `json:"purl"`
	CPE        string         `json:"cpe"`
	Components []cdxComponent `json:"components"`
}

// cdxStates maps CycloneDX analysis states onto the one status model.
var cdxStates = map[string]VEXStatus{
	"not_affected":           StatusNotAffected,
	"false_positive":         StatusNotAffected,
	"exploitable":            StatusAffected,
	"resolved":               StatusFixed,
	"resolved_with_pedigree": StatusFixed,
	"in_triage":              StatusUnderInvestigation,
}

// cdxVersionStatus maps affects[].versions[].status, used when a
// vulnerability has no analysis.
var cdxVersionStatus = map[string]VEXStatus{
	"affected":   StatusAffected,
	"unaffected": StatusNotAffected,
	"unknown":    StatusUnderInvestigation,
}

// ParseCycloneDXVEX reads a CycloneDX BOM (JSON) whose vulnerabilities
// carry analysis: one Statement per affects[] target, and per listed
// version of it. A target's bom-ref is resolved to its component's purl
// when the component is in the BOM; a BOM-Link to another BOM is kept as
// the product id. A version entry's own status, when given, overrides
// the vulnerability's analysis for that version.
func ParseCycloneDXVEX(b []byte) (*Document, error) {
	if err := checkSize(b, MaxRecordSize, "CycloneDX VEX document"); err != nil {
		return nil, err
	}
	if err := checkJSON(b); err != nil {
		return nil, err
	}
	var bom cdxBOM
	if err := json.Unmarshal(b, &bom); err != nil {
		return nil, jsonError(b, err)
	}
	name := clip(bom.SerialNumber)
	fail := func(path, format string, args ...any) error { return errorf(name, path, format, args...) }
	if bom.BOMFormat != "CycloneDX" {
		return nil, fail("bomFormat", "%q is not CycloneDX", clip(bom.BOMFormat))
	}
	published, err := vexTime(bom.Metadata.Timestamp)
	if err != nil {
		return nil, fail("metadata.timestamp", "not an RFC 3339 time: %q", clip(bom.Metadata.Timestamp))
	}
	doc := &Document{
		Format:    FormatCycloneDXVEX,
		ID:        bom.SerialNumber,
		Revision:  strconv.Itoa(bom.Version),
		Published: published,
		Modified:  published,
		SHA256:    sum256(b),
	}
	switch {
	case bom.Metadata.Manufacturer != nil:
		doc.Publisher = bom.Metadata.Manufacturer.Name
	case bom.Metadata.Manufacture != nil:
		doc.Publisher = bom.Metadata.Manufacture.Name
	case bom.Metadata.Supplier != nil:
		doc.Publisher = bom.Metadata.Supplier.Name
	}
	refs, err := cdxComponents(&bom)
	if err != nil {
		return nil, named(err, name)
	}
	for i, v := range bom.Vulnerabilities {
		at := fmt.Sprintf("vulnerabilities[%d]", i)
		if v.ID == "" {
			return nil, fail(at+".id", "missing")
		}
		st := Statement{Vulnerability: v.ID}
		for _, r := range v.References {
			if r.ID != "" && r.ID != v.ID {
				st.Aliases = append(st.Aliases, r.ID)
			}
		}
		var stamp string
		if a := v.Analysis; a != nil {
			if a.State != "" {
				s, ok := cdxStates[a.State]
				if !ok {
					return nil, fail(at+".analysis.state", "unknown state %q", clip(a.State))
				}
				st.Status = s
			}
			st.Justification = a.Justification
			switch st.Status {
			case StatusNotAffected:
				st.Impact = a.Detail
			case StatusAffected, StatusFixed:
				st.Action = strings.Join(a.Response, ", ")
				if a.Detail != "" {
					st.Action = strings.TrimPrefix(st.Action+": "+a.Detail, ": ")
				}
			}
			stamp = a.LastUpdated
		}
		if st.Timestamp, err = vexTime(firstNonEmpty(stamp, v.Updated)); err != nil {
			return nil, fail(at, "analysis.lastUpdated or updated is not an RFC 3339 time")
		}
		if st.Timestamp.IsZero() {
			st.Timestamp = published
		}
		if len(v.Affects) == 0 {
			// No target: the statement is about the BOM's own component,
			// or, without one, every product of its manufacturer.
			if st.Status == "" {
				return nil, fail(at+".analysis.state", "missing, and the vulnerability names no affected target")
			}
			if c := bom.Metadata.Component; c != nil {
				st.Product = ProductRef{ID: c.BOMRef, PURL: purlOf(c.PURL), CPE: c.CPE, Name: c.Name, Version: c.Version}
			} else {
				st.Product = ProductRef{Vendor: doc.Publisher}
			}
			if err := addStatement(doc, st); err != nil {
				return nil, named(err, name)
			}
		}
		for j, a := range v.Affects {
			aat := fmt.Sprintf("%s.affects[%d]", at, j)
			if a.Ref == "" {
				return nil, fail(aat+".ref", "missing")
			}
			st.Product = ProductRef{ID: a.Ref}
			if c, ok := refs[a.Ref]; ok {
				st.Product = ProductRef{ID: a.Ref, PURL: purlOf(c.PURL), CPE: c.CPE, Name: c.Name, Version: c.Version}
			}
			base := st
			if len(a.Versions) == 0 {
				if st.Status == "" {
					return nil, fail(at+".analysis.state", "missing, and %s lists no versions with a status", aat)
				}
				if err := addStatement(doc, st); err != nil {
					return nil, named(err, name)
				}
				continue
			}
			for k, ver := range a.Versions {
				s := base
				s.Product.Version, s.Product.VersionRange = ver.Version, ver.Range
				if vs, ok := cdxVersionStatus[ver.Status]; ok && !(ver.Status == "unknown" && base.Status != "") {
					s.Status = vs
				} else if ver.Status != "" && !ok {
					return nil, fail(fmt.Sprintf("%s.versions[%d].status", aat, k), "unknown status %q", clip(ver.Status))
				}
				if s.Status == "" {
					return nil, fail(fmt.Sprintf("%s.versions[%d]", aat, k), "no status: the vulnerability has no analysis state and the version no status")
				}
				if err := addStatement(doc, s); err != nil {
					return nil, named(err, name)
				}
			}
		}
	}
	return doc, nil
}

// cdxComponents indexes the BOM's components by bom-ref, walking nested
// components with an explicit stack so that hostile nesting costs memory
// bounded by the document's size, not goroutine stack.
func cdxComponents(bom *cdxBOM) (map[string]*cdxComponent, error) {
	refs := map[string]*cdxComponent{}
	var stack []*cdxComponent
	if bom.Metadata.Component != nil {
		stack = append(stack, bom.Metadata.Component)
	}
	for i := range bom.Components {
		stack = append(stack, &bom.Components[i])
	}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if len(refs) > maxProducts {
			return nil, errorf("", "components", "more than %d components", maxProducts)
		}
		if c.BOMRef != "" {
			refs[c.BOMRef] = c
		}
		for i := range c.Components {
			stack = append(stack, &c.Components[i])
		}
	}
	return refs, nil
}

// addStatement appends a statement, refusing a document past the limit.
func addStatement(doc *Document, st Statement) error {
	if len(doc.Statements) >= maxStatements {
		return errorf("", "", "more than %d statements", maxStatements)
	}
	st.Aliases = append([]string(nil), st.Aliases...)
	doc.Statements = append(doc.Statements, st)
	return nil
}

// purlOf returns s when it is a purl, "" otherwise: OpenVEX product ids
// and CycloneDX bom-refs are often purls, but need not be.
func purlOf(s string) string {
	if strings.HasPrefix(s, "pkg:") {
		return s
	}
	return ""
}

func vexTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
