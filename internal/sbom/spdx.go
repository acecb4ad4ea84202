package sbom

// SPDX 2.x JSON and tag-value are read into one small model (spdxModel) and
// built into a Document by the same code, so the two serialisations of one
// document give the same components.
//
// Why not tools-golang's json and tagvalue readers (v0.5.7):
//   - Its packages with the SPDX 2.x types import
//     github.com/anchore/go-struct-converter, which go.sum lacks: they do not
//     build in this module as pinned.
//   - Its tag-value tokenizer appends each line of a <text> block to a string,
//     which is quadratic: a 120 kB file with a 40,000-line block took 0.34 s
//     there (3 ms here), a 300 kB one tens of seconds; 32 MiB would take hours.
//   - It refuses the SPDX 2.2 tag-value sample in the corpus (a snippet
//     directly after a package), and one ill-typed field anywhere (a
//     checksum, a licence) refuses the whole document.
// The rules below follow its tokenizer (comments, the first colon, <text>)
// and its "Type: name" supplier form; on the corpus samples both give the
// same packages, names, versions, PURLs, CPEs and suppliers.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

var spdxVersions = []string{"SPDX-2.1", "SPDX-2.2", "SPDX-2.3"}

type spdxModel struct {
	version, id, name, created string
	describes                  []string
	packages                   []spdxPackage
	relationships              []spdxRelationship
	warnings                   []string
}

type spdxPackage struct {
	id, name, version, supplier, purpose string
	refs                                 []spdxRef
}

type spdxRef struct{ category, typ, locator string }

type spdxRelationship struct{ element, typ, related string }

// spdxJSONDoc holds only the fields used; the rest of the document is not
// decoded, so it cannot make the upload fail.
type spdxJSONDoc struct {
	SPDXVersion  string `json:"spdxVersion"`
	SPDXID       string `json:"SPDXID"`
	Name         string `json:"name"`
	CreationInfo *struct {
		Created string `json:"created"`
	} `json:"creationInfo"`
	DocumentDescribes []string `json:"documentDescribes"`
	Packages          []struct {
		SPDXID       string `json:"SPDXID"`
		Name         string `json:"name"`
		VersionInfo  string `json:"versionInfo"`
		Supplier     string `json:"supplier"`
		Purpose      string `json:"primaryPackagePurpose"`
		ExternalRefs []struct {
			Category string `json:"referenceCategory"`
			Type     string `json:"referenceType"`
			Locator  string `json:"referenceLocator"`
		} `json:"externalRefs"`
	} `json:"packages"`
	Relationships []struct {
		Element string `json:"spdxElementId"`
		Type    string `json:"relationshipType"`
		Related string `json:"relatedSpdxElement"`
	} `json:"relationships"`
}

func parseSPDXJSON(b []byte) (*Document, error) {
	info, err := scanJSON(b)
	if err != nil {
		return nil, withFormat(err, SPDXJSON)
	}
	if body := bytes.TrimLeft(b, " \t\r\n"); len(body) == 0 || body[0] != '{' {
		return nil, &Error{Format: SPDXJSON, Msg: "the file is not a JSON object"}
	}
	if !info.spdxVersion.present {
		return nil, &Error{Format: SPDXJSON, Msg: `"spdxVersion" is missing at the top level`}
	}
	var raw spdxJSONDoc
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, jsonError(b, err, SPDXJSON)
	}
	m := spdxModel{
		version:   raw.SPDXVersion,
		id:        raw.SPDXID,
		name:      raw.Name,
		describes: raw.DocumentDescribes,
	}
	if raw.CreationInfo != nil {
		m.created = raw.CreationInfo.Created
	}
	for _, p := range raw.Packages {
		pkg := spdxPackage{id: p.SPDXID, name: p.Name, version: p.VersionInfo, supplier: p.Supplier, purpose: p.Purpose}
		for _, r := range p.ExternalRefs {
			pkg.refs = append(pkg.refs, spdxRef{category: r.Category, typ: r.Type, locator: r.Locator})
		}
		m.packages = append(m.packages, pkg)
	}
	for _, r := range raw.Relationships {
		m.relationships = append(m.relationships, spdxRelationship{element: r.Element, typ: r.Type, related: r.Related})
	}
	return buildSPDX(&m, SPDXJSON)
}

func parseSPDXTagValue(b []byte) (*Document, error) {
	pairs, err := readTagValues(b)
	if err != nil {
		return nil, err
	}
	var m spdxModel
	section := "document"
	pkg := -1 // index of the package being read
	for _, p := range pairs {
		switch p.tag {
		case "SPDXVersion":
			fill(&m.version, p.value)
		case "DocumentName":
			fill(&m.name, p.value)
		case "Created":
			fill(&m.created, p.value)
		case "SPDXID":
			switch section {
			case "document":
				fill(&m.id, p.value)
			case "package":
				m.packages[pkg].id = p.value
			}
		case "PackageName":
			section = "package"
			m.packages = append(m.packages, spdxPackage{name: p.value})
			pkg = len(m.packages) - 1
		case "PackageVersion", "PackageSupplier", "PrimaryPackagePurpose", "ExternalRef":
			if section != "package" {
				m.warnings = append(m.warnings, fmt.Sprintf("line %d: %s outside a package; ignored", p.line, p.tag))
				continue
			}
			cur := &m.packages[pkg]
			switch p.tag {
			case "PackageVersion":
				cur.version = p.value
			case "PackageSupplier":
				cur.supplier = p.value
			case "PrimaryPackagePurpose":
				cur.purpose = p.value
			default:
				f := strings.Fields(p.value)
				if len(f) < 3 {
					m.warnings = append(m.warnings, fmt.Sprintf("line %d: ExternalRef %q is not \"category type locator\"; ignored", p.line, clip(p.value)))
					continue
				}
				cur.refs = append(cur.refs, spdxRef{category: f[0], typ: f[1], locator: strings.Join(f[2:], " ")})
			}
		case "FileName":
			section = "file"
		case "SnippetSPDXID":
			section = "snippet"
		case "LicenseID":
			section = "license"
		case "Relationship":
			f := strings.Fields(p.value)
			if len(f) != 3 {
				m.warnings = append(m.warnings, fmt.Sprintf("line %d: Relationship %q is not \"element TYPE element\"; ignored", p.line, clip(p.value)))
				continue
			}
			m.relationships = append(m.relationships, spdxRelationship{element: f[0], typ: f[1], related: f[2]})
		}
	}
	if m.version == "" {
		return nil, &Error{Format: SPDXTagValue, Msg: "the SPDXVersion tag is missing"}
	}
	return buildSPDX(&m, SPDXTagValue)
}

type tvPair struct {
	tag, value string
	line       int
}

// readTagValues splits tag-value text into pairs, joining <text> blocks
// that span lines.
func readTagValues(b []byte) ([]tvPair, error) {
	var (
		pairs  []tvPair
		text   strings.Builder // the open <text> block
		open   tvPair          // its tag and first line
		inText bool
	)
	for n := 1; len(b) > 0; n++ {
		var raw []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			raw, b = b[:i], b[i+1:]
		} else {
			raw, b = b, nil
		}
		line := strings.TrimSuffix(string(raw), "\r")
		if inText {
			before, _, closed := strings.Cut(line, "</text>")
			text.WriteString(before)
			if closed {
				open.value = text.String()
				pairs = append(pairs, open)
				inText = false
			} else {
				text.WriteByte('\n')
			}
			continue
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		tag, rest, ok := strings.Cut(trimmed, ":")
		tag = strings.TrimSpace(tag)
		if !ok || tag == "" || strings.ContainsAny(tag, " \t") {
			return nil, &Error{Format: SPDXTagValue, Line: n, Msg: fmt.Sprintf("expected \"Tag: value\", found %q", clip(trimmed))}
		}
		if _, after, ok := strings.Cut(rest, "<text>"); ok {
			if value, _, closed := strings.Cut(after, "</text>"); closed {
				pairs = append(pairs, tvPair{tag: tag, value: value, line: n})
			} else {
				text.Reset()
				text.WriteString(after)
				text.WriteByte('\n')
				open = tvPair{tag: tag, line: n}
				inText = true
			}
			continue
		}
		pairs = append(pairs, tvPair{tag: tag, value: strings.TrimSpace(rest), line: n})
	}
	if inText {
		return nil, &Error{Format: SPDXTagValue, Line: open.line, Msg: fmt.Sprintf("the <text> value of %s is never closed with </text>", clip(open.tag))}
	}
	return pairs, nil
}

func buildSPDX(m *spdxModel, f Format) (*Document, error) {
	if !slices.Contains(spdxVersions, m.version) {
		return nil, &Error{Format: f, Msg: fmt.Sprintf("unsupported spdxVersion %q (accepted: %s)", clip(m.version), strings.Join(spdxVersions, ", "))}
	}
	bd := newBuilder(f, strings.TrimPrefix(m.version, "SPDX-"))
	bd.doc.Name = strings.TrimSpace(m.name)
	bd.setCreated(m.created)
	for _, w := range m.warnings {
		bd.warnf("%s", w)
	}
	subject := describedSubject(m)
	for _, p := range m.packages {
		if subject != "" && p.id == subject {
			continue
		}
		c := Component{
			Name:     p.name,
			Version:  p.version,
			Supplier: supplierName(p.supplier),
			Type:     strings.ToLower(strings.TrimSpace(p.purpose)),
			BOMRef:   p.id,
		}
		c.PURL, c.CPE = spdxIdentifiers(p.refs)
		bd.add(c, "")
	}
	return bd.finish(), nil
}

// describedSubject returns the SPDXID of the package that is clearly the
// document's subject (see the package documentation), or "".
func describedSubject(m *spdxModel) string {
	doc := strings.TrimSpace(m.id)
	if doc == "" {
		doc = "SPDXRef-DOCUMENT"
	}
	described := map[string]bool{}
	for _, id := range m.describes {
		described[strings.TrimSpace(id)] = true
	}
	for _, r := range m.relationships {
		el, rel := strings.TrimSpace(r.element), strings.TrimSpace(r.related)
		switch {
		case el == doc && strings.EqualFold(r.typ, "DESCRIBES"):
			described[rel] = true
		case rel == doc && strings.EqualFold(r.typ, "DESCRIBED_BY"):
			described[el] = true
		}
	}
	if len(described) != 1 || len(m.packages) < 2 {
		return ""
	}
	for id := range described {
		for _, p := range m.packages {
			if strings.TrimSpace(p.id) == id {
				return p.id
			}
		}
	}
	return ""
}

// spdxIdentifiers picks the PURL and CPE from a package's external
// references: the first PURL that parses (else the first, so that it is
// reported), and a CPE 2.3 before a CPE 2.2.
func spdxIdentifiers(refs []spdxRef) (purl, cpe string) {
	var cpe22 string
	for _, r := range refs {
		loc := strings.TrimSpace(r.locator)
		switch strings.ToLower(strings.TrimSpace(r.typ)) {
		case "purl":
			if purl == "" || !validPURL(purl) {
				if purl == "" || validPURL(loc) {
					purl = loc
				}
			}
		case "cpe23type":
			fill(&cpe, loc)
		case "cpe22type":
			fill(&cpe22, loc)
		}
	}
	fill(&cpe, cpe22)
	return purl, cpe
}

// supplierName drops SPDX's "Organization:" or "Person:" prefix;
// NOASSERTION means no supplier is stated.
func supplierName(s string) string {
	s = strings.TrimSpace(s)
	if s == "NOASSERTION" {
		return ""
	}
	if kind, name, ok := strings.Cut(s, ":"); ok {
		switch strings.TrimSpace(kind) {
		case "Organization", "Person", "Tool":
			return strings.TrimSpace(name)
		}
	}
	return s
}
