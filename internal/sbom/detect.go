package sbom

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

const cycloneDXNamespace = "http://cyclonedx.org/schema/bom/"

// detect recognises the format from the first bytes and the top-level keys.
func detect(b []byte) (Format, error) {
	body := bytes.TrimLeft(b, " \t\r\n")
	unknown := func(hint string) (Format, error) {
		return "", &Error{Msg: hint + "; " + accepted, Err: ErrUnknownFormat}
	}
	if len(body) == 0 {
		return unknown("the file is empty")
	}
	switch body[0] {
	case '{':
		info, err := scanJSON(b)
		switch {
		case info.bomFormat.str == "CycloneDX":
			return CycloneDXJSON, nil
		case info.spdxVersion.present:
			return SPDXJSON, nil
		case err != nil:
			// Too deep before either marker appeared: say so rather than
			// "not an SBOM", which would mislead.
			return "", err
		case info.bomFormat.present:
			return unknown(fmt.Sprintf("this is JSON with \"bomFormat\" %q, not \"CycloneDX\"", clip(info.bomFormat.str)))
		case info.context:
			return unknown("this is JSON-LD (SPDX 3 or another linked-data document)")
		}
		return unknown(`this is JSON without "bomFormat": "CycloneDX" or "spdxVersion" at the top level`)
	case '<':
		root, err := xmlRoot(b)
		if err != nil {
			// Unreadable before its root element (a bad prolog, an encoding
			// other than UTF-8): if it names the CycloneDX namespace, let the
			// CycloneDX reader say what is wrong, with the line.
			if bytes.Contains(b[:min(len(b), 4096)], []byte(cycloneDXNamespace)) {
				return CycloneDXXML, nil
			}
			return unknown(fmt.Sprintf("this is XML that could not be read (%s)", xmlMessage(err)))
		}
		if strings.HasPrefix(root.Space, cycloneDXNamespace) {
			return CycloneDXXML, nil
		}
		if root.Local == "RDF" || strings.Contains(root.Space, "spdx.org") {
			return unknown("this is SPDX RDF/XML")
		}
		ns := "no namespace"
		if root.Space != "" {
			ns = fmt.Sprintf("namespace %q", clip(root.Space))
		}
		return unknown(fmt.Sprintf("this is XML whose root element is <%s> (%s), not a CycloneDX <bom> in %s1.x", clip(root.Local), ns, cycloneDXNamespace))
	}
	if line := firstContentLine(body); strings.HasPrefix(line, "SPDXVersion:") {
		return SPDXTagValue, nil
	} else if strings.HasPrefix(line, "spdxVersion:") || strings.HasPrefix(line, "---") || bytes.Contains(body, []byte("\nspdxVersion:")) {
		return unknown("this is YAML")
	}
	if bytes.HasPrefix(body, []byte("PK\x03\x04")) {
		return unknown("this is a ZIP archive or spreadsheet")
	}
	return unknown("the content is not JSON, XML or SPDX tag-value")
}

// firstContentLine skips blank and comment lines, as SPDX tag-value allows.
func firstContentLine(b []byte) string {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		return string(t[:min(len(t), 64)])
	}
	return ""
}

// jsonValue is what scanJSON saw of one top-level key.
type jsonValue struct {
	present  bool
	isString bool
	str      string // raw, still escaped; markers never need escapes
}

type jsonInfo struct {
	bomFormat, specVersion, spdxVersion jsonValue
	context                             bool // "@context": JSON-LD
}

// scanJSON bounds the nesting depth and picks out the top-level markers in
// one cheap pass, before any decoder recurses into the input. It does not
// validate the JSON: the decoder does, with positions. It still reports the
// markers it saw when the depth is exceeded, so the error can name the format.
func scanJSON(b []byte) (jsonInfo, error) {
	var info jsonInfo
	depth := 0
	expectKey := false // at depth 1, the next string is a key
	var key string     // the top-level key whose value comes next
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(b) {
				return info, nil // unterminated: the decoder will say where
			}
			if depth == 1 {
				s := string(b[i+1 : j])
				if expectKey {
					key = s
					expectKey = false
				} else {
					info.set(key, jsonValue{present: true, isString: true, str: s})
					key = ""
				}
			}
			i = j
		case '{', '[':
			depth++
			if depth > maxDepth {
				line, col := position(b, i)
				return info, &Error{Line: line, Column: col, Msg: fmt.Sprintf("JSON nested more than %d levels deep", maxDepth)}
			}
			if depth == 1 {
				expectKey = c == '{'
			} else if depth == 2 {
				info.set(key, jsonValue{present: true})
				key = ""
			}
		case '}', ']':
			depth--
		case ',':
			if depth == 1 {
				expectKey = true
				key = ""
			}
		case ' ', '\t', '\r', '\n', ':':
		default:
			// A number, true, false or null as a top-level value.
			if depth == 1 && key != "" {
				info.set(key, jsonValue{present: true})
				key = ""
			}
		}
	}
	return info, nil
}

func (info *jsonInfo) set(key string, v jsonValue) {
	switch key {
	case "bomFormat":
		info.bomFormat = v
	case "specVersion":
		info.specVersion = v
	case "spdxVersion":
		info.spdxVersion = v
	case "@context":
		info.context = true
	}
}

// position turns a byte offset into a 1-based line and byte column.
func position(b []byte, off int) (line, col int) {
	off = max(0, min(off, len(b)))
	before := b[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = off - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// xmlRoot returns the name of the root element, reading only up to it.
func xmlRoot(b []byte) (xml.Name, error) {
	d := newXMLDecoder(b)
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return xml.Name{}, errors.New("no root element")
			}
			return xml.Name{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name, nil
		}
	}
}

// newXMLDecoder is strict (the default) and refuses encodings other than
// UTF-8 with a message that says what to do.
func newXMLDecoder(b []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf8", "us-ascii", "ascii":
			return r, nil // subsets or spellings of UTF-8
		}
		return nil, fmt.Errorf("the file declares encoding %q; only UTF-8 is accepted", clip(label))
	}
	return d
}

// xmlMessage drops the package prefix and the line encoding/xml repeats
// in its syntax errors; the line goes into Error.Line instead.
func xmlMessage(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return se.Msg
	}
	return strings.TrimPrefix(err.Error(), "xml: ")
}
