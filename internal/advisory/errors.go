package advisory

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every error for a document that is refused:
// malformed, over a limit, or not what it claims to be.
var ErrInvalid = errors.New("invalid document")

// Limits. Sizes are checked before any parsing, so a hostile document costs
// at most one read of its bytes; counts bound what a small document could
// otherwise multiply into (a CSAF document naming every product in every
// vulnerability).
const (
	// MaxDocumentSize bounds CSAF documents and the KEV catalogue (1.2 MiB
	// in 2025; the largest ICS advisory is under 1 MiB).
	MaxDocumentSize = 16 << 20
	// MaxRecordSize bounds one OSV record, OpenVEX or CycloneDX VEX
	// document, and each entry of an OSV zip.
	MaxRecordSize = 4 << 20

	maxJSONDepth       = 100 // CSAF branches nest 2 levels each: 30 branches fit
	maxBranchDepth     = 30
	maxVulnerabilities = 10_000
	maxProducts        = 100_000 // product ids defined in one product tree
	maxStatements      = 200_000 // statements, affected entries, exploitations per document
)

// Error is a refused document: which one, where in it, and why. It wraps
// ErrInvalid, and the underlying cause when there is one.
type Error struct {
	Doc  string // the document's id or file name, "" when not known yet
	Path string // a JSON path such as vulnerabilities[2].product_status.known_affected[0], or "line 3, column 7"
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Doc != "" {
		b.WriteString(e.Doc)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalid}
	}
	return []error{ErrInvalid, e.Err}
}

// named returns err with its document set to doc when it has none yet, so
// that an error found deep in a parser still starts with the document.
func named(err error, doc string) error {
	var e *Error
	if doc != "" && errors.As(err, &e) && e.Doc == "" {
		c := *e
		c.Doc = doc
		return &c
	}
	return err
}

func errorf(doc, path, format string, args ...any) error {
	return &Error{Doc: doc, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// checkSize refuses a document over max before anything reads it.
func checkSize(b []byte, max int, what string) error {
	if len(b) > max {
		return errorf("", "", "%s of %d bytes is over the limit of %d", what, len(b), max)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return errorf("", "", "empty %s", what)
	}
	return nil
}

// checkJSON refuses input that is not one JSON object, or that nests deeper
// than maxJSONDepth, in one linear pass. Decoders and the schema validator
// recurse per level; this keeps hostile nesting from reaching them.
func checkJSON(b []byte) error {
	depth, inString, escaped := 0, false, false
	first := true
	for i, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > maxJSONDepth {
				return errorf("", position(b, int64(i)), "JSON nested deeper than %d levels", maxJSONDepth)
			}
		case '}', ']':
			depth--
		}
		if first && c != '{' {
			return errorf("", "", "not a JSON object")
		}
		first = false
	}
	return nil
}

// jsonError turns an encoding/json error into one naming the place: the
// field path for a type error, the line and column for a syntax error.
func jsonError(b []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &Error{Path: position(b, syn.Offset-1), Msg: "malformed JSON", Err: err} // Offset is just past the bad byte
	case errors.As(err, &typ):
		path := typ.Field
		if path == "" {
			path = position(b, typ.Offset)
		}
		return &Error{Path: path, Msg: fmt.Sprintf("%s where %s was expected", typ.Value, typ.Type)}
	}
	return &Error{Msg: "malformed JSON", Err: err}
}

// position names a byte offset as a line and column (1-based).
func position(b []byte, off int64) string {
	if off < 0 {
		off = 0
	}
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	before := b[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// pointerToPath turns a JSON pointer (/vulnerabilities/2/product_status)
// into the path notation errors use (vulnerabilities[2].product_status).
func pointerToPath(ptr string) string {
	if ptr == "" || ptr == "/" {
		return "(document)"
	}
	var b strings.Builder
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func sum256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// clip shortens a value quoted in an error, so that a hostile document
// cannot make its own error message huge.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
