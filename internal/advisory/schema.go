package advisory

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileSchema compiles an embedded JSON schema. A schema that does not
// compile is a bug in this package, so it panics (once, at first use).
func compileSchema(url string, schema []byte) *jsonschema.Schema {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		panic(fmt.Sprintf("advisory: embedded schema %s: %v", url, err))
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(url, doc); err != nil {
		panic(fmt.Sprintf("advisory: embedded schema %s: %v", url, err))
	}
	s, err := c.Compile(url)
	if err != nil {
		panic(fmt.Sprintf("advisory: embedded schema %s: %v", url, err))
	}
	return s
}

// decodeForSchema decodes JSON the way the validator wants it: numbers as
// json.Number, so that integer checks are exact.
func decodeForSchema(b []byte) (any, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, jsonError(b, err)
	}
	return v, nil
}

// schemaError reports the first few schema violations, the deepest first,
// each with its JSON path.
func schemaError(doc string, err error) error {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return &Error{Doc: doc, Msg: "schema validation failed", Err: err}
	}
	var msgs []string
	for _, u := range ve.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		msgs = append(msgs, pointerToPath(u.InstanceLocation)+": "+u.Error.String())
	}
	return violations(doc, msgs)
}

// violations turns "path: message" lines into one error: its Path is the
// first violation's, and up to three are named.
func violations(doc string, msgs []string) error {
	if len(msgs) == 0 {
		return errorf(doc, "", "does not match its schema")
	}
	// The deepest path is the most specific: report it first.
	slices.SortStableFunc(msgs, func(a, b string) int {
		return strings.Count(b, ".") + strings.Count(b, "[") - strings.Count(a, ".") - strings.Count(a, "[")
	})
	path, msg, _ := strings.Cut(msgs[0], ": ")
	if more := len(msgs) - 1; more > 0 {
		rest := msgs[1:min(len(msgs), 3)]
		msg += " (and " + fmt.Sprint(more) + " more: " + clip(strings.Join(rest, "; ")) + ")"
	}
	return &Error{Doc: doc, Path: path, Msg: "does not match the schema: " + msg}
}
