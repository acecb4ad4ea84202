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
	"strconv"
	"strings"

	packageurl "github.com/package-url/packageurl-go"
)

// cycloneDXVersions are the spec versions cyclonedx-go v0.12 knows (the
// versions this reader was checked against).
var cycloneDXVersions = []string{"1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7"}

func knownCycloneDXVersion(v string) bool { return slices.Contains(cycloneDXVersions, v) }

func parseCycloneDXJSON(b []byte, maxComponents int) (*Document, error) {
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
	r := &jsonReader{dec: json.NewDecoder(bytes.NewReader(b)), b: b, f: CycloneDXJSON, max: maxComponents}
	var bom cdxBOM
	if err := r.cycloneDX(&bom); err != nil {
		return nil, err
	}
	return bom.build(CycloneDXJSON, info.specVersion.str), nil
}

// cdxComponent is what is kept of one CycloneDX component.
type cdxComponent struct {
	group, name, version, purl, cpe, typ, bomRef, supplier, swid string
}

// cdxBOM is what is kept of a CycloneDX document. The components of the
// subject (metadata.component) and the top-level ones are kept apart and
// each flattened parent before children, as the document lists them.
type cdxBOM struct {
	created string
	subject cdxComponent
	parts   []cdxComponent // the subject's nested components
	listed  []cdxComponent // components[] and their nested components
}

func (bom *cdxBOM) build(f Format, spec string) *Document {
	bd := newBuilder(f, spec)
	bd.setCreated(bom.created)
	bd.doc.Name = strings.TrimSpace(groupName(bom.subject))
	// Parts of the subject are components of the product.
	for _, list := range [][]cdxComponent{bom.parts, bom.listed} {
		for _, c := range list {
			bd.add(Component{Name: groupName(c), Version: c.version, PURL: c.purl, CPE: c.cpe, Type: c.typ,
				Supplier: c.supplier, BOMRef: c.bomRef}, c.swid)
		}
	}
	return bd.finish()
}

// cycloneDX reads a CycloneDX JSON document; only the fields kept are
// decoded, everything else is skipped (but still checked to be JSON).
func (r *jsonReader) cycloneDX(bom *cdxBOM) error {
	err := r.object("", func(key string) error {
		switch key {
		case "metadata":
			return r.object("metadata", func(key string) error {
				switch key {
				case "timestamp":
					return r.str("metadata.timestamp", &bom.created)
				case "component":
					return r.component(&bom.subject, &bom.parts, -1, "metadata.component")
				}
				return r.skip()
			})
		case "components":
			return r.components(&bom.listed, "components")
		}
		return r.skip()
	})
	if err != nil {
		return err
	}
	return r.end()
}

// components reads an array of components into out.
func (r *jsonReader) components(out *[]cdxComponent, path string) error {
	return r.array(path, func() error {
		if err := r.count(); err != nil {
			return err
		}
		// Reserve the component's place before its nested components,
		// whichever order its keys come in.
		*out = append(*out, cdxComponent{})
		return r.component(nil, out, len(*out)-1, path)
	})
}

// component reads one component object: into self when given (the
// subject), else into (*out)[at]; its nested components go to out.
func (r *jsonReader) component(self *cdxComponent, out *[]cdxComponent, at int, path string) error {
	c := func() *cdxComponent {
		if self != nil {
			return self
		}
		return &(*out)[at] // out may have grown: index afresh each time
	}
	return r.object(path, func(key string) error {
		switch key {
		case "name":
			return r.str(path+".name", &c().name)
		case "group":
			return r.str(path+".group", &c().group)
		case "version":
			return r.str(path+".version", &c().version)
		case "purl":
			return r.str(path+".purl", &c().purl)
		case "cpe":
			return r.str(path+".cpe", &c().cpe)
		case "type":
			return r.str(path+".type", &c().typ)
		case "bom-ref":
			return r.str(path+".bom-ref", &c().bomRef)
		case "supplier", "swid":
			var name string
			err := r.object(path+"."+key, func(k string) error {
				if k == "name" {
					return r.str(path+"."+key+".name", &name)
				}
				return r.skip()
			})
			if key == "swid" {
				c().swid = name
			} else {
				c().supplier = name
			}
			return err
		case "components":
			return r.components(out, path+".components")
		}
		return r.skip()
	})
}

func parseCycloneDXXML(b []byte, maxComponents int) (*Document, error) {
	r := &xmlReader{d: newXMLDecoder(b), max: maxComponents}
	var bom cdxBOM
	spec, err := r.cycloneDX(&bom)
	if err != nil {
		return nil, err
	}
	return bom.build(CycloneDXXML, spec), nil
}

// xmlReader reads CycloneDX XML token by token, in one pass: it refuses
// DTDs (no entity tricks of any kind), bounds the depth it recurses to,
// reports syntax errors with their line, and keeps only the fields used.
type xmlReader struct {
	d     *xml.Decoder
	depth int
	n     int // component entries so far
	max   int
}

func (r *xmlReader) fail(msg string, cause error) error {
	line, col := r.d.InputPos()
	var se *xml.SyntaxError
	if errors.As(cause, &se) {
		line, col = se.Line, 0
	}
	return &Error{Format: CycloneDXXML, Line: line, Column: col, Msg: msg, Err: cause}
}

// next returns the next token that matters: elements and character data.
func (r *xmlReader) next() (xml.Token, error) {
	for {
		tok, err := r.d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, err
			}
			return nil, r.fail("invalid XML: "+xmlMessage(err), err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			// CycloneDX never needs one, and refusing it rules out entity
			// expansion however the decoder might treat it.
			return nil, r.fail("declarations such as <!DOCTYPE ...> or <!ENTITY ...> are not accepted in an SBOM", nil)
		case xml.StartElement:
			r.depth++
			if r.depth > maxDepth {
				return nil, r.fail(fmt.Sprintf("XML nested more than %d levels deep", maxDepth), nil)
			}
			return t, nil
		case xml.EndElement:
			r.depth--
			return t, nil
		case xml.CharData:
			return t, nil
		}
	}
}

// children calls fn for each child element of the element just started,
// and text for its character data, until the element ends.
func (r *xmlReader) children(fn func(xml.StartElement) error, text func(xml.CharData)) error {
	for {
		tok, err := r.next()
		if errors.Is(err, io.EOF) {
			return r.fail("invalid XML: unexpected EOF", &xml.SyntaxError{Msg: "unexpected EOF", Line: r.line()})
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		case xml.CharData:
			if text != nil {
				text(t)
			}
		}
	}
}

func (r *xmlReader) line() int {
	line, _ := r.d.InputPos()
	return line
}

// skip reads past the element just started.
func (r *xmlReader) skip(xml.StartElement) error { return r.children(r.skip, nil) }

// text reads the character data directly inside the element just started.
func (r *xmlReader) text(dst *string) error {
	var b strings.Builder
	err := r.children(r.skip, func(c xml.CharData) { b.Write(c) })
	*dst = b.String()
	return err
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

func (r *xmlReader) cycloneDX(bom *cdxBOM) (spec string, err error) {
	var root xml.StartElement
	for {
		tok, err := r.next()
		if errors.Is(err, io.EOF) {
			return "", r.fail("no root element", nil)
		}
		if err != nil {
			return "", err
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	if root.Name.Local != "bom" || !strings.HasPrefix(root.Name.Space, cycloneDXNamespace) {
		return "", r.fail(fmt.Sprintf("the root element is <%s> in namespace %q, not <bom> in %s1.x", clip(root.Name.Local), clip(root.Name.Space), cycloneDXNamespace), nil)
	}
	spec = strings.TrimPrefix(root.Name.Space, cycloneDXNamespace)
	if !knownCycloneDXVersion(spec) {
		return "", r.fail(fmt.Sprintf("unsupported CycloneDX version %q (accepted: %s)", clip(spec), strings.Join(cycloneDXVersions, ", ")), nil)
	}
	if v := attr(root, "version"); v != "" {
		if _, err := strconv.Atoi(strings.TrimSpace(v)); err != nil {
			return "", r.fail(fmt.Sprintf("invalid CycloneDX XML: the bom's version attribute %q is not a whole number", clip(v)), nil)
		}
	}
	err = r.children(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "metadata":
			return r.children(func(se xml.StartElement) error {
				switch se.Name.Local {
				case "timestamp":
					return r.text(&bom.created)
				case "component":
					return r.component(se, &bom.subject, &bom.parts, -1)
				}
				return r.skip(se)
			}, nil)
		case "components":
			return r.components(&bom.listed)
		}
		return r.skip(se)
	}, nil)
	if err != nil {
		return "", err
	}
	// Nothing but comments, processing instructions and space may follow.
	for {
		tok, err := r.next()
		if errors.Is(err, io.EOF) {
			return spec, nil
		}
		if err != nil {
			return "", err
		}
		if _, ok := tok.(xml.CharData); !ok || len(bytes.TrimSpace(tok.(xml.CharData))) > 0 {
			return "", r.fail("invalid XML: content after the root element", nil)
		}
	}
}

// components reads the <component> children of a <components> element.
func (r *xmlReader) components(out *[]cdxComponent) error {
	return r.children(func(se xml.StartElement) error {
		if se.Name.Local != "component" {
			return r.skip(se)
		}
		if r.n++; r.n > r.max {
			line, col := r.d.InputPos()
			return tooMany(CycloneDXXML, r.max, line, col)
		}
		*out = append(*out, cdxComponent{})
		return r.component(se, nil, out, len(*out)-1)
	}, nil)
}

// component reads one <component>: into self when given (the subject),
// else into (*out)[at]; its nested components go to out.
func (r *xmlReader) component(start xml.StartElement, self *cdxComponent, out *[]cdxComponent, at int) error {
	c := func() *cdxComponent {
		if self != nil {
			return self
		}
		return &(*out)[at]
	}
	c().typ, c().bomRef = attr(start, "type"), attr(start, "bom-ref")
	return r.children(func(se xml.StartElement) error {
		var s string
		var err error
		switch se.Name.Local {
		case "name", "group", "version", "purl", "cpe":
			err = r.text(&s)
			switch se.Name.Local {
			case "name":
				c().name = s
			case "group":
				c().group = s
			case "version":
				c().version = s
			case "purl":
				c().purl = s
			case "cpe":
				c().cpe = s
			}
			return err
		case "supplier":
			err = r.children(func(se xml.StartElement) error {
				if se.Name.Local == "name" {
					return r.text(&s)
				}
				return r.skip(se)
			}, nil)
			c().supplier = s
			return err
		case "swid":
			c().swid = attr(se, "name")
			return r.skip(se)
		case "components":
			return r.components(out)
		}
		return r.skip(se)
	}, nil)
}

// groupName joins the CycloneDX group to the name the way the ecosystem
// writes it, unless the name already carries it.
func groupName(c cdxComponent) string {
	group, name := strings.TrimSpace(c.group), strings.TrimSpace(c.name)
	if group == "" || name == "" {
		return name
	}
	sep := "/"
	if p, err := packageurl.FromString(strings.TrimSpace(c.purl)); err == nil && p.Type == packageurl.TypeMaven {
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
