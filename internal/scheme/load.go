package scheme

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

// Parse decodes one scheme file (YAML, or JSON, which is YAML too) and
// validates it against the catalogue. Every problem is returned at once, each
// placed at its line; nothing is returned unless the whole scheme is valid.
func Parse(name string, b []byte, c *catalog.Catalog) (*Scheme, error) {
	var s Scheme
	root, err := catalog.DecodeYAML(name, b, &s)
	if err != nil {
		return nil, err
	}
	s.trim()
	if errs := s.validate(c, name, root); len(errs) > 0 {
		return nil, errs
	}
	return &s, nil
}

// LoadDir reads every *.yaml scheme in dir (agreements.yaml aside) and the
// agreements, validating them together.
func LoadDir(fsys fs.FS, dir string, c *catalog.Catalog) ([]*Scheme, []Agreement, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, nil, err
	}
	var errs catalog.Errors
	var schemes []*Scheme
	for _, name := range names {
		if path.Base(name) == "agreements.yaml" {
			continue
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, nil, err
		}
		s, err := Parse(name, b, c)
		if err != nil {
			errs = appendErr(errs, err)
			continue
		}
		if want := strings.TrimSuffix(path.Base(name), ".yaml"); s.ID != want {
			errs = append(errs, catalog.Error{File: name, Line: 1, Msg: fmt.Sprintf("scheme id %q must match the file name %q", s.ID, want)})
			continue
		}
		schemes = append(schemes, s)
	}
	var agreements []Agreement
	if b, err := fs.ReadFile(fsys, path.Join(dir, "agreements.yaml")); err == nil {
		agreements, err = ParseAgreements(path.Join(dir, "agreements.yaml"), b, schemes)
		if err != nil {
			errs = appendErr(errs, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return schemes, agreements, nil
}

func appendErr(errs catalog.Errors, err error) catalog.Errors {
	var es catalog.Errors
	var e catalog.Error
	switch {
	case errors.As(err, &es):
		return append(errs, es...)
	case errors.As(err, &e):
		return append(errs, e)
	}
	return append(errs, catalog.Error{Msg: err.Error()})
}

func (s *Scheme) trim() {
	s.Description = strings.TrimSpace(s.Description)
	s.Notes = strings.TrimSpace(s.Notes)
	for i := range s.Unverified {
		s.Unverified[i].Note = strings.TrimSpace(s.Unverified[i].Note)
	}
	for i := range s.Levels {
		s.Levels[i].Summary = strings.TrimSpace(s.Levels[i].Summary)
	}
	for i := range s.Rules {
		s.Rules[i].Description = strings.TrimSpace(s.Rules[i].Description)
	}
}

// Validate checks a scheme built in code (not from a file) against c.
func (s *Scheme) Validate(c *catalog.Catalog) error {
	if errs := s.validate(c, "", nil); len(errs) > 0 {
		return errs
	}
	return nil
}

func (s *Scheme) validate(c *catalog.Catalog, file string, root *yaml.Node) catalog.Errors {
	var errs catalog.Errors
	at := func(line int, format string, args ...any) {
		errs = append(errs, catalog.Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	line := func(path ...any) int { return lineOf(root, path...) }

	if !validSchemeID(s.ID) {
		at(line("id"), "scheme id %q: use lowercase letters, digits and dashes, like sg-cls", s.ID)
	}
	for _, f := range []struct{ key, v string }{{"name", s.Name}, {"owner", s.Owner}, {"version", s.Version}, {"jurisdiction", s.Jurisdiction}, {"description", s.Description}} {
		if strings.TrimSpace(f.v) == "" {
			at(line(f.key), "%s is required", f.key)
		}
	}
	switch s.Status {
	case Draft, Active, Paused, Closed:
	default:
		at(line("status"), "status %q is not draft, active, paused or closed", s.Status)
	}
	switch s.Kind {
	case KindLabel, KindConformity:
	default:
		at(line("kind"), "kind %q is not label or conformity-record (a legal duty's statement of compliance or declaration of conformity)", s.Kind)
	}
	for _, msg := range catalog.ValidateProvenance("scheme "+s.ID, s.Sources, s.Unverified) {
		at(line("sources"), "%s", msg)
	}
	for _, msg := range s.Validity.problems() {
		at(line("validity"), "validity: %s", msg)
	}
	seenField := map[string]bool{}
	for i, f := range s.PublicFields {
		if !slices.Contains(PublicFields, f) {
			at(line("public_fields", i), "public field %q is not one of the CTA-2120 fields Hallmark knows (%s)", f, strings.Join(PublicFields, ", "))
		}
		if seenField[f] {
			at(line("public_fields", i), "public field %q is listed twice", f)
		}
		seenField[f] = true
	}
	if len(s.Levels) == 0 {
		at(line("levels"), "a scheme needs at least one level")
	}

	levelIDs := map[string]bool{}
	var prev map[string]Method // effective methods of the level below, for cumulative checks
	var prevLevel *Level
	for i := range s.Levels {
		l := &s.Levels[i]
		ll := line("levels", i)
		if l.ID == "" || strings.ContainsAny(l.ID, "@/#?& ") {
			at(ll, "level %d: give an id without spaces or any of @ / # ? &", i+1)
		}
		if levelIDs[l.ID] {
			at(ll, "level %q is defined twice", l.ID)
		}
		levelIDs[l.ID] = true
		if strings.TrimSpace(l.Name) == "" {
			at(ll, "level %q needs a name", l.ID)
		}
		if l.Method.Rank() < 0 {
			at(line("levels", i, "method"), "level %q: method %q is not one of %s", l.ID, l.Method, methodList())
		}
		if l.Validity != nil {
			for _, msg := range l.Validity.problems() {
				at(line("levels", i, "validity"), "level %q validity: %s", l.ID, msg)
			}
		}
		if len(l.Refs) == 0 && (!s.Cumulative || i == 0) {
			at(ll, "level %q requires nothing: list its requirements", l.ID)
		}
		seenRef := map[string]bool{}
		for j, ref := range l.Refs {
			if seenRef[ref] {
				at(line("levels", i, "requirements", j), "level %q lists %s twice", l.ID, ref)
			}
			seenRef[ref] = true
			if _, err := resolveRef(c, ref); err != nil {
				at(line("levels", i, "requirements", j), "level %q: %v", l.ID, err)
			}
		}
		eff, err := s.effective(c, i)
		if err != nil {
			continue // already reported per reference
		}
		for id, m := range l.Methods {
			if m.Rank() < 0 {
				at(line("levels", i, "methods", id), "level %q: method %q for %s is not one of %s", l.ID, m, id, methodList())
			}
			if _, ok := eff[id]; !ok {
				at(line("levels", i, "methods", id), "level %q sets a method for %s, which the level does not require", l.ID, id)
			}
		}
		if s.Cumulative && prevLevel != nil {
			if l.Method.Rank() < prevLevel.Method.Rank() {
				at(line("levels", i, "method"), "level %q is assessed by %s, weaker than level %q's %s; in a cumulative scheme higher levels may not weaken assessment", l.ID, l.Method, prevLevel.ID, prevLevel.Method)
			}
			adds := len(eff) > len(prev)
			for id, m := range prev {
				if eff[id].Rank() < m.Rank() {
					at(ll, "level %q assesses %s by %s, weaker than level %q's %s", l.ID, id, eff[id], prevLevel.ID, m)
				}
				if eff[id].Rank() > m.Rank() {
					adds = true
				}
			}
			if !adds {
				at(ll, "level %q adds nothing to level %q: no new requirement and no stronger assessment", l.ID, prevLevel.ID)
			}
		}
		prev, prevLevel = eff, l
	}
	ruleIDs := map[string]bool{}
	for i, r := range s.Rules {
		for _, msg := range r.validate() {
			at(line("rules", i), "%s", msg)
		}
		if ruleIDs[r.ID] {
			at(line("rules", i), "rule %q is defined twice", r.ID)
		}
		ruleIDs[r.ID] = true
	}
	return errs
}

func (v Validity) problems() []string {
	var out []string
	switch {
	case v.Months < 0 || v.CapMonths < 0:
		out = append(out, "months cannot be negative")
	case v.Months > 0 && v.UntilSupportEnd:
		out = append(out, "choose months or until_support_end, not both")
	case v.Months == 0 && !v.UntilSupportEnd:
		out = append(out, "set months, or until_support_end (with an optional cap_months)")
	case v.CapMonths > 0 && !v.UntilSupportEnd:
		out = append(out, "cap_months only limits until_support_end")
	case v.Months > 240 || v.CapMonths > 240:
		out = append(out, "more than 20 years is not a validity period")
	}
	return out
}

func methodList() string {
	var s []string
	for _, m := range Methods {
		s = append(s, string(m))
	}
	return strings.Join(s, ", ")
}

func validSchemeID(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// lineOf finds the line of a node by a path of mapping keys (string) and
// sequence indexes (int); it returns the deepest line it reaches, or 0.
func lineOf(n *yaml.Node, path ...any) int {
	if n == nil {
		return 0
	}
	best := n.Line
	for _, p := range path {
		var next *yaml.Node
		switch p := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						next = n.Content[i+1]
						if next.Kind == yaml.ScalarNode {
							best = n.Content[i].Line
						}
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && p < len(n.Content) {
				next = n.Content[p]
			}
		}
		if next == nil {
			return best
		}
		n = next
		best = n.Line
	}
	return best
}
