// Package input is the one rule for the text Hallmark accepts from anyone:
// names, single-line values, free text and search terms. Every write path
// (forms, the API, uploaded SBOMs, evidence names, notes and reasons) and
// every search checks its strings here, so SQLite and PostgreSQL see the
// same input: PostgreSQL refuses a NUL byte and invalid UTF-8 in text,
// which SQLite would store, and the answer must not depend on the engine.
//
// The rules:
//   - all text is valid UTF-8 without NUL or any other control character
//     (C0, DEL, C1), except in free text: tab, newline, and a carriage
//     return that starts a CRLF newline (what browsers send from a textarea);
//   - names (of organisations, products, files, tokens, ...) also refuse
//     the Unicode bidirectional embeddings, overrides and isolates, which
//     can make a name display as something else (a file "report‮fdp.exe"
//     shows as "reportexe.pdf").
package input

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrText is wrapped by every refusal, so callers can tell bad input (a
// 400 or 422 the user fixes) from a failure.
var ErrText = errors.New("text refused")

// Kind is what a string is for, which decides what it may hold.
type Kind int

const (
	// Name is a short label shown to people: no control characters at
	// all, no bidirectional controls.
	Name Kind = iota
	// Line is a single-line value that is not a display name (a version
	// string, an identifier, a search term): no control characters.
	Line
	// Text is free text (notes, reasons, rationales, descriptions): tab
	// and newlines allowed, other control characters not.
	Text
)

func (k Kind) String() string {
	switch k {
	case Name:
		return "name"
	case Line:
		return "line"
	case Text:
		return "text"
	}
	return "kind " + fmt.Sprint(int(k))
}

// Error is a refused string: which field, and the first offending
// character and where it is, so the user can find it.
type Error struct {
	Field  string
	Reason string
	Offset int // byte offset of the offending character
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (at byte %d); remove it and send again", e.Field, e.Reason, e.Offset)
}

func (e *Error) Unwrap() error { return ErrText }

// Check reports whether s is acceptable as kind; field names it in the
// error. Length limits are the caller's (they differ per field).
func Check(field, s string, kind Kind) error {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf { // ASCII fast path
			switch {
			case c >= 0x20 && c != 0x7f:
			case kind == Text && (c == '\t' || c == '\n'):
			case kind == Text && c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			case c == 0:
				return &Error{field, "contains a NUL byte", i}
			case kind == Text && c == '\r':
				return &Error{field, "contains a carriage return that does not start a line break", i}
			case c == '\t' || c == '\n' || c == '\r':
				return &Error{field, fmt.Sprintf("contains a %s; it must be one line", ctlName(c)), i}
			default:
				return &Error{field, fmt.Sprintf("contains the control character U+%04X", c), i}
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return &Error{field, "is not valid UTF-8", i}
		case r >= 0x80 && r <= 0x9f:
			return &Error{field, fmt.Sprintf("contains the control character U+%04X", r), i}
		case kind == Name && isBidiControl(r):
			return &Error{field, fmt.Sprintf("contains the bidirectional control U+%04X, which can make a name display as another", r), i}
		}
		i += n
	}
	return nil
}

// Field is one string to check, for CheckAll.
type Field struct {
	Name  string
	Value string
	Kind  Kind
}

// CheckAll checks every field and returns the first refusal.
func CheckAll(fields ...Field) error {
	for _, f := range fields {
		if err := Check(f.Name, f.Value, f.Kind); err != nil {
			return err
		}
	}
	return nil
}

// isBidiControl reports the embeddings, overrides and isolates (LRE, RLE,
// PDF, LRO, RLO; LRI, RLI, FSI, PDI): the characters that reorder what
// follows. The marks (LRM, RLM, ALM) only nudge neutral characters and
// have honest uses in right-to-left names, so they pass.
func isBidiControl(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

func ctlName(c byte) string {
	switch c {
	case '\t':
		return "tab"
	case '\n':
		return "line break"
	}
	return "carriage return"
}
