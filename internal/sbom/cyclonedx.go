package sbom

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	packageurl "github.com/package-url/packageurl-go"
)

// cycloneDXVersions are the spec versions cyclonedx-go v0.12 knows; it
// refuses others, so say which are accepted before it does.
var cycloneDXVersions = []string{"1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7"}

func knownCycloneDXVersion(v string) bool { return slices.Contains(cycloneDXVersions, v) }

func parseCycloneDXJSON(b []byte) (*Document, error) {
	fail := func(msg string) error { return &Error{Format: CycloneDXJSON, Msg: msg} }
	info, err := scanJSON(b)
	if err != nil {
		return nil, withFormat(err, CycloneDXJSON)
	}
	if body := bytes.TrimLeft(b, " \t\r\n"); len(body) == 0 || body[0] != '{' {
		return nil, fail("the file is not a JSON object")
	}
	if info.bomFormat.str != "CycloneDX" {
		return nil, fail(`"bomFormat": "CycloneDX" is missing at the top level`)
	}
	switch {
	case !info.specVersion.present:
		return nil, fail(`"specVersion" is missing`)
	case !info.specVersion.isString:
		return nil, fail(`"specVersion" must be a string such as "1.6"`)
	case !knownCycloneDXVersion(info.specVersion.str):
		return nil, fail(fmt.Sprintf("unsupported specVersion %q (accepted: %s)", clip(info.specVersion.str), strings.Join(cycloneDXVersions, ", ")))
	}
	var bom cdx.BOM
	if err := json.Unmarshal(b, &bom); err != nil {
		return nil, jsonError(b, err, CycloneDXJSON)
	}
	return buildCycloneDX(&bom, CycloneDXJSON, info.specVersion.str), nil
}

func parseCycloneDXXML(b []byte) (*Document, error) {
	spec, err := checkXML(b)
	if err != nil {
		return nil, err
	}
	// Decoded here rather than through cdx.NewBOMDecoder so that errors can
	// carry the decoder's position.
	d := newXMLDecoder(b)
	var bom cdx.BOM
	if err := d.Decode(&bom); err != nil {
		line, col := d.InputPos()
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			line, col = se.Line, 0
		}
		return nil, &Error{Format: CycloneDXXML, Line: line, Column: col, Msg: "invalid CycloneDX XML: " + xmlMessage(err), Err: err}
	}
	return buildCycloneDX(&bom, CycloneDXXML, spec), nil
}

// checkXML reads every token once before the struct decoder runs: it
// refuses DTDs (no entity tricks reach the decoder), bounds the depth the
// decoder will recurse to, reports syntax errors with their line, and
// returns the spec version from the root element's namespace.
func checkXML(b []byte) (spec string, err error) {
	d := newXMLDecoder(b)
	fail := func(msg string, cause error) error {
		line, col := d.InputPos()
		var se *xml.SyntaxError
		if errors.As(cause, &se) {
			line, col = se.Line, 0
		}
		return &Error{Format: CycloneDXXML, Line: line, Column: col, Msg: msg, Err: cause}
	}
	depth := 0
	sawRoot := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fail("invalid XML: "+xmlMessage(err), err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			// CycloneDX never needs one, and refusing it rules out entity
			// expansion however the decoder might treat it.
			return "", fail("declarations such as <!DOCTYPE ...> or <!ENTITY ...> are not accepted in an SBOM", nil)
		case xml.StartElement:
			depth++
			if depth > maxDepth {
				return "", fail(fmt.Sprintf("XML nested more than %d levels deep", maxDepth), nil)
			}
			if sawRoot {
				continue
			}
			sawRoot = true
			if t.Name.Local != "bom" || !strings.HasPrefix(t.Name.Space, cycloneDXNamespace) {
				return "", fail(fmt.Sprintf("the root element is <%s> in namespace %q, not <bom> in %s1.x", clip(t.Name.Local), clip(t.Name.Space), cycloneDXNamespace), nil)
			}
			spec = strings.TrimPrefix(t.Name.Space, cycloneDXNamespace)
			if !knownCycloneDXVersion(spec) {
				return "", fail(fmt.Sprintf("unsupported CycloneDX version %q (accepted: %s)", clip(spec), strings.Join(cycloneDXVersions, ", ")), nil)
			}
		case xml.EndElement:
			depth--
		}
	}
	if !sawRoot {
		return "", fail("no root element", nil)
	}
	return spec, nil
}

func buildCycloneDX(bom *cdx.BOM, f Format, spec string) *Document {
	bd := newBuilder(f, spec)
	if md := bom.Metadata; md != nil {
		bd.setCreated(md.Timestamp)
		if mc := md.Component; mc != nil {
			bd.doc.Name = strings.TrimSpace(groupName(mc))
			// Parts of the subject are components of the product.
			bd.addCycloneDX(mc.Components)
		}
	}
	bd.addCycloneDX(bom.Components)
	return bd.finish()
}

func (bd *builder) addCycloneDX(list *[]cdx.Component) {
	if list == nil {
		return
	}
	for i := range *list {
		c := &(*list)[i]
		comp := Component{
			Name:    groupName(c),
			Version: c.Version,
			PURL:    c.PackageURL,
			CPE:     c.CPE,
			Type:    string(c.Type),
			BOMRef:  c.BOMRef,
		}
		if c.Supplier != nil {
			comp.Supplier = c.Supplier.Name
		}
		swid := ""
		if c.SWID != nil {
			swid = c.SWID.Name
		}
		bd.add(comp, swid)
		// Recursion depth is bounded by the nesting check before decoding.
		bd.addCycloneDX(c.Components)
	}
}

// groupName joins the CycloneDX group to the name the way the ecosystem
// writes it, unless the name already carries it.
func groupName(c *cdx.Component) string {
	group, name := strings.TrimSpace(c.Group), strings.TrimSpace(c.Name)
	if group == "" || name == "" {
		return name
	}
	sep := "/"
	if p, err := packageurl.FromString(strings.TrimSpace(c.PackageURL)); err == nil && p.Type == packageurl.TypeMaven {
		sep = ":"
	}
	if strings.HasPrefix(name, group+sep) {
		return name
	}
	return group + sep + name
}

// withFormat labels a format-less *Error (from scanJSON) with f.
func withFormat(err error, f Format) error {
	var e *Error
	if errors.As(err, &e) && e.Format == "" {
		c := *e
		c.Format = f
		return &c
	}
	return err
}

// jsonError turns encoding/json's errors into messages about the document,
// with line and column, instead of Go type names.
func jsonError(b []byte, err error, f Format) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(b, int(se.Offset))
		return &Error{Format: f, Line: line, Column: col, Msg: "invalid JSON: " + se.Error(), Err: err}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		line, col := position(b, int(te.Offset))
		field := te.Field
		if field == "" {
			field = "the document"
		} else {
			field = fmt.Sprintf("%q", field)
		}
		return &Error{Format: f, Line: line, Column: col,
			Msg: fmt.Sprintf("%s is a JSON %s but must be %s", field, te.Value, jsonKind(te.Type)), Err: err}
	}
	return &Error{Format: f, Msg: "invalid document: " + strings.TrimPrefix(err.Error(), "json: "), Err: err}
}

// jsonKind names a Go type the way a JSON author thinks of it.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another type"
}
