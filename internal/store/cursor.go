package store

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// MaxOffset bounds how many rows a list may be asked to skip (?page=,
// ?offset=): OFFSET makes the database walk every skipped row, so a deep
// page would cost a stranger nothing and the server a scan. Past it a list
// is read by key (a cursor), or the search is narrowed.
const MaxOffset = 10_000

// CheckOffset refuses an offset past MaxOffset; callers add how to go on.
func CheckOffset(offset int) error {
	if offset > MaxOffset {
		return fmt.Errorf("a list skips at most %d rows by number", MaxOffset)
	}
	return nil
}

// MaxCursor bounds an encoded cursor: a product's key holds two names of
// at most 200 characters each.
const MaxCursor = 2400

// errCursor is the answer to any cursor this registry did not give out.
var errCursor = errors.New("the cursor is not one this registry gave out; start again from the first page")

// encodeCursor makes a key's fields one opaque URL-safe cursor. Fields
// are separated by line breaks, which no field holds (names are single
// lines, times and ids have none).
func encodeCursor(fields ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(fields, "\n")))
}

// decodeCursor reads the n fields encodeCursor wrote; the caller checks
// each field.
func decodeCursor(c string, n int) ([]string, error) {
	if c == "" || len(c) > MaxCursor {
		return nil, errCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, errCursor
	}
	f := strings.Split(string(b), "\n")
	if len(f) != n {
		return nil, errCursor
	}
	return f, nil
}
