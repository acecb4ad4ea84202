package server

import (
	"fmt"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/input"
	"github.com/hallmark-iot/hallmark/internal/registry"
)

// The application layer's use of package input: every string a request
// can make Hallmark store or search for is checked before the store sees
// it, so SQLite and PostgreSQL get the same input and the user gets the
// same answer (ErrInvalid wrapping input.ErrText: a 400) on both.

// checkText checks one field.
func checkText(field, v string, kind input.Kind) error {
	if err := input.Check(field, v, kind); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// checkFields checks several fields, answering the first refusal.
func checkFields(fs ...input.Field) error {
	if err := input.CheckAll(fs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// checkComponents checks an SBOM's components as they will be stored; the
// field names say which component, so a user can find it in the file.
func checkComponents(format string, cs []registry.Component) error {
	if err := checkText("sbom format", format, input.Line); err != nil {
		return err
	}
	for i, c := range cs {
		at := fmt.Sprintf("SBOM component %d ", i+1)
		if err := checkFields(
			input.Field{Name: at + "name", Value: c.Name, Kind: input.Name},
			input.Field{Name: at + "version", Value: c.Version, Kind: input.Line},
			input.Field{Name: at + "purl", Value: c.PURL, Kind: input.Line},
			input.Field{Name: at + "cpe", Value: c.CPE, Kind: input.Line},
			input.Field{Name: at + "ecosystem", Value: c.Ecosystem, Kind: input.Line},
			input.Field{Name: at + "type", Value: c.Type, Kind: input.Line},
			input.Field{Name: at + "supplier", Value: c.Supplier, Kind: input.Name},
		); err != nil {
			return err
		}
	}
	return nil
}

// checkDocument checks the identifiers of an advisory, KEV or VEX document
// that are stored as columns (the advisory itself is stored as JSON, which
// escapes whatever it holds).
func checkDocument(doc *advisory.Document) error {
	fs := []input.Field{{Name: "document id", Value: doc.ID, Kind: input.Line}, {Name: "document revision", Value: doc.Revision, Kind: input.Line}}
	for _, a := range doc.Advisories {
		fs = append(fs, input.Field{Name: "advisory id", Value: a.ID, Kind: input.Line})
		for _, al := range a.Aliases {
			fs = append(fs, input.Field{Name: "advisory " + a.ID + " alias", Value: al, Kind: input.Line})
		}
	}
	for _, st := range doc.Statements {
		fs = append(fs, input.Field{Name: "VEX vulnerability", Value: st.Vulnerability, Kind: input.Line},
			input.Field{Name: "VEX component", Value: st.Component, Kind: input.Line},
			input.Field{Name: "VEX justification", Value: st.Justification, Kind: input.Text})
		for _, al := range st.Aliases {
			fs = append(fs, input.Field{Name: "VEX alias", Value: al, Kind: input.Line})
		}
	}
	for _, e := range doc.Exploited {
		fs = append(fs, input.Field{Name: "KEV CVE id", Value: e.CVE, Kind: input.Line})
	}
	return checkFields(fs...)
}

// checkFramework checks an imported framework's text.
func checkFramework(f catalog.Framework) error {
	fs := []input.Field{{Name: "id", Value: f.ID, Kind: input.Line}, {Name: "title", Value: f.Title, Kind: input.Name},
		{Name: "short", Value: f.Short, Kind: input.Name}, {Name: "publisher", Value: f.Publisher, Kind: input.Name},
		{Name: "version", Value: f.Version, Kind: input.Line}, {Name: "published", Value: f.Published, Kind: input.Line},
		{Name: "url", Value: f.URL, Kind: input.Line}, {Name: "description", Value: f.Description, Kind: input.Text}}
	for _, it := range f.Items {
		at := "item " + it.ID + " "
		fs = append(fs, input.Field{Name: "item id", Value: it.ID, Kind: input.Line}, input.Field{Name: at + "clause", Value: it.Clause, Kind: input.Line},
			input.Field{Name: at + "clause title", Value: it.ClauseTitle, Kind: input.Name}, input.Field{Name: at + "condition", Value: it.Condition, Kind: input.Text},
			input.Field{Name: at + "title", Value: it.Title, Kind: input.Text}, input.Field{Name: at + "status", Value: string(it.Status), Kind: input.Line})
	}
	return checkFields(fs...)
}
