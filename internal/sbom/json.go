package sbom

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// jsonReader walks a JSON document token by token (encoding/json's
// Decoder), decoding only the values asked for: memory stays at the
// decoder's buffer (the largest single value read) plus what is kept.
// The depth was bounded by scanJSON before it runs, so its recursion is.
type jsonReader struct {
	dec *json.Decoder
	b   []byte // the whole input, for line and column in messages
	f   Format
	n   int // component entries so far
	max int
}

// at is an error at the decoder's current place.
func (r *jsonReader) at(msg string, cause error) error {
	line, col := position(r.b, int(r.dec.InputOffset()))
	return &Error{Format: r.f, Line: line, Column: col, Msg: msg, Err: cause}
}

// count admits one more component entry, or refuses the SBOM at the
// entry (the decoder's offset is still at the end of the one before).
func (r *jsonReader) count() error {
	if r.n++; r.n > r.max {
		off := int(r.dec.InputOffset())
		for off < len(r.b) && strings.IndexByte(" \t\r\n,", r.b[off]) >= 0 {
			off++
		}
		line, col := position(r.b, off)
		return tooMany(r.f, r.max, line, col)
	}
	return nil
}

// syntax turns the decoder's errors into messages with line and column.
func (r *jsonReader) syntax(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		line, col := position(r.b, int(se.Offset))
		return &Error{Format: r.f, Line: line, Column: col, Msg: "invalid JSON: " + se.Error(), Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		line, col := position(r.b, len(r.b))
		return &Error{Format: r.f, Line: line, Column: col, Msg: "invalid JSON: unexpected end of JSON input", Err: err}
	}
	return r.at("invalid JSON: "+err.Error(), err)
}

func (r *jsonReader) token() (json.Token, error) {
	t, err := r.dec.Token()
	if err != nil {
		return nil, r.syntax(err)
	}
	return t, nil
}

// kind names a token's JSON type, as encoding/json's messages do.
func kind(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		if v == '[' {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return "number"
}

func (r *jsonReader) mismatch(path string, t json.Token, want string) error {
	return r.at(fmt.Sprintf("%q is a JSON %s but must be %s", path, kind(t), want), nil)
}

// object reads an object (or null), calling field with each key; field
// must read the key's value.
func (r *jsonReader) object(path string, field func(key string) error) error {
	t, err := r.token()
	if err != nil || t == nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return r.mismatch(path, t, "an object")
	}
	for r.dec.More() {
		k, err := r.token()
		if err != nil {
			return err
		}
		key, _ := k.(string) // the decoder returns keys as strings
		if err := field(key); err != nil {
			return err
		}
	}
	_, err = r.token() // '}'
	return err
}

// array reads an array (or null), calling elem for each element; elem
// must read it.
func (r *jsonReader) array(path string, elem func() error) error {
	t, err := r.token()
	if err != nil || t == nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return r.mismatch(path, t, "an array")
	}
	for r.dec.More() {
		if err := elem(); err != nil {
			return err
		}
	}
	_, err = r.token() // ']'
	return err
}

// str reads a string (null leaves dst as it is).
func (r *jsonReader) str(path string, dst *string) error {
	t, err := r.token()
	if err != nil {
		return err
	}
	switch v := t.(type) {
	case string:
		*dst = v
	case nil:
	default:
		return r.mismatch(path, t, "a string")
	}
	return nil
}

// value decodes one whole value into v, with messages about the document.
func (r *jsonReader) value(path string, v any) error {
	start := r.dec.InputOffset()
	err := r.dec.Decode(v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := path
		if te.Field != "" {
			field = path + "." + te.Field
		}
		line, col := position(r.b, int(start+te.Offset))
		return &Error{Format: r.f, Line: line, Column: col,
			Msg: fmt.Sprintf("%q is a JSON %s but must be %s", field, te.Value, jsonKind(te.Type)), Err: err}
	}
	return r.syntax(err)
}

// skipped is a value read and thrown away: the decoder still checks that
// it is JSON, but nothing of it is kept.
type skipped struct{}

func (*skipped) UnmarshalJSON([]byte) error { return nil }

func (r *jsonReader) skip() error {
	if err := r.dec.Decode(&skipped{}); err != nil {
		return r.syntax(err)
	}
	return nil
}

// end refuses anything but space after the top-level value.
func (r *jsonReader) end() error {
	_, err := r.dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return r.syntax(err)
	}
	return r.at("invalid JSON: more data after the top-level object", nil)
}
