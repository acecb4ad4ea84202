// Package sbom reads the Software Bills of Materials that manufacturers upload
// (CycloneDX JSON and XML, SPDX 2.x JSON and tag-value) into one flat,
// deduplicated list of components.
//
// Decisions a caller should know:
//
//   - The SBOM's subject is not a component. For CycloneDX that is
//     metadata.component (its own nested components are listed: they are parts
//     of the product). For SPDX it is the package the document DESCRIBES, but
//     only when that is clearly the subject: exactly one element is described,
//     it is a package, and the document lists other packages. Otherwise (a
//     document about one package, or about several elements) every package is
//     kept, so nothing the manufacturer listed disappears.
//   - Nested CycloneDX components are flattened depth-first, parent before
//     children. SPDX files and snippets are not components.
//   - Component.Name includes the CycloneDX group ("org.keycloak:keycloak-core"
//     for Maven, "@babel/core" for npm): without it distinct components collide.
//     A component without a name takes it from its PURL (or SWID tag); one
//     with no name, PURL or CPE is skipped with a warning. CycloneDX services
//     are not components.
//   - A PURL that packageurl-go refuses is cleared and reported in
//     Document.Warnings; PURL keeps the string as written otherwise.
//     Duplicates are found by the canonical PURL, else by name and version,
//     and merged into the first occurrence (blank fields filled from later ones).
//   - SpecVersion is the bare number: "1.6" for CycloneDX (1.0–1.7, what
//     cyclonedx-go knows), "2.3" for SPDX (2.1–2.3; 2.1 costs nothing extra).
//   - Supplier is the supplier the SBOM states (CycloneDX supplier.name, SPDX
//     PackageSupplier without its "Organization:" or "Person:" prefix); publisher
//     and author are not substituted. CPEs are kept as written.
//
// Every format is read as a stream (encoding/json's and encoding/xml's
// tokenizers) into small structs holding only the fields above: decoding a
// whole cyclonedx-go BOM held about a kilobyte per component whatever the
// input, so 3 MB of empty components took a gigabyte (issue 10). The
// spec versions accepted are still those cyclonedx-go v0.12 knows; SPDX is
// read here too (see spdx.go for why not tools-golang's readers).
//
// Hostile input: Parse refuses more than MaxSize bytes and JSON or XML nested
// deeper than maxDepth (100) before any recursive reader runs, refuses XML
// with a DTD (so no entity expansion of any kind), stops at the component
// cap (Limits.MaxComponents, counting every entry listed, nested and
// repeated ones included, so work stops there too), bounds the warning
// list, and turns a panic in a parser into an error. What one parse holds
// is the input, one small struct per component entry and the deduplicated
// result: tens of megabytes for the largest accepted file.
package sbom

import (
	"errors"
	"fmt"
	"strings"
	"time"

	packageurl "github.com/package-url/packageurl-go"
)

// Format names an accepted SBOM serialisation.
type Format string

// The accepted formats.
const (
	CycloneDXJSON Format = "cyclonedx-json"
	CycloneDXXML  Format = "cyclonedx-xml"
	SPDXJSON      Format = "spdx-json"
	SPDXTagValue  Format = "spdx-tag-value"
)

// label is the name people know the format by, for error messages.
func (f Format) label() string {
	switch f {
	case CycloneDXJSON:
		return "CycloneDX JSON"
	case CycloneDXXML:
		return "CycloneDX XML"
	case SPDXJSON:
		return "SPDX JSON"
	case SPDXTagValue:
		return "SPDX tag-value"
	}
	return string(f)
}

// Component is one piece of software the SBOM lists.
type Component struct {
	Name     string `json:"name"`
	Version  string `json:"version,omitempty"`
	PURL     string `json:"purl,omitempty"`
	CPE      string `json:"cpe,omitempty"`
	Type     string `json:"type,omitempty"`     // CycloneDX type, or SPDX primary purpose in lower case
	Supplier string `json:"supplier,omitempty"` // as stated by the SBOM
	// Ecosystem is the PURL type ("golang", "maven", "npm", "apk", "deb", ...),
	// empty without a valid PURL.
	Ecosystem string `json:"ecosystem,omitempty"`
	// BOMRef is the component's id inside the document: CycloneDX bom-ref or
	// SPDX SPDXID.
	BOMRef string `json:"bom_ref,omitempty"`
}

// Document is a parsed SBOM.
type Document struct {
	Format      Format    `json:"format"`
	SpecVersion string    `json:"spec_version"`
	Name        string    `json:"name,omitempty"` // the SBOM's subject: metadata component or SPDX document name
	Created     time.Time `json:"created,omitzero"`
	// Components are deduplicated by PURL, else name and version, in document order.
	Components []Component `json:"components"`
	// Warnings are non-fatal problems, for the uploader to see.
	Warnings []string `json:"warnings,omitempty"`
}

// MaxSize is the largest input Parse accepts, in bytes.
const MaxSize = 32 << 20

// maxDepth bounds JSON and XML nesting: real SBOMs stay under 10, and the
// bound keeps the recursive decoders' stacks small whatever the input.
const maxDepth = 100

// maxWarnings bounds the warning list: a hostile file could otherwise make
// one warning per component and the list is meant for people to read.
const maxWarnings = 100

// DefaultMaxComponents is the component cap when none is given: generous
// for real firmware (the largest SBOM in the corpus lists 903 components; a
// full Linux distribution image a few thousand) and small enough that
// storing the largest accepted SBOM takes seconds, not minutes.
const DefaultMaxComponents = 50_000

// Limits bound one parse.
type Limits struct {
	// MaxComponents caps the component entries an SBOM may list, counting
	// every entry (nested ones and duplicates included; the SBOM's subject
	// not). Zero means DefaultMaxComponents.
	MaxComponents int
}

func (l Limits) maxComponents() int {
	if l.MaxComponents <= 0 {
		return DefaultMaxComponents
	}
	return l.MaxComponents
}

// ErrTooManyComponents is wrapped by the error for an SBOM over the cap.
var ErrTooManyComponents = errors.New("SBOM lists too many components")

// ErrTooLarge is wrapped by the error for input over MaxSize.
var ErrTooLarge = errors.New("SBOM too large")

// ErrUnknownFormat is wrapped by the error for input in no accepted format.
var ErrUnknownFormat = errors.New("not an accepted SBOM format")

// errPanic marks a panic recovered from a parser; tests and the fuzzer look for it.
var errPanic = errors.New("parser panic")

const accepted = "the accepted formats are CycloneDX JSON or XML and SPDX 2.1–2.3 JSON or tag-value " +
	"(SPDX YAML, RDF/XML, XML and spreadsheets are not accepted)"

// Error is a refusal to parse, with the format and place when known.
type Error struct {
	Format Format // empty when the format could not be recognised
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based byte column; 0 when unknown
	Msg    string
	Err    error // the cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sbom: ")
	if e.Format != "" {
		b.WriteString(e.Format.label())
		b.WriteString(": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Parse recognises the format from the content and parses it, with the
// default limits.
func Parse(b []byte) (*Document, error) { return ParseWith(b, Limits{}) }

// ParseWith is Parse with limits.
func ParseWith(b []byte, l Limits) (*Document, error) {
	if err := checkSize(b); err != nil {
		return nil, err
	}
	b = trimBOM(b)
	f, err := detect(b)
	if err != nil {
		return nil, err
	}
	return parse(b, f, l)
}

// ParseFormat parses b as format f; it still refuses content that lacks the
// format's marker ("bomFormat", "spdxVersion", the CycloneDX namespace, the
// SPDXVersion tag), so a wrong choice fails instead of giving an empty list.
func ParseFormat(b []byte, f Format) (*Document, error) {
	if err := checkSize(b); err != nil {
		return nil, err
	}
	if parsers[f] == nil {
		return nil, &Error{Msg: fmt.Sprintf("unknown format %q; %s", clip(string(f)), accepted), Err: ErrUnknownFormat}
	}
	return parse(trimBOM(b), f, Limits{})
}

func checkSize(b []byte) error {
	if len(b) > MaxSize {
		return &Error{Msg: fmt.Sprintf("the file is %d bytes; the limit is %d (32 MiB)", len(b), MaxSize), Err: ErrTooLarge}
	}
	return nil
}

// trimBOM drops a UTF-8 byte order mark, which Windows tools write and
// encoding/json refuses.
func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

func parse(b []byte, f Format, l Limits) (doc *Document, err error) {
	// The third-party decoders are not hardened against every input; a panic
	// is a refusal of this file, not a crash of the server. (A stack overflow
	// cannot be recovered: the depth bounds are what prevent that.)
	defer func() {
		if r := recover(); r != nil {
			doc = nil
			err = &Error{Format: f, Msg: fmt.Sprintf("the file could not be read (parser failure: %v)", r), Err: errPanic}
		}
	}()
	doc, err = parsers[f](b, l.maxComponents())
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// parsers is a variable so that a test can install one that panics.
var parsers = map[Format]func(b []byte, maxComponents int) (*Document, error){
	CycloneDXJSON: parseCycloneDXJSON,
	CycloneDXXML:  parseCycloneDXXML,
	SPDXJSON:      parseSPDXJSON,
	SPDXTagValue:  parseSPDXTagValue,
}

// tooMany is the refusal of an SBOM listing more than max component
// entries, at the place of the first one over.
func tooMany(f Format, max, line, col int) error {
	return &Error{Format: f, Line: line, Column: col, Err: ErrTooManyComponents,
		Msg: fmt.Sprintf("the SBOM lists more than %d components, the most this server accepts in one SBOM "+
			"(every entry counts, nested and repeated ones too); nothing was stored", max)}
}

// builder accumulates components, merging duplicates and collecting warnings.
type builder struct {
	doc        *Document
	seen       map[string]int // dedup key → index in doc.Components
	n          int            // components offered so far, for messages
	suppressed int            // warnings over maxWarnings
}

func newBuilder(f Format, spec string) *builder {
	return &builder{doc: &Document{Format: f, SpecVersion: spec, Components: []Component{}}, seen: map[string]int{}}
}

func (bd *builder) warnf(format string, args ...any) {
	if len(bd.doc.Warnings) >= maxWarnings {
		bd.suppressed++
		return
	}
	bd.doc.Warnings = append(bd.doc.Warnings, fmt.Sprintf(format, args...))
}

// setCreated parses an RFC 3339 creation time; a bad one is only a warning
// because the components are still usable.
func (bd *builder) setCreated(s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		bd.warnf("the creation time %q is not an RFC 3339 date-time; ignored", clip(s))
		return
	}
	bd.doc.Created = t
}

// add validates, names and deduplicates one component.
func (bd *builder) add(c Component, swidName string) {
	bd.n++
	c.Name = strings.TrimSpace(c.Name)
	c.Version = strings.TrimSpace(c.Version)
	c.PURL = strings.TrimSpace(c.PURL)
	c.CPE = strings.TrimSpace(c.CPE)
	c.Type = strings.TrimSpace(c.Type)
	c.Supplier = strings.TrimSpace(c.Supplier)
	c.BOMRef = strings.TrimSpace(c.BOMRef)

	key := ""
	if c.PURL != "" {
		p, err := packageurl.FromString(c.PURL)
		if err != nil {
			bd.warnf("%s: invalid PURL %q removed (%v)", bd.describe(c), clip(c.PURL), err)
			c.PURL = ""
		} else {
			c.Ecosystem = p.Type
			key = "purl\x00" + p.ToString()
			if c.Name == "" {
				c.Name = purlName(p)
			}
		}
	}
	if c.Name == "" {
		c.Name = strings.TrimSpace(swidName)
	}
	if c.Name == "" && c.PURL == "" && c.CPE == "" {
		bd.warnf("%s has no name, PURL or CPE; skipped", bd.describe(c))
		return
	}
	if key == "" {
		key = "nv\x00" + c.Name + "\x00" + c.Version
	}
	if i, ok := bd.seen[key]; ok {
		first := &bd.doc.Components[i]
		fill(&first.Name, c.Name)
		fill(&first.Version, c.Version)
		fill(&first.PURL, c.PURL)
		fill(&first.CPE, c.CPE)
		fill(&first.Type, c.Type)
		fill(&first.Supplier, c.Supplier)
		fill(&first.Ecosystem, c.Ecosystem)
		fill(&first.BOMRef, c.BOMRef)
		bd.warnf("%s is listed more than once; merged with its first occurrence", bd.describe(c))
		return
	}
	bd.seen[key] = len(bd.doc.Components)
	bd.doc.Components = append(bd.doc.Components, c)
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// describe names a component in a warning so the uploader can find it.
func (bd *builder) describe(c Component) string {
	var s string
	switch {
	case c.Name != "" && c.Version != "":
		s = fmt.Sprintf("component %q version %q", clip(c.Name), clip(c.Version))
	case c.Name != "":
		s = fmt.Sprintf("component %q", clip(c.Name))
	default:
		s = fmt.Sprintf("component #%d", bd.n)
	}
	if c.BOMRef != "" {
		s += fmt.Sprintf(" (id %q)", clip(c.BOMRef))
	}
	return s
}

func (bd *builder) finish() *Document {
	if len(bd.doc.Components) == 0 {
		bd.warnf("the SBOM lists no components")
	}
	if bd.suppressed > 0 {
		bd.doc.Warnings = append(bd.doc.Warnings, fmt.Sprintf("%d more warnings not shown", bd.suppressed))
	}
	return bd.doc
}

// purlName gives the name a package is known by in its ecosystem: for these
// types the PURL namespace is part of it, for others (apk, deb, rpm: the
// distribution) it is not.
func purlName(p packageurl.PackageURL) string {
	if p.Namespace == "" {
		return p.Name
	}
	switch p.Type {
	case packageurl.TypeMaven:
		return p.Namespace + ":" + p.Name
	case packageurl.TypeNPM, packageurl.TypeGolang, packageurl.TypeComposer,
		packageurl.TypeGithub, packageurl.TypeBitbucket, packageurl.TypeSwift:
		return p.Namespace + "/" + p.Name
	}
	return p.Name
}

// clip shortens what the input supplied before it goes into a message.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	// Cut on a rune boundary so %q does not show a broken character.
	cut := max
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

func validPURL(s string) bool {
	_, err := packageurl.FromString(s)
	return err == nil
}
