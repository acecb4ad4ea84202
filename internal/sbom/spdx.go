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
	relationships              []spdxRelationship // DESCRIBES and DESCRIBED_BY only: all the subject rule needs
	warnings                   []string
	suppressed                 int // warnings over maxWarnings
	max                        int // the component cap
}

func (m *spdxModel) warn(format string, args ...any) {
	if len(m.warnings) >= maxWarnings {
		m.suppressed++
		return
	}
	m.warnings = append(m.warnings, fmt.Sprintf(format, args...))
}

// relate keeps a relationship the subject rule reads; a document cannot
// name more subjects than the component cap allows. line is asked for only
// then: finding it costs a pass over the input.
func (m *spdxModel) relate(r spdxRelationship, f Format, line func() int) error {
	if !strings.EqualFold(r.typ, "DESCRIBES") && !strings.EqualFold(r.typ, "DESCRIBED_BY") {
		return nil
	}
	if len(m.relationships) >= m.max {
		return &Error{Format: f, Line: line(), Err: ErrTooManyComponents,
			Msg: fmt.Sprintf("the SBOM has more than %d DESCRIBES relationships; nothing was stored", m.max)}
	}
	m.relationships = append(m.relationships, r)
	return nil
}

type spdxPackage struct {
	id, name, version, supplier, purpose string
	refs                                 []spdxRef
}

type spdxRef struct{ category, typ, locator string }

type spdxRelationship struct{ element, typ, related string }

// spdxJSONPackage holds only the fields used; the rest of a package is
// skipped, so it cannot make the upload fail.
type spdxJSONPackage struct {
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
	// Files, annotations, checksums...: never decoded.
}

type spdxJSONRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

func parseSPDXJSON(b []byte, maxComponents int) (*Document, error) {
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
	r := &jsonReader{dec: json.NewDecoder(bytes.NewReader(b)), b: b, f: SPDXJSON, max: maxComponents}
	m := spdxModel{max: maxComponents}
	err = r.object("", func(key string) error {
		switch key {
		case "spdxVersion":
			return r.str(key, &m.version)
		case "SPDXID":
			return r.str(key, &m.id)
		case "name":
			return r.str(key, &m.name)
		case "creationInfo":
			return r.object(key, func(k string) error {
				if k == "created" {
					return r.str("creationInfo.created", &m.created)
				}
				return r.skip()
			})
		case "documentDescribes":
			return r.array(key, func() error {
				if len(m.describes) >= m.max {
					return r.at(fmt.Sprintf("documentDescribes names more than %d elements; nothing was stored", m.max), ErrTooManyComponents)
				}
				var id string
				err := r.str(key, &id)
				m.describes = append(m.describes, id)
				return err
			})
		case "packages":
			return r.array(key, func() error {
				if err := r.count(); err != nil {
					return err
				}
				var p spdxJSONPackage
				if err := r.value(key, &p); err != nil {
					return err
				}
				pkg := spdxPackage{id: p.SPDXID, name: p.Name, version: p.VersionInfo, supplier: p.Supplier, purpose: p.Purpose}
				for _, ref := range p.ExternalRefs {
					pkg.refs = append(pkg.refs, spdxRef{category: ref.Category, typ: ref.Type, locator: ref.Locator})
				}
				m.packages = append(m.packages, pkg)
				return nil
			})
		case "relationships":
			return r.array(key, func() error {
				var rel spdxJSONRelationship
				if err := r.value(key, &rel); err != nil {
					return err
				}
				line := func() int { l, _ := position(b, int(r.dec.InputOffset())); return l }
				return m.relate(spdxRelationship{element: rel.Element, typ: rel.Type, related: rel.Related}, SPDXJSON, line)
			})
		}
		return r.skip()
	})
	if err == nil {
		err = r.end()
	}
	if err != nil {
		return nil, err
	}
	return buildSPDX(&m, SPDXJSON)
}

func parseSPDXTagValue(b []byte, maxComponents int) (*Document, error) {
	m := spdxModel{max: maxComponents}
	section := "document"
	pkg := -1 // index of the package being read
	err := readTagValues(b, func(p tvPair) error {
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
			if len(m.packages) >= m.max {
				return tooMany(SPDXTagValue, m.max, p.line, 0)
			}
			section = "package"
			m.packages = append(m.packages, spdxPackage{name: p.value})
			pkg = len(m.packages) - 1
		case "PackageVersion", "PackageSupplier", "PrimaryPackagePurpose", "ExternalRef":
			if section != "package" {
				m.warn("line %d: %s outside a package; ignored", p.line, p.tag)
				return nil
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
					m.warn("line %d: ExternalRef %q is not \"category type locator\"; ignored", p.line, clip(p.value))
					return nil
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
				m.warn("line %d: Relationship %q is not \"element TYPE element\"; ignored", p.line, clip(p.value))
				return nil
			}
			return m.relate(spdxRelationship{element: f[0], typ: f[1], related: f[2]}, SPDXTagValue, func() int { return p.line })
		}
		return nil
	})
	if err != nil {
		return nil, err
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
// that span lines, and hands each to fn as it is read (nothing of the
// file is held but the open <text> block).
func readTagValues(b []byte, fn func(tvPair) error) error {
	var (
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
				text.Reset()
				inText = false
				if err := fn(open); err != nil {
					return err
				}
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
			return &Error{Format: SPDXTagValue, Line: n, Msg: fmt.Sprintf("expected \"Tag: value\", found %q", clip(trimmed))}
		}
		if _, after, ok := strings.Cut(rest, "<text>"); ok {
			if value, _, closed := strings.Cut(after, "</text>"); closed {
				if err := fn(tvPair{tag: tag, value: value, line: n}); err != nil {
					return err
				}
			} else {
				text.Reset()
				text.WriteString(after)
				text.WriteByte('\n')
				open = tvPair{tag: tag, line: n}
				inText = true
			}
			continue
		}
		if err := fn(tvPair{tag: tag, value: strings.TrimSpace(rest), line: n}); err != nil {
			return err
		}
	}
	if inText {
		return &Error{Format: SPDXTagValue, Line: open.line, Msg: fmt.Sprintf("the <text> value of %s is never closed with </text>", clip(open.tag))}
	}
	return nil
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
	bd.suppressed += m.suppressed
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
